"""The walkthrough of docs/methods.md, tested: ExamplePrior's per-task
term (golden values), its bank (checkpoint and DDP policy), its seeded draw,
and its config training a step."""
import os.path as osp

import pytest
import torch
from conftest import REPO, run_python

from example_prior import ExamplePrior
from mtpsl.models.methods import MethodBundle, ViewBundle

TASKS = ('sem_seg', 'depth')


def _bundle(flags, depth_gt, depth_pred, iter=0):
    b = flags.shape[0]
    view = ViewBundle(inputs=torch.zeros(b, 3, 1, 4), shared_feats=(),
                      task_feats={}, preds=dict(depth=depth_pred),
                      targets=dict(depth=depth_gt), label_flags=flags)
    return MethodBundle(tasks=TASKS, view1=view, iter=iter, seed=0)


def test_term_golden_and_bank_update():
    prior = ExamplePrior(TASKS, bank_size=3, num_pixels=5, loss_weight=0.5)
    # image 0 labelled for depth, mean GT over valid pixels (2, 4) = 3;
    # image 1 unlabelled, predicting 5 everywhere
    flags = torch.tensor([[True, True], [True, False]])
    gt = torch.tensor([[[[2., 4., 0., 0.]]], [[[0., 0., 0., 0.]]]])
    pred = torch.tensor([[[[1., 1., 1., 1.]]], [[[5., 5., 5., 5.]]]],
                        requires_grad=True)
    losses, terms = prior.collect(_bundle(flags, gt, pred))
    assert losses == {}
    # |5 - 3| * 0.5 = 1, whatever pixels are drawn (all are 5)
    assert float(terms['depth']['loss_prior'].detach()) == pytest.approx(1.0)
    assert prior.bank_rows('bank').tolist() == [3.0]
    terms['depth']['loss_prior'].backward()
    # d/dpred of 0.5 |mean(drawn) - 3|: 0.5 / 5 per draw, on image 1 only
    assert float(pred.grad[1].sum()) == pytest.approx(0.5)
    assert float(pred.grad[0].abs().sum()) == 0.0


def test_nothing_to_compare_is_an_exact_zero():
    prior = ExamplePrior(TASKS, bank_size=2)
    flags = torch.tensor([[True, False]])          # bank still empty
    pred = torch.ones(1, 1, 1, 4, requires_grad=True)
    _, terms = prior.collect(_bundle(flags, torch.zeros(1, 1, 1, 4), pred))
    term = terms['depth']['loss_prior']
    assert float(term) == 0.0 and term.requires_grad


def test_draw_is_seeded_by_iteration_not_global_rng():
    prior = ExamplePrior(TASKS, bank_size=2, num_pixels=1)
    prior.push_to_bank('bank', torch.tensor([0.0]))
    flags = torch.tensor([[True, False]])
    pred = torch.arange(4.).view(1, 1, 1, 4)
    gt = torch.zeros(1, 1, 1, 4)

    def term(it):
        torch.manual_seed(123 + it)   # the global RNG must not matter
        return float(prior.collect(_bundle(flags, gt, pred, it))[1][
            'depth']['loss_prior'])
    assert term(0) == term(0)
    assert len({term(i) for i in range(8)}) > 1   # it changes with iter


def test_bank_is_fifo_and_in_the_checkpoint():
    prior = ExamplePrior(TASKS, bank_size=3)
    prior.push_to_bank('bank', torch.tensor([1., 2.]))
    prior.push_to_bank('bank', torch.tensor([3., 4.]))
    assert prior.bank.tolist() == [3., 4., 1.]   # newest first
    assert int(prior.bank_count) == 3
    state = prior.state_dict()
    assert set(state) == {'bank', 'bank_count'}
    fresh = ExamplePrior(TASKS, bank_size=3)
    fresh.load_state_dict(state)
    assert fresh.bank_rows('bank').tolist() == [3., 4., 1.]
    with pytest.raises(ValueError, match='policy'):
        ExamplePrior(TASKS, policy='everywhere')
    with pytest.raises(ValueError, match='rows of shape'):
        prior.push_to_bank('bank', torch.zeros(2, 2))


DDP_CODE = r'''
import sys, torch, torch.distributed as dist, torch.multiprocessing as mp
sys.path.insert(0, 'tests/test_methods')
from example_prior import ExamplePrior

def run(rank, port, out):
    dist.init_process_group('gloo', init_method=f'tcp://127.0.0.1:{port}',
                            rank=rank, world_size=2)
    tasks = ('sem_seg', 'depth')
    g = ExamplePrior(tasks, bank_size=4, policy='gathered')
    p = ExamplePrior(tasks, bank_size=4, policy='per_rank')
    rows = torch.tensor([10.0 * rank + 1.0] * (rank + 1))  # 1 vs 2 rows
    g.push_to_bank('bank', rows)
    p.push_to_bank('bank', rows)
    res = [None, None]
    dist.all_gather_object(res, (g.bank_rows('bank').tolist(),
                                 p.bank_rows('bank').tolist()))
    if rank == 0:
        out.put(res)
    dist.destroy_process_group()

if __name__ == '__main__':
    port = int(sys.argv[1])
    ctx = mp.get_context('spawn')
    out = ctx.Queue()
    mp.spawn(run, args=(port, out), nprocs=2)
    print(out.get())
'''


def test_bank_policies_under_two_processes(tmp_path):
    from conftest import free_port
    script = tmp_path / 'ddp_bank.py'
    script.write_text(DDP_CODE)
    out = run_python(f'import runpy, sys; sys.argv = ["x", '
                     f'"{free_port()}"]; runpy.run_path({str(script)!r}, '
                     f'run_name="__main__")', timeout=240)
    assert out.returncode == 0, out.stderr[-3000:]
    (g0, p0), (g1, p1) = eval(out.stdout.strip().splitlines()[-1])
    # gathered: both ranks hold rank 0's row then rank 1's two rows
    assert g0 == g1 == [1.0, 11.0, 11.0]
    # per rank: each keeps its own
    assert p0 == [1.0] and p1 == [11.0, 11.0]


def test_walkthrough_config_trains_one_step(tiny_procedural_root):
    from mmengine.dataset import pseudo_collate

    from mtpsl.apis.config import load_config
    from mtpsl.registry import DATASETS, MODELS
    cfg = load_config(osp.join(REPO, 'tests', 'test_methods',
                               'example_prior_config.py'))
    cfg.train_dataloader.dataset.data_root = tiny_procedural_root
    dataset = DATASETS.build(cfg.train_dataloader.dataset)
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    batch = pseudo_collate([dataset[i] for i in range(4)])
    data = model.data_preprocessor(batch, training=True)
    losses = model(**data, mode='loss')
    # the term is logged with the depth task, weighted by the balancer
    assert 'depth.loss_prior' in losses
    assert not any(k.startswith('prior.') for k in losses)
    sum(v for k, v in losses.items() if 'loss' in k).backward()
    assert 'methods.prior.bank' in model.state_dict()
