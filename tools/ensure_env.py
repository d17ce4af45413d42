"""Install what mtpsl needs into the running Python, once; idempotent.

Standard library only (it runs before anything is installed). It never
replaces an installed torch or mmcv:
- torch: installed as ``torch==2.13.0`` only if no torch is installed (a
  pinned version, so pip never resolves the newest release with its CUDA
  packages on a CPU machine; a CUDA user's own torch is kept);
- mmcv: mmcv-lite only if no distribution providing ``mmcv`` is installed
  (a user's full mmcv is kept);
- then this repository in editable mode with its test extras;
- with ``--sam``: the ``sam`` extra (segment-anything, scikit-image) and the
  torchvision paired with the installed torch, without dependencies (only
  for torch versions in TORCHVISION_FOR_TORCH; otherwise install your own).
A stamp file records what was set up; a second run only checks it.
"""
import hashlib
import importlib.metadata as md
import os
import os.path as osp
import subprocess
import sys
import time

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
STAMP = osp.join(ROOT, '.mtpsl_env_ok')
TORCH_PIN = 'torch==2.13.0'
MMCV_DISTS = ('mmcv', 'mmcv-full', 'mmcv-lite')
NEEDED = ('torch', 'mmengine', 'mmsegmentation', 'ftfy', 'regex', 'pytest',
          'pytest-xdist', 'mtpsl')
NEEDED_SAM = ('segment-anything', 'scikit-image', 'torchvision')
# torchvision release paired with a torch release (pip would otherwise pick
# the newest torchvision, which pulls a newer torch).
TORCHVISION_FOR_TORCH = {'2.13': '0.28.0'}


def version(dist):
    """Installed version of a distribution, or None."""
    try:
        return md.version(dist)
    except md.PackageNotFoundError:
        return None


def fingerprint():
    """What the set-up depends on: this interpreter and the requirements."""
    h = hashlib.sha256(sys.executable.encode())
    for name in ['setup.py'] + sorted(os.listdir(osp.join(ROOT,
                                                          'requirements'))):
        path = osp.join(ROOT, name if name == 'setup.py' else
                        osp.join('requirements', name))
        with open(path, 'rb') as f:
            h.update(name.encode() + f.read())
    return h.hexdigest()


def pip_install(*args):
    cmd = [sys.executable, '-m', 'pip', 'install',
           '--disable-pip-version-check', '--no-input', '-q', *args]
    print('[ensure_env] ' + ' '.join(cmd[2:]), flush=True)
    env = dict(os.environ, PIP_ROOT_USER_ACTION='ignore')
    subprocess.check_call(cmd, cwd=ROOT, env=env)


def up_to_date(sam: bool):
    if not osp.isfile(STAMP):
        return False
    with open(STAMP) as f:
        if f.readline().strip() != fingerprint():
            return False
    needed = NEEDED + (NEEDED_SAM if sam else ())
    return all(version(d) for d in needed) and \
        any(version(d) for d in MMCV_DISTS)


def plan(installed, sam=False):
    """The pip installs needed, given ``{distribution: version or None}``.

    Never a second torch or a second mmcv: an installed one is kept; never
    a torchvision that could pull another torch.
    """
    steps = []
    torch_version = installed.get('torch') or TORCH_PIN.split('==')[1]
    if not installed.get('torch'):
        steps.append([TORCH_PIN])
    if not any(installed.get(d) for d in MMCV_DISTS):
        steps.append(['-r', osp.join('requirements', 'mmcv.txt')])
    steps.append(['-e', '.[tests,sam]' if sam else '.[tests]'])
    if sam and not installed.get('torchvision'):
        paired = TORCHVISION_FOR_TORCH.get(
            '.'.join(torch_version.split('+')[0].split('.')[:2]))
        if paired:
            steps.append([f'torchvision=={paired}', '--no-deps'])
        else:
            print(f'[ensure_env] install the torchvision paired with torch '
                  f'{torch_version} yourself (pip install torchvision==X '
                  '--no-deps) to use Segment Anything')
    return steps


def main():
    if sys.version_info < (3, 8):
        sys.exit(f'mtpsl needs Python >= 3.8, this is {sys.version}')
    sam = '--sam' in sys.argv[1:]
    if up_to_date(sam):
        print('[ensure_env] environment ready (nothing to install)')
        return
    start = time.time()
    installed = {d: version(d) for d in ('torch', 'torchvision') + MMCV_DISTS}
    for dist, ver in installed.items():
        if ver:
            print(f'[ensure_env] keeping installed {dist} {ver}')
    mmcv = [d for d in MMCV_DISTS if installed[d]]
    if len(mmcv) > 1:
        print(f'[ensure_env] warning: {", ".join(mmcv)} are all installed '
              'and overwrite each other\'s files; keep one')
    for args in plan(installed, sam):
        pip_install(*args)
    with open(STAMP, 'w') as f:
        f.write(fingerprint() + '\n')
    print(f'[ensure_env] set-up done in {time.time() - start:.0f} s')


if __name__ == '__main__':
    main()
