"""Benchmark the command line's start-up: wall times beside bare ``python -c pass``.

Each command runs in a fresh subprocess (the installed ``labctl`` console script next to this
interpreter), ``--runs`` times, interleaved so that every command sees the same machine load;
the median is printed with its ratio to bare Python's. Goals (issue 13): ``labctl --help``
≤ 0.5 s and ``labctl runs`` ≤ 1.0 s.

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

GOALS_S = {"labctl --help": 0.5, "labctl runs": 1.0}


def _labctl() -> str:
    script = Path(sys.executable).with_name("labctl")
    return str(script) if script.exists() else "labctl"


def _small_db(folder: Path) -> Path:
    """A database with three Hall loops (recording off: the listing is what is timed)."""
    from labctl.engine import execute
    from labctl.params import build_params
    from labctl.protocol import find_protocol
    from labctl.station import load_station

    db = folder / "bench.db"
    spec = find_protocol("hall-loop")
    station = load_station(None)
    for _ in range(3):
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


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=5, help="median of N runs per command")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    args = p.parse_args(argv)
    labctl = _labctl()
    env = {**os.environ, "LABCTL_RECORD": "0"}
    with tempfile.TemporaryDirectory() as tmp:
        db = _small_db(Path(tmp))
        commands = {
            "python -c pass": [sys.executable, "-c", "pass"],
            "labctl --help": [labctl, "--help"],
            "labctl runs": [labctl, "--db", str(db), "runs"],
            "labctl train --help": [labctl, "train", "--help"],
        }
        for argv_ in commands.values():  # warm-up: bytecode caches, file system caches
            _wall_s(argv_, env)
        times: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(args.runs):
            for name, argv_ in commands.items():
                times[name].append(_wall_s(argv_, env))
    median = {name: statistics.median(ts) for name, ts in times.items()}
    bare = median["python -c pass"]
    report = {
        "runs": args.runs,
        "median_s": median,
        "over_bare_python": {name: m / bare for name, m in median.items()},
        "goals_s": GOALS_S,
        "goals_met": {name: median[name] <= goal for name, goal in GOALS_S.items()},
    }
    if args.json:
        print(json.dumps(report))
        return
    print(f"median of {args.runs} runs each, subprocesses, {os.cpu_count()} cores")
    print(f"{'command':<22}{'wall':>9}{'× bare python':>15}   goal")
    for name, m in median.items():
        goal = GOALS_S.get(name)
        verdict = "" if goal is None else f"≤ {goal:.1f} s: {'met' if m <= goal else 'NOT met'}"
        print(f"{name:<22}{m:>8.3f}s{m / bare:>14.1f}×   {verdict}")


if __name__ == "__main__":
    main()
