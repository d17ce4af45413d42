#!/usr/bin/env bash
# The main job, after setting up what is missing: bash tools/demo.sh
# Generates the procedural dataset, trains the MTL baseline and the best
# cross-task method with one label per training image, prints their metrics
# next to the constant predictor's and draws their predictions side by side.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python3}"
"$PY" tools/ensure_env.py
exec "$PY" tools/demo.py "$@"
