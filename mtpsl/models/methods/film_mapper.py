"""The pair-conditioned FiLM encoder of XTC and region contrast: a SegNet-like
encoder whose convolutions are FiLM-modulated by the (source, target) pair.

Li, Liu, Bilen, "Learning Multiple Dense Prediction Tasks from Partially
Annotated Data", CVPR 2022, Sec. 3.2 (the joint space mapping); the region
contrast release (Li et al., ECCV 2024) uses a small configuration of the
same encoder. Both are configurations of :class:`PairFiLMMapper`:

- :data:`XTC_RELEASE` (the default): per-task 3x3 conv + BN + ReLU stem,
  13 FiLM convs in SegNet's 2/2/3/3/3 stages of 64..512 channels, each conv
  -> affine BN -> FiLM -> ReLU, a 2x2 max-pool after every stage, output the
  last pooled map; each map normalised on its own. 14,819,328 parameters for
  NYUv2's tasks (FiLM 50,688), docs/FACTS.md.
- :data:`REGION_CONTRAST_RELEASE`: stem to 16 channels, 4 pooled stages of
  16/24/32/32 channels (2/2/3/3 convs), output 32 channels at 1/16;
  72,912 parameters for NYUv2's tasks.
- :data:`OURS_BEFORE_ISSUE_11`: our earlier variant (1x1 linear stem, 2
  FiLM convs per stage, BN without affine, a signed 1x1 output conv, the GT
  and prediction maps in one BN batch).
"""
from __future__ import annotations

from typing import Dict, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F

XTC_RELEASE = dict(widths=(64, 128, 256, 512, 512),
                   convs_per_stage=(2, 2, 3, 3, 3), pool=True, stem='conv',
                   output='pooled', bn_affine=True, shared_bn=False)
REGION_CONTRAST_RELEASE = dict(widths=(16, 24, 32, 32),
                               convs_per_stage=(2, 2, 3, 3), pool=True,
                               stem='conv', output='pooled', bn_affine=True,
                               shared_bn=False)
OURS_BEFORE_ISSUE_11 = dict(widths=(64, 128, 256, 512, 512),
                            convs_per_stage=2, pool=True, stem='linear',
                            output='conv', out_channels=512, bn_affine=False,
                            shared_bn=True)

# a pass of :meth:`PairFiLMMapper.map_per_sample` on the CPU keeps its
# largest activation within this (glibc's largest mmap threshold, 32 MiB)
CPU_PASS_BYTES = 32 * 2**20


def _batch_norm(norm: nn.BatchNorm2d, x: torch.Tensor) -> torch.Tensor:
    """``norm`` without its affine: normalise with batch statistics in
    training (updating the running ones as ``nn.BatchNorm2d`` does), with
    the running statistics in eval."""
    momentum = 0.0 if norm.momentum is None else norm.momentum
    if norm.training and norm.track_running_stats:
        norm.num_batches_tracked.add_(1)
        if norm.momentum is None:
            momentum = 1.0 / float(norm.num_batches_tracked)
    use_batch = norm.training or norm.running_mean is None
    track = not norm.training or norm.track_running_stats
    return F.batch_norm(x, norm.running_mean if track else None,
                        norm.running_var if track else None, None, None,
                        use_batch, momentum, norm.eps)


def _per_sample_batch_norm(norm: nn.BatchNorm2d, x: torch.Tensor,
                           scale: Optional[torch.Tensor] = None,
                           shift: Optional[torch.Tensor] = None
                           ) -> torch.Tensor:
    """``norm`` without its affine, as ``len(x)`` calls on one sample each:
    in training each sample normalised with its own statistics (those of a
    batch of one: per channel over H x W, biased variance), the running
    statistics updated as those calls would, in order; in eval, the running
    statistics (the same for every sample). ``scale`` / ``shift`` (B x C,
    optional): a per-sample affine applied in the same kernel."""
    if not norm.training:
        out = _batch_norm(norm, x)
        if scale is not None:
            out = torch.addcmul(shift[:, :, None, None], out,
                                scale[:, :, None, None])
        return out
    k, c = x.shape[:2]
    # one batch norm over the (sample, channel) planes: each sample its own
    # statistics, which land in these buffers (momentum 1: mean and the
    # unbiased variance), with no second pass over x
    stats = torch.float64 if x.dtype == torch.float64 else torch.float32
    mean = torch.zeros(k * c, dtype=stats, device=x.device)
    var = torch.ones(k * c, dtype=stats, device=x.device)
    out = F.batch_norm(x.reshape(1, k * c, *x.shape[2:]), mean, var,
                       None if scale is None else scale.reshape(-1),
                       None if shift is None else shift.reshape(-1),
                       True, 1.0, norm.eps).view_as(x)
    if norm.track_running_stats:
        with torch.no_grad():
            mean, var = mean.view(k, c), var.view(k, c)
            if norm.momentum is None:  # cumulative average, call by call
                for i in range(k):
                    norm.num_batches_tracked.add_(1)
                    m = 1.0 / float(norm.num_batches_tracked)
                    norm.running_mean.mul_(1 - m).add_(m * mean[i])
                    norm.running_var.mul_(1 - m).add_(m * var[i])
            else:  # k updates r <- (1 - m) r + m s_i, in closed form
                m = float(norm.momentum)
                w = m * (1 - m) ** torch.arange(k - 1, -1, -1,
                                                dtype=mean.dtype,
                                                device=mean.device)
                decay = (1 - m) ** k
                norm.running_mean.mul_(decay).add_(
                    (w @ mean).to(norm.running_mean.dtype))
                norm.running_var.mul_(decay).add_(
                    (w @ var).to(norm.running_var.dtype))
                norm.num_batches_tracked.add_(k)
    return out


class FiLMConv(nn.Module):
    """3x3 conv -> BN -> ``gamma * x + beta`` (the pair's FiLM) -> ReLU.

    With ``bn_affine`` the BN has its own affine (w, b), applied before the
    FiLM as in the release; the two affines are applied as one,
    ``(gamma w) x_hat + (gamma b + beta)``, which is the same map with one
    element-wise pass and one allocation fewer. The ReLU is in place.
    """

    def __init__(self, in_channels: int, out_channels: int,
                 bn_affine: bool = True) -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, 3, padding=1)
        self.norm = nn.BatchNorm2d(out_channels, affine=bn_affine)
        self.out_channels = out_channels

    def forward(self, x: torch.Tensor, gamma: torch.Tensor,
                beta: torch.Tensor, per_sample: bool = False) -> torch.Tensor:
        """``gamma``, ``beta``: B x C; ``per_sample``: each sample of the
        batch normalised on its own (:func:`_per_sample_batch_norm`)."""
        if self.norm.affine:
            beta = torch.addcmul(beta, gamma, self.norm.bias)
            gamma = gamma * self.norm.weight
        if per_sample:  # normalisation, BN affine and FiLM in one kernel
            x = _per_sample_batch_norm(self.norm, self.conv(x), gamma, beta)
        else:
            x = torch.addcmul(beta[:, :, None, None],
                              _batch_norm(self.norm, self.conv(x)),
                              gamma[:, :, None, None])
        return x.relu_()


def _per_stage(name: str, value, stages: int, kind: type) -> Tuple:
    """``value`` broadcast to one entry per stage, checked."""
    values = (value,) * stages if isinstance(value, kind) else tuple(value)
    if len(values) != stages:
        raise ValueError(f'PairFiLMMapper: {name} has {len(values)} entries '
                         f'for {stages} stages: {value!r}')
    return values


class PairFiLMMapper(nn.Module):
    """Map a task's encoded map into the joint space, conditioned on a pair.

    A per-task stem (``stem='conv'``: 3x3 conv + BN + ReLU; ``'linear'``: a
    1x1 conv) takes the task's encoded channels to ``widths[0]``; stage
    ``k`` has ``convs_per_stage[k]`` :class:`FiLMConv` of ``widths[k]``
    channels and a 2x2 max-pool if ``pool[k]``. The output is the last
    stage's map (``output='pooled'``, non-negative, ``widths[-1]``
    channels) or a signed 1x1 conv of it to ``out_channels``
    (``output='conv'``). Each ordered pair ``(s, t)`` owns one row of
    ``film`` (every FiLM gamma, then every beta), initialised to the
    identity (gamma 1, beta 0).

    Args:
        in_channels: ``{task: channels of its encoded map}``.
        tasks: the model's tasks; pairs are all ordered ``(s, t)``, s != t.
        widths: channels of the encoder stages.
        out_channels: channels of the joint space; with ``output='pooled'``
            None or ``widths[-1]``.
        convs_per_stage: FiLM convs per stage (an int: the same for all).
        pool: per stage, whether a 2x2 max-pool ends it (a bool: all).
        stem: ``'conv'`` or ``'linear'``.
        output: ``'pooled'`` or ``'conv'``.
        bn_affine: the encoder's BN has its own affine before the FiLM.
        shared_bn: :meth:`map_all` passes the maps through the encoder as
            one batch (one set of BN statistics) instead of one by one.
        samples_per_pass: :meth:`map_per_sample` runs the samples through
            the mapper in passes of at most this many (0: all in one pass);
            the outputs are the same. ``'auto'`` (the default): on the CPU,
            as many as keep a pass's largest activation within
            :data:`CPU_PASS_BYTES` (at least one), elsewhere one pass. On
            the CPU, glibc serves a block of up to 32 MiB from the heap
            once its mmap threshold has grown, and mmaps (and page-faults
            afresh) every larger one: one 288x384 map's 64-channel
            activation is 28 MB, eight maps in one pass are 226 MB (mapper
            forward + backward of 8 maps: 10.9 s in passes of one vs
            17.1 s in one pass, configs/xtc/README.md). With one map a pass
            it is the release's structure, one map per call.
    """

    def __init__(self, in_channels: Dict[str, int], tasks: Sequence[str],
                 widths: Sequence[int] = XTC_RELEASE['widths'],
                 out_channels: Optional[int] = None,
                 convs_per_stage: Union[int, Sequence[int]] =
                 XTC_RELEASE['convs_per_stage'],
                 pool: Union[bool, Sequence[bool]] = True,
                 stem: str = 'conv', output: str = 'pooled',
                 bn_affine: bool = True, shared_bn: bool = False,
                 samples_per_pass: Union[int, str] = 'auto') -> None:
        super().__init__()
        if samples_per_pass != 'auto' and (
                isinstance(samples_per_pass, bool)
                or not isinstance(samples_per_pass, int)
                or samples_per_pass < 0):
            raise ValueError(f"PairFiLMMapper: samples_per_pass must be "
                             f"'auto' or an int >= 0, got "
                             f"{samples_per_pass!r}")
        self.samples_per_pass = samples_per_pass
        self.tasks = tuple(tasks)
        missing = [t for t in self.tasks if t not in in_channels]
        if missing:
            raise KeyError(f'PairFiLMMapper: in_channels has no entry for '
                           f'{missing}')
        widths = tuple(int(w) for w in widths)
        self.widths = widths
        if not widths:
            raise ValueError('PairFiLMMapper: widths is empty')
        convs = _per_stage('convs_per_stage', convs_per_stage, len(widths),
                           int)
        if any(n < 1 for n in convs):
            raise ValueError(f'PairFiLMMapper: convs_per_stage must be >= 1, '
                             f'got {convs_per_stage!r}')
        self.pool = _per_stage('pool', pool, len(widths), bool)
        self.pairs: Tuple[Tuple[str, str], ...] = tuple(
            (s, t) for s in self.tasks for t in self.tasks if s != t)
        self.stems = nn.ModuleDict({
            t: self._stem(stem, in_channels[t], widths[0])
            for t in self.tasks})
        layers, c_in, self.stage_ends = [], widths[0], []
        for w, n in zip(widths, convs):
            for _ in range(n):
                layers.append(FiLMConv(c_in, w, bn_affine))
                c_in = w
            self.stage_ends.append(len(layers) - 1)
        self.layers = nn.ModuleList(layers)
        self.pool_after = frozenset(
            end for end, p in zip(self.stage_ends, self.pool) if p)
        if output == 'pooled':
            if out_channels not in (None, c_in):
                raise ValueError(f"PairFiLMMapper: output='pooled' gives "
                                 f'widths[-1] = {c_in} channels, '
                                 f'out_channels={out_channels}')
            self.out = nn.Identity()
        elif output == 'conv':
            if out_channels is None:
                raise ValueError("PairFiLMMapper: output='conv' needs "
                                 'out_channels')
            self.out = nn.Conv2d(c_in, out_channels, 1)
            c_in = out_channels
        else:
            raise ValueError(f"PairFiLMMapper: output must be 'pooled' or "
                             f"'conv', got {output!r}")
        self.out_channels = c_in
        self.shared_bn = bool(shared_bn)
        self.film_sizes = [m.out_channels for m in layers]
        self.film_size = sum(self.film_sizes)
        self.film = nn.Embedding(len(self.pairs), 2 * self.film_size)
        with torch.no_grad():
            self.film.weight[:, :self.film_size].fill_(1.0)
            self.film.weight[:, self.film_size:].zero_()

    @staticmethod
    def _stem(kind: str, c_in: int, c_out: int) -> nn.Module:
        if kind == 'conv':
            return nn.Sequential(nn.Conv2d(c_in, c_out, 3, padding=1),
                                 nn.BatchNorm2d(c_out), nn.ReLU(inplace=True))
        if kind == 'linear':
            return nn.Conv2d(c_in, c_out, 1)
        raise ValueError(f"PairFiLMMapper: stem must be 'conv' or 'linear', "
                         f'got {kind!r}')

    def pair_index(self, source: str, target: str) -> int:
        """Row of the FiLM embedding of the ordered pair."""
        return self.pairs.index((source, target))

    def film_params(self, pair_ids: torch.Tensor
                    ) -> Tuple[Tuple[torch.Tensor, ...],
                               Tuple[torch.Tensor, ...]]:
        """Per layer, the B x C gammas and betas of ``pair_ids`` (B,)."""
        film = self.film(pair_ids)
        return (film[:, :self.film_size].split(self.film_sizes, dim=1),
                film[:, self.film_size:].split(self.film_sizes, dim=1))

    def encode(self, x: torch.Tensor, gammas, betas,
               per_sample: bool = False) -> torch.Tensor:
        """The shared FiLM encoder and output on stem features."""
        for i, layer in enumerate(self.layers):
            x = layer(x, gammas[i], betas[i], per_sample)
            if i in self.pool_after:
                x = F.max_pool2d(x, 2, 2, ceil_mode=True)
        return self.out(x)

    def forward(self, x: torch.Tensor, task: str,
                pair_ids: torch.Tensor) -> torch.Tensor:
        """Map one encoded map ``x`` (B x C_task x H x W) of ``task`` with
        the FiLM of ``pair_ids`` (B,); BN statistics are those of ``x``."""
        gammas, betas = self.film_params(pair_ids)
        return self.encode(self.stems[task](x), gammas, betas)

    def _stem_per_sample(self, task: str, x: torch.Tensor) -> torch.Tensor:
        """The task's stem with each sample's BN statistics its own."""
        stem = self.stems[task]
        if not isinstance(stem, nn.Sequential):  # 'linear': no BN
            return stem(x)
        conv, norm, _ = stem
        if not norm.affine:
            return _per_sample_batch_norm(norm, conv(x)).relu_()
        n = x.shape[0]
        return _per_sample_batch_norm(
            norm, conv(x), norm.weight.expand(n, -1),
            norm.bias.expand(n, -1)).relu_()

    def map_per_sample(self, maps: Sequence[Tuple[torch.Tensor, str]],
                       pair_ids: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        """Map each ``(x, task)`` with the FiLM of its samples' ``pair_ids``
        (one id per sample of the concatenated maps) as if every SAMPLE went
        through the mapper on its own, in order (XTC's release maps each
        image's GT and prediction maps one by one): the same outputs,
        gradients and running statistics, in passes of
        ``samples_per_pass`` samples (a stem per task, then one encoder
        pass over the pass's samples)."""
        if not maps:
            return ()
        sizes = [m.shape[0] for m, _ in maps]
        per_pass = self.pass_size(maps[0][0]) or sum(sizes)
        if per_pass >= sum(sizes):
            return self._map_samples(maps, pair_ids, sizes)
        samples = [(m[i:i + 1], task) for m, task in maps
                   for i in range(m.shape[0])]
        out = []
        for k in range(0, len(samples), per_pass):
            part = samples[k:k + per_pass]
            out += self._map_samples(part, pair_ids[k:k + per_pass],
                                     [1] * len(part))
        return torch.cat(out).split(sizes)

    def pass_size(self, x: torch.Tensor) -> int:
        """Samples per pass of :meth:`map_per_sample` for maps like ``x``
        (N x C x H x W); 0 means all in one pass."""
        if self.samples_per_pass != 'auto':
            return self.samples_per_pass
        if x.device.type != 'cpu':
            return 0
        h, w, largest = x.shape[-2], x.shape[-1], 0
        for k, width in enumerate(self.widths):
            largest = max(largest, width * h * w)
            if self.pool[k]:
                h, w = -(-h // 2), -(-w // 2)
        return max(1, CPU_PASS_BYTES // (largest * x.element_size()))

    def _map_samples(self, maps, pair_ids, sizes) -> Tuple[torch.Tensor, ...]:
        """One pass of :meth:`map_per_sample` over all of ``maps``."""
        stems = [None] * len(maps)
        for task in dict.fromkeys(t for _, t in maps):
            idx = [i for i, (_, t) in enumerate(maps) if t == task]
            y = self._stem_per_sample(task, torch.cat([maps[i][0]
                                                       for i in idx]))
            for i, part in zip(idx, y.split([sizes[i] for i in idx])):
                stems[i] = part
        gammas, betas = self.film_params(pair_ids)
        return self.encode(torch.cat(stems), gammas, betas,
                           per_sample=True).split(sizes)

    def map_all(self, maps: Sequence[Tuple[torch.Tensor, str]],
                pair_ids: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        """Map each ``(x, task)`` with the FiLM of ``pair_ids``: one by one
        (each map its own BN statistics), or with ``shared_bn`` as one
        batch through the encoder."""
        if not self.shared_bn:
            return tuple(self(m, task, pair_ids) for m, task in maps)
        gammas, betas = self.film_params(pair_ids.repeat(len(maps)))
        x = torch.cat([self.stems[task](m) for m, task in maps])
        return self.encode(x, gammas, betas).chunk(len(maps))
