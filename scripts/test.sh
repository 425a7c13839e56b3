#!/usr/bin/env bash
# One command from a fresh machine to a green test run: installs Node and npm
# packages, the Debian packages the tests use, then lints, typechecks and tests.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
. scripts/setup.sh
bash scripts/test-deps.sh
npm run --silent lint
npm run --silent typecheck
npx vitest run "$@"
