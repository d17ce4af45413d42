"""Parameter groups that know their parameters, and a schedule per group.

A cross-task method's parameters (e.g. XTC's mapper under ``methods.xtc``)
may follow their own learning-rate schedule on the same optimiser: the
constructor tags every parameter group with the names of its parameters,
and ``GroupStepLR`` steps only the groups it selects by name prefix.
"""
from __future__ import annotations

from typing import List, Sequence

from mmengine.optim import DefaultOptimWrapperConstructor
from mmengine.optim.scheduler import StepLR

from mtpsl.registry import OPTIM_WRAPPER_CONSTRUCTORS, PARAM_SCHEDULERS


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class NamedParamGroupsConstructor(DefaultOptimWrapperConstructor):
    """MMEngine's default constructor, plus ``param_names`` in each group.

    With a ``paramwise_cfg`` every parameter gets its own group, so a group
    scheduler can select parameters by name.
    """

    def __call__(self, model):
        optim_wrapper = super().__call__(model)
        names = {id(p): n for n, p in model.named_parameters()}
        for group in optim_wrapper.optimizer.param_groups:
            group['param_names'] = [names.get(id(p), '?')
                                    for p in group['params']]
        # MMEngine's wrapper adds a parameter-less "base" group (the lr it
        # logs) to the groups a scheduler sees; named so that no prefix
        # selects it, it follows the schedule of the network (exclude=True)
        base = getattr(optim_wrapper, 'base_param_settings', None)
        if base is not None:
            base['param_names'] = ['<base>']
        return optim_wrapper


def _selected(group: dict, prefixes: Sequence[str], exclude: bool,
              scheduler: str) -> bool:
    names: List[str] = group.get('param_names')
    if names is None:
        raise KeyError(f'{scheduler}: parameter groups carry no names; set '
                       "optim_wrapper.constructor='NamedParamGroupsConstructor'"
                       ' (with a paramwise_cfg, so that each parameter has '
                       'its own group)')
    hits = [any(n.startswith(p) for p in prefixes) for n in names]
    if any(hits) and not all(hits):
        raise ValueError(f'{scheduler}: a parameter group mixes parameters '
                         f'inside and outside {list(prefixes)} ({names[:3]}'
                         '...); give the optimiser a paramwise_cfg')
    return all(hits) != exclude


@PARAM_SCHEDULERS.register_module()
class GroupStepLR(StepLR):
    """StepLR on the parameter groups whose parameter names start with one
    of ``prefixes`` (or, with ``exclude=True``, on all the others)."""

    def __init__(self, optimizer, *args, prefixes: Sequence[str] = (),
                 exclude: bool = False, **kwargs) -> None:
        if not prefixes:
            raise ValueError('GroupStepLR: give the parameter-name prefixes '
                             'of the groups it schedules')
        self.prefixes = tuple(prefixes)
        self.exclude = exclude
        super().__init__(optimizer, *args, **kwargs)

    def _get_value(self):
        """StepLR's value for selected groups; the others keep theirs."""
        stepped = super()._get_value()
        return [new if _selected(group, self.prefixes, self.exclude,
                                 type(self).__name__)
                else group[self.param_name]
                for new, group in zip(stepped, self.optimizer.param_groups)]
