#!/usr/bin/env bash
# The test suite, after setting up what is missing: bash tools/run_tests.sh
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python3}"
"$PY" tools/ensure_env.py --sam
# Two workers (pytest-xdist), one per core, each with one torch thread
# (tests/conftest.py); MTPSL_TEST_WORKERS=0 runs in this process, and an
# -n among the arguments wins.
exec "$PY" -m pytest -n "${MTPSL_TEST_WORKERS:-2}" --dist worksteal "$@"
