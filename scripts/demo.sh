#!/usr/bin/env bash
# One command from a fresh machine to the main job: installs, builds a sample
# image into the embedded store (./.shipgate/store) and runs the commands on it.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
. scripts/setup.sh
node bin/shipgate.js --store "${SHIPGATE_STORE:-$PWD/.shipgate/store}" demo
