"""glibc allocator settings for CPU training, side by side.

The narrow SegNet MTL training step of the main job (batch 8, 96x128, the
demo config, forward + backward + Adam) in child processes that alternate
between environments over ``--rounds``: glibc's defaults, and
``MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=<large>`` (no mmap for large
blocks, no trimming: freed activations are reused instead of being mapped
and zeroed again). Prints the median step time and peak RSS of each.

    python tools/benchmarks/bench_allocator.py [--steps 20] [--rounds 3]
"""
import argparse
import json
import os
import os.path as osp
import statistics
import subprocess
import sys

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, REPO)
CONFIG = osp.join(REPO, 'configs', 'baseline',
                  'mtl_segnet-w16_1xb8-600it_procedural-full-96x128.py')
ENVS = {
    'glibc default': {},
    'MALLOC_MMAP_MAX_=0 + trim 2^36': dict(MALLOC_MMAP_MAX_='0',
                                           MALLOC_TRIM_THRESHOLD_=str(2**36)),
}


def child(steps: int, warmup: int) -> None:
    """Time ``steps`` training steps and print them as a JSON line."""
    import resource
    import time

    import torch
    from mmengine.dataset import pseudo_collate

    from mtpsl.apis.config import load_config
    from mtpsl.registry import MODELS
    from tools.benchmarks.bench_runner_overhead import one_sample
    torch.manual_seed(0)
    model = MODELS.build(load_config(CONFIG).model)
    model.init_weights()
    model.train()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    sample = one_sample(96, 128)
    times = []
    for _ in range(warmup + steps):
        start = time.perf_counter()
        data = model.data_preprocessor(pseudo_collate([sample] * 8),
                                       training=True)
        loss = sum(model(**data, mode='loss').values())
        opt.zero_grad()
        loss.backward()
        opt.step()
        times.append(time.perf_counter() - start)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print('RESULT ' + json.dumps(dict(times=times[warmup:], peak=peak)))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--steps', type=int, default=20)
    p.add_argument('--warmup', type=int, default=3)
    p.add_argument('--rounds', type=int, default=3)
    p.add_argument('--child', action='store_true')
    args = p.parse_args()
    if args.child:
        child(args.steps, args.warmup)
        return
    results = {name: dict(times=[], peak=[]) for name in ENVS}
    for _ in range(args.rounds):
        for name, extra in ENVS.items():
            env = dict(os.environ, PYTHONPATH=REPO, OMP_NUM_THREADS='1')
            for key in ('MALLOC_MMAP_MAX_', 'MALLOC_TRIM_THRESHOLD_'):
                env.pop(key, None)
            env.update(extra)
            out = subprocess.run(
                [sys.executable, __file__, '--child', '--steps',
                 str(args.steps), '--warmup', str(args.warmup)],
                env=env, capture_output=True, text=True, check=True).stdout
            res = json.loads(out.split('RESULT ', 1)[1])
            results[name]['times'] += res['times']
            results[name]['peak'].append(res['peak'])
    load = os.getloadavg()
    print(f'narrow SegNet MTL step, batch 8, 96x128, 1 thread, '
          f'{args.rounds} rounds x {args.steps} steps, load {load[0]:.1f}')
    base = None
    for name, res in results.items():
        med = statistics.median(res['times'])
        base = base or med
        print(f'  {name:34s} median step {med * 1000:7.1f} ms '
              f'({med / base:.2f}x)  peak RSS {max(res["peak"]):6.0f} MiB')


if __name__ == '__main__':
    main()
