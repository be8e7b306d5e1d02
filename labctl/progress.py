"""Progress of long commands on stderr: a tqdm bar that log lines never run into.

Every long command (``labctl run``, ``train``, ``study``, ``calibrate``, ``replay``, ``watch``)
shows its progress the same way::

    with ProgressBar("hall-loop") as bar:      # or bar = ProgressBar(...); ...; bar.close()
        bar.update(done, total, "field sweep")  # from any thread, as often as you like

- The bar is drawn only on a terminal (stderr a tty; ``enabled=`` overrides): a pipe, a log
  file, ``--json`` or a test sees no carriage returns.
- While a bar is open, the console log lines (``labctl: run 3 safe state: …``) and the lines
  given to :func:`say` are printed *above* it (``tqdm.write``) and the bar is drawn again
  below them: a line never starts on the bar's line.
- :meth:`ProgressBar.close` ends the bar with a newline; it is idempotent, and the context
  manager calls it on every way out.
- ``update`` is cheap when called often: tqdm redraws at most every ``min_interval_s``.

``done`` and ``total`` are whatever the caller counts (points, pulses, epochs, grid cells);
the bar shows the percentage, the elapsed and remaining time and the last message.
"""

from __future__ import annotations

import contextlib
import sys
import threading
from types import TracebackType
from typing import Any, TextIO

MESSAGE_CHARS = 40  # a message longer than this is cut: the bar keeps to one line
BAR_FORMAT = "{desc}: {percentage:3.0f}%|{bar}| [{elapsed}<{remaining}{postfix}]"


class ProgressBar:
    """A progress bar for one long task (see the module docstring)."""

    def __init__(
        self,
        label: str,
        *,
        enabled: bool | None = None,
        min_interval_s: float = 0.1,
        file: TextIO | None = None,
    ) -> None:
        self.label = label
        self.file = file if file is not None else sys.stderr
        self.enabled = _is_tty(self.file) if enabled is None else enabled
        self.min_interval_s = min_interval_s
        self._bar: Any = None  # made at the first update, when the total is known
        self._redirect: contextlib.ExitStack | None = None
        self._lock = threading.Lock()
        self._closed = False
        self._message: str | None = None

    def update(self, done: float, total: float, message: str = "") -> None:
        """``done`` of ``total`` so far; ``message`` says where (the last one is shown)."""
        if not self.enabled or self._closed:
            return
        with self._lock:
            if self._closed:
                return
            bar = self._bar or self._open(total)
            if total and total != bar.total:
                bar.total = total
            done = min(max(float(done), 0.0), float(total or done))
            if message != self._message:
                self._message = message
                short = message if len(message) <= MESSAGE_CHARS else message[: MESSAGE_CHARS - 1]
                bar.set_postfix_str(short, refresh=False)
            bar.update(done - bar.n)  # redraws at most every min_interval_s

    def _open(self, total: float) -> Any:
        from tqdm import tqdm
        from tqdm.contrib.logging import logging_redirect_tqdm

        self._bar = tqdm(
            total=total or None,
            desc=self.label,
            file=self.file,
            leave=True,
            dynamic_ncols=True,
            mininterval=self.min_interval_s,
            bar_format=BAR_FORMAT,
        )
        _active.append(self)
        self._redirect = contextlib.ExitStack()
        self._redirect.enter_context(logging_redirect_tqdm())
        return self._bar

    def close(self) -> None:
        """End the bar (with a newline) and restore the log handlers; safe to call twice."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            if self._bar is not None:
                self._bar.close()
                if self in _active:
                    _active.remove(self)
            if self._redirect is not None:
                self._redirect.close()

    def __enter__(self) -> ProgressBar:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


_active: list[ProgressBar] = []


def say(message: str, file: TextIO | None = None) -> None:
    """Print one line on stderr, above the open progress bar if there is one."""
    out = file if file is not None else sys.stderr
    if _active:
        from tqdm import tqdm

        tqdm.write(message, file=out)
    else:
        print(message, file=out, flush=True)


def _is_tty(file: TextIO) -> bool:
    try:
        return bool(file.isatty())
    except (AttributeError, ValueError):  # a closed or replaced stream
        return False
