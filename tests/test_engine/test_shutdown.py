"""A finished distributed run joins gloo's threads before Python exits.

The cause of rank 1's "terminate called without an active exception" at
exit: with the DDP wrapper alive, ``destroy_process_group`` leaves gloo's
threads running into interpreter finalisation (see
``mtpsl.engine.runner.shutdown_distributed``).
"""
import json

from conftest import free_port, run_python

CODE = '''
import json, types, torch, torch.distributed as dist
from mtpsl.engine.ddp import CPUAwareDistributedDataParallel
from mtpsl.engine.runner import shutdown_distributed
from mtpsl.utils.compat import live_gloo_threads
dist.init_process_group('gloo', init_method='tcp://127.0.0.1:{port}',
                        rank=0, world_size=1)
model = CPUAwareDistributedDataParallel(torch.nn.Linear(3, 2))
model(torch.ones(4, 3)).sum().backward()
runner = types.SimpleNamespace(model=model)
del model
before = live_gloo_threads()
{call}
print(json.dumps(dict(before=before, after=live_gloo_threads(),
                      unwrapped=type(runner.model).__name__)))
'''


def _threads(call: str) -> dict:
    out = run_python(CODE.format(port=free_port(), call=call), timeout=120)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_shutdown_joins_gloo_threads_while_python_is_alive():
    res = _threads('shutdown_distributed(runner)')
    assert 'pt_gloo_runloop' in res['before']
    assert res['after'] == []
    assert res['unwrapped'] == 'Linear'  # the DDP wrapper was dropped


def test_destroy_alone_leaves_gloo_threads_running():
    # The defect behind the abort: barrier + destroy with DDP alive.
    res = _threads('dist.barrier(); dist.destroy_process_group()')
    assert 'pt_gloo_runloop' in res['after']


def test_shutdown_without_process_group_is_a_no_op():
    out = run_python('from mtpsl.engine.runner import shutdown_distributed;'
                     'print(shutdown_distributed(None))')
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == '[]'


PEER_GONE = '''
import sys, time, torch.distributed as dist
from mtpsl.engine.runner import shutdown_distributed
rank = int(sys.argv[1])
dist.init_process_group('gloo', init_method='tcp://127.0.0.1:{port}',
                        rank=rank, world_size=2)
dist.all_reduce(__import__('torch').ones(1))  # the run's last collective
if rank == 1:  # the peer that already left (its barrier message lost)
    sys.exit(0)
start = time.time()
shutdown_distributed(None, timeout_s=3)
print('left after', round(time.time() - start, 1))
'''


def test_shutdown_goes_on_when_the_peer_has_left():
    """Rank 0 meets a peer that has already exited: with a plain barrier it
    waited forever (gloo's 30-minute default); the meeting times out after
    ``timeout_s`` and the rank ends cleanly, with a warning."""
    import os
    import subprocess
    import sys

    from conftest import REPO
    code = PEER_GONE.format(port=free_port())
    env = dict(os.environ, PYTHONPATH=REPO)
    procs = [subprocess.Popen([sys.executable, '-c', code, str(r)], cwd=REPO,
                              env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
             for r in (0, 1)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    assert 'left after' in outs[0][0]
    assert float(outs[0][0].split()[-1]) < 60
    assert 'did not meet every rank within 3 s' in outs[0][1]


def test_a_teardown_that_blocks_ends_the_finished_process():
    """If destroying the group blocks (as a DDP destructor waiting on a gone
    peer did), the watchdog ends the finished process with status 0, its
    output flushed and the reason on stderr."""
    code = '''
import time, torch.distributed as dist
from mtpsl.engine.runner import shutdown_distributed
dist.init_process_group('gloo', init_method='tcp://127.0.0.1:{port}',
                        rank=0, world_size=1)
dist.destroy_process_group = lambda: time.sleep(1000)  # blocks forever
print('run finished', flush=False)
shutdown_distributed(None, exit_after_s=2)
print('not reached')
'''.format(port=free_port())
    out = run_python(code, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == 'run finished'
    assert 'did not close within 2 s' in out.stderr
