"""CCR's mining and triplet loss against by-hand numbers and a loop
reference: discrete and continuous (depth L1, normal angle) positives and
negatives, the hardest positive, semi-hard negatives and their fallbacks."""
import math

import pytest
import torch

from mtpsl.models.methods.ccr_mining import (continuous_relations,
                                             depth_label_distance,
                                             discrete_relations,
                                             feature_distance,
                                             normal_label_distance,
                                             sample_anchors, select_triplets,
                                             triplet_loss)

# A 3x3 map flattened to 9 pixels: unit 2-D features at these angles
# (degrees) and these labels; pixel 5 is ignored, pixel 0 the anchor.
ANGLES = [0, 30, 60, 120, 90, 10, 20, 150, 100]
LABELS = [0, 0, 1, 1, 0, -1, 2, 2, 1]


def _feats():
    rad = torch.tensor(ANGLES, dtype=torch.float64) * math.pi / 180
    return torch.stack([rad.cos(), rad.sin()])[None]  # 1 x 2 x 9


def _chord(deg):
    """Distance of two unit vectors ``deg`` degrees apart."""
    return 2 * math.sin(math.radians(deg) / 2)


def _discrete_case(num_negatives, fallback='boundary'):
    labels = torch.tensor([LABELS])
    valid = labels >= 0
    anchor = torch.tensor([[0]])
    pos, neg = discrete_relations(labels, valid, anchor)
    feats = _feats()
    dist = feature_distance(feats, anchor)
    return feats, anchor, pos, neg, select_triplets(
        dist, pos, neg, num_negatives, True, fallback)


def test_discrete_relations_by_hand():
    _, _, pos, neg, _ = _discrete_case(2)
    # same label, valid, not the anchor itself
    assert torch.nonzero(pos[0, 0]).flatten().tolist() == [1, 4]
    assert torch.nonzero(neg[0, 0]).flatten().tolist() == [2, 3, 6, 7, 8]


def test_feature_distance_is_the_chord():
    dist = feature_distance(_feats(), torch.tensor([[0]]))[0, 0]
    expected = torch.tensor([_chord(a) for a in ANGLES], dtype=torch.float64)
    assert torch.allclose(dist, expected, atol=1e-7)


def test_hardest_positive_and_semi_hard_negatives_by_hand():
    feats, anchor, _, _, (pos_idx, has_pos, neg_idx, neg_ok) = \
        _discrete_case(2)
    # positives 1 (30 deg) and 4 (90 deg): the farthest is 4 (Eq. (4))
    assert pos_idx.tolist() == [[4]] and has_pos.tolist() == [[True]]
    # negatives farther than d(a, p) = chord(90): 8 (100), 3 (120), 7 (150);
    # the two closest of them
    assert neg_idx.tolist() == [[[8, 3]]]
    assert neg_ok.all()
    loss, count = triplet_loss(feats, anchor, has_pos, pos_idx, neg_idx,
                               neg_ok, margin=0.2)
    d_ap = _chord(90)
    expected = (max(0, d_ap - _chord(100) + 0.2) +
                max(0, d_ap - _chord(120) + 0.2)) / 2
    assert count.item() == 1
    assert loss.item() == pytest.approx(expected, abs=1e-7)
    assert expected == pytest.approx(0.0410625, abs=1e-6)


@pytest.mark.parametrize('fallback, fill, expected', [
    # only 3 semi-hard negatives; the 4th slot:
    ('boundary', 2, (0.082125 + 0.614214) / 4),  # 60 deg: just inside
    ('hardest', 6, (0.082125 + 1.266918) / 4),   # 20 deg: closest
    ('fewer', None, 0.082125 / 3),               # left empty
])
def test_fallback_when_fewer_negatives_qualify(fallback, fill, expected):
    feats, anchor, _, _, (pos_idx, has_pos, neg_idx, neg_ok) = \
        _discrete_case(4, fallback)
    chosen = neg_idx[0, 0][neg_ok[0, 0]].tolist()
    assert chosen[:3] == [8, 3, 7]
    assert chosen[3:] == ([] if fill is None else [fill])
    loss, count = triplet_loss(feats, anchor, has_pos, pos_idx, neg_idx,
                               neg_ok, margin=0.2)
    assert loss.item() == pytest.approx(expected, abs=1e-5)


def test_no_positive_or_no_negative_gives_no_anchor():
    labels = torch.tensor([[0, 1, 1, 1], [2, 2, 2, 2]])  # image 0: anchor
    valid = torch.ones_like(labels, dtype=torch.bool)    # 0 is alone
    anchor = torch.tensor([[0], [1]])                    # image 1: no neg
    feats = torch.nn.functional.normalize(torch.randn(2, 3, 4), dim=1)
    pos, neg = discrete_relations(labels, valid, anchor)
    pos_idx, has_pos, neg_idx, neg_ok = select_triplets(
        feature_distance(feats, anchor), pos, neg, 2)
    assert has_pos.tolist() == [[False], [True]]
    assert not neg_ok[1].any()
    feats.requires_grad_(True)
    loss, count = triplet_loss(feats, anchor, has_pos, pos_idx, neg_idx,
                               neg_ok, 0.2)
    assert count.item() == 0 and loss.item() == 0.0
    loss.backward()
    assert torch.equal(feats.grad, torch.zeros_like(feats))


def test_depth_top_k_by_l1():
    # anchor depth 1.0; others 1.1 (0.1), 3.0 (2.0), 1.5 (0.5), 5.0 (4.0);
    # the last pixel is invalid (depth 0) and must never be chosen
    depth = torch.tensor([[1.0, 1.1, 3.0, 1.5, 5.0, 0.0]])
    valid = depth > 0
    anchor = torch.tensor([[0]])
    dist = depth_label_distance(depth, anchor)
    assert torch.allclose(dist[0, 0], torch.tensor(
        [0.0, 0.1, 2.0, 0.5, 4.0, 1.0]))
    pos, neg = continuous_relations(dist, valid, anchor, top_k=2)
    assert torch.nonzero(pos[0, 0]).flatten().tolist() == [1, 3]
    assert torch.nonzero(neg[0, 0]).flatten().tolist() == [2, 4]
    pos, neg = continuous_relations(dist, valid, anchor, top_k=1)
    assert torch.nonzero(pos[0, 0]).flatten().tolist() == [1]
    assert torch.nonzero(neg[0, 0]).flatten().tolist() == [4]
    # k larger than half the valid others: k drops to 2 (disjoint sets)
    pos, neg = continuous_relations(dist, valid, anchor, top_k=128)
    assert torch.nonzero(pos[0, 0]).flatten().tolist() == [1, 3]
    assert torch.nonzero(neg[0, 0]).flatten().tolist() == [2, 4]


def test_normal_top_k_by_angle():
    # normals in the x-z plane at these angles from the anchor (+z)
    degrees = [0, 10, 80, 170, 45, 100]
    rad = torch.tensor(degrees, dtype=torch.float64) * math.pi / 180
    normal = torch.stack([rad.sin(), torch.zeros_like(rad), rad.cos()])[None]
    anchor = torch.tensor([[0]])
    dist = normal_label_distance(normal, anchor)
    assert torch.allclose(dist[0, 0], rad, atol=1e-6)
    valid = torch.ones(1, 6, dtype=torch.bool)
    pos, neg = continuous_relations(dist, valid, anchor, top_k=2)
    assert torch.nonzero(pos[0, 0]).flatten().tolist() == [1, 4]  # 10, 45
    assert torch.nonzero(neg[0, 0]).flatten().tolist() == [3, 5]  # 170, 100


def test_anchors_uniform_among_valid_without_repeats():
    valid = torch.zeros(2, 50, dtype=torch.bool)
    valid[0, 10:40] = True
    valid[1, :3] = True
    gen = torch.Generator().manual_seed(0)
    idx, ok = sample_anchors(valid, 5, gen)
    assert idx.shape == (2, 5)
    assert ok[0].all() and ok[1].sum() == 3
    assert valid[0, idx[0]].all() and len(set(idx[0].tolist())) == 5
    assert sorted(idx[1][ok[1]].tolist()) == [0, 1, 2]
    # every valid pixel is drawn, about equally often
    counts = torch.zeros(50)
    for seed in range(600):
        i, _ = sample_anchors(valid[:1], 5, torch.Generator().manual_seed(
            seed))
        counts[i[0]] += 1
    assert counts[:10].sum() == 0 and counts[40:].sum() == 0
    assert counts[10:40].min() > 60 and counts[10:40].max() < 140  # mean 100
    # seeded: the same generator seed gives the same anchors
    again, _ = sample_anchors(valid, 5, torch.Generator().manual_seed(0))
    assert torch.equal(idx, again)


def _loop_reference(feats, labels, valid, anchors, num_neg, margin):
    """Per-anchor Python loops over pixels: the paper's steps literally."""
    total, count = 0.0, 0
    for b in range(feats.shape[0]):
        for a in anchors[b].tolist():
            d = [float((feats[b, :, a] - feats[b, :, p]).norm())
                 for p in range(feats.shape[2])]
            others = [p for p in range(feats.shape[2]) if valid[b, p]
                      and p != a]
            pos = [p for p in others if labels[b, p] == labels[b, a]]
            neg = [p for p in others if labels[b, p] != labels[b, a]]
            if not pos or not neg:
                continue
            d_ap = max(d[p] for p in pos)
            semi = sorted((d[n] for n in neg if d[n] > d_ap))
            rest = sorted((d[n] for n in neg if d[n] <= d_ap), reverse=True)
            chosen = (semi + rest)[:num_neg]
            total += sum(max(0.0, d_ap - x + margin) for x in chosen) / len(
                chosen)
            count += 1
    return total, count


def test_batched_mining_equals_loop_reference():
    gen = torch.Generator().manual_seed(3)
    feats = torch.nn.functional.normalize(
        torch.randn(3, 4, 40, generator=gen, dtype=torch.float64), dim=1)
    labels = torch.randint(0, 3, (3, 40), generator=gen)
    valid = torch.rand(3, 40, generator=gen) > 0.2
    valid[2] = False
    valid[2, :2] = True  # image 2: two valid pixels only
    anchors, ok = sample_anchors(valid, 6, gen)
    pos, neg = discrete_relations(labels, valid, anchors)
    pos_idx, has_pos, neg_idx, neg_ok = select_triplets(
        feature_distance(feats, anchors), pos, neg, 5)
    loss, count = triplet_loss(feats, anchors, ok & has_pos, pos_idx,
                               neg_idx, neg_ok, 0.2)
    real = [anchors[b][ok[b]] for b in range(3)]
    ref_total, ref_count = _loop_reference(feats, labels, valid, real, 5,
                                           0.2)
    assert count.item() == ref_count
    assert loss.item() == pytest.approx(ref_total, abs=1e-9)


def test_random_sampling_stays_in_the_sets():
    gen = torch.Generator().manual_seed(0)
    labels = torch.randint(0, 3, (2, 30), generator=gen)
    valid = torch.ones(2, 30, dtype=torch.bool)
    anchors, _ = sample_anchors(valid, 4, gen)
    pos, neg = discrete_relations(labels, valid, anchors)
    feats = torch.nn.functional.normalize(torch.randn(2, 3, 30), dim=1)
    dist = feature_distance(feats, anchors)
    out = select_triplets(dist, pos, neg, 3, semi_hard=False,
                          generator=torch.Generator().manual_seed(1))
    pos_idx, has_pos, neg_idx, neg_ok = out
    assert pos.gather(2, pos_idx[..., None])[has_pos].all()
    assert neg.gather(2, neg_idx)[neg_ok].all()
    again = select_triplets(dist, pos, neg, 3, semi_hard=False,
                            generator=torch.Generator().manual_seed(1))
    assert all(torch.equal(x, y) for x, y in zip(out, again))
    # not the hardest positive every time (it is random, not mined)
    hardest = dist.masked_fill(~pos, -1).argmax(-1)
    assert not torch.equal(pos_idx[has_pos], hardest[has_pos])


def test_bad_fallback_is_named():
    with pytest.raises(ValueError, match="fallback.*'closest'"):
        select_triplets(torch.zeros(1, 1, 2), torch.zeros(1, 1, 2).bool(),
                        torch.zeros(1, 1, 2).bool(), 1, fallback='closest')
