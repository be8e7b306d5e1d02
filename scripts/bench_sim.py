"""Cost of one query through pyvisa: the ``@labsim`` twins (physics included) vs pyvisa-sim.

Prints µs per query and the ratio twin / pyvisa-sim for the same query strings; the goal is a
twin at no more than 1/4 of pyvisa-sim's cost. Run: ``python scripts/bench_sim.py [n_queries]``.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import pyvisa

PYVISA_SIM_YAML = """\
spec: "1.1"
devices:
  bench:
    eom:
      GPIB INSTR:
        q: "\\n"
        r: "\\n"
    dialogues:
      - q: ":READ?"
        r: "+1.000000E+00,+1.000000E-11,+9.910000E+37,+1.000000E+00,+0.000000E+00"
      - q: "OUTP? 1"
        r: "8.476375e-05"
resources:
  GPIB0::24::INSTR:
    device: bench
"""


def per_query_us(resource: pyvisa.resources.MessageBasedResource, query: str, n: int) -> float:
    for _ in range(20):
        resource.query(query)
    start = time.perf_counter()
    for _ in range(n):
        resource.query(query)
    return (time.perf_counter() - start) / n * 1e6


def main(n: int = 2000) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        yaml_path = Path(tmp) / "bench.yaml"
        yaml_path.write_text(PYVISA_SIM_YAML)
        sim = pyvisa.ResourceManager(f"{yaml_path}@sim").open_resource(
            "GPIB0::24::INSTR", read_termination="\n", write_termination="\n"
        )
        lab = pyvisa.ResourceManager("@labsim")
        smu = lab.open_resource("GPIB0::24::INSTR", read_termination="\n", write_termination="\n")
        smu.write(":SOUR:FUNC VOLT;:SOUR:VOLT 1;:SENS:CURR:PROT 1e-6;:OUTP ON")
        lockin = lab.open_resource("GPIB0::8::INSTR", read_termination="\n", write_termination="\n")
        rows = [
            ("Keithley 2400 :READ?", smu, sim, ":READ?"),
            ("SR830 OUTP? 1", lockin, sim, "OUTP? 1"),
        ]
        print(f"{'query':<24}{'twin µs':>10}{'pyvisa-sim µs':>16}{'ratio':>8}")
        for label, twin, ref, query in rows:
            t_twin = per_query_us(twin, query, n)
            t_ref = per_query_us(ref, query, max(200, n // 10))
            print(f"{label:<24}{t_twin:>10.1f}{t_ref:>16.1f}{t_twin / t_ref:>8.3f}")
        print("goal: ratio <= 0.25")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000)
