"""CLI glue for live plots: ``labctl run PROTOCOL ... --live`` and ``labctl watch RUN``."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from labctl.data import resolve_db

LIVE_HELP = (
    "plot the points in a window while the run goes on (acquisition in a worker thread; "
    "Ctrl-C or closing the window aborts); without a display (QT_QPA_PLATFORM=offscreen) the "
    "window is drawn offscreen and saved as a PNG next to the run's figures"
)


def add_live_option(parser: argparse.ArgumentParser, dest: str = "_live") -> None:
    """``--live`` on ``labctl run`` (before or after the protocol's name)."""
    parser.add_argument("--live", action="store_true", dest=dest, help=LIVE_HELP)


def execute_live(spec: Any, params: Any, station: Any, db: Path, **kwargs: Any) -> Any:
    """The engine with a live window; same arguments and outcome as ``labctl.engine.execute``.

    Says on stderr where the window is (a display, or offscreen when there is none), and after
    the run what it showed; the window's last frame is saved as ``figures/runN_live.png``."""
    from labctl.live import has_display, run_live
    from labctl.progress import say

    kwargs.pop("handle_signals", None)
    display = has_display()
    where = os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY") or ""
    if display:
        say(f"labctl: live: plotting {spec.name} in a window{' on ' + where if where else ''}"
            " (close it or Ctrl-C to abort the run)")  # fmt: skip
    else:
        platform = os.environ.get("QT_QPA_PLATFORM", "")
        say(f"labctl: live: no display (QT_QPA_PLATFORM={platform}): the live window is drawn "
            "offscreen and saved as a PNG when the run ends")  # fmt: skip

    def save(window: Any, outcome: Any) -> None:
        snapshot = Path(db).parent / "figures" / f"run{outcome.run_id}_live.png"
        try:
            window.grab(snapshot)
        except Exception as exc:  # a window that cannot be drawn must not fail the run
            say(f"labctl: live: the window could not be saved ({type(exc).__name__}: {exc})")
            return
        plots = ", ".join(f"{y} vs {x}" for x, y in window.axes)
        say(f"labctl: live: run {outcome.run_id} {outcome.status}, {window.points} points "
            f"plotted ({plots}); last frame saved to {snapshot}")  # fmt: skip

    outcome = run_live(spec, params, station, db, on_end=save, **kwargs)
    return outcome


def cmd_watch(args: argparse.Namespace) -> int:
    from labctl.live import has_display
    from labctl.watch import run_to_watch, watch

    db = resolve_db(args.db)
    run_id, snapshot = run_to_watch(db, args.run)
    as_json = getattr(args, "json", False)
    reporter = None if as_json else WatchReport(run_id, db, has_display())
    try:
        status = watch(db, run_id, snapshot=snapshot, report=reporter)
    finally:
        if reporter is not None:
            reporter.close()
    if as_json:
        print(json.dumps({"run_id": run_id, "status": status, "snapshot": str(snapshot)}))
    else:
        points = f", {reporter.points} points" if reporter is not None else ""
        print(f"run {run_id}: {status}{points} (window saved to {snapshot})", file=sys.stderr)
    return 0


class WatchReport:
    """What ``labctl watch`` says while it follows a run: on a terminal a progress bar fed by
    the run's stored checkpoints (the protocol's own progress and message), elsewhere a line
    every ``every_s`` seconds when something changed; and a line when the status changes."""

    def __init__(self, run_id: int, db: Path, display: bool, every_s: float = 5.0) -> None:
        from labctl.progress import ProgressBar

        self.run_id, self.db, self.display, self.every_s = run_id, db, display, every_s
        self.bar = ProgressBar(f"run {run_id}")
        self.status: str | None = None
        self.points = 0
        self._said_at, self._said = -float("inf"), ""

    def __call__(self, follower: Any) -> None:
        from labctl.progress import say

        status, last = follower.status(), follower.checkpoint()
        self.points = follower.points
        if self.status is None:
            where = "in a window" if self.display else "offscreen (no display)"
            say(f"labctl: watch: following run {self.run_id} ({follower.protocol}, {status}) "
                f"in {self.db}, plotted {where}")  # fmt: skip
        elif status != self.status:
            say(f"labctl: watch: run {self.run_id} is now {status}")
        self.status = status
        line = self.line(follower, last)
        if self.bar.enabled and last.get("total"):
            message = f"{follower.points} points" + (
                f", {last['message']}" if last.get("message") else ""
            )
            self.bar.update(float(last["done"]), float(last["total"]), message)
        elif line != self._said and time.monotonic() - self._said_at >= self.every_s:
            self._said_at, self._said = time.monotonic(), line
            say(f"labctl: watch: run {self.run_id} {status}: {line}")

    def line(self, follower: Any, last: dict[str, Any]) -> str:
        """``120 points, 37 % (field sweep)``: what the run has done so far."""
        text = f"{follower.points} points"
        if last.get("total"):
            share = 100 * float(last["done"]) / float(last["total"])
            text += f", {share:.0f} %" + (f" ({last['message']})" if last.get("message") else "")
        return text

    def close(self) -> None:
        self.bar.close()


def register(
    subparsers: Any, common: argparse.ArgumentParser
) -> dict[str, Callable[[argparse.Namespace], int]]:
    """Add ``watch`` to the ``labctl`` sub-commands; returns the command handlers by name."""
    p = subparsers.add_parser(
        "watch", parents=[common], help="follow a run's points live (or show a finished run)"
    )
    p.add_argument("run", nargs="?", type=int, default=None, help="run id (default: the latest)")
    return {"watch": cmd_watch}
