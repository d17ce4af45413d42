"""mtpsl's Runner: MMEngine's, with the stack's workarounds switched on."""
from __future__ import annotations

import os.path as osp
from typing import Callable, Optional, Union

from mmengine.runner import Runner

from mtpsl.registry import RUNNERS
from mtpsl.utils.compat import (checkpoint_path, cpu_distributed_needed,
                                init_cpu_process_group,
                                trusted_checkpoint_path)


@RUNNERS.register_module()
class MTPSLRunner(Runner):
    """MMEngine's Runner with these changes, each only where needed.

    - distributed launch on a machine without CUDA: gloo is initialised
      before MMEngine (whose init calls ``torch.cuda.set_device``), and the
      model is wrapped without ``device_ids``;
    - resume: the user's own training checkpoint is unpickled in full (it
      holds MMEngine objects that ``weights_only`` loading refuses);
      ``load_from`` stays on the safe path (``mtpsl.utils.safe_load``:
      weights only, refused globals named) unless the config sets
      ``trust_load_from=True`` (``--trust-checkpoint``);
    - loading a checkpoint is strict by default, so one that does not fit
      the model fails and lists the missing and unexpected keys;
    - ``UnsupervisedLossLogHook`` is registered, so a task without a label
      in a step logs no loss for that step (instead of a 0).
    """

    def setup_env(self, env_cfg: dict) -> None:
        """Initialise gloo first when the launch is distributed on CPU."""
        if cpu_distributed_needed(self.launcher):
            timeout = (env_cfg or {}).get('dist_cfg', {}).get('timeout')
            init_cpu_process_group(timeout)
        super().setup_env(env_cfg)

    def register_hooks(self, default_hooks=None, custom_hooks=None) -> None:
        """MMEngine's hooks, plus ``UnsupervisedLossLogHook`` (a task's
        loss is left out of the log for a step where it had no label)."""
        from mtpsl.engine.hooks import UnsupervisedLossLogHook
        super().register_hooks(default_hooks, custom_hooks)
        if not any(isinstance(h, UnsupervisedLossLogHook)
                   for h in self.hooks):
            self.register_hook(UnsupervisedLossLogHook())

    def build_train_loop(self, loop):
        """MMEngine's, after the hooks that make training data have made
        it. MMEngine's iteration loop starts its dataloader iterator when
        it is built, before ``before_run``: with ``num_workers > 0`` the
        workers would already read files a hook has yet to write (HiTTs'
        stage-2 pseudo supervision). So the dataloader is built here first
        and handed to each hook's ``prepare_train_data(runner, dataloader)``
        before the loop (and its iterator) exists."""
        from mmengine.runner import BaseLoop
        preparers = [h for h in self.hooks
                     if callable(getattr(h, 'prepare_train_data', None))]
        if preparers and not isinstance(loop, BaseLoop) and \
                isinstance(self._train_dataloader, dict):
            # as BaseLoop builds it from the config
            self._train_dataloader = self.build_dataloader(
                self._train_dataloader, seed=self.seed,
                diff_rank_seed=self._randomness_cfg.get('diff_rank_seed',
                                                        False))
            for hook in preparers:
                hook.prepare_train_data(self, self._train_dataloader)
        return super().build_train_loop(loop)

    def build_message_hub(self, message_hub=None):
        """MMEngine's hub, also holding the run's seed (``'seed'``), from
        which cross-task methods derive their random draws."""
        hub = super().build_message_hub(message_hub)
        hub.update_info('seed', int(self._seed))
        return hub

    def wrap_model(self, model_wrapper_cfg: Optional[dict], model):
        """Use the CPU-aware DDP wrapper when there is no CUDA."""
        if (model_wrapper_cfg is None and self.distributed
                and cpu_distributed_needed(self.launcher)):
            model_wrapper_cfg = dict(
                type='mtpsl.CPUAwareDistributedDataParallel',
                broadcast_buffers=False,
                find_unused_parameters=self.cfg.get(
                    'find_unused_parameters', False))
        return super().wrap_model(model_wrapper_cfg, model)

    def load_or_resume(self) -> None:
        """Say clearly when ``--resume`` finds nothing to resume from."""
        if (self._resume and self._load_from is None and not self._has_loaded):
            from mmengine.runner import find_latest_checkpoint
            if find_latest_checkpoint(self.work_dir) is None:
                raise FileNotFoundError(
                    f'--resume: no checkpoint to resume from in {self.work_dir}'
                    ' (expected a last_checkpoint file written by a previous '
                    'run); start without --resume or pass a checkpoint path')
        super().load_or_resume()

    def resume(self, filename: str, resume_optimizer: bool = True,
               resume_param_scheduler: bool = True,
               map_location: Union[str, Callable] = 'default') -> None:
        """Resume from the user's own checkpoint (full unpickling)."""
        if not osp.isfile(filename):
            raise FileNotFoundError(f'checkpoint to resume from not found: '
                                    f'{filename}')
        super().resume(trusted_checkpoint_path(filename), resume_optimizer,
                       resume_param_scheduler, map_location)

    def load_checkpoint(self, filename: str,
                        map_location: Union[str, Callable] = 'cpu',
                        strict: bool = True,
                        revise_keys: list = [(r'^module.', '')]):
        """Load weights (safe unless trusted); strict by default."""
        if '://' not in filename and not osp.isfile(filename):
            raise FileNotFoundError(f'checkpoint not found: {filename}')
        return super().load_checkpoint(
            checkpoint_path(filename, self.cfg.get('trust_load_from', False)),
            map_location, strict, revise_keys)


def _exit_watchdog(seconds: float):
    """A started daemon timer that ends the process (status 0, logs
    flushed) unless cancelled within ``seconds``."""
    import threading

    def end():
        import logging
        import os
        import sys
        sys.stderr.write(f'shutdown: the process group did not close within '
                         f'{seconds:g} s after a finished run (a peer gone '
                         'mid-teardown); exiting without waiting for it\n')
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):
                pass
        logging.shutdown()
        os._exit(0)
    timer = threading.Timer(seconds, end)
    timer.daemon = True
    timer.start()
    return timer


def shutdown_distributed(runner: Optional[Runner] = None,
                         timeout_s: float = 60.0,
                         exit_after_s: float = 180.0) -> list:
    """End a launched run cleanly; returns the gloo threads still alive.

    Cause of "terminate called without an active exception" (exit -6) at
    the end of a finished run: ``destroy_process_group`` alone does not stop
    gloo's threads (``pt_gloo_runloop``, ``gloo_tcp_loop``) while the DDP
    wrapper still holds the process group; they then live into interpreter
    finalisation, and a worker that drops the last reference to a tensor of
    a finished collective must take the GIL, which a finalising Python 3.11
    answers with ``pthread_exit`` in a C++ ``noexcept`` frame:
    ``std::terminate``. So: the ranks meet (no collective in flight), the
    process group is destroyed, the runner's DDP wrapper (its reducer and
    process group) is dropped and collected while the interpreter is alive,
    and the threads are joined then.

    The meeting has a timeout (``timeout_s``, gloo's ``monitored_barrier``):
    a rank that leaves the barrier first and destroys its group at once can
    close its sockets before its last barrier message has left, and the
    other rank then waited forever in a plain ``barrier`` (seen under load:
    a rank alive in this function minutes after its peer had exited). Both
    ranks have finished every collective once they reach this function, so
    a rank whose peer does not answer in time goes on, with a warning.

    A watchdog covers what follows: the run is finished and saved when this
    function is called, so if destroying the group and dropping the DDP
    wrapper have not returned after ``exit_after_s`` (seen once in 20
    stress cycles under load: a rank blocked in the DDP wrapper's
    destructor, gloo waiting on a peer that had exited), the process
    flushes its logs and exits with status 0, saying so on stderr.
    """
    import faulthandler
    import gc
    import time
    import warnings
    from datetime import timedelta

    import torch.distributed as dist

    from mtpsl.utils.compat import live_gloo_threads
    if not (dist.is_available() and dist.is_initialized()):
        return live_gloo_threads()
    watchdog = _exit_watchdog(exit_after_s)
    # and one that needs no GIL (faulthandler's C thread): if a destructor
    # still blocks holding it, the process prints every thread's stack and
    # exits (status 1) instead of hanging the launcher forever
    faulthandler.dump_traceback_later(exit_after_s + 60, exit=True)
    try:
        try:
            if dist.get_backend() == 'gloo':
                dist.monitored_barrier(timeout=timedelta(seconds=timeout_s))
            else:
                dist.barrier()
        except RuntimeError as err:
            warnings.warn(f'shutdown: rank {dist.get_rank()} did not meet '
                          f'every rank within {timeout_s:g} s '
                          f'({str(err)[:200]}); all collectives are '
                          'finished, going on')
        dist.destroy_process_group()
        # Let gloo's worker threads drop what they still hold before the
        # wrapper goes: a worker that destroys a finished collective's work
        # decrefs its Python tensors and needs the GIL, while the DDP
        # wrapper's destructor (Reducer -> ~ProcessGroupGloo) joins those
        # workers WITH the GIL held: a deadlock that no Python watchdog can
        # break (seen in the suite: rank 0 parked in thread.join under
        # ~Reducer, its pt_gloo_runloop in ~AsyncAllgatherWork waiting for
        # the GIL, for over ten minutes). Sleeping releases the GIL; every
        # collective has finished (the barrier above), so what is left is
        # these releases, microseconds each.
        time.sleep(0.2)
        if runner is not None:
            model = runner.model
            runner.model = getattr(model, 'module', model)
            del model
        gc.collect()
    finally:
        watchdog.cancel()
        faulthandler.cancel_dump_traceback_later()
    left = live_gloo_threads()
    if left:
        warnings.warn(f'gloo threads still running after shutdown: {left} '
                      '(something else holds the process group)')
    return left
