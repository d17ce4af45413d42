"""Parsing MMEngine's scalars.json and plotting runs side by side."""
import json
import os

import cv2
import pytest

from mtpsl.utils.log_parsing import (find_scalar_files, is_train_record,
                                     load_records, parse_work_dir)
from tools.analyze_logs import load_runs, main as analyze_logs, select_panels

# As the LocalVisBackend writes them (checked on a 2-iteration run of
# tools/train.py): training lines every logger interval with step =
# iteration; validation lines with step = epoch, 0 in an iteration-based run
# (LoggerHook's default log_metric_by_epoch=True).
RUN_A = [
    {'lr': 1e-3, 'data_time': 0.01, 'loss': 3.0, 'sem_seg.loss_ce': 2.0,
     'depth.loss_l1': 1.0, 'time': 0.2, 'iter': 1, 'step': 1},
    {'lr': 1e-3, 'data_time': 0.01, 'loss': 2.5, 'sem_seg.loss_ce': 1.6,
     'depth.loss_l1': 0.9, 'time': 0.2, 'iter': 2, 'step': 2},
    {'sem_seg/mIoU': 10.0, 'sem_seg/aAcc': 40.0, 'sem_seg/IoU.bed': 5.0,
     'normal/within_11.25': 30.0,
     'sem_seg/IoU.tv': float('nan'), 'depth/abs_err': 0.9,
     'data_time': 0.0, 'time': 0.1, 'step': 0},
]
RUN_A_RESUMED = [  # a resumed run logs iteration 2 again, then goes on
    {'lr': 5e-4, 'data_time': 0.01, 'loss': 2.4, 'sem_seg.loss_ce': 1.5,
     'depth.loss_l1': 0.9, 'time': 0.2, 'iter': 2, 'step': 2},
    {'lr': 5e-4, 'data_time': 0.01, 'loss': 2.0, 'sem_seg.loss_ce': 1.2,
     'depth.loss_l1': 0.8, 'time': 0.2, 'iter': 3, 'step': 3},
    {'lr': 5e-4, 'data_time': 0.01, 'loss': 1.9, 'sem_seg.loss_ce': 1.1,
     'depth.loss_l1': 0.8, 'time': 0.2, 'iter': 4, 'step': 4},
    {'sem_seg/mIoU': 15.0, 'sem_seg/aAcc': 50.0, 'sem_seg/IoU.bed': 7.0,
     'sem_seg/IoU.tv': 1.0, 'depth/abs_err': 0.7,
     'data_time': 0.0, 'time': 0.1, 'step': 0},
]
RUN_B = [  # logged with log_metric_by_epoch=False: validation step = iter
    {'lr': 1e-3, 'data_time': 0.01, 'loss': 4.0, 'sem_seg.loss_ce': 3.0,
     'depth.loss_l1': 1.0, 'xtc.loss_con': 0.5, 'time': 0.3, 'iter': 1,
     'step': 1},
    {'sem_seg/mIoU': 12.0, 'sem_seg/aAcc': 42.0, 'depth/abs_err': 0.8,
     'data_time': 0.0, 'time': 0.1, 'step': 2},
]


def _write(work_dir, stamp, records, cut_last_line=False):
    vis = work_dir / stamp / 'vis_data'
    os.makedirs(vis, exist_ok=True)
    text = ''.join(json.dumps(r) + '\n' for r in records)
    if cut_last_line:
        text += '{"loss": 1.0, "st'
    (vis / 'scalars.json').write_text(text)
    return str(work_dir)


@pytest.fixture
def two_runs(tmp_path):
    a = tmp_path / 'baseline'
    _write(a, '20260101_000000', RUN_A)
    _write(a, '20260101_010000', RUN_A_RESUMED, cut_last_line=True)
    b = _write(tmp_path / 'xtc', '20260102_000000', RUN_B)
    return str(a), b


def test_records_and_phases(two_runs):
    files = find_scalar_files(two_runs[0])
    assert [f.split(os.sep)[-3] for f in files] == ['20260101_000000',
                                                    '20260101_010000']
    # (compared as JSON text: NaN != NaN)
    assert json.dumps(load_records(files[0])) == json.dumps(RUN_A)
    assert json.dumps(load_records(files[1])) == json.dumps(RUN_A_RESUMED)
    # the cut last line was dropped
    assert [is_train_record(r) for r in RUN_A] == [True, True, False]
    assert load_records(files[0])[2]['sem_seg/IoU.tv'] != 0  # NaN kept


def test_series_equal_the_written_values(two_runs):
    a = parse_work_dir(two_runs[0])
    # the resumed run replaces iteration 2
    assert a['train']['loss'] == ([1, 2, 3, 4], [3.0, 2.4, 2.0, 1.9])
    assert a['train']['lr'] == ([1, 2, 3, 4], [1e-3, 5e-4, 5e-4, 5e-4])
    assert a['train']['sem_seg.loss_ce'] == ([1, 2, 3, 4],
                                             [2.0, 1.5, 1.2, 1.1])
    # validation logged at step 0 is placed at the iteration before it
    assert a['val']['sem_seg/mIoU'] == ([2, 4], [10.0, 15.0])
    assert a['val']['depth/abs_err'] == ([2, 4], [0.9, 0.7])
    assert a['val']['sem_seg/IoU.tv'] == ([4], [1.0])  # NaN left out
    for phase in a.values():  # bookkeeping is not a curve
        assert not {'step', 'iter', 'time', 'data_time'} & set(phase)
    b = parse_work_dir(two_runs[1])
    assert b['train']['xtc.loss_con'] == ([1], [0.5])
    assert b['val']['sem_seg/mIoU'] == ([2], [12.0])  # its own, larger step


def test_panels_default_and_patterns(two_runs):
    runs = load_runs(list(two_runs))
    assert list(runs) == ['baseline', 'xtc']
    panels = select_panels(runs, None)
    assert panels[:5] == [('train', 'lr'), ('train', 'loss'),
                          ('train', 'sem_seg.loss_ce'),
                          ('train', 'depth.loss_l1'),
                          ('train', 'xtc.loss_con')]
    assert ('val', 'sem_seg/mIoU') in panels
    assert ('val', 'sem_seg/IoU.bed') not in panels  # per class: on request
    assert ('val', 'normal/within_11.25') in panels
    assert select_panels(runs, ['*IoU.bed']) == [('val', 'sem_seg/IoU.bed')]
    assert select_panels(runs, ['sem_seg/*A*']) == [('val', 'sem_seg/aAcc')]
    with pytest.raises(ValueError, match='no key to plot.*keys found'):
        select_panels(runs, ['nothing*'])


def test_plot_png(two_runs, tmp_path):
    out = str(tmp_path / 'plots' / 'curves.png')
    analyze_logs(list(two_runs) + ['--out', out, '--keys', 'loss', 'lr',
                                   'sem_seg/mIoU'])
    img = cv2.imread(out)
    assert img is not None and img.size > 0 and img.std() > 0
    # three panels in one row
    assert img.shape[1] > 2 * img.shape[0]


def test_missing_logs_named(tmp_path):
    with pytest.raises(FileNotFoundError, match='empty_dir'):
        parse_work_dir(str(tmp_path / 'empty_dir'))
    bad = tmp_path / 'bad'
    _write(bad, '20260101_000000', RUN_A)
    path = bad / '20260101_000000' / 'vis_data' / 'scalars.json'
    path.write_text('{"step": 1}\nnot json\n{"step": 2}\n')
    with pytest.raises(ValueError, match='scalars.json:2'):
        parse_work_dir(str(bad))
