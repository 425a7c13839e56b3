#!/usr/bin/env bash
# The floor for a registry-to-registry copy: curl piping each blob from the
# source straight into the destination's upload, all blobs at once, then the
# manifest. No parsing, no checks, no retries: only the bytes moving. Used by
# bench/copy.bench-run.ts to show how much of a copy's time any client can save.
# usage: curl-copy.sh SRC_HOST DST_HOST REPO TAG
set -euo pipefail
src="http://$1" dst="http://$2" repo=$3 tag=$4
type=application/vnd.oci.image.manifest.v1+json
manifest=$(curl -sf -H "Accept: $type" "$src/v2/$repo/manifests/$tag")
while read -r digest size; do
  (
    location=$(curl -sf -i -X POST "$dst/v2/$repo/blobs/uploads/" | tr -d '\r' | awk -F': ' 'tolower($1)=="location"{print $2}')
    case $location in http*) ;; *) location=$dst$location ;; esac
    case $location in *\?*) sep='&' ;; *) sep='?' ;; esac
    curl -sf "$src/v2/$repo/blobs/$digest" |
      curl -sf -o /dev/null -X PUT -H "Content-Type: application/octet-stream" -H "Content-Length: $size" \
        -H "Expect:" -T - "$location${sep}digest=$digest"
  ) &
done < <(python3 -c 'import json,sys; m=json.loads(sys.argv[1]); [print(d["digest"], d["size"]) for d in [m["config"], *m["layers"]]]' "$manifest")
for job in $(jobs -p); do wait "$job"; done
printf '%s' "$manifest" | curl -sf -o /dev/null -X PUT -H "Content-Type: $type" --data-binary @- "$dst/v2/$repo/manifests/$tag"
