"""Physics through the instruments: SOT switching statistics (33500B + 707B + SR830 twins) and
an MTJ array read in 4-wire mode through a Keithley 2400 twin.

Expected values come from the chip's parameters through ``sim_backend.chip.predict`` and the
readout formulas of docs/physics.md, never from constants.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyvisa

from labctl.clock import VirtualClock, use_clock
from labctl.physics.readout import mtj_resistance_ohm
from sim_backend.chip.predict import sot_switching_probability
from sim_backend.lab import Lab
from sim_backend.open_labs import get_lab

AWG, MATRIX, LOCKIN = "GPIB0::10::INSTR", "GPIB0::16::INSTR", "GPIB0::8::INSTR"
WIDTH_S = 1e-6
AWG_OHM = 50.0
N_DEVICES = 12  # one 7174A card: 12 columns
REPEATS = 20
AMPLITUDES_V = np.linspace(2.2, 3.6, 8)


def _setup_awg(awg: pyvisa.resources.MessageBasedResource) -> None:
    common = f"FUNC PULS;FUNC:PULS:WIDT {WIDTH_S};FUNC:PULS:PER 1e-3;BURS:STAT 1;BURS:NCYC 1"
    for ch in (1, 2):
        awg.write(";".join(f"SOUR{ch}:{part}" for part in common.split(";")))
        awg.write(f"TRIG{ch}:SOUR BUS;OUTP{ch}:LOAD INF")
    # channel 2: the reset pulse, 6 V inverted (drives every device down, P = 1)
    awg.write("SOUR2:VOLT:HIGH 6;SOUR2:VOLT:LOW 0;OUTP2:POL INV;OUTP2 ON")
    awg.write("SOUR1:VOLT:HIGH 8;SOUR1:VOLT:LOW 0;OUTP1 ON")


def _predicted_probability(lab: Lab, amplitude_V: float) -> float:
    """Population-mean Néel–Arrhenius P for one pulse of ``amplitude_V`` open-circuit volts."""
    chip, sw = lab.chip, lab.chip.params.switching
    probabilities = []
    for d in range(N_DEVICES):
        r_dev = float(chip.device_resistance_ohm(d)[0])
        j = float(chip.current_density_A_per_m2(amplitude_V * r_dev / (r_dev + AWG_OHM)))
        probabilities.append(
            sot_switching_probability(
                j,
                WIDTH_S,
                chip.Jc0_A_per_m2(d),
                chip.H0_T(d),
                chip.delta(d),
                sw.tau0_s,
                sw.n_exponent,
                Jc_c2c_rel=sw.Jc_c2c_rel,
                field_assist_T=lab.field_T,
            )
        )
    return float(np.mean(probabilities))


def test_switching_probability_vs_amplitude_follows_neel_arrhenius(lab: Lab, rm) -> None:
    awg = rm.open_resource(AWG, read_termination="\n")
    matrix = rm.open_resource(MATRIX, read_termination="\n")
    lockin = rm.open_resource(LOCKIN, read_termination="\n")
    lockin.write("SLVL 1.0;OFLT 6;OFSL 3")
    _setup_awg(awg)
    switched = np.zeros((len(AMPLITUDES_V), N_DEVICES), dtype=int)
    with use_clock(VirtualClock()) as clock:
        for d in range(N_DEVICES):
            matrix.write(f"channel.close('1B{d + 1:02d},1C{d + 1:02d}')")  # pulse + readout
            assert lab.routed("pulse").tolist() == [d] == lab.routed("readout").tolist()
            awg.write("TRIG2")
            down = float(lockin.query("OUTP? 1"))
            awg.write("TRIG1")  # 8 V: certain switch
            up = float(lockin.query("OUTP? 1"))
            assert up - down > 1.5 * float(lab.chip.spread.R_AHE_ohm[d]) * 1e-4
            threshold = (up + down) / 2
            for k, amplitude_V in enumerate(AMPLITUDES_V):
                awg.write(f"SOUR1:VOLT:HIGH {amplitude_V:.4f}")
                for _ in range(REPEATS):
                    awg.write("TRIG2")
                    clock.sleep(1e-3)
                    awg.write("TRIG1")
                    switched[k, d] += float(lockin.query("OUTP? 1")) > threshold
            awg.write("SOUR1:VOLT:HIGH 8")
            matrix.write("channel.open('allslots')")
        assert awg.query("SYST:ERR?") == '0,"No error"'
        assert float(matrix.query("print(errorqueue.count)")) == 0

    trials = N_DEVICES * REPEATS
    measured = switched.sum(axis=1) / trials
    predicted = np.array([_predicted_probability(lab, a) for a in AMPLITUDES_V])
    assert predicted[0] < 0.25 and predicted[-1] > 0.9  # the grid spans the curve
    sigma = np.sqrt(predicted * (1 - predicted) / trials)
    np.testing.assert_array_less(np.abs(measured - predicted), 4 * sigma + 0.02)
    assert np.all(np.diff(measured) > -0.05)  # rises with amplitude


def test_mtj_preset_read_through_a_2400_in_4_wire_gives_R_P_and_R_AP(tmp_path: Path) -> None:
    from pymeasure.instruments.keithley import Keithley2400

    lab_file = tmp_path / "mtj_bench.yaml"
    lab_file.write_text(
        "name: mtj bench\n"
        "chip: {preset: cofeb_mgo_mtj, n_devices: 4, seed: 5}\n"
        "magnets:\n"
        "  electromagnet:\n"
        "    kind: electromagnet\n"
        "    params: {k_coil_T_per_A: 0.03, B_rem_T: 0.002, tau_L_s: 0.05, B_sat_T: 0.05}\n"
        "instruments:\n"
        "  meter: {address: 'GPIB0::24::INSTR', model: keithley2400, wiring: {terminal: readout}}\n"
        "  bop:\n"
        "    address: 'GPIB0::6::INSTR'\n"
        "    model: kepco_bop\n"
        "    wiring: {coil: electromagnet}\n"
        "    settings: {coil_resistance_ohm: 1.5}\n"
        "  matrix:\n"
        "    address: 'GPIB0::16::INSTR'\n"
        "    model: keithley707b\n"
        "    wiring: {matrix: {rows: {C: readout}}}\n"
    )
    library = f"{lab_file}@labsim"
    lab = get_lab(lab_file)
    chip, ro = lab.chip, lab.chip.params.readout
    assert chip.params.device_type == "mtj" and chip.valid().all()
    rm = pyvisa.ResourceManager(library)
    bop = rm.open_resource("GPIB0::6::INSTR", read_termination="\n")
    matrix = rm.open_resource("GPIB0::16::INSTR", read_termination="\n")
    meter = Keithley2400("GPIB0::24::INSTR", visa_library=library)
    meter.reset()
    meter.wires = 4
    assert meter.ask(":SYST:RSEN?").strip() == "1"
    current_A = 1e-5
    meter.source_mode = "current"
    meter.compliance_voltage = 2.0
    meter.source_current = current_A
    meter.voltage_nplc = 10
    meter.enable_source()

    def resistances() -> np.ndarray:
        out = []
        for d in range(chip.n_devices):
            matrix.write(f"channel.exclusiveclose('1C{d + 1:02d}')")
            out.append(meter.voltage / current_A)
        return np.array(out)

    def expected(m: float) -> np.ndarray:
        R_P = chip.spread.R_P_ohm
        r = R_P * (1 + ro.TMR0 * (1 - m) / 2)
        for _ in range(20):  # the TMR follows the device's own bias V = I·R
            r = mtj_resistance_ohm(R_P, ro.TMR0, ro.V_h_V, np.full_like(R_P, m), current_A * r)
        return r

    with use_clock(VirtualClock()) as clock:
        levels = {}
        for m, current in ((+1.0, 2.5), (-1.0, -2.5)):
            bop.write(f"FUNC:MODE CURR;VOLT 20;CURR {current};OUTP 1")
            clock.sleep(3.0)  # saturate: parallel (m = +1) or antiparallel (m = -1)
            bop.write("CURR 0")
            clock.sleep(1.0)
            assert np.all(chip.m == m)
            levels[m] = resistances()
    R_P, R_AP = levels[+1.0], levels[-1.0]
    np.testing.assert_allclose(R_P, expected(+1.0), rtol=1e-3)
    np.testing.assert_allclose(R_AP, expected(-1.0), rtol=1e-3)
    bias_tmr = ro.TMR0 / (1 + (current_A * R_AP / ro.V_h_V) ** 2)
    np.testing.assert_allclose(R_AP / R_P - 1, bias_tmr, rtol=5e-3)
    meter.shutdown()
    assert meter.check_errors() == []
    assert bop.query("SYST:ERR?").startswith("0,")
