"""How every tool reports an error: one clear line, a traceback on request."""
from __future__ import annotations

import os
import sys
from typing import Any, Callable, Optional

DEBUG_FLAG = '--debug'
DEBUG_HELP = (f'{DEBUG_FLAG}: show the full traceback of an error (also '
              'MTPSL_DEBUG=1); without it an error prints one line')


def run_tool(main: Callable[..., Any], argv: Optional[list] = None) -> Any:
    """Run a tool's ``main``; on error print ``error: <message>`` and exit 2.

    ``--debug`` anywhere on the command line (removed before ``main`` parses
    it) or ``MTPSL_DEBUG=1`` lets the exception and its traceback through.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = DEBUG_FLAG in argv or os.environ.get('MTPSL_DEBUG') == '1'
    argv = [a for a in argv if a != DEBUG_FLAG]
    if debug:
        return main(argv)
    try:
        return main(argv)
    except KeyboardInterrupt:
        print('interrupted', file=sys.stderr)
        sys.exit(130)
    except Exception as err:  # noqa: BLE001 - reported, not swallowed
        print(f'error: {describe(err)}\n(run again with {DEBUG_FLAG} for '
              'the traceback)', file=sys.stderr, flush=True)
        sys.exit(2)


def describe(err: BaseException) -> str:
    """The message of ``err``; its class name where the message alone is
    not self-explaining (built-in errors with a bare message)."""
    text = str(err).strip()
    if isinstance(err, KeyError) and len(err.args) == 1:
        text = str(err.args[0])
    own = type(err).__module__.startswith('mtpsl')
    if not text:
        return type(err).__name__
    if own or isinstance(err, (FileNotFoundError, ValueError, KeyError)):
        return text
    return f'{type(err).__name__}: {text}'
