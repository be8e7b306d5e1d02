"""CLI glue for live plots: ``labctl run PROTOCOL ... --live`` and ``labctl watch RUN``."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from labctl.data import list_runs, resolve_db
from labctl.errors import LabctlError

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
    from labctl.watch import watch

    db = resolve_db(args.db)
    run_id = args.run
    if run_id is None:
        runs = list_runs(db)
        if not runs:
            raise LabctlError(f"no runs in {db}")
        run_id = runs[-1].run_id
    snapshot = db.parent / "figures" / f"run{int(run_id)}_watch.png"
    status = watch(db, int(run_id), snapshot=snapshot)
    if getattr(args, "json", False):
        print(json.dumps({"run_id": int(run_id), "status": status, "snapshot": str(snapshot)}))
    else:
        print(f"run {run_id}: {status} (window saved to {snapshot})", file=sys.stderr)
    return 0


def register(
    subparsers: Any, common: argparse.ArgumentParser
) -> dict[str, Callable[[argparse.Namespace], int]]:
    """Add ``watch`` to the ``labctl`` sub-commands; returns the command handlers by name."""
    p = subparsers.add_parser(
        "watch", parents=[common], help="follow a run's points live (or show a finished run)"
    )
    p.add_argument("run", nargs="?", type=int, default=None, help="run id (default: the latest)")
    return {"watch": cmd_watch}
