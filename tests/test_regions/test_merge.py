"""The merge rule of SAM masks into one id map, on hand-made masks."""
import numpy as np
import pytest

from mtpsl.regions import (masks_to_region_ids, num_regions,
                           relabel_raster_order, sam_records_to_region_ids)

H, W = 6, 8


def _box(r0, r1, c0, c1):
    m = np.zeros((H, W), bool)
    m[r0:r1 + 1, c0:c1 + 1] = True
    return m


# (mask, predicted IoU); comments give the painting order of the rule.
MASKS = [
    (_box(0, 5, 0, 5), 0.80),  # 0: area 36, painted 1st ("table")
    (_box(1, 2, 1, 2), 0.90),  # 1: area 4, IoU .90: after mask 2, wins col 2
    (_box(1, 2, 2, 3), 0.95),  # 2: area 4, IoU .95: painted before mask 1
    (_box(4, 5, 4, 7), 0.70),  # 3: area 8, overwrites the table's corner
    (_box(0, 0, 6, 7), 0.50),  # 4: area 2, same IoU as 5: index order,
    (_box(0, 0, 6, 7), 0.50),  # 5: ... so 5 is painted last and wins
    (_box(1, 2, 1, 3), 0.99),  # 6: area 6, hidden by 1 and 2: no id left
]
GOLDEN = np.array([
    [1, 1, 1, 1, 1, 1, 2, 2],
    [1, 3, 3, 4, 1, 1, 0, 0],
    [1, 3, 3, 4, 1, 1, 0, 0],
    [1, 1, 1, 1, 1, 1, 0, 0],
    [1, 1, 1, 1, 5, 5, 5, 5],
    [1, 1, 1, 1, 5, 5, 5, 5]])


def test_golden_id_map():
    ids = masks_to_region_ids([m for m, _ in MASKS],
                              scores=[s for _, s in MASKS])
    assert ids.dtype == np.int64
    np.testing.assert_array_equal(ids, GOLDEN)
    assert num_regions(ids) == 5


def test_sam_records_use_area_and_predicted_iou():
    records = [dict(segmentation=m, area=int(m.sum()), predicted_iou=s)
               for m, s in MASKS]
    np.testing.assert_array_equal(
        sam_records_to_region_ids(records, (H, W)), GOLDEN)


def test_order_of_input_does_not_matter_without_exact_ties():
    masks = [MASKS[i] for i in (0, 1, 2, 3, 4, 6)]  # drop the duplicate
    expected = masks_to_region_ids([m for m, _ in masks],
                                   scores=[s for _, s in masks])
    perm = [5, 3, 0, 4, 2, 1]
    shuffled = masks_to_region_ids([masks[i][0] for i in perm],
                                   scores=[masks[i][1] for i in perm])
    np.testing.assert_array_equal(shuffled, expected)


def test_no_masks_gives_an_empty_map_and_needs_a_shape():
    np.testing.assert_array_equal(masks_to_region_ids([], shape=(2, 3)),
                                  np.zeros((2, 3), np.int64))
    with pytest.raises(ValueError, match='shape'):
        masks_to_region_ids([])
    with pytest.raises(ValueError, match='mask 1 has shape'):
        masks_to_region_ids([np.ones((2, 2)), np.ones((3, 2))])


def test_relabel_raster_order():
    ids = np.array([[7, 7, 0], [3, 9, 9]])
    np.testing.assert_array_equal(relabel_raster_order(ids),
                                  [[1, 1, 0], [2, 3, 3]])
    np.testing.assert_array_equal(relabel_raster_order(np.array([[4, 2]])),
                                  [[1, 2]])
