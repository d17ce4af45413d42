"""MultiTaskDataPreprocessor: normalisation, padding of images and GT."""
import pytest
import torch

import mtpsl  # noqa: F401
from mtpsl.models import MultiTaskDataPreprocessor
from mtpsl.structures import MultiTaskDataSample

FLAGS = dict(sem_seg=True, depth=True, normal=True)


def _sample(h, w):
    s = MultiTaskDataSample(metainfo=dict(label_flags=FLAGS, img_shape=(h, w),
                                          ori_shape=(h, w)))
    s.set_gt('sem_seg', torch.arange(h * w).reshape(1, h, w) % 3)
    s.set_gt('depth', torch.full((1, h, w), 2.0))
    s.set_gt('normal', torch.tensor([0.0, 0.0, 1.0]).view(3, 1, 1)
             .expand(3, h, w).clone())
    return s


def _data():
    imgs = [torch.full((3, 5, 6), 1.0), torch.full((3, 7, 4), 2.0)]
    return dict(inputs=imgs, data_samples=[_sample(5, 6), _sample(7, 4)])


def test_training_pads_images_and_gt():
    pre = MultiTaskDataPreprocessor(size_divisor=4, pad_value=-9.0)
    out = pre(_data(), training=True)
    batch, samples = out['inputs'], out['data_samples']
    # max(5, 7) -> 8, max(6, 4) -> 8
    assert batch.shape == (2, 3, 8, 8)
    assert torch.all(batch[0, :, :5, :6] == 1.0)
    assert torch.all(batch[0, :, 5:, :] == -9.0)
    assert torch.all(batch[0, :, :, 6:] == -9.0)
    assert torch.all(batch[1, :, :7, :4] == 2.0)
    assert torch.all(batch[1, :, 7:, :] == -9.0)
    assert torch.all(batch[1, :, :, 4:] == -9.0)
    for s, (h, w) in zip(samples, [(5, 6), (7, 4)]):
        assert s.metainfo['batch_input_shape'] == (8, 8)
        assert s.metainfo['img_shape'] == (h, w)
        label, depth, normal = s.gt('sem_seg'), s.gt('depth'), s.gt('normal')
        assert label.shape == (1, 8, 8) and normal.shape == (3, 8, 8)
        assert torch.equal(label[0, :h, :w],
                           torch.arange(h * w).reshape(h, w) % 3)
        assert torch.all(label[:, h:] == -1)
        assert torch.all(label[:, :, w:] == -1)
        assert torch.all(depth[:, :h, :w] == 2.0)
        assert torch.all(depth[:, h:] == 0) and torch.all(depth[:, :, w:] == 0)
        assert torch.all(normal[2, :h, :w] == 1.0)
        assert torch.all(normal[:, h:] == 0)
        assert torch.all(normal[:, :, w:] == 0)


def test_eval_mode_leaves_gt_unpadded():
    pre = MultiTaskDataPreprocessor(size_divisor=4)
    out = pre(_data(), training=False)
    assert out['inputs'].shape == (2, 3, 8, 8)
    assert torch.all(out['inputs'][0, :, 5:] == 0.0)  # default pad_value
    for s, hw in zip(out['data_samples'], [(5, 6), (7, 4)]):
        assert s.metainfo['batch_input_shape'] == (8, 8)
        assert s.gt('sem_seg').shape[-2:] == hw
        assert s.gt('depth').shape[-2:] == hw
        assert s.gt('normal').shape[-2:] == hw


def test_normalisation_golden():
    pre = MultiTaskDataPreprocessor(mean=[1.0, 2.0, 3.0], std=[2.0, 4.0, 8.0],
                                    pad_value=0.0)
    img = torch.full((3, 2, 2), 2.0)
    out = pre(dict(inputs=[img]), training=False)
    # (2 - 1) / 2, (2 - 2) / 4, (2 - 3) / 8
    for c, v in enumerate([0.5, 0.0, -0.125]):
        assert torch.all(out['inputs'][0, c] == v)
    assert out['data_samples'] is None


def test_uint8_image_is_cast_to_float():
    pre = MultiTaskDataPreprocessor(mean=[0.0] * 3, std=[255.0] * 3)
    out = pre(dict(inputs=[torch.full((3, 2, 2), 255, dtype=torch.uint8)]))
    assert out['inputs'].dtype == torch.float32
    assert torch.all(out['inputs'] == 1.0)


def test_mean_std_errors():
    with pytest.raises(ValueError, match='both mean and std'):
        MultiTaskDataPreprocessor(mean=[0.5, 0.5, 0.5])
    with pytest.raises(ValueError, match='both mean and std'):
        MultiTaskDataPreprocessor(std=[0.5, 0.5, 0.5])
    with pytest.raises(ValueError, match='positive'):
        MultiTaskDataPreprocessor(mean=[0.0] * 3, std=[1.0, 0.0, 1.0])


def test_region_ids_padded_with_zero_in_training():
    from mmengine.structures import PixelData
    pre = MultiTaskDataPreprocessor(size_divisor=4)
    s = MultiTaskDataSample()
    ids = torch.tensor([[[1, 2, 2], [3, 3, 1]]])  # 1 x 2 x 3
    s.set_field(PixelData(data=ids), 'region_ids', dtype=PixelData)
    out = pre(dict(inputs=[torch.ones(3, 2, 3)], data_samples=[s]),
              training=True)
    padded = out['data_samples'][0].region_ids.data
    assert padded.shape == (1, 4, 4)
    assert torch.equal(padded[:, :2, :3], ids)
    assert int(padded[:, 2:].abs().sum() + padded[:, :, 3:].abs().sum()) == 0
