"""Study speed-up on Dask: the same grid of ``labctl study`` cells on 2 workers against 1.

Each cell is a ``train`` run through the engine on the fast virtual chip, stored in a fresh runs
database by the parent (``protocols/learning/study_runs.py``, what ``labctl study`` runs). The
time is the grid's wall time on an open local cluster whose workers have each run one small
cell first (imports, compiled laws, data set: the cluster's start, seconds either way, is not
the study's), best of ``repeats``; the anchor is the same grid on one worker, in the same run.
Goal (issue 15): ≥ 1.7× on this 2-core machine for at least 8 cells. The grid's numbers must be
the same on both (same seeds): checked, and said in the note. The parent process merges each
run into the database while the workers train (~0.5 s a cell): on two cores it competes with
them, as it does in ``labctl study``.

    python scripts/bench_study.py            # 8 cells: 256 hidden units, 5 epochs per task
    python scripts/bench_study.py --quick    # 8 smaller cells: 64 hidden units, 3 epochs
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any

from benchlib import Figure, table

from labctl.cluster import open_client
from labctl.station import builtin_station
from protocols.learning.registry import settings_text
from protocols.learning.study_runs import make_cell, run_cell, run_cells

GOAL = 1.7


def _warm(client: Any) -> None:
    """One small cell on every worker before the clock starts: the imports, the compiled laws
    loaded from numba's cache, the task data set (a worker's first cell pays them once). On the
    worker's task thread, as the study's cells (``client.run`` would use its event-loop thread,
    and Qt must not be started on two threads of one process)."""
    cell = cells(True, 8.0, 1)[0]
    workers = list(client.scheduler_info()["workers"])
    client.gather([client.submit(run_cell, cell, workers=[w], pure=False) for w in workers])


def cells(quick: bool, hidden: float | None = None, epochs: int | None = None) -> list[Any]:
    """8 cells: rules none / device × seeds 0-3."""
    station = str(builtin_station("virtual_chip_fast.yaml"))
    if hidden is None or epochs is None:
        hidden, epochs = (64.0, 3) if quick else (256.0, 5)
    return [
        make_cell(
            {
                "rule": rule,
                "tasks": "permuted-digits:2",
                "hidden": [hidden],
                "epochs": epochs,
                "seed": seed,
                "settings": settings_text({}),
                "on_chip": True,
            },
            station,
        )
        for rule in ("none", "device")
        for seed in range(4)
    ]


def study_wall_s(n_workers: int, grid: list[Any], repeats: int) -> tuple[float, list[float]]:
    """Best wall time of the grid on ``n_workers`` local workers, and its ACC values."""
    best, acc = float("inf"), []
    with open_client(n_workers=n_workers) as client:
        _warm(client)

        class Open:  # run_cells opens its client factory as a context: the open one
            def __enter__(self) -> Any:
                return client

            def __exit__(self, *exc: object) -> None:
                return None

        for _ in range(repeats):
            with tempfile.TemporaryDirectory(prefix="bench-study-") as tmp:
                t0 = time.perf_counter()
                runs = run_cells(grid, Path(tmp) / "study.db", Open, progress=False)
                best = min(best, time.perf_counter() - t0)
            acc = [r.result["average_accuracy_pct"] for r in runs]
    return best, acc


def figures(quick: bool = False) -> list[Figure]:
    grid = cells(quick)
    repeats = 1 if quick else 2
    one_s, acc_one = study_wall_s(1, grid, repeats)
    two_s, acc_two = study_wall_s(2, grid, repeats)
    speedup = one_s / two_s
    same = "identical" if acc_one == acc_two else "DIFFERENT"
    return [
        Figure(
            f"study speed-up, 2 workers vs 1 ({len(grid)} cells)",
            speedup,
            "x",
            "1 worker",
            1.0,
            f">= {GOAL}x",
            speedup >= GOAL,
            f"{len(grid)} train runs: {one_s:.1f} s on 1 worker, {two_s:.1f} s on 2; "
            f"ACC of every cell {same} on 1 and 2 workers",
        )
    ]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true")
    args = p.parse_args()
    print(table(figures(quick=args.quick)))


if __name__ == "__main__":
    main()
