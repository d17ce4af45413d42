"""The table of per-pixel fields: how each kind of map moves with the image.

Every per-pixel map a sample carries besides the image is a field: the GT
of a task (``results['gt_maps'][task]``) or a declared extra field
(``results[name]``: region ids, pseudo labels, saved features, confidence
maps). A field's :class:`FieldKind` says how every geometric transform
resamples it, whether a zoom divides it, which channels a horizontal flip
negates, the padding value and the dtype; the geometric transforms, the
packers, the data preprocessor and the method bundle all iterate over this
table, so a new field is ONE :func:`register_field` call (or one entry of a
``DeclareFields`` transform in a config), not edits in five files.

Storage: in the pipeline a field of stride ``s`` is an array of
``ceil(H / s) x ceil(W / s)`` (one channel) or ``... x C``; feature pixel
``(i, j)`` covers image pixels ``[j s, (j + 1) s) x [i s, (i + 1) s)``.
Packed, it is a ``C x h x w`` tensor in the sample's field ``name``; in the
bundle, ``fields[name]`` is ``B x C x h x w``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Iterable, List, Tuple

from .tasks import task_spec


@dataclass(frozen=True)
class FieldKind:
    """How one kind of per-pixel map is transformed.

    Attributes:
        name: the kind's name.
        resample: ``'nearest'`` (values never blended), ``'bilinear'`` or
            ``'unit'`` (bilinear, renormalised to unit length, invalid
            all-zero pixels kept exactly zero: normals).
        divide_by_zoom: a zoom-in by ``s`` divides the values by ``s``
            (depth: the scene looks ``s`` times closer).
        flip_negate: channels negated by a horizontal flip (normal x).
        pad_value: value of padded pixels (the kind's "none" / invalid).
        dtype: numpy dtype name of the stored array.
    """
    name: str
    resample: str
    divide_by_zoom: bool
    flip_negate: Tuple[int, ...]
    pad_value: float
    dtype: str


FIELD_KINDS: Dict[str, FieldKind] = {
    'label': FieldKind('label', 'nearest', False, (), -1, 'int64'),
    'depth': FieldKind('depth', 'nearest', True, (), 0.0, 'float32'),
    'normal': FieldKind('normal', 'unit', False, (0,), 0.0, 'float32'),
    'region_id': FieldKind('region_id', 'nearest', False, (), 0, 'int64'),
    'feature': FieldKind('feature', 'bilinear', False, (), 0.0, 'float32'),
    # nearest, like the pseudo labels it usually weighs; 0 = no confidence
    'confidence': FieldKind('confidence', 'nearest', False, (), 0.0,
                            'float32'),
}


@dataclass(frozen=True)
class FieldSpec:
    """One declared field: its kind, channels and stride."""
    name: str
    kind: str
    channels: int = 1
    stride: int = 1

    @property
    def field_kind(self) -> FieldKind:
        """The :class:`FieldKind` of this field."""
        return FIELD_KINDS[self.kind]


# The declared extra fields (GT maps are fields by their task: see
# :func:`task_field`). ``region_ids`` is built in.
FIELDS: Dict[str, FieldSpec] = {
    'region_ids': FieldSpec('region_ids', 'region_id'),
}


def register_field(name: str, kind: str, channels: int = 1,
                   stride: int = 1) -> FieldSpec:
    """Declare field ``name`` (idempotent for the same spec)."""
    if kind not in FIELD_KINDS:
        raise KeyError(f'register_field({name!r}): unknown kind {kind!r}; '
                       f'kinds: {", ".join(FIELD_KINDS)}')
    if not name.isidentifier() or name.startswith('gt_') or \
            name.startswith('pred_'):
        raise ValueError(f'register_field: name {name!r} must be an '
                         "identifier not starting with 'gt_' or 'pred_'")
    if int(channels) < 1 or int(stride) < 1:
        raise ValueError(f'register_field({name!r}): channels and stride '
                         f'must be >= 1, got {channels}, {stride}')
    if kind == 'normal' and int(channels) != 3:
        raise ValueError(f'register_field({name!r}): a normal field has 3 '
                         f'channels, got {channels}')
    spec = FieldSpec(name, kind, int(channels), int(stride))
    old = FIELDS.get(name)
    if old is not None and old != spec:
        raise ValueError(f'field {name!r} is already declared as {old}; '
                         f'cannot redeclare it as {spec}')
    FIELDS[name] = spec
    return spec


def field_spec(name: str) -> FieldSpec:
    """The spec of a declared field; a clear error for an unknown one."""
    try:
        return FIELDS[name]
    except KeyError:
        raise KeyError(f'unknown per-pixel field {name!r}; declared: '
                       f'{", ".join(FIELDS)} (declare it with '
                       'register_field or a DeclareFields transform)'
                       ) from None


def task_field(task: str) -> FieldSpec:
    """The field spec of a task's GT map (kind label, depth or normal)."""
    spec = task_spec(task)
    kind = 'label' if spec.kind == 'label' else task
    if kind not in ('label', 'depth', 'normal'):
        raise KeyError(f'task {task!r} has no field kind')
    return FieldSpec(f'gt_{task}', kind, spec.channels, 1)


def present_fields(keys: Iterable[str]) -> List[str]:
    """The declared fields among ``keys``, in declaration order."""
    keys = set(keys)
    return [name for name in FIELDS if name in keys]
