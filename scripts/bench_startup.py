"""Benchmark the command line's start-up: wall times beside bare ``python -c pass``.

Each command runs in a fresh subprocess (the installed ``labctl`` console script next to this
interpreter), ``--runs`` times, interleaved so that every command sees the same machine load;
the best (least disturbed) and the median are printed with their ratio to bare Python's.
Goals (issue 13): ``labctl --help`` ≤ 0.5 s and ``labctl runs`` ≤ 1.0 s, best of the runs.
:func:`figures` gives them in ``scripts/benchlib.py``'s form, anchored on bare Python.

- ``labctl --help`` builds the whole parser: every ``labctl.commands`` entry point is loaded.
- ``labctl runs`` lists a small temporary database (a few runs written by the engine in this
  process before timing).
- ``labctl train --help``: the training command's options, from the rule registry.

Where the time goes: ``python -X importtime -c "import labctl.cli_main"``.

    python scripts/bench_startup.py
    python scripts/bench_startup.py --runs 9 --json
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # benchlib, run as a script or imported
from benchlib import Figure, table

GOALS_S = {"labctl --help": 0.5, "labctl runs": 1.0}
BARE = "python -c pass"


def _labctl() -> str:
    script = Path(sys.executable).with_name("labctl")
    return str(script) if script.exists() else "labctl"


def _small_db(folder: Path, n_runs: int = 3) -> Path:
    """A database with ``n_runs`` Hall loops (recording off: the listing is what is timed)."""
    from labctl.engine import execute
    from labctl.params import build_params
    from labctl.protocol import find_protocol
    from labctl.station import load_station

    db = folder / "bench.db"
    spec = find_protocol("hall-loop")
    station = load_station(None)
    for _ in range(n_runs):
        params = build_params(spec.params_type, {}, spec.name)
        outcome = execute(spec, params, station, db, handle_signals=False)
        if outcome.status != "completed":
            raise SystemExit(f"could not write the bench database: {outcome.error}")
    return db


def _wall_s(argv: list[str], env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - t0
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed: {done.stderr.strip()}")
    return elapsed


def measure(runs: int, n_db_runs: int = 3) -> dict[str, list[float]]:
    """Wall times (s) of every command, ``runs`` each, interleaved, after one warm-up."""
    labctl = _labctl()
    env = {**os.environ, "LABCTL_RECORD": "0"}
    with tempfile.TemporaryDirectory() as tmp:
        db = _small_db(Path(tmp), n_db_runs)
        commands = {
            BARE: [sys.executable, "-c", "pass"],
            "labctl --help": [labctl, "--help"],
            "labctl runs": [labctl, "--db", str(db), "runs"],
            "labctl train --help": [labctl, "train", "--help"],
        }
        for argv_ in commands.values():  # warm-up: bytecode caches, file system caches
            _wall_s(argv_, env)
        times: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(runs):
            for name, argv_ in commands.items():
                times[name].append(_wall_s(argv_, env))
    return times


def figures(quick: bool = False) -> list[Figure]:
    """``labctl --help`` and ``labctl runs`` wall times (best of the runs) beside bare Python's."""
    runs = 3 if quick else 7
    times = measure(runs, n_db_runs=1 if quick else 3)
    best = {name: min(ts) for name, ts in times.items()}
    note = f"best of {runs} subprocess runs, interleaved; {os.cpu_count()} cores"
    return [
        Figure(
            name=f"{name} start-up",
            value=best[name],
            unit="s",
            anchor=BARE,
            anchor_value=best[BARE],
            goal=f"<= {goal:.1f} s",
            met=best[name] <= goal,
            note=note,
        )
        for name, goal in GOALS_S.items()
    ]


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=7, help="best and median of N runs per command")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    args = p.parse_args(argv)
    times = measure(args.runs)
    best = {name: min(ts) for name, ts in times.items()}
    median = {name: statistics.median(ts) for name, ts in times.items()}
    bare = best[BARE]
    report = {
        "runs": args.runs,
        "best_s": best,
        "median_s": median,
        "over_bare_python": {name: m / bare for name, m in best.items()},
        "goals_s": GOALS_S,
        "goals_met": {name: best[name] <= goal for name, goal in GOALS_S.items()},
    }
    if args.json:
        print(json.dumps(report))
        return
    print(f"{args.runs} runs each, subprocesses, {os.cpu_count()} cores")
    print(f"{'command':<22}{'best':>9}{'median':>9}{'× bare python':>15}   goal (best)")
    for name, m in best.items():
        goal = GOALS_S.get(name)
        verdict = "" if goal is None else f"≤ {goal:.1f} s: {'met' if m <= goal else 'NOT met'}"
        print(f"{name:<22}{m:>8.3f}s{median[name]:>8.3f}s{m / bare:>14.1f}×   {verdict}")
    print()
    figs = [
        Figure(
            name=f"{name} start-up", value=best[name], unit="s", anchor=BARE,
            anchor_value=bare, goal=f"<= {goal:.1f} s", met=best[name] <= goal,
            note=f"best of {args.runs} subprocess runs, interleaved",
        )
        for name, goal in GOALS_S.items()
    ]  # fmt: skip
    print(table(figs))


if __name__ == "__main__":
    main()
