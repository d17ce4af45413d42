#!/usr/bin/env bash
# The test suite, after setting up what is missing: bash tools/run_tests.sh
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python3}"
"$PY" tools/ensure_env.py --sam
exec "$PY" -m pytest "$@"
