"""qcodes' and pymeasure's own drivers on the rest of the bench: 2450, 2636B, GS200, SR860,
6221 + 2182A, AMI 430, 33500B, 3706A — identify, configure, act, read, empty error queue."""

from __future__ import annotations

import pytest

from labctl.clock import VirtualClock, use_clock
from sim_backend.lab import Lab


def test_qcodes_keithley2450(lab: Lab, quiet: None) -> None:
    from qcodes.instrument_drivers.Keithley import Keithley2450

    k = Keithley2450("k2450", "GPIB0::18::INSTR", visalib="@labsim")
    assert k.IDN()["model"] == "2450"
    k.source_function("voltage")
    k.sense_function("current")
    k.source.limit(1e-6)
    k.source.voltage(0.5)
    k.output_enabled(True)
    assert abs(k.sense.current()) < 1e-9
    assert lab.chip.gate_V[0] == pytest.approx(0.5)
    assert not k.source.limit_tripped()
    k.source.sweep_setup(0, 1, 5)
    assert len(k.sense.sweep()) == 5
    k.output_enabled(False)
    assert k.ask("SYST:ERR?") == '0,"No error"'


def test_pymeasure_keithley2450(lab: Lab, quiet: None) -> None:
    from pymeasure.instruments.keithley import Keithley2450

    k = Keithley2450("GPIB0::18::INSTR", visa_library="@labsim")
    assert "MODEL 2450" in k.id
    k.reset()
    k.apply_voltage(compliance_current=1e-6)
    k.source_voltage = 0.4
    k.enable_source()
    k.measure_current()
    assert abs(k.current) < 1e-9
    assert k.source_voltage == pytest.approx(0.4)
    assert k.check_errors() == []


def test_qcodes_keithley2636b(lab: Lab, quiet: None) -> None:
    from qcodes.instrument_drivers.Keithley import Keithley2636B

    k = Keithley2636B("k2636", "GPIB0::26::INSTR", visalib="@labsim")
    assert k.IDN()["model"] == "2636B"
    k.smua.mode("voltage")
    k.smua.limiti(1e-6)
    k.smua.volt(0.7)
    k.smua.output("on")
    assert abs(k.smua.curr()) < 1e-9
    assert k.smua.volt() == pytest.approx(0.7, abs=1e-3)
    assert k.smua.curr.measurement_status is not None
    assert lab.chip.gate_V[0] == pytest.approx(0.7)
    k.smua.output("off")
    assert float(k.ask("errorqueue.count")) == 0


def test_pymeasure_keithley2600_and_gate_conflict(lab: Lab, rm, quiet: None) -> None:
    from pymeasure.instruments.keithley import Keithley2600

    k = Keithley2600("GPIB0::26::INSTR", visa_library="@labsim")
    assert "2636B" in k.id
    k.ChA.source_mode = "voltage"
    k.ChA.compliance_current = 1e-6
    k.ChA.source_voltage = 0.4
    other = rm.open_resource("GPIB0::24::INSTR")
    other.write(":SOUR:VOLT 1;:OUTP ON")  # the 2400 holds the gate pin
    k.ChA.source_output = "ON"
    assert k.next_error[0] == -221  # two outputs on one pin: refused
    assert k.ChA.source_output == "OFF"
    other.write(":OUTP OFF")
    k.ChA.source_output = "ON"
    assert k.ChA.voltage == pytest.approx(0.4, abs=1e-3)
    assert lab.chip.gate_V[0] == pytest.approx(0.4)
    assert k.next_error[0] == 0


def test_qcodes_yokogawa_gs200_hardware_ramp(lab: Lab, quiet: None) -> None:
    from qcodes.instrument_drivers.yokogawa import YokogawaGS200

    g = YokogawaGS200("gs", "GPIB0::2::INSTR", visalib="@labsim")
    assert g.IDN()["vendor"].startswith("YOKOGAWA")
    g.source_mode("VOLT")
    g.range(10)
    g.current_limit(0.01)
    g.voltage(0.3)
    g.output("on")
    g.ramp_rate(10.0)  # V/s: the program ramp takes 30 ms
    g.ramp_voltage(0.6)
    assert g.voltage() == pytest.approx(0.6)
    assert lab.chip.gate_V[0] == pytest.approx(0.6)
    g.output("off")
    assert g.ask(":SYST:ERR?") == '0,"No error"'


def test_pymeasure_yokogawa_gs200(lab: Lab, quiet: None) -> None:
    from pymeasure.instruments.yokogawa import YokogawaGS200

    g = YokogawaGS200("GPIB0::2::INSTR", visa_library="@labsim")
    assert "GS2" in g.id
    g.source_mode = "voltage"
    g.source_range = 10
    g.current_limit = 0.01
    g.source_level = 0.2
    g.source_enabled = True
    with use_clock(VirtualClock()) as clock:
        g.trigger_ramp_to_level(0.5, 1.0)
        clock.sleep(2.0)
        assert g.source_level == pytest.approx(0.5)
    assert lab.chip.gate_V[0] == pytest.approx(0.5)
    assert g.check_errors() == []


def test_qcodes_and_pymeasure_sr860(lab: Lab, quiet: None) -> None:
    from pymeasure.instruments.srs import SR860 as PSR860
    from qcodes.instrument_drivers.stanford_research import SR860

    q = SR860("s860", "GPIB0::4::INSTR", visalib="@labsim")
    assert q.IDN()["model"] == "SR860"
    q.amplitude(0.5)
    x, _y = q.get_values("X", "Y")
    expected = lab.chip.hall_resistance_ohm(0)[0] * 0.5 / 10_000
    assert x == pytest.approx(expected, rel=0.02)
    p = PSR860("GPIB0::4::INSTR", visa_library="@labsim")
    assert p.ask("*IDN?").startswith("Stanford_Research_Systems,SR860")
    assert p.sine_voltage == pytest.approx(0.5)
    assert p.snap("X", "Y")[0] == pytest.approx(expected, rel=0.02)
    assert p.x == pytest.approx(expected, rel=0.02)
    assert int(p.ask("*ESR?")) & 0b110100 == 0


def test_pymeasure_6221_2182a_dc_and_delta(lab: Lab, quiet: None) -> None:
    from pymeasure.instruments.keithley import Keithley2182, Keithley6221

    cs = Keithley6221("GPIB0::13::INSTR", visa_library="@labsim")
    nv = Keithley2182("GPIB0::7::INSTR", visa_library="@labsim")
    cs.source_compliance = 10
    cs.source_current = 1e-4
    cs.enable_source()
    nv.ch_1.setup_voltage()
    assert nv.ask(":SENS:FUNC?").strip() == '"VOLT:DC"'
    hall = lab.chip.hall_resistance_ohm(0)[0] * 1e-4
    assert nv.voltage == pytest.approx(hall, abs=5e-6)  # thermal EMF and 1/f included
    cs.disable_source()
    assert cs.delta_connected
    cs.delta_high_source = 1e-4
    cs.delta_low_source = -1e-4
    cs.delta_cycles = 5
    cs.delta_arm()
    cs.delta_start()
    readings = [float(v) for v in cs.ask(":TRAC:DATA?").split(",")[::2]]
    assert len(readings) == 5
    assert sum(readings) / 5 == pytest.approx(hall, rel=0.05)  # delta cancels the EMF
    assert cs.check_errors() == [] and nv.check_errors() == []


def test_qcodes_ami430_ramps_the_superconducting_magnet(lab: Lab, quiet: None) -> None:
    from qcodes.instrument_drivers.american_magnetics import AMIModel430

    ami = AMIModel430("ami", "TCPIP0::127.0.0.1::7180::SOCKET", visalib="@labsim")
    assert ami.IDN()["vendor"].startswith("AMERICAN MAGNETICS")
    ami.field_units("tesla")  # powers up in kilogauss
    ami.ramp_rate(0.005)
    ami.set_field(0.001)  # blocks (wall clock) until holding: 0.2 s
    assert ami.field() == pytest.approx(0.001, abs=1e-6)
    assert ami.ramping_state() == "holding"
    assert lab.field_T == pytest.approx(0.001, abs=1e-5)
    assert ami.ask("SYST:ERR?").startswith("0,")


def test_pymeasure_ami430(lab: Lab, quiet: None) -> None:
    from pymeasure.instruments.ami import AMI430

    with use_clock(VirtualClock()) as clock:
        ami = AMI430("TCPIP0::127.0.0.1::7180::SOCKET", visa_library="@labsim")  # reads banner
        ami.target_field = 0.5  # kG = 50 mT
        ami.ramp_rate_field = 0.1  # kG/s
        ami.ramp()
        assert ami.magnet_status == "RAMPING"
        clock.sleep(10.0)
        assert ami.field == pytest.approx(0.5, abs=1e-6)
        assert ami.magnet_status == "HOLDING"
        assert ami.ask("*IDN?").startswith("AMERICAN MAGNETICS")
        ami.zero()
        clock.sleep(10.0)
        assert ami.field == pytest.approx(0.0, abs=1e-6)
        assert ami.ask("SYST:ERR?").startswith("0,")


def test_qcodes_keysight33512b_burst_writes_devices(lab: Lab, quiet: None) -> None:
    from qcodes.instrument_drivers.Keysight import Keysight33512B

    awg = Keysight33512B("awg", "GPIB0::10::INSTR", visalib="@labsim")
    assert awg.IDN()["model"] == "33512B"
    awg.ch1.function_type("PULS")
    awg.ch1.pulse_width(1e-6)
    awg.ch1.amplitude(2.0)
    awg.ch1.burst_ncycles(3)
    awg.ch1.burst_state("ON")
    awg.ch1.trigger_source("BUS")
    awg.ch1.output("ON")
    awg.force_trigger()
    assert lab.by_name["awg"].pulses_fired == 3
    assert awg.ask("SYST:ERR?") == '0,"No error"'


def test_pymeasure_agilent33500_load_and_trigger(lab: Lab, quiet: None) -> None:
    from pymeasure.instruments.agilent import Agilent33500

    awg = Agilent33500("GPIB0::10::INSTR", visa_library="@labsim")
    awg.shape = "PULS"
    awg.pulse_width = 1e-6
    awg.amplitude = 1.0
    awg.burst_state = True
    awg.burst_ncycles = 2
    awg.trigger_source = "BUS"
    awg.output = True
    twin = lab.by_name["awg"]
    v_50 = twin.pulse_V(1)
    awg.output_load = "INF"
    assert twin.pulse_V(1) == pytest.approx(v_50 / 2)  # 50 Ω assumption doubles into high-Z
    awg.trigger()
    assert twin.pulses_fired == 2
    assert awg.check_errors() == []


def test_qcodes_keithley3706a_routes_the_readout(lab: Lab, rm, quiet: None) -> None:
    from qcodes.instrument_drivers.Keithley import Keithley3706A

    matrix = Keithley3706A("matrix", "GPIB0::17::INSTR", visalib="@labsim")
    assert matrix.IDN()["model"] == "3706A"
    assert lab.routed("readout").tolist() == [0]  # nothing closed: single-cross bench
    matrix.close_channel("1305")  # row 3 (readout) to column 5 (device 4)
    assert matrix.get_closed_channels("allslots") == ["1305"]
    assert lab.routed("readout").tolist() == [4]
    assert lab.routed("gate").tolist() == []
    lockin = rm.open_resource("GPIB0::8::INSTR", read_termination="\n")
    x = float(lockin.query("OUTP? 1"))
    assert x == pytest.approx(lab.chip.hall_resistance_ohm(4)[0] * 1.0 / 10_000, rel=0.02)
    matrix.open_channel("allslots")
    assert matrix.get_closed_channels("allslots") is None
    assert float(matrix.ask("errorqueue.count")) == 0


def test_keithley707b_tsp_routing_and_errors(lab: Lab, rm) -> None:
    sw = rm.open_resource("GPIB0::16::INSTR", read_termination="\n")
    sw.write('channel.close("1A03,1B03")')
    assert sw.query('print(channel.getclose("allslots"))') == "1A03;1B03"
    assert lab.routed("gate").tolist() == [2] and lab.routed("pulse").tolist() == [2]
    sw.write("channel.close('9Z99')")
    code, message = sw.query("print(errorqueue.next())").split("\t")[:2]
    assert float(code) == -286 and "invalid channel" in message
    sw.write("channel.open('allslots')")
    assert sw.query("print(channel.getclose('allslots'))") == "nil"
