#!/usr/bin/env bash
# Debian packages the integration tests run for real: the CNCF registry,
# skopeo as an independent client, htpasswd for basic auth, openssl for the
# token server's certificate. Installed only when missing.
set -euo pipefail
missing=()
command -v docker-registry >/dev/null 2>&1 || missing+=(docker-registry)
command -v skopeo >/dev/null 2>&1 || missing+=(skopeo)
command -v htpasswd >/dev/null 2>&1 || missing+=(apache2-utils)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
[ -x /usr/bin/time ] || missing+=(time)
# Oracles and fixture builders nobody here wrote: rpm (rpmdb fixtures, rpm's version compare),
# dpkg/APT, Python's packaging, RubyGems, Go's x/mod/semver, Maven's ComparableVersion, Rust's semver.
command -v rpm >/dev/null 2>&1 || missing+=(rpm)
command -v rpmbuild >/dev/null 2>&1 || missing+=(rpm)
command -v gpg >/dev/null 2>&1 || missing+=(gpg)
/usr/bin/python3 -c 'import packaging.version' >/dev/null 2>&1 || missing+=(python3-packaging)
/usr/bin/python3 -c 'import apt_pkg' >/dev/null 2>&1 || missing+=(python3-apt)
command -v ruby >/dev/null 2>&1 || missing+=(ruby)
command -v go >/dev/null 2>&1 || missing+=(golang-go)
[ -f /usr/share/gocode/src/golang.org/x/mod/semver/semver.go ] || missing+=(golang-golang-x-mod-dev)
command -v javac >/dev/null 2>&1 || missing+=(default-jdk-headless)
ls /usr/share/maven/lib/maven-artifact-3*.jar >/dev/null 2>&1 || missing+=(maven)
command -v cargo >/dev/null 2>&1 || missing+=(cargo)
command -v rustc >/dev/null 2>&1 || missing+=(rustc)
command -v objcopy >/dev/null 2>&1 || missing+=(binutils)
ls -d /usr/share/cargo/registry/semver-1.* >/dev/null 2>&1 || missing+=(librust-semver-dev)
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  echo "test-deps: installing ${missing[*]}" >&2
  $sudo apt-get update -qq >&2
  # One package can be named by two checks (rpm); apt-get takes each once.
  mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >&2
fi
