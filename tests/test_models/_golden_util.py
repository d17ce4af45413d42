"""Fingerprint of a built model: state-dict keys and output checksums.

Used by ``test_golden_outputs.py``; the golden file it compares with was
recorded from the code before the task-output contract (main at 46a4036),
so a refactor of the heads or the model that changes any key or any output
of a shipped config fails the test.
"""
from __future__ import annotations

import hashlib
from typing import Dict

import torch

from mtpsl.registry import MODELS
from mtpsl.structures import MultiTaskDataSample, task_spec

SIZE = (64, 64)


def _sums(t: torch.Tensor) -> list:
    t = t.detach().double()
    return [float(t.sum()), float(t.abs().sum()), float((t * t).sum())]


def _samples(model, generator) -> list:
    samples = []
    for _ in range(2):
        s = MultiTaskDataSample(metainfo=dict(
            img_shape=SIZE, ori_shape=SIZE, batch_input_shape=SIZE,
            label_flags={t: True for t in model.tasks}))
        for task, head in model.heads.items():
            spec = task_spec(task)
            if spec.kind == 'label':
                n = head.cls.out_channels
                gt = torch.randint(0, n, (1,) + SIZE, generator=generator)
            elif task == 'normal':
                gt = torch.nn.functional.normalize(
                    torch.randn((3,) + SIZE, generator=generator), dim=0)
            else:
                gt = torch.rand((1,) + SIZE, generator=generator) + 0.5
            s.set_gt(task, gt)
        samples.append(s)
    return samples


def model_fingerprint(model_cfg) -> Dict[str, object]:
    """Keys, their hash, eval outputs, predict outputs and train losses."""
    torch.manual_seed(0)
    model = MODELS.build(model_cfg)
    model.init_weights()
    keys = list(model.state_dict().keys())
    g = torch.Generator().manual_seed(1)
    inputs = torch.randn((2, 3) + SIZE, generator=g)
    samples = _samples(model, g)
    model.eval()
    with torch.no_grad():
        raw = model._forward(inputs)
        preds = model.predict(inputs, [s.clone() for s in samples])
    out = dict(num_keys=len(keys),
               keys_sha=hashlib.sha256('\n'.join(keys).encode()).hexdigest(),
               forward={t: _sums(v) for t, v in raw.items()},
               predict={})
    for task in model.tasks:
        out['predict'][task] = _sums(torch.stack(
            [p.pred(task).float() for p in preds]))
        prob = preds[0].get(f'pred_{task}_prob')
        if prob is not None:
            out['predict'][task + '_prob'] = _sums(prob.data)
    model.train()
    losses = model(inputs, [s.clone() for s in samples], mode='loss')
    out['loss'] = {k: float(v.detach()) for k, v in losses.items()}
    return out
