#!/usr/bin/env bash
# The main job, after setting up what is missing: bash tools/demo.sh
# Generates the procedural dataset, trains the MTL baseline and the best
# cross-task method with one label per training image, prints their metrics
# next to the constant predictor's and draws their predictions side by side.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python3}"
"$PY" tools/ensure_env.py
# On a machine without a GPU, glibc keeps freed activations for reuse
# instead of unmapping them (tools/benchmarks/bench_allocator.py measures
# it); a value the user set wins, and nothing is set where a GPU is present.
if ! ls /dev/nvidia0 >/dev/null 2>&1; then
    export MALLOC_MMAP_MAX_="${MALLOC_MMAP_MAX_:-0}"
    export MALLOC_TRIM_THRESHOLD_="${MALLOC_TRIM_THRESHOLD_:-68719476736}"
fi
exec "$PY" tools/demo.py "$@"
