"""Records: atomic write, format checks, merge of two result dirs."""
import json

import pytest

from tools.benchmark.record import (RECORD_FORMAT, RECORD_KEYS,
                                    merge_records, read_records,
                                    write_record)


def _record(run_id, value, sha='ab' * 32):
    rec = {k: None for k in RECORD_KEYS}
    rec.update(format=RECORD_FORMAT, version=1, run_id=run_id,
               metrics={'depth/abs_err': value},
               checkpoint=dict(file='x.pth', sha256=sha))
    return rec


def test_write_read_and_missing_keys(tmp_path):
    write_record(str(tmp_path), _record('g__m__onelabel__s0', 0.5))
    [rec] = read_records(str(tmp_path))
    assert rec['metrics'] == {'depth/abs_err': 0.5}
    assert not list(tmp_path.glob('records/*.tmp'))
    bad = _record('g__m__onelabel__s1', 0.5)
    del bad['commit']
    with pytest.raises(ValueError, match="lacks \\['commit'\\]"):
        write_record(str(tmp_path), bad)
    (tmp_path / 'records' / 'other.json').write_text(json.dumps({'a': 1}))
    with pytest.raises(ValueError, match='not a benchmark record'):
        read_records(str(tmp_path))


def test_merge_copies_and_rejects_disagreeing_runs(tmp_path):
    a, b, out = (str(tmp_path / n) for n in 'abo')
    write_record(a, _record('r__m__onelabel__s0', 0.5))
    write_record(a, _record('r__m__onelabel__s1', 0.6))
    write_record(b, _record('r__m__onelabel__s1', 0.6))
    write_record(b, _record('r__m__onelabel__s2', 0.7))
    assert merge_records([a, b], out) == dict(copied=3, identical=1)
    assert [r['run_id'][-2:] for r in read_records(out)] == ['s0', 's1',
                                                             's2']
    assert merge_records([a], out) == dict(copied=0, identical=2)
    c = str(tmp_path / 'c')
    write_record(c, _record('r__m__onelabel__s2', 0.71))
    with pytest.raises(ValueError, match='r__m__onelabel__s2.*disagree'):
        merge_records([c], out)
