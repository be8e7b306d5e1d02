"""Per-point cost of ``run.record`` into the database, against two anchors measured in the same run.

- anchor A: appending a dict per point to a plain Python list (the floor);
- anchor B: qcodes' own ``Measurement`` / ``datasaver.add_result`` loop into SQLite;
- labctl: ``run.record(...)`` with the one-second durability (writer thread flushing every
  0.5 s), timed until the last point is committed.

Prints µs/point for each and the ratios. Usage: ``python scripts/bench_engine.py [--points N]``.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from labctl.bench import Bench
from labctl.clock import VirtualClock
from labctl.control import RunControl
from labctl.params import param
from labctl.protocol import protocol, spec_of
from labctl.recorder import RunWriter
from labctl.run import Run
from labctl.station import Station


@dataclass(frozen=True)
class _Params:
    n: int = param(1)


@protocol("bench", columns={"field_T": "T", "v_hall_V": "V"}, setpoints=("field_T",))
def _bench_protocol(run: Run, params: _Params) -> None:
    """Only here to give the Run a spec."""


def plain_list(n: int) -> float:
    points = []
    t0 = time.perf_counter()
    for i in range(n):
        points.append({"field_T": i * 1e-3, "v_hall_V": i * 1e-6})
    return (time.perf_counter() - t0) / n


def labctl_record(n: int, db: Path) -> float:
    clock = VirtualClock()
    writer = RunWriter(db, "bench", "bench", "bench")
    station = Station("bench", "bench", "@py", "virtual", {})
    run = Run(
        spec_of(_bench_protocol),
        _Params(),
        Bench(station, {}),
        clock,
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=100_000)
    n = parser.parse_args().points
    with tempfile.TemporaryDirectory() as tmp:
        results = {
            "plain list append": plain_list(n),
            "labctl run.record (1 s durability)": labctl_record(n, Path(tmp) / "labctl.db"),
            "qcodes Measurement/datasaver": qcodes_measurement(n, Path(tmp) / "qcodes.db"),
        }
    base = results["plain list append"]
    qc = results["qcodes Measurement/datasaver"]
    lab = results["labctl run.record (1 s durability)"]
    print(f"points per run: {n}")
    for name, per_point in results.items():
        print(f"{name:<38} {per_point * 1e6:8.2f} µs/point  ({per_point / base:6.1f}x plain list)")
    print(f"qcodes / labctl: {qc / lab:.1f}x  (goal >= 10x; labctl goal <= 10 µs/point)")


if __name__ == "__main__":
    main()
