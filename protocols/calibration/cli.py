"""``labctl calibrate RUN...``: registered through the ``labctl.commands`` entry-point group.

Module-level imports stay light (the parser is built at every ``labctl`` start); the fits and
their pandas/scipy load in the handler.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

EXIT_OK = 0
Handler = Callable[[argparse.Namespace], int]


def cmd_calibrate(args: argparse.Namespace) -> int:
    from labctl.cli_output import emit
    from labctl.data import resolve_db
    from labctl.progress import ProgressBar
    from protocols.calibration.calibrate import calibrate_runs

    db = resolve_db(args.db)
    out = (
        Path(args.out)
        if args.out
        else db.parent / f"chip_calibrated_runs{'-'.join(map(str, args.runs))}.yaml"
    )
    base = Path(args.base) if args.base else None
    with ProgressBar("calibrate", enabled=False if getattr(args, "json", False) else None) as bar:
        calibration = calibrate_runs(db, args.runs, out=out, base=base, progress=bar.update)
    emit(args, calibration.as_dict(), calibration.text)
    return EXIT_OK


def register(
    subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser
) -> dict[str, Handler]:
    """Add ``calibrate`` to the ``labctl`` parser."""
    p = subparsers.add_parser(
        "calibrate",
        parents=[common],
        help="fit chip parameters to recorded runs; write a chip parameter file",
        description="Fits H0 and Δ (hall-loop-series, switching-probability), R_AHE and the "
        "offset (Hall loops), the ion-kinetics prefactor and V0 (gate-program) to recorded "
        "runs, and writes a chip parameter file (the device model's format, "
        "labctl/physics/params.py). `labctl replay RUN --sim --chip FILE` re-runs a run on it; "
        "a simulated lab file uses it with `chip: {params: FILE}`.",
    )
    p.add_argument("runs", type=int, nargs="+", help="run ids")
    p.add_argument("--out", default=None, help="chip parameter file to write")
    p.add_argument("--base", default=None, help="chip file whose other parameters are kept")
    return {"calibrate": cmd_calibrate}
