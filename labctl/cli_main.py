"""The ``labctl`` console script: Ctrl-C at any moment, even while the command line's heavy
imports (qcodes, pandas, Qt) load, ends with one line and exit status 130, never a traceback."""

from __future__ import annotations

import signal
import sys
from collections.abc import Sequence

EXIT_ABORTED = 130


def _import_numpy_uninterrupted() -> None:
    """numpy, with Ctrl-C held back while it loads: a KeyboardInterrupt inside its C extension's
    import comes out as an ImportError ("_multiarray_umath failed to import"), and a second
    import then fails with "cannot load module more than once". The command line needs numpy
    to build ``train``'s options (the rules' parameters); a Ctrl-C held back here is delivered
    when the mask is lifted, as a KeyboardInterrupt, in :func:`main`."""
    if not hasattr(signal, "pthread_sigmask"):  # Windows: no signal masks
        import numpy

        return
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        import numpy  # noqa: F401
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


def main(argv: Sequence[str] | None = None) -> int:
    try:
        _import_numpy_uninterrupted()
        from labctl.cli import main as cli_main

        return cli_main(argv)
    except KeyboardInterrupt:
        print("labctl: interrupted", file=sys.stderr)
        return EXIT_ABORTED


if __name__ == "__main__":
    sys.exit(main())
