"""Engine + storage per point (P1) and the memory of a long run, against anchors of the same run.

P1, per point, timed from the first ``run.record`` until the last point is committed:
- labctl: ``run.record(...)`` with the one-second durability (writer thread flushing every
  0.5 s and whenever ``FLUSH_POINTS`` are pending);
- anchor: qcodes' own ``Measurement`` / ``datasaver.add_result`` loop into SQLite;
- the floor, for scale: appending a dict per point to a plain Python list.

Memory: the peak RSS of a fresh process that runs a protocol of 1e6 points through
``labctl.engine.execute`` (bench opened, metadata, VISA recording, writer, safe state), minus
the same with 1e3 points; then the same process reads the run back (``run.points()``), which
is reported beside it (the frame itself is 8 bytes per value).

Usage: ``python scripts/bench_engine.py [--points N] [--quick]``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from benchlib import Figure, table

from labctl.bench import Bench
from labctl.clock import VirtualClock
from labctl.control import RunControl
from labctl.params import param
from labctl.protocol import protocol, spec_of
from labctl.recorder import RunWriter
from labctl.run import Run
from labctl.station import Station

P1_GOAL_US = 5.0
P1_GOAL_RATIO = 20.0
MEMORY_GOAL_MB = 50.0


@dataclass(frozen=True)
class _Params:
    n: int = param(1, low=1, high=10**9)
    read_back: bool = param(False, help="read the run back at the end (run.points())")


@protocol("bench", columns={"field_T": "T", "v_hall_V": "V"}, setpoints=("field_T",))
def _bench_protocol(run: Run, params: _Params) -> dict[str, float]:
    """A sweep that records ``n`` points (the P1 loop, through the engine)."""
    record = run.record
    for i in range(params.n):
        record(field_T=i * 1e-3, v_hall_V=i * 1e-6)
    if params.read_back:
        points = run.points()
        return {
            "rows_read": float(len(points)),
            "v_sum": float(points["v_hall_V"].to_numpy().sum()),
        }
    return {}


def _station() -> Station:
    return Station("bench", "bench", "@py", "virtual", {})


def plain_list(n: int) -> float:
    points = []
    t0 = time.perf_counter()
    for i in range(n):
        points.append({"field_T": i * 1e-3, "v_hall_V": i * 1e-6})
    return (time.perf_counter() - t0) / n


def labctl_record(n: int, db: Path) -> float:
    writer = RunWriter(db, "bench", "bench", "bench")
    run = Run(
        spec_of(_bench_protocol),
        _Params(),
        Bench(_station(), {}),
        VirtualClock(),
        writer,
        RunControl(),
        db.parent,
    )
    record = run.record
    t0 = time.perf_counter()
    for i in range(n):
        record(field_T=i * 1e-3, v_hall_V=i * 1e-6)
    writer.flush()
    elapsed = time.perf_counter() - t0
    writer.close()
    assert writer.rows_written == n, (writer.rows_written, n)
    return elapsed / n


def qcodes_measurement(n: int, db: Path) -> float:
    from qcodes.dataset import (
        Measurement,
        initialise_or_create_database_at,
        load_or_create_experiment,
    )
    from qcodes.parameters import ManualParameter

    initialise_or_create_database_at(str(db))
    exp = load_or_create_experiment("bench", sample_name="bench")
    x = ManualParameter("field_T", unit="T")
    y = ManualParameter("v_hall_V", unit="V")
    meas = Measurement(exp=exp)
    meas.register_parameter(x)
    meas.register_parameter(y, setpoints=(x,))
    t0 = time.perf_counter()
    with meas.run() as saver:
        for i in range(n):
            saver.add_result((x, i * 1e-3), (y, i * 1e-6))
    return (time.perf_counter() - t0) / n


def per_point(n: int, repeats: int) -> dict[str, float]:
    """Best-of µs/point of each contender, interleaved so that each sees the same machine."""
    best = {"plain": float("inf"), "labctl": float("inf"), "qcodes": float("inf")}
    for r in range(repeats):
        with tempfile.TemporaryDirectory() as tmp:
            best["plain"] = min(best["plain"], plain_list(n))
            best["labctl"] = min(best["labctl"], labctl_record(n, Path(tmp) / f"l{r}.db"))
            # qcodes costs ~30x more per point: a tenth of the points is plenty to time it
            qc_n = max(1000, n // 10)
            best["qcodes"] = min(best["qcodes"], qcodes_measurement(qc_n, Path(tmp) / f"q{r}.db"))
    return {k: v * 1e6 for k, v in best.items()}


# ---------------------------------------------------------------------- memory, in a child
def _peak_rss_MB() -> float:
    """This process's peak resident set (VmHWM), MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _memory_child(n: int, db: Path, read_back: bool) -> None:
    """Run the bench protocol for ``n`` points through the engine; print the peak RSS."""
    from labctl.engine import execute

    outcome = execute(
        spec_of(_bench_protocol),
        _Params(n=n, read_back=read_back),
        _station(),
        db,
        handle_signals=False,
        supervise=False,
    )
    assert outcome.status == "completed" and outcome.points == n, outcome
    print(json.dumps({"peak_rss_MB": _peak_rss_MB(), "result": outcome.result}))


def peak_rss_MB(n: int, read_back: bool = False) -> float:
    """Peak RSS (MB) of a fresh process that runs ``n`` points (and reads them back)."""
    with tempfile.TemporaryDirectory() as tmp:
        args = [sys.executable, __file__, "--memory-child", str(n), str(Path(tmp) / "m.db")]
        out = subprocess.run(
            args + (["--read-back"] if read_back else []),
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    report = json.loads(out.strip().splitlines()[-1])
    if read_back:
        assert report["result"]["rows_read"] == n, report
    return float(report["peak_rss_MB"])


# ---------------------------------------------------------------------- figures
def figures(quick: bool = False, points: int | None = None) -> list[Figure]:
    n = points or (20_000 if quick else 200_000)
    us = per_point(n, repeats=1 if quick else 3)
    long_n = 200_000 if quick else 1_000_000
    small = peak_rss_MB(1_000)
    large = peak_rss_MB(long_n)
    delta = large - small
    read_back = peak_rss_MB(long_n, read_back=True) - small
    threads = "2 threads (recording + writer), one GIL"
    return [
        Figure(
            "P1 engine + storage per point",
            us["labctl"],
            "µs",
            "plain list append of a dict",
            us["plain"],
            f"<= {P1_GOAL_US:g} µs",
            us["labctl"] <= P1_GOAL_US,
            f"{n} points, 2 columns + t_s, best of {1 if quick else 3}, timed until the last "
            f"point is committed; {threads}",
        ),
        Figure(
            "P1 qcodes Measurement / labctl per point",
            us["qcodes"],
            "µs",
            "labctl run.record",
            us["labctl"],
            f">= {P1_GOAL_RATIO:g}x",
            us["qcodes"] >= P1_GOAL_RATIO * us["labctl"],
            f"qcodes datasaver.add_result on {max(1000, n // 10)} points, same columns",
        ),
        Figure(
            f"peak memory, {long_n:.0e}-point run minus 1e3-point run",
            delta,
            "MB",
            f"1e3-point run: {small:.0f} MB peak RSS",
            None,
            f"<= +{MEMORY_GOAL_MB:g} MB",
            delta <= MEMORY_GOAL_MB,
            f"engine.execute in a fresh process, peak RSS; reading the {long_n:.0e} points back "
            f"(run.points()) afterwards peaks at +{read_back:.0f} MB",
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--points", type=int, default=None, help="points per P1 run")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--memory-child", nargs=2, metavar=("N", "DB"), help=argparse.SUPPRESS)
    parser.add_argument("--read-back", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_child:
        _memory_child(int(args.memory_child[0]), Path(args.memory_child[1]), args.read_back)
        return
    print(table(figures(quick=args.quick, points=args.points)))


if __name__ == "__main__":
    main()
