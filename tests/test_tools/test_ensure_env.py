"""The set-up script never installs a second torch or a second mmcv."""
from tools.ensure_env import TORCH_PIN, plan

MMCV = ['-r', 'requirements/mmcv.txt']
SELF = ['-e', '.[tests]']


def test_fresh_machine_gets_pinned_torch_and_mmcv_lite():
    assert plan({}) == [[TORCH_PIN], MMCV, SELF]
    assert TORCH_PIN == 'torch==2.13.0'


def test_cuda_users_torch_and_full_mmcv_are_kept():
    assert plan({'torch': '2.5.1+cu121', 'mmcv': '2.1.0'}) == [SELF]


def test_existing_mmcv_lite_is_not_reinstalled():
    assert plan({'torch': '2.13.0', 'mmcv-lite': '2.1.0'}) == [SELF]


def test_requirements_never_name_torch_or_mmcv():
    from conftest import REPO
    import os.path as osp
    with open(osp.join(REPO, 'requirements', 'runtime.txt')) as f:
        lines = [ln.split('#')[0].strip() for ln in f]
    names = {ln.split('>')[0].split('=')[0].split('<')[0] for ln in lines
             if ln}
    assert not names & {'torch', 'mmcv', 'mmcv-lite', 'mmcv-full',
                        'torchvision'}, names


def test_sam_extra_gets_the_paired_torchvision_without_dependencies():
    installed = {'torch': '2.13.0+cpu', 'mmcv-lite': '2.1.0'}
    assert plan(installed, sam=True) == [
        ['-e', '.[tests,sam]'], ['torchvision==0.28.0', '--no-deps']]
    # a torchvision already there is kept; an unknown torch gets none
    assert plan(dict(installed, torchvision='0.28.0'), sam=True) == [
        ['-e', '.[tests,sam]']]
    assert plan({'torch': '2.5.1', 'mmcv': '2.1.0'}, sam=True) == [
        ['-e', '.[tests,sam]']]


def test_sam_extra_never_names_torchvision():
    from conftest import REPO
    import os.path as osp
    with open(osp.join(REPO, 'requirements', 'optional.txt')) as f:
        names = [ln.split('#')[0].strip() for ln in f]
    assert not any(n.startswith(('torch', 'torchvision')) for n in names if n)
