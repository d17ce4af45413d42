"""One loader for every torch file mtpsl opens (checkpoints, ``.pth``
splits, SAM weights): safe by default, with errors that say what is wrong.

Safe means ``torch.load(weights_only=True)``: tensors and plain containers
only, no code. ``trust=True`` (``--trust-checkpoint``, implied by
``--resume``) unpickles in full, for a training checkpoint the user made.
A refused file is reported with the globals it asks for (``posix.system``),
a corrupt or truncated one as corrupt.
"""
from __future__ import annotations

import io
import os
import pickle
import pickletools
import zipfile
from typing import Any, List

import torch


class UnsafeFileError(pickle.UnpicklingError):
    """A file whose unpickling needs globals the safe loader refuses."""


class CorruptFileError(ValueError):
    """A file that is not a complete torch / pickle file."""


_STRING_OPS = {'SHORT_BINUNICODE', 'BINUNICODE', 'BINUNICODE8', 'UNICODE',
               'SHORT_BINSTRING', 'BINSTRING', 'STRING'}


def pickle_globals(data: bytes) -> List[str]:
    """The ``module.name`` globals a pickle stream asks for, in order.

    Reads opcodes only (nothing is executed); ``STACK_GLOBAL`` takes its two
    names from the strings pushed (or fetched from the memo) before it.
    """
    names, strings, memo = [], [], {}
    try:
        for op, arg, _ in pickletools.genops(io.BytesIO(data)):
            if op.name == 'GLOBAL' or op.name == 'INST':
                names.append(str(arg).replace(' ', '.'))
            elif op.name in _STRING_OPS:
                strings.append(str(arg))
            elif op.name == 'MEMOIZE' and strings:
                memo[len(memo)] = strings[-1]
            elif op.name in ('BINPUT', 'LONG_BINPUT', 'PUT') and strings:
                memo[int(arg)] = strings[-1]
            elif op.name in ('BINGET', 'LONG_BINGET', 'GET'):
                if int(arg) in memo:
                    strings.append(memo[int(arg)])
            elif op.name == 'STACK_GLOBAL' and len(strings) >= 2:
                names.append(f'{strings[-2]}.{strings[-1]}')
    except Exception:  # a truncated stream: keep what was read
        pass
    return names


def _pickle_streams(path: str) -> List[bytes]:
    """The pickle streams of a torch zip file, or the file itself."""
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as z:
            return [z.read(n) for n in z.namelist() if n.endswith('.pkl')]
    with open(path, 'rb') as f:
        data = f.read()
    if data[:6] == b'\x93NUMPY':  # .npy: the pickle follows the header
        import numpy as np
        buf = io.BytesIO(data)
        fmt = np.lib.format
        if fmt.read_magic(buf)[0] == 1:
            fmt.read_array_header_1_0(buf)
        else:
            fmt.read_array_header_2_0(buf)
        data = data[buf.tell():]
    return [data]


def refused_globals(path: str) -> List[str]:
    """The globals in ``path`` that weights-only loading does not allow."""
    allowed = set()
    try:
        from torch import _weights_only_unpickler as wou
        allowed = set(wou._get_allowed_globals()) | set(
            wou._get_user_allowed_globals())
    except Exception:  # a torch without these helpers: report every global
        pass
    found = []
    for stream in _pickle_streams(path):
        for name in pickle_globals(stream):
            if name not in allowed and name not in found:
                found.append(name)
    return found


def _streams_parse(path: str) -> bool:
    """Whether every pickle stream of ``path`` reads to its STOP opcode."""
    try:
        for stream in _pickle_streams(path):
            ops = list(pickletools.genops(io.BytesIO(stream)))
            if not ops or ops[-1][0].name != 'STOP':
                return False
    except Exception:
        return False
    return True


_CORRUPT = (EOFError, zipfile.BadZipFile, KeyError, IndexError,
            UnicodeDecodeError, OverflowError, MemoryError)


def _is_corrupt(err: BaseException) -> bool:
    text = str(err)
    return isinstance(err, _CORRUPT) or (
        isinstance(err, (RuntimeError, ValueError, pickle.UnpicklingError))
        and any(w in text for w in ('zip archive', 'corrupt', 'truncated',
                                    'invalid load key', 'unexpected EOF',
                                    'ran out of input', 'Ran out of input',
                                    'magic number')))


def _first_sentence(err: BaseException) -> str:
    text = str(err).strip().split('. ')[0]
    return text[:160]


def load_torch_file(path: str, trust: bool = False, what: str = 'checkpoint',
                    map_location: Any = 'cpu') -> Any:
    """``torch.load`` of ``path``: weights only unless ``trust``.

    Raises FileNotFoundError, :class:`UnsafeFileError` (naming the refused
    globals and the file) or :class:`CorruptFileError`.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f'{what} not found: {path}')
    if os.path.getsize(path) == 0:
        raise CorruptFileError(f'{path}: corrupt {what} (the file is empty)')
    try:
        return torch.load(path, map_location=map_location,
                          weights_only=not trust)
    except Exception as err:
        if not trust and isinstance(err, pickle.UnpicklingError):
            refused = refused_globals(path)
            if refused:
                raise UnsafeFileError(
                    f'{path}: refused to unpickle global '
                    f'{", ".join(refused)} (a {what} is loaded with '
                    'weights_only=True: tensors and plain containers, no '
                    'code). Nothing was run. If this is a training '
                    'checkpoint you made yourself, pass --trust-checkpoint '
                    '(--resume implies it); never for a file from elsewhere.'
                ) from None
        if (_is_corrupt(err) or not isinstance(err, pickle.UnpicklingError)
                or not _streams_parse(path)):
            raise CorruptFileError(
                f'{path}: corrupt or truncated {what}, not a complete torch '
                f'file ({type(err).__name__}: {_first_sentence(err)})') from None
        raise UnsafeFileError(
            f'{path}: cannot be read with weights_only=True '
            f'({str(err).strip().splitlines()[-1][:200]}); if it is a '
            f'{what} you made yourself, pass --trust-checkpoint') from None


def require_dict(obj: Any, path: str, what: str = 'checkpoint') -> dict:
    """``obj`` if it is a dict, else a clear error naming its type."""
    if not isinstance(obj, dict):
        raise ValueError(
            f'{path}: a {what} holds a dict (a state dict, or a training '
            f'checkpoint with a "state_dict" key), but this file holds a '
            f'{type(obj).__name__}')
    return obj


def load_npy_safely(path: str, what: str = '.npy file') -> Any:
    """``np.load(allow_pickle=False)``: a pickled array is refused with the
    globals it asks for; a corrupt file is reported as corrupt."""
    import numpy as np
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f'{what} not found: {path}')
    try:
        return np.load(path, allow_pickle=False)
    except ValueError as err:
        if 'allow_pickle' in str(err):
            try:
                names = refused_globals(path)
            except Exception:  # a header too broken to skip
                names = []
            raise UnsafeFileError(
                f'{path}: refused to unpickle a {what} holding Python '
                f'objects (globals {", ".join(names) or "unknown"}); a '
                f'{what} holds a plain numeric array. Nothing was run.'
            ) from None
        raise CorruptFileError(f'{path}: corrupt or truncated {what} '
                               f'({_first_sentence(err)})') from None
    except (OSError, EOFError) as err:
        raise CorruptFileError(f'{path}: corrupt or truncated {what} '
                               f'({type(err).__name__}: '
                               f'{_first_sentence(err)})') from None
