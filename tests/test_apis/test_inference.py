"""init_model / inference_model on a narrow SegNet, and tools/image_demo.py."""
import pickle

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import ConfigDict

from conftest import tiny_train_config
from mtpsl.apis import inference_model, init_model, load_weights, read_image
from tools.image_demo import main as image_demo
from tools.publish_model import publish

H, W = 40, 52  # not a multiple of 32: the preprocessor pads, predict crops


@pytest.fixture(scope='module')
def setup(tmp_path_factory):
    """A config, a trained-like model, its training and published files."""
    tmp = tmp_path_factory.mktemp('inference')
    config = tiny_train_config(str(tmp / 'no_data'), str(tmp / 'work'))
    torch.manual_seed(0)
    model = init_model(config)  # random weights
    with torch.no_grad():  # make BN statistics non-trivial
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.1, 0.1)
                m.running_var.uniform_(0.5, 1.5)
    # a training checkpoint holds MMEngine objects besides the weights
    train_ckpt = str(tmp / 'iter_6.pth')
    torch.save(dict(meta=dict(cfg=ConfigDict(a=1)),
                    state_dict=model.state_dict()), train_ckpt)
    published = publish(train_ckpt, str(tmp / 'published'), 'tiny',
                        trust_checkpoint=True)
    rng = np.random.default_rng(0)
    image = rng.random((H, W, 3)).astype(np.float32)
    return dict(tmp=tmp, config=config, model=model, train_ckpt=train_ckpt,
                published=published, image=image)


def test_published_checkpoint_matches_predict(setup):
    model = init_model(setup['config'], setup['published'])
    assert not model.training
    result = inference_model(model, setup['image'])
    assert set(result) == {'sem_seg', 'depth', 'normal'}
    assert result['sem_seg'].shape == (H, W)
    assert result['sem_seg'].dtype == np.int64
    assert result['depth'].shape == (H, W)
    assert result['normal'].shape == (H, W, 3)
    np.testing.assert_allclose(np.linalg.norm(result['normal'], axis=2), 1.0,
                               atol=1e-5)
    # the reference: the original model's predict on the padded input
    from mtpsl.structures import MultiTaskDataSample
    inputs = torch.from_numpy(setup['image'].transpose(2, 0, 1).copy())
    padded = torch.nn.functional.pad(inputs, (0, 64 - W, 0, 64 - H))[None]
    sample = MultiTaskDataSample(metainfo=dict(img_shape=(H, W),
                                               ori_shape=(H, W)))
    with torch.no_grad():
        ref = setup['model'].predict(padded, [sample])[0]
    np.testing.assert_array_equal(result['sem_seg'],
                                  ref.pred('sem_seg')[0].numpy())
    np.testing.assert_array_equal(result['depth'],
                                  ref.pred('depth')[0].numpy())
    np.testing.assert_array_equal(result['normal'],
                                  ref.pred('normal').permute(1, 2, 0).numpy())


def test_training_checkpoint_needs_trust(setup):
    with pytest.raises(pickle.UnpicklingError,
                       match='ConfigDict.*trust-checkpoint'):
        init_model(setup['config'], setup['train_ckpt'])
    model = init_model(setup['config'], setup['train_ckpt'],
                       trust_checkpoint=True)
    ref = inference_model(init_model(setup['config'], setup['published']),
                          setup['image'])
    got = inference_model(model, setup['image'])
    for task in ref:
        np.testing.assert_array_equal(got[task], ref[task])


def test_checkpoint_that_does_not_fit_lists_keys(setup):
    state = load_weights(setup['published'])
    state.pop('heads.depth.cls.bias')
    state['extra.weight'] = torch.zeros(1)
    path = str(setup['tmp'] / 'broken.pth')
    torch.save(state, path)
    with pytest.raises(RuntimeError, match=r'1 missing keys.*heads\.depth'
                       r'\.cls\.bias.*1 unexpected keys.*extra\.weight'):
        init_model(setup['config'], path)
    with pytest.raises(FileNotFoundError, match='nowhere.pth'):
        init_model(setup['config'], str(setup['tmp'] / 'nowhere.pth'))


def test_array_npy_and_png_inputs_agree(setup):
    model = init_model(setup['config'], setup['published'])
    # a uint8 image is exactly representable in .png, .npy and arrays
    img8 = (setup['image'] * 255).round().astype(np.uint8)
    as_float = img8.astype(np.float32) / 255.0
    npy = str(setup['tmp'] / 'img.npy')
    png = str(setup['tmp'] / 'img.png')
    np.save(npy, as_float)
    cv2.imwrite(png, cv2.cvtColor(img8, cv2.COLOR_RGB2BGR))
    np.testing.assert_array_equal(read_image(png), as_float)
    from_array = inference_model(model, as_float)
    for other in (inference_model(model, img8), inference_model(model, npy),
                  inference_model(model, png)):
        for task in from_array:
            np.testing.assert_array_equal(other[task], from_array[task])
    # a batch pads to one size and runs convs batched: equal up to float
    # rounding (a label may flip where two logits are within it)
    batch = inference_model(model, [npy, png])
    for other in batch:
        assert (other['sem_seg'] == from_array['sem_seg']).mean() > 0.99
        for task in ('depth', 'normal'):
            np.testing.assert_allclose(other[task], from_array[task],
                                       atol=1e-5)


def test_bad_images_are_named(setup, tmp_path):
    model = init_model(setup['config'])
    with pytest.raises(ValueError, match=r'H x W x 3.*\(4, 5\)'):
        inference_model(model, np.zeros((4, 5), np.float32))
    bad = tmp_path / 'img.txt'
    bad.write_text('x')
    with pytest.raises(ValueError, match='img.txt'):
        inference_model(model, str(bad))
    with pytest.raises(FileNotFoundError, match='missing.png'):
        inference_model(model, str(tmp_path / 'missing.png'))


def test_image_demo_writes_picture(setup):
    npy = str(setup['tmp'] / 'demo.npy')
    np.save(npy, setup['image'])
    out = str(setup['tmp'] / 'pics' / 'demo.png')
    image_demo([npy, setup['config'], setup['published'], '--out', out])
    picture = cv2.imread(out)
    assert picture is not None
    # image row + one row per task; every cell at least the image width
    assert picture.shape[0] > 4 * H and picture.shape[1] >= W
    assert picture.std() > 0
