"""Parameters, FLOPs, training peak memory and step time of a config's model.

``python tools/analysis/complexity.py CONFIG [--shape H W] [--batch B]
[--steps N]`` prints a table comparable to HiTTs' Table 8: MMEngine's FLOP
count (one multiply-add = one "flop") of ONE image in eval mode; memory and
median step time (forward + backward + Adam) of a synthetic batch of B fully
labelled images, measured in a child process so the peak is the model's own
(peak RSS on CPU, ``torch.cuda.max_memory_allocated`` on CUDA).
``--backbone-only hrnet18`` swaps in MMSeg's HRNet-W18 with a simple head
per task. What is counted and how: docs/tools.md.
"""
import argparse
import contextlib
import json
import os
import os.path as osp
import resource
import statistics
import subprocess
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.config import Config
from torch.nn.modules.utils import _pair

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(
    osp.abspath(__file__)))))

HRNET_W18_EXTRA = Config.fromfile(osp.join(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))),
    'configs', '_base_', 'models', 'hrnet18.py')).hrnet18_extra


def _register_hrnet_head():
    from mtpsl.models.heads.task_head import SegNetTaskHead, activate
    from mtpsl.registry import MODELS

    class ComplexityHRNetHead(SegNetTaskHead):
        """Resize-concat of the HRNet branches, 1x1 conv, classifier, x4."""

        def __init__(self, task, in_channels=270, **kwargs):
            super().__init__(task, in_channels=in_channels, **kwargs)
            self.conv = nn.Conv2d(in_channels, in_channels, 1)

        def decode(self, feats):
            size = feats[0].shape[-2:]
            x = torch.cat([feats[0]] + [F.interpolate(
                f, size=size, mode='bilinear', align_corners=False)
                for f in feats[1:]], dim=1)
            return self.conv(x)

        def activate_logits(self, logits):
            # x4 before the activation, as the HRNet line does
            pred = F.interpolate(logits, scale_factor=4, mode='bilinear',
                                 align_corners=False)
            return activate(self.task, pred)

    MODELS.register_module('ComplexityHRNetHead', force=True,
                           module=ComplexityHRNetHead)


def build_model(config, backbone_only=None, cfg_options=None):
    """The config's model (random weights), optionally with HRNet-W18."""
    from mmengine.registry import init_default_scope

    from mtpsl.apis.config import load_config
    from mtpsl.registry import MODELS
    cfg = load_config(config, cfg_options)
    init_default_scope(cfg.get('default_scope', 'mtpsl'))
    model_cfg = cfg.model.copy()
    if backbone_only == 'hrnet18':
        _register_hrnet_head()
        model_cfg.pop('neck', None)
        model_cfg.backbone = dict(type='mmseg.HRNet', extra=HRNET_W18_EXTRA,
                                  norm_cfg=dict(type='BN'))
        model_cfg.heads = {t: dict(type='ComplexityHRNetHead',
                                   in_channels=18 + 36 + 72 + 144,
                                   num_classes=h.get('num_classes'),
                                   loss=h['loss'])
                           for t, h in cfg.model.heads.items()}
    elif backbone_only:
        raise ValueError(f'--backbone-only: unknown {backbone_only!r}')
    # random default init: the counts and timings do not depend on it
    return MODELS.build(model_cfg)


def count_parameters(model: nn.Module) -> int:
    """Number of parameters (shared ones once)."""
    return sum(p.numel() for p in model.parameters())


class _TensorOutputs(nn.Module):
    """A multi-task model's raw predictions as a tuple (traceable)."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, x):
        return tuple(self.model._forward(x).values())


class _TraceableUnpool(nn.MaxUnpool2d):
    """Max-unpooling to the default (stride x input) size.

    torch 2.13's ``F.max_unpool2d`` fails under JIT tracing (it checks
    traced sizes as Python bools), so the aten op is called. When every
    pooled map had even sides (input a multiple of 2^pools, as the data
    preprocessor pads it) the default size is the requested one.
    """

    def forward(self, x, indices, output_size=None):
        stride = _pair(self.stride)
        size = [int(x.shape[-2]) * stride[0], int(x.shape[-1]) * stride[1]]
        return torch._C._nn.max_unpool2d(x, indices, size)


@contextlib.contextmanager
def _traceable_unpooling(model: nn.Module):
    swapped = []
    for parent in model.modules():
        for name, child in parent.named_children():
            if type(child) is nn.MaxUnpool2d:
                new = _TraceableUnpool(child.kernel_size, child.stride,
                                       child.padding)
                setattr(parent, name, new)
                swapped.append((parent, name, child))
    try:
        yield
    finally:
        for parent, name, child in swapped:
            setattr(parent, name, child)


def count_flops(model: nn.Module, inputs: torch.Tensor) -> dict:
    """MMEngine's FLOP count of ``model(inputs)``: total, by operator, by
    top-level module, and the operators it does not count."""
    from mmengine.analysis import FlopAnalyzer
    divisor = getattr(getattr(model, 'data_preprocessor', None),
                      'size_divisor', 1)
    if any(s % divisor for s in inputs.shape[-2:]):
        raise ValueError(f'input {tuple(inputs.shape[-2:])} is not padded to '
                         f'a multiple of {divisor} as the model sees it')
    net = _TensorOutputs(model) if hasattr(model, '_forward') else model
    net.eval()
    with torch.no_grad(), _traceable_unpooling(net):
        analyzer = FlopAnalyzer(net, (inputs, ))
        analyzer.unsupported_ops_warnings(False)
        analyzer.uncalled_modules_warnings(False)
        total = analyzer.total()
        by_op = dict(analyzer.by_operator())
        prefix = 'model.' if net is not model else ''
        names = [n for n, _ in model.named_children()]
        if hasattr(model, 'tasks'):
            names += [f'heads.{t}' for t in model.tasks]
        counts = analyzer.by_module()
        by_module = {n: counts.get(prefix + n, 0) for n in names
                     if counts.get(prefix + n, 0)}
        unsupported = dict(analyzer.unsupported_ops())
    return dict(total=total, by_operator=by_op, by_module=by_module,
                unsupported=unsupported)


def _rss_mib() -> float:
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith('VmRSS:'):
                return int(line.split()[1]) / 1024
    return float('nan')


def synthetic_batch(model, batch, height, width, device):
    """B fully labelled images with random GT for every task of the model."""
    from mtpsl.structures import MultiTaskDataSample, task_spec
    g = torch.Generator().manual_seed(0)
    with torch.no_grad():  # output channels of each head
        channels = {t: p.shape[1] for t, p in model._forward(
            torch.zeros(1, 3, 64, 64, device=device)).items()}
    inputs, samples = [], []
    for _ in range(batch):
        inputs.append(torch.rand(3, height, width, generator=g))
        s = MultiTaskDataSample(metainfo=dict(
            img_shape=(height, width), ori_shape=(height, width),
            label_flags={t: True for t in model.tasks}))
        for task in model.tasks:
            if task_spec(task).kind == 'label':
                gt = torch.randint(0, channels[task], (1, height, width),
                                   generator=g)
            elif task == 'normal':
                gt = F.normalize(torch.randn(3, height, width, generator=g),
                                 dim=0)
            else:
                gt = torch.rand(1, height, width, generator=g) * 5 + 0.5
            s.set_gt(task, gt)
        samples.append(s)
    return model.data_preprocessor(dict(inputs=inputs, data_samples=samples),
                                   training=True)


def train_child(args) -> dict:
    """Time forward + backward + Adam on a synthetic batch, in this
    process."""
    torch.manual_seed(0)
    cuda = args.device.startswith('cuda')
    model = build_model(args.config, args.backbone_only,
                        args.cfg_options).to(args.device)
    model.train()
    data = synthetic_batch(model, args.batch, args.shape[0], args.shape[1],
                           args.device)
    opt = torch.optim.Adam(model.parameters(), lr=1e-4)
    rss_before = _rss_mib()
    if cuda:
        torch.cuda.reset_peak_memory_stats()
    times, cpu_times = [], []
    for _ in range(args.warmup + args.steps):
        t, c = time.perf_counter(), time.process_time()
        losses = model(**data, mode='loss')
        loss, _ = model.parse_losses(losses)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if cuda:
            torch.cuda.synchronize()
        times.append(time.perf_counter() - t)
        # CPU seconds of all threads: less sensitive than wall time to
        # other jobs on a shared machine
        cpu_times.append(time.process_time() - c)
    out = dict(times=times[args.warmup:], cpu_times=cpu_times[args.warmup:],
               rss_before_mib=rss_before,
               peak_rss_mib=resource.getrusage(
                   resource.RUSAGE_SELF).ru_maxrss / 1024)
    if cuda:
        out['cuda_peak_mib'] = torch.cuda.max_memory_allocated() / 2**20
    return out


def measure_training(args) -> dict:
    """Run :func:`train_child` in a fresh process and return its result."""
    cmd = [sys.executable, osp.abspath(__file__), args.config, '--child',
           '--shape', str(args.shape[0]), str(args.shape[1]),
           '--batch', str(args.batch), '--steps', str(args.steps),
           '--warmup', str(args.warmup), '--device', args.device]
    if args.backbone_only:
        cmd += ['--backbone-only', args.backbone_only]
    if args.cfg_options:
        cmd += ['--cfg-options'] + list(args.cfg_options)
    res = subprocess.run(cmd, capture_output=True, text=True)
    line = [x for x in res.stdout.splitlines() if x.startswith('RESULT ')]
    if res.returncode or not line:
        raise RuntimeError(f'training measurement failed:\n'
                           f'{res.stderr[-3000:]}')
    return json.loads(line[-1][len('RESULT '):])


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('config')
    p.add_argument('--shape', nargs=2, type=int, default=[288, 384],
                   metavar=('H', 'W'))
    p.add_argument('--batch', type=int, default=2,
                   help='training batch for memory and step time')
    p.add_argument('--steps', type=int, default=5, help='timed steps')
    p.add_argument('--warmup', type=int, default=1)
    p.add_argument('--device', default='cuda' if torch.cuda.is_available()
                   else 'cpu')
    p.add_argument('--backbone-only', choices=['hrnet18'], default=None,
                   help='swap in this backbone with simple heads')
    p.add_argument('--no-train', action='store_true',
                   help='parameters and FLOPs only')
    p.add_argument('--cfg-options', nargs='+', default=[],
                   metavar='KEY=VALUE')
    p.add_argument('--child', action='store_true', help=argparse.SUPPRESS)
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    if args.child:
        print('RESULT ' + json.dumps(train_child(args)), flush=True)
        return None
    model = build_model(args.config, args.backbone_only, args.cfg_options)
    divisor = getattr(model.data_preprocessor, 'size_divisor', 1)
    h, w = (-(-s // divisor) * divisor for s in args.shape)  # as padded
    params = count_parameters(model)
    flops = count_flops(model, torch.rand(1, 3, h, w))
    name = osp.splitext(osp.basename(args.config))[0]
    if args.backbone_only:
        name += f' [backbone {args.backbone_only}, simple heads]'
    report = dict(model=name, input=f'{h}x{w}', params=params,
                  params_by_module={k: count_parameters(m) for k, m in
                                    model.named_children()},
                  flops=flops)
    print(f'# {name}, input 1x3x{h}x{w}')
    print(f'parameters: {params:,} ({params / 1e6:.2f} M)')
    print(f'FLOPs (MMEngine count, 1 image): {flops["total"] / 1e9:.2f} G')
    print('  by operator: ' + ', '.join(
        f'{k} {v / 1e9:.2f} G' for k, v in flops['by_operator'].items()))
    print('  by module:   ' + ', '.join(
        f'{k} {v / 1e9:.2f} G' for k, v in flops['by_module'].items()))
    print('  not counted: ' + (', '.join(
        f'{k} x{v}' for k, v in flops['unsupported'].items()) or '-'))
    row = (f'| {name} | {h}x{w} | {params / 1e6:.2f} M | '
           f'{flops["total"] / 1e9:.2f} G |')
    header = '| model | input | params | FLOPs (1 image) |'
    if not args.no_train:
        load_before = os.getloadavg()[0]
        train = measure_training(args)
        # others' jobs on a shared machine change the times: say so
        train['loadavg_1m'] = (load_before, os.getloadavg()[0])
        report['train'] = train
        med = statistics.median(train['times'])
        if 'cuda_peak_mib' in train:
            mem = f'{train["cuda_peak_mib"] / 1024:.2f} GiB (CUDA peak)'
        else:
            grown = train['peak_rss_mib'] - train['rss_before_mib']
            mem = (f'{train["peak_rss_mib"] / 1024:.2f} GiB peak RSS '
                   f'(+{grown / 1024:.2f} GiB in training)')
        header += f' train memory (batch {args.batch}) | step time |'
        cpu = statistics.median(train['cpu_times'])
        row += (f' {mem} | {med:.2f} s (median of {len(train["times"])}; '
                f'{cpu:.1f} CPU s) |')
    print()
    print(header)
    print('|' + '---|' * header.count(' | ') + '---|')
    print(row)
    if not args.no_train:
        print(f'(device {args.device}, {torch.get_num_threads()} threads, '
              f'1-min load average {train["loadavg_1m"][0]:.1f} before / '
              f'{train["loadavg_1m"][1]:.1f} after)')
    print('REPORT ' + json.dumps(report))
    return report


if __name__ == '__main__':
    main()
