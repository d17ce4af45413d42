"""HiTTs' two-stage schedule as a hook: stage 2 makes its own pseudo
supervision with the frozen stage-1 model when it is missing.

Before the run, the folder's manifest is checked against this run (stage-1
checkpoint sha256, the training set's label regime and flags, tau, stride,
dtype): a mismatch is an error naming both values; a complete, matching
folder is reused; otherwise every rank makes its shard of the missing
entries (``tools/make_pseudo_labels.py``'s code), then all wait at a
barrier and the folder is checked complete.
"""
from __future__ import annotations

from typing import Mapping, Optional

from mmengine.dist import barrier, get_dist_info
from mmengine.hooks import Hook

from mtpsl.datasets import pseudo_store as store
from mtpsl.registry import HOOKS

from ..pseudo_supervision import (build_stage1, expected_manifest,
                                  feature_stride_of, produce)
from .label_regime_hook import _unwrap


@HOOKS.register_module()
class HiTTsPseudoLabelHook(Hook):
    """Make or reuse the pseudo supervision of a HiTTs stage-2 run.

    Args:
        stage1_config: the stage-1 config file, or the config itself (a
            dict: e.g. the benchmark runner's stage-1 run with its seed and
            regime).
        checkpoint: the stage-1 checkpoint.
        pseudo_dir: the folder (the stage-2 pipeline's
            ``LoadPseudoSupervision`` reads the same one).
        tau: ``{task: threshold}``.
        features: save features and masks too (False: naive L_p* only).
        device: where stage 1 runs (default: cuda:LOCAL_RANK if available).
        trust_checkpoint: the stage-1 checkpoint is a training checkpoint
            you made (pickled objects besides tensors); without it only a
            weights-only file loads (``tools/publish_model.py``).
    """
    priority = 'VERY_HIGH'

    def __init__(self, stage1_config: str, checkpoint: str, pseudo_dir: str,
                 tau: Mapping[str, float], features: bool = True,
                 device: Optional[str] = None,
                 trust_checkpoint: bool = False) -> None:
        self.stage1_config = stage1_config
        self.checkpoint = checkpoint
        self.pseudo_dir = pseudo_dir
        self.tau = dict(tau)
        self.features = bool(features)
        self.device = device
        self.trust_checkpoint = bool(trust_checkpoint)
        self._prepared = False

    def prepare_train_data(self, runner, dataloader) -> None:
        """Called by ``MTPSLRunner`` with the training dataloader before
        the training loop starts its iterator (whose workers would
        otherwise read entries not yet written)."""
        self._prepare(runner, dataloader.dataset)

    def before_run(self, runner) -> None:
        """The same under a plain MMEngine Runner (with ``num_workers=0``:
        its loop's workers start before this hook); a no-op when
        ``prepare_train_data`` ran."""
        if not self._prepared:
            self._prepare(runner, runner.train_dataloader.dataset)

    def _prepare(self, runner, dataset) -> None:
        """Check, make (every rank its shard, then a barrier) or reuse,
        leaving the global random states as they were: building the
        stage-1 model draws from them, and the stage-2 model is initialised
        after this hook, so its weights must not depend on whether the
        folder existed."""
        import random

        import numpy as np
        import torch
        py_state, np_state = random.getstate(), np.random.get_state()
        with torch.random.fork_rng(devices=[]):
            self._make_or_reuse(runner, dataset)
        random.setstate(py_state)
        np.random.set_state(np_state)
        self._prepared = True

    def _make_or_reuse(self, runner, dataset) -> None:
        import os
        import os.path as osp

        import torch

        from mtpsl.apis.config import load_config
        if not osp.isfile(self.checkpoint):
            raise FileNotFoundError(
                f'HiTTsPseudoLabelHook: stage-1 checkpoint not found: '
                f'{self.checkpoint}')
        dataset = _unwrap(dataset)
        if isinstance(self.stage1_config, str):
            stage1_cfg = load_config(self.stage1_config)
        else:
            from mmengine.config import Config
            stage1_cfg = Config(dict(self.stage1_config))
        cfg1, model, sha = build_stage1(stage1_cfg,
                                        self.checkpoint,
                                        trust_checkpoint=self.trust_checkpoint)
        expected = expected_manifest(dataset, sha, self.tau,
                                     feature_stride_of(model), self.features)
        del model
        ids = [str(dataset.get_data_info(i)['img_id'])
               for i in range(len(dataset))]
        if store.check_manifest(self.pseudo_dir, expected) and \
                not store.missing_ids(self.pseudo_dir, ids):
            runner.logger.info(f'HiTTs: reusing the pseudo supervision in '
                               f'{self.pseudo_dir} (manifest matches)')
            return
        rank, world = get_dist_info()
        device = self.device or ('cuda:%d' % int(os.environ.get(
            'LOCAL_RANK', 0)) if torch.cuda.is_available() else 'cpu')
        summary = produce(cfg1, self.checkpoint, self.pseudo_dir, self.tau,
                          (rank, world), features=self.features,
                          device=device, progress=False,
                          trust_checkpoint=self.trust_checkpoint)
        runner.logger.info(f'HiTTs pseudo supervision, rank {rank}: '
                           f'{summary}')
        barrier()
        # the folder made from the stage-1 config must be this run's
        store.check_manifest(self.pseudo_dir, expected)
        missing = store.missing_ids(self.pseudo_dir, ids)
        if missing:
            raise RuntimeError(f'HiTTsPseudoLabelHook: {len(missing)} '
                               f'entries still missing in {self.pseudo_dir} '
                               f'after every rank ran (first: {missing[0]})')
