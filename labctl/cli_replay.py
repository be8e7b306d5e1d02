"""``labctl replay`` and ``labctl traffic``: the command-line side of :mod:`labctl.recording`.
``register(subparsers, common)`` adds the parsers and returns the handlers, which
``labctl.cli`` puts into its command table."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

from labctl.cli_output import emit
from labctl.data import resolve_db
from labctl.database import check_path

EXIT_OK, EXIT_FAILED = 0, 1
Handler = Callable[[argparse.Namespace], int]


def cmd_replay(args: argparse.Namespace) -> int:
    from labctl.progress import ProgressBar

    db = resolve_db(args.db)
    out_db = Path(args.out_db) if args.out_db else None
    label = f"replay of run {args.run}" + (" on the twin" if args.sim or args.chip else "")
    bar = ProgressBar(label, enabled=False if getattr(args, "json", False) else None)
    if args.sim or args.chip:
        from labctl.recording.twin import replay_on_twin

        chip = Path(args.chip) if args.chip else None
        out_dir = Path(args.out) if args.out else None
        with bar:
            comparison = replay_on_twin(
                db, args.run, chip=chip, out_db=out_db, out_dir=out_dir, handle_signals=True,
                progress=bar.update,
            )  # fmt: skip
        emit(args, comparison.as_dict(), comparison.text)
        return EXIT_OK if comparison.status == "completed" else EXIT_FAILED
    from labctl.recording.replay import replay_run

    with bar:
        report = replay_run(db, args.run, out_db=out_db, handle_signals=True, progress=bar.update)
    emit(args, report.as_dict(), report.text)
    return EXIT_OK if report.identical else EXIT_FAILED


def cmd_traffic(args: argparse.Namespace) -> int:
    from labctl.recording.store import load_recording

    db = resolve_db(args.db)
    check_path(db, write=False)
    recording = load_recording(db, args.run)
    rows = recording.transactions[: args.limit] if args.limit > 0 else recording.transactions
    n = len(recording.transactions)

    def text() -> str:
        lines = [
            f"run {recording.run_id}: {n} transactions on "
            f"{recording.underlying} ({', '.join(recording.resources)})"
            + (f"; the first {len(rows)} (--limit 0: all)" if len(rows) < n else "")
        ]
        for t in rows:
            dt = t.t_station_s - recording.clock_start_s
            lines.append(f"{t.seq:>7} {dt:>10.4f} s  {t.resource:<20} {t.describe()}")
        return "\n".join(lines)

    payload = {
        "run_id": recording.run_id,
        "underlying": recording.underlying,
        "resources": recording.resources,
        "transactions": [
            {**vars(t), "data": None if t.data is None else t.data.decode("latin-1")} for t in rows
        ],
    }
    emit(args, payload, text)
    return EXIT_OK


def register(
    subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser
) -> dict[str, Handler]:
    """Add ``replay`` and ``traffic`` to the ``labctl`` parser."""
    p = subparsers.add_parser(
        "replay",
        parents=[common],
        help="re-run a recorded run: strictly from its recording, or on the twin (--sim)",
        description="Strict replay: the same protocol, parameters and station, the instruments' "
        "answers coming from the recording; the new run's data must equal the original's, and "
        "the first divergence is reported. --sim re-runs it on the virtual chip and writes a "
        "measured-vs-simulated comparison. Recording: every `labctl run` records its VISA "
        "traffic (commands, replies, timing, attribute changes) into the run's database; it is "
        "on by default, LABCTL_RECORD=0 turns it off. A plain pyvisa script is recorded with "
        "PYVISA_LIBRARY=@labrec LABREC_UNDERLYING=@py LABREC_FILE=traffic.db and replayed with "
        "PYVISA_LIBRARY=traffic.db@labreplay; `labctl traffic RUN` shows a recording.",
    )
    p.add_argument("run", type=int, help="run id of a recorded run")
    p.add_argument("--sim", action="store_true", help="re-run on the twin (@labsim) and compare")
    p.add_argument(
        "--chip",
        default=None,
        help="chip parameter file (e.g. from `labctl calibrate`) or lab file for --sim, "
        "passed to the simulator as FILE@labsim",
    )
    p.add_argument("--out-db", default=None, help="database for the new run (default: --db)")
    p.add_argument("--out", default=None, help="folder for the comparison files (--sim)")
    p = subparsers.add_parser("traffic", parents=[common], help="show a run's VISA traffic")
    p.add_argument("run", type=int)
    p.add_argument("--limit", type=int, default=50, help="transactions to show (0: all)")
    return {"replay": cmd_replay, "traffic": cmd_traffic}
