"""RankAgreementHook on one process, the other rank simulated: equal
digests pass; a differing parameter, or a differing buffer it was asked to
compare, raises naming the tensor; buffers not named are not compared."""
import json
import types

import pytest
import torch

from mtpsl.engine.hooks import rank_agreement_hook as rah


class _Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(1, 2, 1)
        self.bn = torch.nn.BatchNorm2d(2)
        self.register_buffer('bank_mean', torch.arange(4.0))


def _runner(tmp_path):
    logs = []
    return types.SimpleNamespace(
        model=_Net(), work_dir=str(tmp_path),
        logger=types.SimpleNamespace(info=logs.append)), logs


def _two_ranks(monkeypatch, change=None):
    """Pretend to be rank 0 of 2; rank 1 holds our digests, ``change``d."""
    import mmengine.dist as dist
    monkeypatch.setattr(dist, 'get_world_size', lambda: 2)
    monkeypatch.setattr(dist, 'get_rank', lambda: 0)

    def gather(digests):
        other = dict(digests)
        if change:
            other[change] = '0' * 40
        return [digests, other]
    monkeypatch.setattr(dist, 'all_gather_object', gather)


def test_equal_ranks_pass_and_digests_are_written(tmp_path, monkeypatch):
    _two_ranks(monkeypatch)
    runner, logs = _runner(tmp_path)
    rah.RankAgreementHook(buffers=('bank_',)).after_train(runner)
    written = json.load(open(tmp_path / 'param_digests_rank0.json'))
    assert sorted(written) == ['bank_mean', 'bn.bias', 'bn.weight',
                               'conv.bias', 'conv.weight']
    assert written['bank_mean'] == rah.tensor_digests(
        dict(b=torch.arange(4.0)))['b']
    assert logs == ['RankAgreementHook: 5 tensors identical on 2 ranks']


@pytest.mark.parametrize('name', ['conv.weight', 'bank_mean'])
def test_a_differing_tensor_is_named(tmp_path, monkeypatch, name):
    _two_ranks(monkeypatch, change=name)
    runner, _ = _runner(tmp_path)
    with pytest.raises(RuntimeError, match=f"'{name}' differs between rank "
                       '0 and rank 1'):
        rah.RankAgreementHook(buffers=('bank_',)).after_train(runner)


def test_buffers_are_compared_only_when_named(tmp_path, monkeypatch):
    _two_ranks(monkeypatch, change='bn.running_mean')
    runner, _ = _runner(tmp_path)
    rah.RankAgreementHook().after_train(runner)  # BN statistics: per rank
    with pytest.raises(KeyError, match="no buffer starts with \\('nope',\\)"):
        rah.RankAgreementHook(buffers=('nope',)).after_train(runner)
