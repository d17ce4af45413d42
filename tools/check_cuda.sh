#!/usr/bin/env bash
# The CUDA path in one go (one line per check, non-zero exit on a failure):
#   bash tools/check_cuda.sh [--only NAME ...] [--list] [--require-cuda]
# Runs in under 8 minutes on one GPU; on a machine without CUDA every check
# is reported as SKIP. Record the printed figures in the README.
set -euo pipefail
cd "$(dirname "$0")/.."
exec "${PYTHON:-python3}" tools/check_cuda.py "$@"
