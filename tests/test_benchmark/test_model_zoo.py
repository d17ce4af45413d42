"""The model zoo: model-index.yml lists metafiles in OpenMMLab's schema;
every config exists and builds; every benchmark row's numbers, sha256 and
spread equal the records it names, in the metafiles, model_zoo.md and the
READMEs; init_model finds a row's config by its name."""
import os.path as osp
import re

import pytest
import yaml
from conftest import REPO

from mtpsl.apis.model_zoo import find_model, load_models
from tools.benchmark.record import read_record, read_records
from tools.benchmark.suite import load_suite
from tools.benchmark.summary import summarize
from tools.benchmark.zoo import BEGIN, COLUMNS, DIGITS, END, markdown_rows

SUITE = osp.join(REPO, 'tools', 'benchmark', 'suites',
                 'procedural-48x64.py')
MODELS = load_models(REPO)
ROWS = [m for m in MODELS if 'Benchmark Record' in m]


def test_index_lists_every_metafile_and_they_have_the_schema():
    index = yaml.safe_load(open(osp.join(REPO, 'model-index.yml')))
    folders = {osp.dirname(p) for p in index['Import']}
    for meta in index['Import']:
        data = yaml.safe_load(open(osp.join(REPO, meta)))
        assert data['Collections'] and data['Models'], meta
        names = {c['Name'] for c in data['Collections']}
        for model in data['Models']:
            assert {'Name', 'In Collection', 'Config', 'Results',
                    'Weights'} <= set(model), (meta, model.get('Name'))
            assert model['In Collection'] in names
    # every config folder with a metafile is listed
    import glob
    on_disk = {osp.relpath(osp.dirname(p), REPO) for p in
               glob.glob(osp.join(REPO, 'configs', '*', 'metafile.yaml'))}
    assert on_disk == folders
    assert len({m['Name'] for m in MODELS}) == len(MODELS)


@pytest.mark.parametrize('config', sorted({m['Config'] for m in MODELS}))
def test_every_zoo_config_exists_and_builds(config):
    from mmengine.registry import init_default_scope

    from mtpsl.apis.config import load_config
    from mtpsl.registry import MODELS as REG
    cfg = load_config(osp.join(REPO, config))
    init_default_scope('mtpsl')
    assert REG.build(cfg.model) is not None


def test_rows_without_a_record_carry_no_numbers():
    for model in MODELS:
        if 'Benchmark Record' not in model:
            assert model['Results'] is None, model['Name']


def test_metafile_rows_equal_their_records():
    assert ROWS, 'no benchmark rows in the zoo'
    suite = load_suite(SUITE)
    records = read_records(osp.join(REPO, suite['out']))
    summary = summarize(suite, records, REPO)
    for row in ROWS:
        rec = read_record(osp.join(REPO, row['Benchmark Record']))
        assert row['Config'] == rec['config']
        assert row['Checkpoint SHA256'] == rec['checkpoint']['sha256']
        assert row['Checkpoint'] == rec['checkpoint']['file']
        assert row['Metadata']['Iterations'] == rec['iterations']
        assert row['Metadata']['Label Regime'] == rec['regime']['name']
        assert row['Metadata']['Seed'] == rec['seed']
        assert row['Metadata']['Parameters'] > 0
        assert row['Metadata']['FLOPs'] > 0
        for key, value in row['Results'][0]['Metrics'].items():
            assert value == pytest.approx(rec['metrics'][key], abs=1e-6)
        cell = summary[rec['group']][rec['regime']['name']][rec['method']]
        assert cell['records'][0] == rec['run_id']  # the lowest seed
        for key, spread in row['Seed Spread'].items():
            ci = cell['metrics'][key]['ci']
            assert spread['n'] == ci['n']
            assert spread['mean'] == pytest.approx(ci['mean'], abs=1e-6)
            if ci['n'] > 1:
                assert spread['half_width_95'] == pytest.approx(ci['half'],
                                                                abs=1e-6)


def _sections():
    """(file, generated text) of model_zoo.md and every README."""
    import glob
    out = []
    for path in [osp.join(REPO, 'model_zoo.md')] + sorted(glob.glob(
            osp.join(REPO, 'configs', '*', 'README.md'))):
        text = open(path).read()
        if BEGIN in text:
            out.append((path, text.split(BEGIN, 1)[1].split(END, 1)[0]))
    return out


def test_markdown_numbers_equal_the_records_they_name():
    sections = _sections()
    assert any(p.endswith('model_zoo.md') for p, _ in sections)
    n = 0
    for path, text in sections:
        for line in text.splitlines():
            link = re.search(r'\]\(([^)]+records/[^)]+\.json)\)', line)
            if not link:
                continue
            rec = read_record(osp.join(osp.dirname(path), link.group(1)))
            cells = [c.strip() for c in line.strip('|').split('|')]
            assert cells[2] == str(rec['seed'])
            for cell, key in zip(cells[3:6], COLUMNS):
                digits = DIGITS.get(key, 2)
                if cell:
                    assert cell == f'{rec["metrics"][key]:.{digits}f}', \
                        (path, key)
            assert cells[8].strip('`') == rec['checkpoint']['sha256'][:16]
            n += 1
    assert n >= len(ROWS)


def test_generated_sections_are_up_to_date():
    """The spreads too: each section equals what the records give now."""
    from tools.benchmark.zoo import zoo_rows
    suite = load_suite(SUITE)
    rows = zoo_rows(suite, read_records(osp.join(REPO, suite['out'])),
                    with_complexity=False)
    zoo = dict(_sections())[osp.join(REPO, 'model_zoo.md')]
    assert markdown_rows(rows, suite) in zoo


def test_init_model_finds_a_rows_config():
    from mtpsl.apis.inference import init_model
    row = ROWS[0]
    model = init_model(row['Name'])
    assert osp.samefile(model.cfg.filename, osp.join(REPO, row['Config']))
    assert not hasattr(model, 'methods') or len(model.methods) == 0
    with pytest.raises(KeyError, match='no entry called'):
        find_model('no_such_model_name')


def test_reproduce_checks_within_the_seed_spread():
    from tools.benchmark.reproduce import check_metrics
    row = {'Results': [{'Metrics': {'sem_seg/mIoU': 20.0,
                                    'depth/abs_err': 0.7,
                                    'normal/mean': 38.0}}],
           'Seed Spread': {'sem_seg/mIoU': {'half_width_95': 2.0},
                           'depth/abs_err': {'half_width_95': 0.01},
                           'normal/mean': {'half_width_95': None}}}
    out = check_metrics(row, {'sem_seg/mIoU': 21.9, 'depth/abs_err': 0.72,
                              'normal/mean': 50.0})
    assert out == [('sem_seg/mIoU', 20.0, 21.9, 2.0, True),
                   ('depth/abs_err', 0.7, 0.72, 0.01, False),
                   ('normal/mean', 38.0, 50.0, None, None)]


def test_rows_say_the_paired_verdict():
    """The zoo's paired column on hand-made cells: a method's Delta_MTL
    minus the baseline's with its verdict, the baseline's own Delta_MTL
    over the single-task references, nothing for a reference."""
    def ci(mean, half, n=3):
        return dict(mean=mean, half=half, n=n)

    def row(method, delta):
        rec = dict(metrics={'sem_seg/mIoU': 20.0}, seed=0,
                   run_id=f'g__{method}__onelabel__s0',
                   checkpoint=dict(sha256='ab' * 32))
        cell = dict(metrics={'sem_seg/mIoU': dict(ci=ci(20.0, 1.0)),
                             'delta_mtl': delta})
        return dict(name=method, record=rec, keys=['sem_seg/mIoU'],
                    cell=cell, group='g', method=method, regime='onelabel')

    suite = dict(out='o', groups=[dict(name='g', mtl='mtl')])
    rows = [row('m', dict(ci=ci(-3.0, 1.0), vs_mtl=ci(-2.5, 2.0),
                          verdict='worse')),
            row('mtl', dict(ci=ci(1.5, 1.0), vs_mtl=None, verdict='n/a')),
            row('stl', dict(ci=None, vs_mtl=None, verdict='n/a'))]
    lines = markdown_rows(rows, suite).splitlines()[2:]
    cells = [[c.strip() for c in line.strip('|').split('|')][7]
             for line in lines]
    assert cells == ['-2.50 ± 2.00 (worse)',
                     'itself over STL: +1.50 ± 1.00 (better)', '']
