"""Install mtpsl. torch and mmcv are not pulled in on purpose: see README."""
import os.path as osp

from setuptools import find_packages, setup

HERE = osp.dirname(osp.abspath(__file__))


def read_requirements(name):
    """Requirement lines of requirements/<name>.txt, comments stripped."""
    out = []
    with open(osp.join(HERE, 'requirements', name)) as f:
        for line in f:
            line = line.split('#', 1)[0].strip()
            if line:
                out.append(line)
    return out


def read_version():
    scope = {}
    with open(osp.join(HERE, 'mtpsl', 'version.py')) as f:
        exec(f.read(), scope)
    return scope['__version__']


setup(
    name='mtpsl',
    version=read_version(),
    description='Multi-task dense prediction under partial supervision',
    long_description=open(osp.join(HERE, 'README.md')).read(),
    long_description_content_type='text/markdown',
    license='Apache-2.0',
    python_requires='>=3.8',
    packages=find_packages(include=['mtpsl', 'mtpsl.*']),
    install_requires=read_requirements('runtime.txt'),
    extras_require={
        'lite': read_requirements('mmcv.txt'),
        'tests': read_requirements('tests.txt'),
        'sam': read_requirements('optional.txt'),
    },
    zip_safe=False,
)
