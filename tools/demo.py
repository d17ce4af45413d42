"""The README's main job, end to end on the embedded procedural dataset.

1. generate the procedural dataset (skipped when it is already complete);
2. train the SegNet multi-task baseline (skipped when the work dir already
   holds the final checkpoint, unless ``--retrain``);
3. publish the checkpoint as a plain state dict and evaluate it on the test
   split, writing one picture per test image (``--num-pictures``);
4. print the metrics next to those of the best constant predictor.
"""
import argparse
import json
import os
import os.path as osp
import sys
import time

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from mtpsl.utils.cli import run_tool  # noqa: E402

DEFAULT_CONFIG = ('configs/baseline/'
                  'mtl_segnet-w16_1xb8-600it_procedural-full-96x128.py')
LOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--config', default=DEFAULT_CONFIG)
    p.add_argument('--work-dir', default='work_dirs/demo')
    p.add_argument('--data-root', default='data/procedural-96x128')
    p.add_argument('--preset', default='small',
                   help='procedural dataset preset (small: 96x128)')
    p.add_argument('--num-pictures', type=int, default=8)
    p.add_argument('--retrain', action='store_true')
    p.add_argument('--cfg-options', nargs='+', default=[],
                   metavar='KEY=VALUE')
    return p.parse_args(argv)


def constant_predictor_metrics(cfg) -> dict:
    """Metrics of the best constant predictor fitted on the training split."""
    from mmengine.registry import init_default_scope

    from mtpsl.evaluation.constant_baseline import (constant_predictions,
                                                    fit_constant_predictor)
    from mtpsl.registry import DATASETS, METRICS
    init_default_scope('mtpsl')
    train = DATASETS.build(cfg.train_dataloader.dataset)
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


def main(argv=None):
    start = time.time()
    args = parse_args(argv)
    from mtpsl.apis.config import load_config
    from mtpsl.datasets.procedural import generate_dataset
    from mtpsl.engine import MTPSLRunner
    from mtpsl.evaluation import format_comparison_table
    from tools.publish_model import publish

    print(f'[demo] 1/4 procedural dataset in {args.data_root}', flush=True)
    generate_dataset(args.data_root, preset=args.preset, seed=0)
    t_data = time.time()

    options = [f'{loader}.dataset.data_root={args.data_root}'
               for loader in LOADERS] + list(args.cfg_options)
    cfg = load_config(args.config, options)
    cfg.work_dir = args.work_dir
    final = osp.join(args.work_dir, f'iter_{cfg.train_cfg.max_iters}.pth')
    if osp.isfile(final) and not args.retrain:
        print(f'[demo] 2/4 training skipped: {final} exists (--retrain to '
              'train again)', flush=True)
    else:
        print(f'[demo] 2/4 training {args.config}', flush=True)
        cfg.experiment_name = 'demo_train'
        MTPSLRunner.from_cfg(cfg.copy()).train()
    t_train = time.time()

    name = osp.splitext(osp.basename(args.config))[0]
    # the demo's own training checkpoint, made just above: trusted
    published = publish(final, osp.join(args.work_dir, 'published'), name,
                        trust_checkpoint=True)
    pictures = osp.join(args.work_dir, 'pictures')
    print(f'[demo] 3/4 testing {published}', flush=True)
    test_cfg = cfg.copy()
    test_cfg.experiment_name = 'demo_test'
    test_cfg.load_from = published
    test_cfg.custom_hooks = [dict(type='MultiTaskVisualizationHook',
                                  out_dir=pictures, limit=args.num_pictures)]
    metrics = MTPSLRunner.from_cfg(test_cfg).test()
    t_test = time.time()

    print('[demo] 4/4 best constant predictor (fitted on the training '
          'split)', flush=True)
    constant = constant_predictor_metrics(cfg)
    with open(osp.join(args.work_dir, 'demo_metrics.json'), 'w') as f:
        json.dump(dict(model=metrics, constant=constant,
                       checkpoint=published), f, indent=2)
    print('\nTest split of the procedural dataset '
          f'({args.data_root}/val):')
    print(format_comparison_table({'model': metrics, 'constant': constant}))
    print(f'\npictures: {pictures}/ ({len(os.listdir(pictures))} PNG)')
    print(f'metrics:  {osp.join(args.work_dir, "demo_metrics.json")}')
    print(f'time: data {t_data - start:.0f} s, train {t_train - t_data:.0f} s,'
          f' test {t_test - t_train:.0f} s, total {time.time() - start:.0f} s')


if __name__ == '__main__':
    run_tool(main)
