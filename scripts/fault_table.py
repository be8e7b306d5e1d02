"""Print the table of faults against outcomes: every fault kind on every role of the default,
delta and array stations, armed mid-run (or at ``--at N`` / ``--at early|mid|late``).

    python scripts/fault_table.py [--scenario default|delta|array ...] [--at mid]

Each cell is measured on the simulated bench: status of the run, whether the instruments'
own state (the twins) is safe afterwards, reconnections and reply retries, points stored /
points taken, and the run's error message. Takes about 2 s per run (90 runs for all).
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "faults"))

from harness import KINDS, SCENARIOS, run_with_fault, transaction_counts

HEADER = [
    "station",
    "role",
    "fault",
    "at",
    "fired",
    "status",
    "safe",
    "recovery",
    "points",
    "message",
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", action="append", choices=list(SCENARIOS))
    parser.add_argument("--at", default="mid", help="early (3), mid, late, or a number")
    parser.add_argument("--kind", action="append", choices=list(KINDS))
    args = parser.parse_args()
    logging.disable(logging.WARNING)  # the retries are counted in the table instead
    print("| " + " | ".join(HEADER) + " |")
    print("|" + "---|" * len(HEADER))
    with tempfile.TemporaryDirectory() as tmp:
        for scenario in args.scenario or list(SCENARIOS):
            counts = transaction_counts(scenario, Path(tmp))
            for role, n in counts.items():
                at = {"early": 3, "mid": max(1, n // 2), "late": max(1, n - 2)}.get(args.at)
                at = int(args.at) if at is None else at
                for kind in args.kind or list(KINDS):
                    verdict = run_with_fault(scenario, role, kind, at, Path(tmp))
                    row = verdict.row()
                    row[3] = f"{at}/{n}"
                    print(
                        "| " + " | ".join(cell.replace("|", "/") for cell in row) + " |", flush=True
                    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
