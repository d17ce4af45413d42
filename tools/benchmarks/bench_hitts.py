"""HiTTs' training step vs the baseline's, side by side.

The SegNet MTL baseline of the NYUv2 configs and HiTTs stage 1 (the joint
decoding stage with its binned heads; stage 2 adds only losses on stored
pseudo supervision) at full width, on the same two procedural images at
288x384 (onelabel: image 0 semantic, image 1 depth), packed by the
configs' single-view transforms; forward + backward + Adam. Each model in
its own process (peak RSS its own), alternating over ``--rounds``
(``tools/benchmarks/bench_xtc.py``'s harness). Prints the median step of
each, the ratio and peak RSS.

    python tools/benchmarks/bench_hitts.py [--steps 4] [--rounds 2] \\
        [--threads 2] [--height 288 --width 384]
"""
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
from bench_xtc import REPO, compare  # noqa: E402

CONFIGS = dict(
    baseline=osp.join(REPO, 'configs', 'baseline',
                      'mtl_segnet_1xb8-40k_nyuv2-full-288x384.py'),
    hitts=osp.join(REPO, 'configs', 'hitts',
                   'hitts-stage1_segnet_1xb8-40k_nyuv2-onelabel-288x384.py'))


def main(argv=None):
    return compare(CONFIGS, label='HiTTs', script=osp.abspath(__file__),
                   argv=argv)


if __name__ == '__main__':
    main()
