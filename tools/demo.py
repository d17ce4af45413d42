"""The README's main job: partial supervision on the embedded procedural
dataset. Every training image is labelled for ONE task (the onelabel
regime); the multi-task baseline and the best cross-task method are trained
side by side with the same data, schedule and seed, then compared.

1. generate the procedural dataset (skipped when it is already complete);
2. train the MTL baseline and the method in the onelabel regime (each
   skipped when its work dir holds the final checkpoint, unless
   ``--retrain``);
3. publish both checkpoints (plain state dicts) and evaluate them on the
   test split;
4. print the metrics of both next to the best constant predictor, and draw
   one picture per test image: GT and both predictions, with legends.
"""
import argparse
import json
import os
import os.path as osp
import sys
import time

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from mtpsl.utils.cli import run_tool  # noqa: E402

BASELINE = ('MTL baseline', 'configs/baseline/'
            'mtl_segnet-w16_1xb8-2400it_procedural-onelabel-48x64.py')
# The method shown next to the baseline: the single-stage cross-task method
# with the best paired Delta_MTL against the baseline in the 3task onelabel
# group of BEST_FROM's summary (tests/test_tools/test_demo.py checks that
# this is still the one, and that the config is the benchmark's for it).
# Switch here, or with --method-config / --method-name.
BEST_FROM = ('benchmark_results/procedural-48x64/summary.json', 'rc_oracle')
BEST_METHOD = ('Region contrast', 'configs/region_contrast/'
               'rc-oracle_segnet-w16_1xb8-2400it_procedural-onelabel-48x64.py')
# The benchmark's configs (tools/benchmark/suites/procedural-48x64.py) for
# 900 of their 2400 iterations, the learning rate halved at 600 (two
# thirds in, as there), so that the two trainings and the rest fit 10
# minutes on 2 CPU cores with a margin (README, Quick start: 1200
# iterations took 9 min 11 s in all on a fresh machine).
DEMO_OPTIONS = ('train_cfg.max_iters=900', 'param_scheduler.0.step_size=600')
DEMO_SIZE = (48, 64)
LOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')


def _size(text: str):
    try:
        height, width = (int(v) for v in text.lower().split('x'))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f'expected HxW such as 48x64, got {text!r}') from None
    return height, width


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--baseline-config', default=BASELINE[1])
    p.add_argument('--method-config', default=BEST_METHOD[1])
    p.add_argument('--method-name', default=BEST_METHOD[0])
    p.add_argument('--work-dir', default='work_dirs/demo')
    p.add_argument('--data-root', default='data/procedural-48x64')
    p.add_argument('--preset', default='small',
                   help="procedural dataset preset, its scenes rendered at "
                   "--size; 'none' uses --data-root as it is")
    p.add_argument('--size', default=DEMO_SIZE, type=_size,
                   help='HxW of the generated images (default 48x64, the '
                   "benchmark's)")
    p.add_argument('--num-pictures', type=int, default=8)
    p.add_argument('--retrain', action='store_true')
    p.add_argument('--jobs', type=int, default=None,
                   help='trainings side by side, each in its own process '
                   '(default: 2 on a CPU machine with 2 or more cores, else '
                   '1)')
    p.add_argument('--cfg-options', nargs='*', default=list(DEMO_OPTIONS),
                   metavar='KEY=VALUE', help='applied to both models '
                   '(default: %(default)s; a bare --cfg-options trains the '
                   "configs' full schedule)")
    p.add_argument('--method-cfg-options', nargs='+', default=[],
                   metavar='KEY=VALUE', help='applied to the method only')
    return p.parse_args(argv)


def constant_predictor_metrics(cfg) -> dict:
    """Metrics of the best constant predictor fitted on the training split
    (all of its images, whatever the regime labels)."""
    from mmengine.registry import init_default_scope

    from mtpsl.evaluation.constant_baseline import (constant_predictions,
                                                    fit_constant_predictor)
    from mtpsl.registry import DATASETS, METRICS
    init_default_scope('mtpsl')
    train_cfg = dict(cfg.train_dataloader.dataset, label_regime=None)
    train = DATASETS.build(train_cfg)
    test = DATASETS.build(cfg.test_dataloader.dataset)
    num_classes = {t: h.num_classes for t, h in cfg.model.heads.items()
                   if h.get('num_classes')}
    constants = fit_constant_predictor(
        (train[i]['data_samples'] for i in range(len(train))), num_classes)
    metrics = {}
    evaluator = cfg.test_evaluator
    metric_cfgs = evaluator['metrics'] if isinstance(evaluator, dict) \
        else evaluator
    # the test set is loaded once and scored by every metric
    samples = constant_predictions(
        constants, [test[i]['data_samples'] for i in range(len(test))])
    for metric_cfg in metric_cfgs:
        metric = METRICS.build(metric_cfg)
        metric.process(None, samples)
        metrics.update({f'{metric.prefix}/{k}': v for k, v in
                        metric.compute_metrics(metric.results).items()})
    return metrics


def demo_config(name: str, config: str, options, args):
    """The config of one model with its demo work dir, and its final
    checkpoint's path."""
    from mtpsl.apis.config import load_config
    cfg = load_config(config, options)
    cfg.work_dir = osp.join(args.work_dir, name.lower().replace(' ', '_'))
    return cfg, osp.join(cfg.work_dir, f'iter_{cfg.train_cfg.max_iters}.pth')


def default_jobs() -> int:
    """Trainings side by side: one per core, at most 2, on a machine
    without CUDA; one on a GPU machine (one device)."""
    import torch
    if torch.cuda.is_available():
        return 1
    return max(1, min(2, os.cpu_count() or 1))


def train_all(models, args, on_done=None) -> dict:
    """Train every ``(name, config, options)`` whose final checkpoint is
    missing (or all with ``--retrain``): in this process one after the
    other, or with ``--jobs 2`` side by side, each in its own
    ``tools/train.py`` process with an equal share of the cores as torch
    threads (on 2 CPU cores the two trainings take about as long as the
    slower one alone). Side by side, ``on_done(name)`` runs in this
    process, with the finished training's share of the threads, as soon as
    a training ends while another still runs (the demo tests the first
    model there instead of leaving its cores idle). Returns the wall time
    of each."""
    import subprocess
    todo, times = [], {}
    for name, config, options in models:
        cfg, final = demo_config(name, config, options, args)
        if osp.isfile(final) and not args.retrain:
            print(f'[demo] training {name} skipped: {final} exists '
                  '(--retrain to train again)', flush=True)
            times[name] = 0.0
        else:
            todo.append((name, config, options, cfg))
    if args.jobs <= 1 or len(todo) <= 1:
        from mtpsl.engine import MTPSLRunner
        for name, config, _, cfg in todo:
            print(f'[demo] training {name}: {config}', flush=True)
            t0 = time.time()
            cfg.experiment_name = f'demo_{osp.basename(cfg.work_dir)}_train'
            MTPSLRunner.from_cfg(cfg.copy()).train()
            times[name] = time.time() - t0
        return times
    threads = max(1, (os.cpu_count() or 1) // len(todo))
    repo = osp.dirname(osp.dirname(osp.abspath(__file__)))
    env = dict(os.environ, OMP_NUM_THREADS=str(threads),
               MKL_NUM_THREADS=str(threads))
    running = []
    for name, config, options, cfg in todo:
        os.makedirs(cfg.work_dir, exist_ok=True)
        log = osp.join(cfg.work_dir, 'train.log')
        cmd = [sys.executable, osp.join(repo, 'tools', 'train.py'), config,
               '--work-dir', cfg.work_dir]
        if options:
            cmd += ['--cfg-options', *options]
        print(f'[demo] training {name}: {config} (its own process, '
              f'{threads} thread(s); log {log})', flush=True)
        f = open(log, 'w')
        running.append((name, log, f, time.time(),
                        subprocess.Popen(cmd, stdout=f,
                                         stderr=subprocess.STDOUT, env=env)))
    failed, waiting = [], list(running)
    while waiting:
        finished = [job for job in waiting if job[4].poll() is not None]
        if not finished:
            time.sleep(1.0)
            continue
        for job in finished:
            name, log, f, t0, proc = job
            times[name] = time.time() - t0
            f.close()
            waiting.remove(job)
            if proc.returncode != 0:
                failed.append((name, log, proc.returncode))
            elif waiting and on_done is not None and not failed:
                import torch
                before = torch.get_num_threads()
                torch.set_num_threads(threads)
                try:
                    on_done(name)
                except BaseException:
                    for other in waiting:   # no training left orphaned
                        other[4].kill()
                        other[4].wait()
                        other[2].close()
                    raise
                finally:
                    torch.set_num_threads(before)
    if failed:
        lines = []
        for name, log, code in failed:
            with open(log) as f:
                tail = ''.join(f.readlines()[-15:])
            lines.append(f'training {name} failed (exit {code}); the end of '
                         f'{log}:\n{tail}')
        raise SystemExit('\n'.join(lines))
    return times


def publish_and_test(name: str, config: str, options, args) -> tuple:
    """Publish and test one trained model: (cfg, metrics, published
    checkpoint)."""
    from mtpsl.engine import MTPSLRunner
    from tools.publish_model import publish
    cfg, final = demo_config(name, config, options, args)
    stem = osp.splitext(osp.basename(config))[0]
    published = publish(final, osp.join(cfg.work_dir, 'published'), stem,
                        drop_prefix=('methods.', ),
                        # the demo's own training checkpoint, made just
                        # above: trusted
                        trust_checkpoint=True)
    test_cfg = cfg.copy()
    test_cfg.model.pop('methods', None)  # methods never run at inference
    test_cfg.experiment_name = f'demo_{osp.basename(cfg.work_dir)}_test'
    test_cfg.load_from = published
    return cfg, MTPSLRunner.from_cfg(test_cfg).test(), published


def draw_pictures(cfg, models: dict, out_dir: str, limit: int) -> int:
    """Side-by-side pictures of the first ``limit`` test images."""
    from mmengine.registry import init_default_scope

    from mtpsl.apis.inference import inference_model, init_model
    from mtpsl.registry import DATASETS
    from mtpsl.visualization.side_by_side import draw_side_by_side
    init_default_scope('mtpsl')
    test = DATASETS.build(cfg.test_dataloader.dataset)
    # the configs as trained (with --cfg-options), not the files
    nets = {name: init_model(trained_cfg, ckpt)
            for name, (trained_cfg, ckpt, _) in models.items()}
    class_names = cfg.test_evaluator[0]['class_names']
    os.makedirs(out_dir, exist_ok=True)
    for i in range(min(limit, len(test))):
        item = test[i]
        sample = item['data_samples']
        image = item['inputs'].permute(1, 2, 0).numpy()
        gts = {t: _gt_array(t, sample.gt(t)) for t in sample.tasks
               if sample.gt(t) is not None}
        preds = {name: inference_model(net, image)
                 for name, net in nets.items()}
        titles = ', '.join(f'{n}: {models[n][2]}' for n in models)
        draw_side_by_side(osp.join(out_dir, f'{sample.img_id}.png'), image,
                          gts, preds, class_names,
                          title=f'test image {sample.img_id} (onelabel '
                          f'training; {titles})')
    return min(limit, len(test))


def _gt_array(task: str, gt):
    """A GT tensor as ``inference_model`` shapes predictions."""
    arr = gt.numpy()
    return arr.transpose(1, 2, 0) if task == 'normal' else arr[0]


def main(argv=None):
    start = time.time()
    args = parse_args(argv)
    if args.jobs is None:
        args.jobs = default_jobs()
    from mtpsl.datasets.procedural import generate_dataset
    from mtpsl.evaluation import format_comparison_table

    if args.preset != 'none':
        print(f'[demo] 1/4 procedural dataset in {args.data_root}',
              flush=True)
        height, width = args.size
        generate_dataset(args.data_root, preset=args.preset, height=height,
                         width=width, seed=0)
    t_data = time.time()
    data = [f'{loader}.dataset.data_root={args.data_root}'
            for loader in LOADERS]
    print('[demo] 2/4 training in the onelabel regime (each training image '
          'labelled for one task)', flush=True)
    models = [(name, config, data + list(args.cfg_options) + list(extra))
              for name, config, extra in (
                  (BASELINE[0], args.baseline_config, []),
                  (args.method_name, args.method_config,
                   args.method_cfg_options))]
    results, early, constant = {}, {}, {}

    def test_early(name):   # a model done while the other still trains
        t0 = time.time()
        config, options = next((c, o) for n, c, o in models if n == name)
        print(f'[demo] testing {name} while the other model trains',
              flush=True)
        results[name] = publish_and_test(name, config, options, args)
        if name == BASELINE[0]:
            constant.update(constant_predictor_metrics(results[name][0]))
        early[name] = time.time() - t0

    times = train_all(models, args, on_done=test_early)
    # training time: until the last training ended (an early test ran
    # inside it, on the freed core)
    t_fit = time.time()
    for name, config, options in models:
        if name not in results:
            results[name] = publish_and_test(name, config, options, args)
    t_train = time.time()

    print('[demo] 3/4 best constant predictor (fitted on the training '
          'split)', flush=True)
    base_cfg = results[BASELINE[0]][0]
    if not constant:
        constant.update(constant_predictor_metrics(base_cfg))
    pictures = osp.join(args.work_dir, 'pictures')
    print(f'[demo] 4/4 pictures in {pictures}', flush=True)
    configs = {BASELINE[0]: args.baseline_config,
               args.method_name: args.method_config}
    models = {name: (results[name][0], results[name][2],
                     f'{results[name][1]["sem_seg/mIoU"]:.1f} mIoU')
              for name in configs}
    n_pictures = draw_pictures(base_cfg, models, pictures, args.num_pictures)
    columns = {name: results[name][1] for name in configs}
    columns['constant'] = constant
    with open(osp.join(args.work_dir, 'demo_metrics.json'), 'w') as f:
        json.dump(dict(models={n: dict(config=c, checkpoint=results[n][2],
                                       metrics=results[n][1])
                               for n, c in configs.items()},
                       constant=constant), f, indent=2)
    print('\nTest split of the procedural dataset '
          f'({args.data_root}/val), trained with one label per image:')
    print(format_comparison_table(columns))
    print(f'\npictures: {pictures}/ ({n_pictures} PNG: GT, '
          f'{" and ".join(models)} side by side)')
    print(f'metrics:  {osp.join(args.work_dir, "demo_metrics.json")}')
    side = ' side by side' if args.jobs > 1 else ''
    print(f'time: data {t_data - start:.0f} s, training '
          f'{t_fit - t_data:.0f} s (' + ', '.join(
              f'{n} {t:.0f} s' for n, t in times.items()) +
          f'{side}), tests {t_train - t_fit:.0f} s' + ''.join(
              f' (+ {n} {t:.0f} s during the training)'
              for n, t in early.items()) + ', constant predictor and '
          f'pictures {time.time() - t_train:.0f} s, total '
          f'{time.time() - start:.0f} s')


if __name__ == '__main__':
    run_tool(main)
