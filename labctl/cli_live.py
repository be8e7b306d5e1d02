"""CLI glue for live plots: ``labctl run PROTOCOL ... --live`` and ``labctl watch RUN``."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from labctl.data import resolve_db


def add_live_option(parser: argparse.ArgumentParser) -> None:
    """``--live`` on ``labctl run``: plot the points in a window while the run goes on."""
    parser.add_argument(
        "--live",
        action="store_true",
        dest="_live",
        help="open a live plot window (acquisition runs in a worker thread; Ctrl-C aborts)",
    )


def execute_live(spec: Any, params: Any, station: Any, db: Path, **kwargs: Any) -> Any:
    """The engine with a live window; same arguments and outcome as ``labctl.engine.execute``."""
    from labctl.live import run_live

    kwargs.pop("handle_signals", None)
    return run_live(spec, params, station, db, **kwargs)


def cmd_watch(args: argparse.Namespace) -> int:
    from labctl.watch import run_to_watch, watch

    db = resolve_db(args.db)
    run_id, snapshot = run_to_watch(db, args.run)
    status = watch(db, run_id, snapshot=snapshot)
    if getattr(args, "json", False):
        print(json.dumps({"run_id": run_id, "status": status, "snapshot": str(snapshot)}))
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
