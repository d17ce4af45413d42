"""Leave a task's losses out of the log for a step where it had no label."""
from __future__ import annotations

from typing import Iterable, List, Optional

from mmengine.hooks import Hook

from mtpsl.registry import HOOKS


def unsupervised_tasks(data_samples: Iterable, tasks: Iterable[str]
                       ) -> List[str]:
    """The tasks for which no sample of the batch is labelled."""
    samples = list(data_samples)
    return [t for t in tasks
            if not any(s.is_labelled(t) for s in samples)]


@HOOKS.register_module()
class UnsupervisedLossLogHook(Hook):
    """Drop ``<task>.*`` from a step's log values when no image of this
    rank's batch is labelled for ``task``, except the terms a cross-task
    method added to the task's group (they need no label of the task; the
    model lists them in ``method_term_keys``).

    The model still returns that task's exact-zero loss (the graph touches
    every parameter, as DDP needs); only its log entry goes, so MMEngine's
    log never shows a 0 that reads as a perfect fit. Runs before
    ``RuntimeInfoHook`` copies the values to the message hub; the
    ``MTPSLRunner`` registers it.
    """

    priority = 'HIGHEST'

    def after_train_iter(self, runner, batch_idx: int,
                         data_batch: Optional[dict] = None,
                         outputs: Optional[dict] = None) -> None:
        """Pop the log values of the tasks unsupervised in this batch."""
        if not outputs or not isinstance(data_batch, dict):
            return
        samples = data_batch.get('data_samples') or []
        if not samples or not hasattr(samples[0], 'is_labelled'):
            return
        tasks = samples[0].metainfo.get('label_flags', {}).keys()
        model = getattr(runner, 'model', None)
        model = getattr(model, 'module', model)
        keep = getattr(model, 'method_term_keys', frozenset())
        for task in unsupervised_tasks(samples, tasks):
            for key in [k for k in outputs
                        if k.startswith(f'{task}.') and k not in keep]:
                outputs.pop(key)
