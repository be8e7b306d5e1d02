"""The virtual lab's costs, in one run (issue 13's twin-query figures; issue 3's chip figures).

(a) µs per query through pyvisa: the ``@labsim`` twins (physics included) against a pyvisa-sim
    YAML instrument answering the same query string in the same run (goal: twin / pyvisa-sim
    <= 1.0). The 2400 sources 1 V on the gate of device 0 throughout (its ``:READ?`` needs the
    output on; the gate keeps the device's hidden state moving while the SR830 reads it).
    The SR830 runs at its power-on time constant (1 s, 12 dB/oct): a reading within a tenth of
    its averaging time of the chip's last integration samples that state
    (``sim_backend.lab.Lab.read_instant_s``); ``main`` also prints the same query at the
    shortest time constant, where every reading integrates the chip.
(b) ``chip.set_field`` calls per hall-loop point (the magnet's lag followed in hazard-bounded
    steps at closed-form times; issue 13 measured 142 per point on main).
(c) virtual-chip device-updates per second on 1e6 devices and (d) one hour of gate programming
    (``bench_chip``: the chip's own figures, printed by ``main`` only).

Run: ``python scripts/bench_sim.py [--quick]``. Never an assertion: run it, read it.
"""

from __future__ import annotations

import sys
import tempfile
import warnings
from pathlib import Path

import pyvisa
from bench_chip import chip_step_s, gate_hour_s
from benchlib import Figure, per_query_us, table

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
MAIN_POINTS_PER_HALL_LOOP = 45_605 / 321  # issue 13, measured on main


def _interleaved_best_us(
    pairs: list[tuple[pyvisa.resources.MessageBasedResource, str]], n: int, repeats: int
) -> list[float]:
    """Best-of-``repeats`` µs per query of each (resource, query), measured in turns so that
    a busy moment of the machine hits twin and anchor alike."""
    best = [float("inf")] * len(pairs)
    for _ in range(repeats):
        for k, (resource, query) in enumerate(pairs):
            best[k] = min(best[k], per_query_us(resource, query, n, warmup=20))
    return best


def query_figures(n: int, repeats: int) -> tuple[list[Figure], dict[str, float]]:
    """The two query ratios; and (detail) µs of the SR830 query at its shortest time constant
    and with the chip's readout call stubbed out (the twin + pyvisa floor)."""
    with tempfile.TemporaryDirectory() as tmp:
        yaml_path = Path(tmp) / "bench.yaml"
        yaml_path.write_text(PYVISA_SIM_YAML)
        sim = pyvisa.ResourceManager(f"{yaml_path}@sim").open_resource(
            "GPIB0::24::INSTR", read_termination="\n", write_termination="\n"
        )
        rm = pyvisa.ResourceManager("@labsim")
        smu = rm.open_resource("GPIB0::24::INSTR", read_termination="\n", write_termination="\n")
        smu.write("*RST;:SOUR:FUNC VOLT;:SOUR:VOLT 1;:SENS:CURR:PROT 1e-6;:OUTP ON")
        lockin = rm.open_resource("GPIB0::8::INSTR", read_termination="\n", write_termination="\n")
        lockin.write("*RST")
        t_smu, t_sim_read, t_lockin, t_sim_outp = _interleaved_best_us(
            [(smu, ":READ?"), (sim, ":READ?"), (lockin, "OUTP? 1"), (sim, "OUTP? 1")], n, repeats
        )
        chip = rm.visalib.lab.chip  # type: ignore[attr-defined]
        chip.hall_voltage_V = lambda *args, **kwargs: 1e-4  # the floor: no chip readout
        try:
            (t_floor,) = _interleaved_best_us([(lockin, "OUTP? 1")], n, repeats)
        finally:
            del chip.hall_voltage_V
        lockin.write("OFLT 0")  # 10 µs: every reading integrates the chip
        (t_lockin_fast,) = _interleaved_best_us([(lockin, "OUTP? 1")], n, repeats)
        smu.write(":OUTP OFF")
    note = f"best of {repeats} x {n} queries, 2400 at 1 V on device 0 of the default lab"
    figures = [
        Figure(
            "twin 2400 :READ? (physics incl.)", t_smu, "us/query", "pyvisa-sim :READ?",
            t_sim_read, "<= 1.0x", t_smu <= t_sim_read, note,
        ),
        Figure(
            "twin SR830 OUTP? 1 (physics incl.)", t_lockin, "us/query", "pyvisa-sim OUTP? 1",
            t_sim_outp, "<= 1.0x", t_lockin <= t_sim_outp,
            "SR830 at its power-on 1 s time constant; " + note,
        ),
    ]  # fmt: skip
    return figures, {"every read integrates": t_lockin_fast, "readout stubbed": t_floor}


def hall_loop_set_field_calls() -> tuple[float, int]:
    """``chip.set_field`` calls per point of the default hall-loop run on the default station."""
    from labctl.engine import execute
    from labctl.params import build_params
    from labctl.protocol import find_protocol
    from labctl.station import load_station
    from sim_backend.chip.chip import VirtualChip
    from sim_backend.open_labs import forget_labs

    calls = [0]
    original = VirtualChip.set_field

    def counting(self: VirtualChip, field_T: float, t_s: float) -> None:
        calls[0] += 1
        original(self, field_T, t_s)

    forget_labs()
    spec = find_protocol("hall-loop")
    params = build_params(spec.params_type, {}, "hall-loop")
    VirtualChip.set_field = counting  # type: ignore[method-assign]
    try:
        with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings():
            warnings.simplefilter("ignore")
            outcome = execute(
                spec, params, load_station(None), Path(tmp) / "runs.db", handle_signals=False
            )
    finally:
        VirtualChip.set_field = original  # type: ignore[method-assign]
        forget_labs()
    points = int(outcome.result["points"])
    return calls[0] / points, points


def _measure(quick: bool) -> tuple[list[Figure], dict[str, float]]:
    n, repeats = (300, 2) if quick else (2000, 5)
    out, detail = query_figures(n, repeats)
    per_point, points = hall_loop_set_field_calls()
    out.append(
        Figure(
            "chip.set_field calls per hall-loop point", per_point, "calls", "main (issue 13)",
            MAIN_POINTS_PER_HALL_LOOP, "<= 0.1x", per_point <= 0.1 * MAIN_POINTS_PER_HALL_LOOP,
            f"default hall-loop on the default station, {points} points; the anchor is a "
            "count on main (deterministic), not re-measured",
        )
    )  # fmt: skip
    return out, detail


def figures(quick: bool = False) -> list[Figure]:
    return _measure(quick)[0]


def main(quick: bool = False) -> None:
    out, detail = _measure(quick)
    print(table(out))
    for label, t_us in detail.items():
        print(f"SR830 OUTP? 1, {label}: {t_us:.1f} µs/query")
    step_s = chip_step_s(N_DEVICES, 10)
    print(f"device-updates/s on {N_DEVICES:.0e} devices (switching + kinetics step): "
          f"{N_DEVICES / step_s:.3g}   (bench_chip's figure)")  # fmt: skip
    hour_s = gate_hour_s()
    print(f"wall s for 1 h of gate programming (3600 gate steps + 3600 reads): "
          f"{hour_s:.3f}   (bench_chip's figure)")  # fmt: skip


if __name__ == "__main__":
    main(quick="--quick" in sys.argv[1:])
