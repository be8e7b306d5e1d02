"""A one-line progress bar on stderr for long runs."""

from __future__ import annotations

import sys
import time


class ProgressBar:
    def __init__(self, label: str, width: int = 30, min_interval_s: float = 0.1) -> None:
        self.label, self.width, self.min_interval_s = label, width, min_interval_s
        self._last = 0.0

    def update(self, done: float, total: float, message: str = "") -> None:
        now = time.monotonic()
        if now - self._last < self.min_interval_s and done < total:
            return
        self._last = now
        fraction = min(max(done / total, 0.0), 1.0) if total else 0.0
        filled = int(fraction * self.width)
        bar = "#" * filled + "-" * (self.width - filled)
        sys.stderr.write(f"\r{self.label} [{bar}] {fraction:6.1%} {message[:30]:<30}")
        sys.stderr.flush()

    def close(self) -> None:
        sys.stderr.write("\n")
        sys.stderr.flush()
