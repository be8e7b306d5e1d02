"""The virtual lab's three costs, in one run (issue 3's closing numbers).

(a) µs per query through pyvisa: the ``@labsim`` twins (physics included) against a pyvisa-sim
    YAML instrument answering the same query strings (goal: twin / pyvisa-sim <= 1/4). The same
    twin queries with the chip frozen show what the pyvisa + parser floor alone costs, and a
    profile of the pyvisa-sim query shows the share of its time spent in pyvisa's own layer,
    which every backend pays: no backend's ratio can go below that share.
(b) virtual-chip device-updates per second on 1e6 devices, one switching + one kinetics step
    (goal >= 2e7/s).
(c) wall time to simulate one hour of gate programming (goal < 1 s).

Run: ``python scripts/bench_sim.py [n_queries]``. Never an assertion: run it, read it.
"""

from __future__ import annotations

import cProfile
import pstats
import sys
import tempfile
import time
from pathlib import Path

import pyvisa
from bench_chip import chip_step_s, gate_hour_s

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
N_DEVICES = 1_000_000


def per_query_us(resource: pyvisa.resources.MessageBasedResource, query: str, n: int) -> float:
    for _ in range(20):
        resource.query(query)
    start = time.perf_counter()
    for _ in range(n):
        resource.query(query)
    return (time.perf_counter() - start) / n * 1e6


def pyvisa_layer_share(
    resource: pyvisa.resources.MessageBasedResource, query: str, n: int
) -> float:
    """Share of a pyvisa-sim query's own (self) time spent outside pyvisa_sim: pyvisa's layer."""
    profile = cProfile.Profile()
    profile.enable()
    for _ in range(n):
        resource.query(query)
    profile.disable()
    stats = pstats.Stats(profile).stats  # type: ignore[attr-defined]
    total_s = sum(row[2] for row in stats.values())
    backend_s = sum(row[2] for key, row in stats.items() if "pyvisa_sim" in key[0])
    return 1.0 - backend_s / total_s


def query_costs(n: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        yaml_path = Path(tmp) / "bench.yaml"
        yaml_path.write_text(PYVISA_SIM_YAML)
        sim = pyvisa.ResourceManager(f"{yaml_path}@sim").open_resource(
            "GPIB0::24::INSTR", read_termination="\n", write_termination="\n"
        )
        rm = pyvisa.ResourceManager("@labsim")
        smu = rm.open_resource("GPIB0::24::INSTR", read_termination="\n", write_termination="\n")
        smu.write(":SOUR:FUNC VOLT;:SOUR:VOLT 1;:SENS:CURR:PROT 1e-6;:OUTP ON")
        lockin = rm.open_resource("GPIB0::8::INSTR", read_termination="\n", write_termination="\n")
        rows = [("Keithley 2400 :READ?", smu, ":READ?"), ("SR830 OUTP? 1", lockin, "OUTP? 1")]
        lab = rm.visalib.lab
        print("(a) µs per query through pyvisa (goal: ratio <= 0.25)")
        print(f"    {'query':<22}{'twin':>9}{'pyvisa-sim':>12}{'ratio':>8}{'chip frozen':>13}")
        for label, twin, query in rows:
            t_twin = per_query_us(twin, query, n)
            t_ref = per_query_us(sim, query, max(200, n // 10))
            lab.sync = lambda: lab.t_s  # the floor: pyvisa + session + parser, no physics
            try:
                t_floor = per_query_us(twin, query, n)
            finally:
                del lab.sync
            print(
                f"    {label:<22}{t_twin:>9.1f}{t_ref:>12.1f}{t_twin / t_ref:>8.2f}{t_floor:>13.1f}"
            )
        share = pyvisa_layer_share(sim, ":READ?", max(500, n // 2))
        print(
            f"    pyvisa's own layer is {share:.0%} of a pyvisa-sim query (profiled): no backend "
            f"behind pyvisa can reach a ratio below {share:.2f}"
        )


def main(n: int = 2000) -> None:
    query_costs(n)
    step_s = chip_step_s(N_DEVICES, 10)
    print(f"(b) device-updates/s on {N_DEVICES:.0e} devices (switching + kinetics step): "
          f"{N_DEVICES / step_s:.3g}   (goal >= 1e8)")  # fmt: skip
    hour_s = gate_hour_s()
    print(f"(c) wall s for 1 h of gate programming (3600 gate steps + 3600 reads): "
          f"{hour_s:.3f}   (goal <= 0.2)")  # fmt: skip


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000)
