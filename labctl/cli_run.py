"""Running a protocol from a command and reporting its outcome: shared by ``labctl run`` and the
sub-commands that packages register through the ``labctl.commands`` entry points (``labctl
train`` …), which import it from here, never from :mod:`labctl.cli` (that would be a cycle).
It imports the engine: such a command module imports it in its handlers, not at module level."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from labctl.cli_output import emit, result_lines
from labctl.data import resolve_db
from labctl.engine import RunOutcome, execute
from labctl.params import build_params
from labctl.progress import ProgressBar
from labctl.protocol import ProtocolSpec
from labctl.station import load_station

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_ABORTED = 0, 1, 2, 130


def run_protocol(
    args: argparse.Namespace, spec: ProtocolSpec, raw_params: dict[str, Any]
) -> RunOutcome:
    params = build_params(spec.params_type, raw_params, spec.name)
    station = load_station(args.station)
    db = resolve_db(args.db)
    # on a terminal only, and never with --json (one JSON object, nothing else)
    with ProgressBar(spec.name, enabled=False if getattr(args, "json", False) else None) as bar:
        if getattr(args, "live", False):
            from labctl.cli_live import execute_live

            return execute_live(spec, params, station, db, progress=bar.update)
        return execute(spec, params, station, db, progress=bar.update)


def report(args: argparse.Namespace, outcome: RunOutcome) -> int:
    def text() -> str:
        lines = [
            f"run {outcome.run_id} ({outcome.protocol}): {outcome.status}, "
            f"{outcome.points} points in {outcome.db}"
        ]
        lines += result_lines(outcome.protocol, outcome.result)
        lines += [f"  figure: {f}" for f in outcome.figures]
        return "\n".join(lines)

    emit(args, outcome.as_dict(), text)
    if outcome.status == "completed":
        return EXIT_OK
    if args.debug and outcome.exception is not None:
        raise outcome.exception
    error = "; ".join(line.strip() for line in str(outcome.error).splitlines() if line.strip())
    print(f"labctl: run {outcome.run_id} {outcome.status}: {error}", file=sys.stderr)
    return EXIT_ABORTED if outcome.status in ("aborted", "interrupted") else EXIT_FAILED
