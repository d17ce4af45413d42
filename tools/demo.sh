#!/usr/bin/env bash
# The main job, after setting up what is missing: bash tools/demo.sh
# Generates the procedural dataset, trains and evaluates the SegNet
# multi-task baseline, prints the metrics table and writes pictures.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python3}"
"$PY" tools/ensure_env.py
exec "$PY" tools/demo.py "$@"
