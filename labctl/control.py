"""Pause, resume and abort: from the keyboard, from signals, from code.

- First Ctrl-C or SIGTERM: abort at the next checkpoint (every ``run.sleep``, ``run.record``
  and ramp step is one), then the safe state.
- Second Ctrl-C or SIGTERM: interrupt at once (KeyboardInterrupt), then the safe state.
- While the safe state is being reached, further Ctrl-C / SIGTERM are ignored: that section
  always completes.
- SIGUSR1 pauses, SIGUSR2 resumes; on a terminal, typing ``p``, ``r`` or ``a`` + Enter does
  the same.
"""

from __future__ import annotations

import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

from labctl.errors import RunAborted
from labctl.progress import say as _say


class RunControl:
    def __init__(self, say: Callable[[str], None] | None = None) -> None:
        self.abort_reason: str | None = None
        self.in_safe_state = False
        self.pending = False  # a pause or abort waits: the hot path checks only this
        self._paused = threading.Event()
        self._say = say or _say  # above the progress bar, if one is drawn

    # -------------------------------------------------------------- requests
    def request_abort(self, reason: str) -> None:
        if self.abort_reason is None:
            self.abort_reason = reason
        self._paused.clear()
        self.pending = True

    def pause(self) -> None:
        if not self._paused.is_set():
            self._paused.set()
            self.pending = True
            self._say("labctl: paused at the next checkpoint (resume: 'r' + Enter or SIGUSR2)")

    def resume(self) -> None:
        if self._paused.is_set():
            self._paused.clear()
            self.pending = self.abort_reason is not None
            self._say("labctl: resumed")

    @property
    def paused(self) -> bool:
        return self._paused.is_set()

    # -------------------------------------------------------------- checks
    def checkpoint(self) -> None:
        """Raise :class:`RunAborted` if an abort was requested; block while paused."""
        if self.in_safe_state:
            return
        while self._paused.is_set() and self.abort_reason is None:
            time.sleep(0.05)
        if self.abort_reason is not None:
            raise RunAborted(f"run aborted ({self.abort_reason})")

    @contextmanager
    def safe_section(self) -> Iterator[None]:
        self.in_safe_state = True
        try:
            yield
        finally:
            self.in_safe_state = False

    # -------------------------------------------------------------- signals
    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        name = signal.Signals(signum).name
        if self.in_safe_state:
            self._say(f"labctl: {name} ignored: reaching the safe state, please wait")
            return
        if self.abort_reason is not None:
            self._say(f"labctl: second {name}: interrupting now, then the safe state")
            raise KeyboardInterrupt
        self.request_abort(name)
        self._say(
            f"labctl: {name}: aborting at the next checkpoint, then the safe state "
            "(send it again to interrupt at once)"
        )

    def _on_pause(self, _signum: int, _frame: FrameType | None) -> None:
        self.pause()

    def _on_resume(self, _signum: int, _frame: FrameType | None) -> None:
        self.resume()

    @contextmanager
    def handlers(self, keyboard: bool = True) -> Iterator[None]:
        """Install the signal handlers (main thread only) and the keyboard listener."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        wanted: dict[int, Any] = {
            signal.SIGINT: self._on_signal,
            signal.SIGTERM: self._on_signal,
        }
        if hasattr(signal, "SIGUSR1"):
            wanted[signal.SIGUSR1] = self._on_pause
            wanted[signal.SIGUSR2] = self._on_resume
        previous = {s: signal.signal(s, h) for s, h in wanted.items()}
        if keyboard and sys.stdin is not None and sys.stdin.isatty():
            threading.Thread(target=self._keyboard, name="labctl-keys", daemon=True).start()
        try:
            yield
        finally:
            for s, h in previous.items():
                signal.signal(s, h)

    def _keyboard(self) -> None:
        for line in sys.stdin:
            key = line.strip().lower()[:1]
            if key == "p":
                self.pause()
            elif key == "r":
                self.resume()
            elif key in ("a", "q"):
                self.request_abort("keyboard")
                self._say("labctl: abort requested from the keyboard")
