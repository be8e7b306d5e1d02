"""Cost of recording the VISA traffic: µs per query on the ``@labsim`` twins, plain vs recorded.

The same twins are queried through ``@labsim`` and through ``@labsim`` wrapped in ``@labrec``
(with the traffic streamed into a SQLite file by its writer thread, as in a labctl run), in
short alternating rounds, so that drift and other load on the machine hit both alike; the ratio
is the median over the pairs of rounds. Goal: ratio <= 1.10.
Run: ``python scripts/bench_recording.py [n_queries_per_round] [pairs]``.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

import pyvisa

from labctl.recording.hook import RunRecorder
from labctl.recording.traffic import Recording

QUERIES = (
    ("Keithley 2400 :READ?", "GPIB0::24::INSTR", ":READ?"),
    ("SR830 OUTP? 1", "GPIB0::8::INSTR", "OUTP? 1"),
)


def per_query_us(resource: pyvisa.resources.MessageBasedResource, query: str, n: int) -> float:
    start = time.perf_counter()
    for _ in range(n):
        resource.query(query)
    return (time.perf_counter() - start) / n * 1e6


def open_twins(library: str) -> dict[str, pyvisa.resources.MessageBasedResource]:
    rm = pyvisa.ResourceManager(library)
    twins = {
        address: rm.open_resource(address, read_termination="\n", write_termination="\n")
        for _, address, _ in QUERIES
    }
    twins["GPIB0::24::INSTR"].write(":SOUR:FUNC VOLT;:SOUR:VOLT 1;:SENS:CURR:PROT 1e-6;:OUTP ON")
    return twins  # type: ignore[return-value]


def main(n: int = 200, pairs: int = 41) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        recorder = RunRecorder(Recording("@labsim"))
        recorder.stream_to(Path(tmp) / "bench.db", run_id=1)
        plain, recorded = open_twins("@labsim"), open_twins(recorder.library())
        print(f"{'query':<24}{'plain µs':>10}{'recorded µs':>13}{'ratio':>8}")
        ratios = []
        for label, address, query in QUERIES:
            for twins in (plain, recorded):  # warm up both paths
                per_query_us(twins[address], query, 50)
            t_plain, t_rec, pair_ratios = [], [], []
            for i in range(pairs):
                order = (plain, recorded) if i % 2 == 0 else (recorded, plain)
                t = {id(twins): per_query_us(twins[address], query, n) for twins in order}
                t_plain.append(t[id(plain)])
                t_rec.append(t[id(recorded)])
                pair_ratios.append(t[id(recorded)] / t[id(plain)])
            a, b = statistics.median(t_plain), statistics.median(t_rec)
            ratio = statistics.median(pair_ratios)
            ratios.append(ratio)
            print(f"{label:<24}{a:>10.1f}{b:>13.1f}{ratio:>8.3f}")
        recorder.close()
        logged = len(recorder.recording.log) if recorder.recording else 0
        print(f"{logged} transactions recorded and stored; worst ratio {max(ratios):.3f}")
        print("goal: ratio <= 1.10")


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:3]]
    main(*args)
