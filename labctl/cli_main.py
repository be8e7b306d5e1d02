"""The ``labctl`` console script: Ctrl-C at any moment, even while the command line's heavy
imports (qcodes, pandas, Qt) load, ends with one line and exit status 130, never a traceback
(numpy, whose import a Ctrl-C would break, loads with Ctrl-C held back:
:func:`labctl.cli.import_numpy_uninterrupted`)."""

from __future__ import annotations

import sys
from collections.abc import Sequence

EXIT_ABORTED = 130


def main(argv: Sequence[str] | None = None) -> int:
    try:
        from labctl.cli import main as cli_main

        return cli_main(argv)
    except KeyboardInterrupt:
        print("labctl: interrupted", file=sys.stderr)
        return EXIT_ABORTED


if __name__ == "__main__":
    sys.exit(main())
