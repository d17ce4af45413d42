"""The FIFO bank of region Gaussians: order, wrap-around, checkpoint state,
and the DDP policy (gathered: every rank holds the same bank)."""
import os

import torch
import torch.distributed as dist
import torch.multiprocessing as tmp
from conftest import free_port

from mtpsl.models.methods.gaussian_regions import Gaussians
from mtpsl.models.methods.region_bank import GaussianBank, gather_rows


def _g(values, c=2):
    v = torch.tensor(values, dtype=torch.float64)
    return Gaussians(v[:, None].expand(-1, c).clone(),
                     v[:, None, None] * torch.eye(c, dtype=torch.float64),
                     torch.ones(len(values), dtype=torch.long))


def test_fifo_order_wraps_around_and_keeps_the_newest():
    bank = GaussianBank(3, 2)
    assert bank.entries() is None and len(bank) == 0
    bank.push(_g([1, 2]))
    assert bank.entries().mean[:, 0].tolist() == [1, 2]
    bank.push(_g([3, 4]))             # 1 drops out; oldest first
    assert bank.entries().mean[:, 0].tolist() == [2, 3, 4]
    assert bank.entries().cov[:, 1, 1].tolist() == [2, 3, 4]
    bank.push(_g([5, 6, 7, 8]))       # more than the bank: the last 3
    assert bank.entries().mean[:, 0].tolist() == [6, 7, 8]
    assert len(bank) == 3


def test_state_dict_round_trip_is_the_same_bank():
    bank = GaussianBank(4, 2)
    bank.push(_g([1, 2, 3]))
    bank.push(_g([4, 5]))
    state = bank.state_dict()
    assert set(state) == {'mean', 'cov', 'filled', 'ptr'}
    other = GaussianBank(4, 2)
    other.load_state_dict(state)
    assert torch.equal(other.entries().mean, bank.entries().mean)
    other.push(_g([6]))
    bank.push(_g([6]))
    assert torch.equal(other.entries().cov, bank.entries().cov)


def test_diagonal_bank_refuses_full_covariances():
    import pytest
    bank = GaussianBank(2, 2, diagonal=True)
    with pytest.raises(ValueError, match='do not fit'):
        bank.push(_g([1]))


def _rank(rank, world, port, out):
    os.environ.update(MASTER_ADDR='127.0.0.1', MASTER_PORT=str(port))
    dist.init_process_group('gloo', rank=rank, world_size=world)
    bank = GaussianBank(5, 2)
    # rank 0 pushes 1 entry, rank 1 three: everyone gets rank 0's first
    bank.push(_g([10 + rank * 10 + i for i in range(1 + 2 * rank)]))
    bank.push(_g([100 + rank]))
    rows = gather_rows(torch.tensor([[float(rank)]] * (rank + 1)))
    torch.save(dict(mean=bank.entries().mean, rows=rows), f'{out}/{rank}.pt')
    dist.destroy_process_group()


def test_ddp_ranks_hold_the_same_gathered_bank(tmp_path):
    tmp.spawn(_rank, args=(2, free_port(), str(tmp_path)), nprocs=2)
    a, b = (torch.load(tmp_path / f'{r}.pt') for r in (0, 1))
    assert torch.equal(a['mean'], b['mean'])
    # [10] + [20, 21, 22], then [100] + [101], the last 5 kept
    assert a['mean'][:, 0].tolist() == [20, 21, 22, 100, 101]
    assert a['rows'].flatten().tolist() == [0, 1, 1] == \
        b['rows'].flatten().tolist()


def _rank_method(rank, world, port, out):
    os.environ.update(MASTER_ADDR='127.0.0.1', MASTER_PORT=str(port))
    dist.init_process_group('gloo', rank=rank, world_size=world)
    from test_region_contrast import ONE, _bundle, _rc
    torch.manual_seed(0)
    rc = _rc(bank_size=32)
    # rank 0 has nothing to compare (all labelled), rank 1 has: both join
    # the bank's gather, no rank waits forever
    flags = torch.ones(2, 3, dtype=torch.bool) if rank == 0 else ONE
    loss = rc(_bundle(flags, seed=rank)[0])['rc.loss_rc']
    torch.save(dict(mean=rc.bank.mean, filled=rc.bank.filled,
                    loss=loss.detach()), f'{out}/m{rank}.pt')
    dist.destroy_process_group()


def test_ddp_rank_with_nothing_to_compare_still_joins_the_gather(tmp_path):
    tmp.spawn(_rank_method, args=(2, free_port(), str(tmp_path)), nprocs=2)
    a, b = (torch.load(tmp_path / f'm{r}.pt') for r in (0, 1))
    assert a['loss'].item() == 0 and b['loss'].item() > 0
    assert int(a['filled']) == int(b['filled']) > 0
    assert torch.equal(a['mean'], b['mean'])
