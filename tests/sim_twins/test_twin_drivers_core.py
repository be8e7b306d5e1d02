"""qcodes' and pymeasure's own drivers, unchanged, on the twins of the core bench.

Keithley 2400 (gate), SR830 (Hall readout), Kepco BOP (electromagnet), Lake Shore 425 (field):
each test does what a bench user does and ends with an empty error queue.
"""

from __future__ import annotations

import numpy as np
import pytest

from sim_backend.lab import Lab

SMU, LOCKIN, BOP, GAUSS = (
    "GPIB0::24::INSTR",
    "GPIB0::8::INSTR",
    "GPIB0::6::INSTR",
    "GPIB0::12::INSTR",
)


def test_qcodes_keithley2400_sources_gate_and_reads(lab: Lab, quiet: None) -> None:
    from qcodes.instrument_drivers.Keithley import Keithley2400

    k = Keithley2400("gate", SMU, visalib="@labsim")
    assert k.IDN()["model"] == "2400"
    k.mode("VOLT")
    k.compliancei(1e-6)
    k.volt(1.5)
    k.output(1)
    assert k.output() == 1
    assert k.volt() == pytest.approx(1.5, abs=1e-3)
    seen: list[float] = []
    drive = lab.drive_gate
    lab.drive_gate = lambda name, terminal, on, v: (seen.append(v), drive(name, terminal, on, v))
    k.volt.step, k.volt.inter_delay = 0.1, 0.0  # qcodes ramps the setpoint in 0.1 V steps
    k.volt(0.5)
    del lab.drive_gate
    steps = np.diff([1.5, *seen])  # qcodes steps from the read-back (1.5 V + noise)
    assert seen[-1] == pytest.approx(0.5) and len(seen) >= 9
    assert np.all((steps < 0) & (steps > -0.1 - 1e-3))
    assert lab.chip.gate_V[0] == pytest.approx(0.5)
    k.volt.step = 0.0
    k.volt(1.5)
    assert abs(k.curr()) < 1e-9  # gate oxide leakage: ~1e11 Ω
    assert k.sense() == '"CURR:DC"'
    assert lab.chip.gate_V[0] == pytest.approx(1.5)  # no matrix route: device 0
    k.output(0)
    assert lab.chip.gate_V[0] == 0.0
    with pytest.raises(RuntimeError):
        k.volt()  # qcodes refuses to :READ? with the output off
    assert k.ask("SYST:ERR?") == '0,"No error"'


def test_keithley2400_read_with_output_off_is_an_error(lab: Lab, rm) -> None:
    smu = rm.open_resource(SMU, read_termination="\n", timeout=100)
    smu.write(":READ?")
    assert smu.query("SYST:ERR?").startswith("-221")


def test_keithley2400_compliance_clamps_and_trips(lab: Lab, rm) -> None:
    # 7 V is below the oxide breakdown (~8 V) but tunnelling already draws ~30 µA
    assert lab.chip.gate_leakage_at_A([0], 7.0)[0] > 1e-5
    smu = rm.open_resource(SMU, read_termination="\n")
    smu.write(":SOUR:FUNC VOLT;:SOUR:VOLT 7;:SENS:CURR:PROT 1e-6;:OUTP ON")
    v, i, _r, _t, status = (float(x) for x in smu.query(":READ?").split(","))
    assert int(status) & 8  # compliance bit of the status word
    assert smu.query(":SENS:CURR:PROT:TRIP?") == "1"
    assert i == pytest.approx(1e-6, rel=0.01)
    assert 5.0 < v < 7.0  # the SMU became a current source at the limit
    assert lab.chip.gate_V[0] == pytest.approx(v, abs=1e-3)
    assert lab.chip.gate_leakage_at_A([0], v)[0] == pytest.approx(1e-6, rel=1e-3)
    smu.write(":SENS:CURR:PROT 1e-3")
    assert smu.query(":SENS:CURR:PROT:TRIP?") == "0"


def test_pymeasure_keithley2400_bench_session(lab: Lab, quiet: None) -> None:
    from pymeasure.instruments.keithley import Keithley2400

    k = Keithley2400(SMU, visa_library="@labsim")
    assert "MODEL 2400" in k.id
    k.reset()
    k.source_mode = "voltage"
    k.compliance_current = 1e-6
    k.source_voltage = 0.0
    k.enable_source()
    k.ramp_to_voltage(1.0, steps=5, pause=0)
    assert k.source_voltage == pytest.approx(1.0)
    assert abs(k.current) < 1e-9
    assert k.voltage == pytest.approx(1.0, abs=1e-3)  # five elements, field 0
    every = k.measure_all()
    assert set(every) == {"voltage", "current", "resistance", "time", "status"}
    assert k.compliance_current == pytest.approx(1e-6)
    assert lab.chip.gate_V[0] == pytest.approx(1.0)
    k.shutdown()
    assert lab.chip.gate_V[0] == 0.0
    assert k.check_errors() == []


def test_qcodes_sr830_reads_the_hall_voltage(lab: Lab, quiet: None) -> None:
    from qcodes.instrument_drivers.stanford_research import SR830

    li = SR830("lockin", LOCKIN, visalib="@labsim")
    assert li.IDN()["model"] == "SR830"
    li.amplitude(1.0)
    li.frequency(137.0)
    li.time_constant(0.1)
    li.sensitivity(1e-3)
    x, y, r = li.snap("x", "y", "r")
    expected = lab.chip.hall_resistance_ohm(0)[0] * 1.0 / (10_000)
    assert x == pytest.approx(expected, rel=0.02)
    assert abs(y) < 1e-6
    assert r == pytest.approx(abs(x), rel=0.01)
    assert li.X() == pytest.approx(x, rel=0.02)
    assert int(li.ask("*ESR?")) & 0b110100 == 0  # no command/execution/query error


def test_pymeasure_sr830_reads_the_hall_voltage(lab: Lab, quiet: None) -> None:
    from pymeasure.instruments.srs import SR830

    li = SR830(LOCKIN, visa_library="@labsim")
    assert "SR830" in li.id
    li.sine_voltage = 0.5
    li.frequency = 1000
    li.time_constant = 0.3
    li.sensitivity = 0.001
    assert li.sine_voltage == pytest.approx(0.5)
    assert li.time_constant == pytest.approx(0.3)
    x, _y = li.xy
    assert x == pytest.approx(lab.chip.hall_resistance_ohm(0)[0] * 0.5 / 10_000, rel=0.02)
    assert li.snap("X", "Y", "R")[0] == pytest.approx(x, rel=0.02)
    assert not li.is_out_of_range()
    assert li.ask("*ESR?").strip() in ("0", "128")


def test_pymeasure_kepco_bop_drives_the_magnet(lab: Lab, quiet: None) -> None:
    from pymeasure.instruments.kepco import KepcoBOP3612

    bop = KepcoBOP3612(BOP, visa_library="@labsim")
    assert bop.id.startswith("KEPCO")
    bop.operating_mode = "CURR"
    bop.voltage_setpoint = 20
    bop.current_setpoint = 1.0
    bop.output_enabled = True
    assert bop.operating_mode == "CURR"
    assert bop.current == pytest.approx(1.0, abs=1e-3)
    magnet = lab.magnets["electromagnet"]
    assert magnet.setpoint_A == pytest.approx(1.0)
    bop.voltage_setpoint = 0.75  # compliance: 0.75 V over 1.5 Ω
    assert bop.current == pytest.approx(0.5, abs=1e-3)
    bop.output_enabled = False
    assert magnet.setpoint_A == 0.0
    assert bop.check_errors() == []


def test_pymeasure_lakeshore425_reads_the_magnet_field(lab: Lab, rm, quiet: None) -> None:
    from pymeasure.instruments.lakeshore import LakeShore425

    from labctl.clock import VirtualClock, use_clock

    gauss = LakeShore425(GAUSS, visa_library="@labsim")
    bop = rm.open_resource(BOP, read_termination="\n")
    with use_clock(VirtualClock()) as clock:
        bop.write("FUNC:MODE CURR;CURR 1.0;VOLT 20;OUTP 1")
        clock.sleep(2.0)  # ≫ τ_L
        gauss.unit = "T"
        gauss.auto_range()
        gauss.dc_mode()
        expected = lab.magnets["electromagnet"].field_at(clock.now())
        assert gauss.field == pytest.approx(expected, abs=2e-4)
        gauss.unit = "G"
        assert gauss.field == pytest.approx(expected * 1e4, abs=2.0)
    assert gauss.mode == (1.0, 0.0, 1.0)
    assert gauss.ask("*ESR?").strip() in ("0", "128")
