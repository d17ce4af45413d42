# The procedural benchmark, defined once: the embedded procedural dataset
# rendered at 48x64 (the small preset's scenes: 360 training + 40 validation
# images, 100 test images, generator seed 0), the narrow SegNet (widths
# 16..128) of the README's main job, 2400 iterations of batch 8 with Adam
# 1e-3 halved at 1600, validation every 200 iterations on the 40 carved-off
# images (the curve goes into each record), the test split scored with the
# last checkpoint. It replaces procedural-96x128 (600 iterations at 96x128,
# not converged: docs/benchmark.md); a quarter of the pixels for four times
# the iterations, at about the same cost a run.
# Label regimes: onelabel and randomlabels, each drawn with the run's seed
# (regime_seed='run'), so a seed varies the draw, the initialisation and the
# batch order together, and method and baseline of one seed are paired.
#
#   S=tools/benchmark/suites/procedural-48x64.py
#   python tools/benchmark/run_suite.py $S && python tools/benchmark/aggregate.py $S
#
name = 'procedural-48x64'
out = 'benchmark_results/procedural-48x64'
dataset = dict(root='data/procedural-48x64', preset='small', height=48,
               width=64, seed=0)
regimes = dict(onelabel=dict(type='onelabel'),
               randomlabels=dict(type='randomlabels'),
               full=dict(type='full'))
regime_seed = 'run'
cfg_options = {'train_cfg.val_interval': 200}
# Environment added to every run on a machine without CUDA (see
# docs/benchmark.md for the side-by-side measurement); none for CUDA users.
cpu_env = dict(OMP_NUM_THREADS=1)
seeds = (0, 1, 2)
tasks3 = ('sem_seg', 'depth', 'normal')
narrow = 'segnet-w16_1xb8-2400it_procedural-onelabel-48x64.py'
narrow2 = 'resnet18-w16-unet_1xb8-2400it_procedural-full-48x64.py'
groups = [
    dict(name='3task', tasks=tasks3, seeds=seeds,
         regimes=('onelabel', 'randomlabels'),
         mtl='mtl', stl=dict(sem_seg='stl_sem_seg', depth='stl_depth',
                             normal='stl_normal'),
         methods=dict(
             stl_sem_seg=dict(config='configs/baseline/stl-sem_seg_' + narrow),
             stl_depth=dict(config='configs/baseline/stl-depth_' + narrow),
             stl_normal=dict(config='configs/baseline/stl-normal_' + narrow),
             mtl=dict(config='configs/baseline/mtl_' + narrow),
             # relative_cost: run time / MTL's, for the estimate until records
             # measure it: the step ratios of tools/benchmarks/
             # bench_suite_steps.py on this suite (docs/benchmark.md); second
             # stages as their first
             xtc=dict(config='configs/xtc/xtc_' + narrow, relative_cost=3.8),
             ccr=dict(config='configs/ccr/ccr_' + narrow,
                      relative_cost=1.0),
             rc_oracle=dict(config='configs/region_contrast/rc-oracle_' +
                            narrow, relative_cost=1.9),
             rc_superpixel=dict(config='configs/region_contrast/rc-slic_' +
                                narrow, relative_cost=3.2),
             hitts_stage1=dict(config='configs/hitts/hitts-stage1_' + narrow,
                               relative_cost=2.0),
             # trained from scratch on the pseudo supervision its stage 1
             # (same regime and seed) makes before it starts
             hitts_stage2=dict(config='configs/hitts/hitts-stage2_' + narrow,
                               after='hitts_stage1', relative_cost=2.0),
             # Table 5's "MTL w. L_p*": naive pseudo labels of a binned MTL
             # (no tokens), onelabel only
             mtl_binned=dict(config='configs/hitts/mtl-binned_' + narrow,
                             relative_cost=1.2,
                             regimes=('onelabel', )),
             naive_stage2=dict(
                 config='configs/hitts/mtl-naive-stage2_' + narrow,
                 after='mtl_binned', regimes=('onelabel', ),
                 relative_cost=1.2),
         )),
    # XTasC-Net's 2-task setting (semantic + depth): ST, MT, Align-Net and
    # XTasC-Net from configs/xtasc/ (their narrow ResNet-18 + U-Net, not
    # SegNet), under full labels as the paper; MT vs XTasC also onelabel
    # (our extension). With two tasks, randomlabels (1..K-1 tasks per
    # image) is onelabel again: not run.
    dict(name='2task', tasks=('sem_seg', 'depth'), seeds=seeds,
         regimes=('full', 'onelabel'),
         mtl='mt', stl=dict(sem_seg='st_sem_seg', depth='st_depth'),
         methods=dict(
             st_sem_seg=dict(config='configs/xtasc/stl-sem_seg_' + narrow2,
                             regimes=('full', )),
             st_depth=dict(config='configs/xtasc/stl-depth_' + narrow2,
                           regimes=('full', )),
             mt=dict(config='configs/xtasc/mtl_' + narrow2),
             align_net=dict(config='configs/xtasc/align_' + narrow2,
                            regimes=('full', ), relative_cost=1.9),
             xtasc=dict(config='configs/xtasc/xtasc_' + narrow2,
                        relative_cost=1.9),
         )),
]
