"""The must-show table: every rule in software and on the chip, with the issue's goal checks.

Runs the arms of :mod:`protocols.learning.comparison` (``none``, ``meta-adam`` and ``mesu`` in
software; ``none``, ``device``, ``device`` + global-field neuromodulation and ``mesu`` on the fast
virtual chip ``ptco_gdox_hall``) on each task sequence, over several seeds, and prints one
markdown table per sequence with the goal checks (on ``device@chip``; the field variant's are
printed too, for information)::

    python scripts/study_metaplasticity.py                      # permuted digits ×5 + medical
    python scripts/study_metaplasticity.py --seeds 2 --epochs 5 --tasks permuted-digits:3

``--out stem`` also writes ``<stem>-<tasks>.csv`` (one row per run). The runs go to Dask
(:mod:`labctl.cluster`, as in ``labctl study``): a local cluster of ``--jobs`` workers on
loopback, or ``--scheduler tcp://HOST:PORT`` (or ``$LABCTL_SCHEDULER``).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from labctl.cluster import machine_workers, scheduler_address
from protocols.learning.comparison import (
    aggregate,
    arms_for,
    format_goals,
    format_table,
)
from protocols.learning.study import run_arms
from sim_backend.fast_array import make_fast_array


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--tasks", nargs="+", default=["permuted-digits:5", "medical"])
    p.add_argument("--seeds", type=int, default=5, help="seeds 0 .. N-1")
    p.add_argument("--hidden", type=int, nargs="+", default=[256])
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--m-meta", type=float, default=None, help="default: per sequence")
    p.add_argument("--jobs", type=int, default=machine_workers(), help="local Dask workers")
    p.add_argument("--scheduler", default=None, help="a running Dask scheduler, tcp://HOST:PORT")
    p.add_argument("--out", default=None, help="CSV stem")
    p.add_argument("--no-chip-mesu", action="store_true", help="leave out the mesu@chip arm")
    args = p.parse_args(argv)
    for tasks in args.tasks:
        t0 = time.perf_counter()
        # BLAS threads: the training pins them itself (protocols/learning/threads.py)
        df = run_arms(
            tasks,
            range(args.seeds),
            make_fast_array,
            arms_for(tasks, args.m_meta, chip_mesu=not args.no_chip_mesu),
            jobs=args.jobs,
            scheduler=scheduler_address(args.scheduler),
            hidden=tuple(args.hidden),
            epochs=args.epochs,
        )
        agg = aggregate(df)
        sizes = "-".join(map(str, ["in", *args.hidden, "out"]))
        print(f"\n## {tasks}, {sizes}, {args.epochs} epochs/task, seeds 0..{args.seeds - 1}\n")
        print(format_table(agg))
        print(format_goals(agg))
        print("\nfor information, the same goals for device+field@chip:")
        print(format_goals(agg, "device+field@chip"))
        print(f"\n({len(df)} runs in {time.perf_counter() - t0:.0f} s wall, {args.jobs} jobs)")
        if args.out:
            csv = Path(f"{args.out}-{tasks.replace(':', '')}.csv")
            csv.parent.mkdir(parents=True, exist_ok=True)
            df.to_csv(csv, index=False)
            print(f"runs: {csv}")


if __name__ == "__main__":
    main()
