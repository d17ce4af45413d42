"""A benchmark suite: the grid of (group, method, regime, seed) runs a
suite file names, with selection (``--only``) and slicing (``--shard``).

A suite file is Python (read with MMEngine's Config) defining:

- ``name``: the suite's name (records carry it);
- ``dataset``: ``dict(root=..., preset=..., seed=...)`` the procedural data
  (``height`` / ``width`` render the preset's scenes at another size);
- ``regimes``: ``{regime name: label regime config}`` (the ``seed`` of the
  config is replaced per run when ``regime_seed='run'``);
- ``regime_seed``: ``'run'`` (the regime is drawn with the run's seed) or an
  int (one draw for every seed);
- ``cfg_options``: overrides applied to every run (``{key: value}``);
- ``groups``: a list of ``dict(name, tasks, seeds, regimes, methods, mtl,
  stl)``: ``methods`` is ``{method name: dict(config=path, cfg_options=
  {...})}``, ``mtl`` names the multi-task baseline, ``stl`` maps each task
  to the method name of its single-task reference. A method may narrow the
  group's ``seeds`` / ``regimes`` with its own, and name with ``after`` the
  method (listed before it) whose run of the same regime and seed it
  starts from: a second stage (HiTTs' stage 2 reads that run's checkpoint
  and writes its pseudo supervision in its own work dir).
"""
from __future__ import annotations

import fnmatch
import glob
import os.path as osp
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Tuple

REQUIRED_KEYS = ('name', 'dataset', 'regimes', 'groups')
# regimes that draw nothing (they take no seed)
UNSEEDED_REGIMES = ('full', 'from_file')
GROUP_KEYS = ('name', 'tasks', 'seeds', 'regimes', 'methods', 'mtl', 'stl')
METHOD_KEYS = {'config', 'cfg_options', 'relative_cost', 'seeds', 'regimes',
               'after'}


class SuiteError(ValueError):
    """A suite file is invalid."""


@dataclass(frozen=True)
class Run:
    """One cell of the grid: a method's config, a label regime, a seed."""
    suite: str
    group: str
    method: str
    regime: str
    seed: int
    config: str
    regime_cfg: Dict[str, Any] = field(hash=False, compare=False)
    cfg_options: Dict[str, Any] = field(hash=False, compare=False)
    role: str = 'method'
    task: Optional[str] = None
    after: Optional[str] = None

    @property
    def after_id(self) -> Optional[str]:
        """The run id of the first-stage run this run starts from."""
        if self.after is None:
            return None
        return f'{self.group}__{self.after}__{self.regime}__s{self.seed}'

    @property
    def run_id(self) -> str:
        """``group__method__regime__s<seed>``: the record's file stem."""
        return f'{self.group}__{self.method}__{self.regime}__s{self.seed}'

    @property
    def missing(self) -> bool:
        """True when the run's config file does not exist (yet)."""
        return not osp.isfile(self.config)

    @property
    def key(self) -> Tuple[str, str, str]:
        """(group, method, regime): the runs aggregated over seeds."""
        return self.group, self.method, self.regime


def _require(mapping: dict, keys: Sequence[str], where: str) -> None:
    """Raise naming the first of ``keys`` that ``mapping`` lacks."""
    for key in keys:
        if key not in mapping:
            raise SuiteError(f'{where}: missing key {key!r}')


def load_suite(path: str) -> dict:
    """The suite file as a plain dict, checked."""
    from mmengine.config import Config
    if not osp.isfile(path):
        raise FileNotFoundError(f'suite file not found: {path}')
    suite = Config.fromfile(path).to_dict()
    _require(suite, REQUIRED_KEYS, path)
    seed_policy = suite.setdefault('regime_seed', 'run')
    if seed_policy != 'run' and not isinstance(seed_policy, int):
        raise SuiteError(f"{path}: regime_seed={seed_policy!r} must be 'run' "
                         'or an int')
    names = set()
    for i, group in enumerate(suite['groups']):
        where = f'{path}: groups[{i}]'
        _require(group, GROUP_KEYS, where)
        if group['name'] in names or '__' in group['name']:
            raise SuiteError(f'{where}: group name {group["name"]!r} is '
                             "repeated or contains '__'")
        names.add(group['name'])
        for regime in group['regimes']:
            if regime not in suite['regimes']:
                raise SuiteError(f'{where}.regimes: unknown regime '
                                 f'{regime!r}; the suite defines '
                                 f'{sorted(suite["regimes"])}')
        methods = group['methods']
        for k, (name, spec) in enumerate(methods.items()):
            if '__' in name or 'config' not in spec:
                raise SuiteError(f'{where}.methods.{name}: needs a config '
                                 "and a name without '__'")
            unknown = set(spec) - METHOD_KEYS
            if unknown:
                raise SuiteError(f'{where}.methods.{name}: unknown key(s) '
                                 f'{sorted(unknown)}; allowed: '
                                 f'{sorted(METHOD_KEYS)}')
            for key in ('seeds', 'regimes'):
                extra = set(spec.get(key, ())) - set(group[key])
                if extra:
                    raise SuiteError(f'{where}.methods.{name}.{key}: '
                                     f'{sorted(extra)} not in the group\'s '
                                     f'{key} {list(group[key])}')
            after = spec.get('after')
            if after is not None and after not in list(methods)[:k]:
                raise SuiteError(f'{where}.methods.{name}.after: {after!r} '
                                 'must name a method listed before it')
        for key in [group['mtl']] + list(group['stl'].values()):
            if key not in methods:
                raise SuiteError(f'{where}: baseline {key!r} is not one of '
                                 f'its methods {sorted(methods)}')
        for task in group['stl']:
            if task not in group['tasks']:
                raise SuiteError(f'{where}.stl: task {task!r} is not one of '
                                 f'the group tasks {group["tasks"]}')
    return suite


def regime_for(suite: dict, regime: str, seed: int) -> Dict[str, Any]:
    """The label regime config of ``regime`` for the run seed ``seed``."""
    cfg = dict(suite['regimes'][regime])
    policy = suite.get('regime_seed', 'run')
    if cfg.get('type') not in UNSEEDED_REGIMES:
        cfg['seed'] = seed if policy == 'run' else int(policy)
    return cfg


def resolve_config(pattern: str, root: str, where: str) -> str:
    """The config path of a suite entry; a glob (for a method whose config
    name is not fixed yet) must match at most one file, and one that matches
    none stays as it is (the run is then MISSING)."""
    path = osp.normpath(osp.join(root, pattern))
    if not glob.has_magic(pattern):
        return path
    matches = sorted(glob.glob(path))
    if len(matches) > 1:
        raise SuiteError(f'{where}: config {pattern!r} matches '
                         f'{len(matches)} files: {matches[:3]}')
    return matches[0] if matches else path


def expand(suite: dict, root: str = '.') -> List[Run]:
    """Every run of the suite, in the suite's order (group, method, regime,
    seed); config paths are resolved against ``root``."""
    runs = []
    common = dict(suite.get('cfg_options', {}))
    for group in suite['groups']:
        stl_of = {m: t for t, m in group['stl'].items()}
        for method, spec in group['methods'].items():
            config = resolve_config(spec['config'], root,
                                    f'{group["name"]}.{method}')
            role = ('mtl' if method == group['mtl'] else
                    'stl' if method in stl_of else 'method')
            for regime in spec.get('regimes', group['regimes']):
                for seed in spec.get('seeds', group['seeds']):
                    options = {**common, **group.get('cfg_options', {}),
                               **spec.get('cfg_options', {})}
                    runs.append(Run(
                        suite=suite['name'], group=group['name'],
                        method=method, regime=regime, seed=int(seed),
                        config=config,
                        regime_cfg=regime_for(suite, regime, int(seed)),
                        cfg_options=options, role=role,
                        task=stl_of.get(method), after=spec.get('after')))
    return runs


def parse_shard(text: str) -> Tuple[int, int]:
    """``'i/n'`` -> (i, n) with 0 <= i < n."""
    try:
        i, n = (int(x) for x in text.split('/'))
    except ValueError:
        raise SuiteError(f'--shard {text!r}: expected i/n, e.g. 0/4') \
            from None
    if n < 1 or not 0 <= i < n:
        raise SuiteError(f'--shard {text!r}: need 0 <= i < n')
    return i, n


def select(runs: Sequence[Run], only: Sequence[str] = (),
           shard: Optional[Tuple[int, int]] = None) -> List[Run]:
    """The runs of shard ``(i, n)`` (round robin over the full grid, so the
    shards partition it) whose run id matches one of the ``only`` globs."""
    out = []
    for k, run in enumerate(runs):
        if shard is not None and k % shard[1] != shard[0]:
            continue
        if only and not any(fnmatch.fnmatchcase(run.run_id, pat)
                            or fnmatch.fnmatchcase(run.method, pat)
                            for pat in only):
            continue
        out.append(run)
    return out
