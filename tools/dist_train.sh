#!/usr/bin/env bash
# Distributed training with torchrun: bash tools/dist_train.sh CONFIG NPROC [args]
# Works on CUDA machines (nccl) and on CPU-only machines (gloo, one process
# per NPROC; MTPSLRunner sets the CPU path up).
set -euo pipefail
CONFIG=$1
NPROC=$2
shift 2
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
PORT=${PORT:-29500}
MASTER_ADDR=${MASTER_ADDR:-127.0.0.1}
cd "$(dirname "$0")/.."
PYTHONPATH="$PWD:${PYTHONPATH:-}" exec "${PYTHON:-python3}" -m torch.distributed.run \
    --nnodes="$NNODES" --node_rank="$NODE_RANK" --master_addr="$MASTER_ADDR" \
    --nproc_per_node="$NPROC" --master_port="$PORT" \
    tools/train.py "$CONFIG" --launcher pytorch "$@"
