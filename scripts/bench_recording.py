"""Cost of recording the VISA traffic: µs per query on the ``@labsim`` twins, plain vs recorded.

The same twins are queried through ``@labsim`` and through ``@labsim`` wrapped in ``@labrec``
(with the traffic streamed into a SQLite file by its writer thread, as in a labctl run), in
short alternating rounds, so that drift and other load on the machine hit both alike; the ratio
is the median over the pairs of rounds. Goal: ratio <= 1.10.
Run: ``python scripts/bench_recording.py [n_queries_per_round] [pairs]``; ``figures()`` for
``scripts/bench_all.py``.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
from pathlib import Path

import pyvisa
from benchlib import Figure, per_query_us, table

from labctl.recording.hook import RunRecorder
from labctl.recording.traffic import Recording

QUERIES = (
    ("Keithley 2400 :READ?", "GPIB0::24::INSTR", ":READ?"),
    ("SR830 OUTP? 1", "GPIB0::8::INSTR", "OUTP? 1"),
)


def open_twins(library: str) -> dict[str, pyvisa.resources.MessageBasedResource]:
    rm = pyvisa.ResourceManager(library)
    twins = {
        address: rm.open_resource(address, read_termination="\n", write_termination="\n")
        for _, address, _ in QUERIES
    }
    twins["GPIB0::24::INSTR"].write(":SOUR:FUNC VOLT;:SOUR:VOLT 1;:SENS:CURR:PROT 1e-6;:OUTP ON")
    return twins  # type: ignore[return-value]


def figures(quick: bool = False, n: int | None = None, pairs: int | None = None) -> list[Figure]:
    """µs per query recorded against plain, per query (median of alternating pairs of rounds)."""
    n = n or (100 if quick else 200)
    pairs = pairs or (11 if quick else 41)
    out: list[Figure] = []
    with tempfile.TemporaryDirectory() as tmp:
        recorder = RunRecorder(Recording("@labsim"))
        recorder.stream_to(Path(tmp) / "bench.db", run_id=1)
        plain, recorded = open_twins("@labsim"), open_twins(recorder.library())
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
            ratio = statistics.median(pair_ratios)
            # the anchor is scaled so that value/anchor is the median pair ratio
            recorded_us = statistics.median(t_rec)
            out.append(
                Figure(
                    f"recorded {label}", recorded_us, "us/query", "the same query unrecorded",
                    recorded_us / ratio, "<= 1.1x", ratio <= 1.10,
                    f"median of {pairs} alternating pairs of {n} queries",
                )
            )  # fmt: skip
        recorder.close()
    return out


def main(n: int = 200, pairs: int = 41) -> None:
    print(table(figures(n=n, pairs=pairs)))


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:3]]
    main(*args)
