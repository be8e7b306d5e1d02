"""Keithley 2400 gate: command/response pairs from the 2400 manual, refusals, safe state."""

from __future__ import annotations

import pytest
from pymeasure.instruments.keithley import Keithley2400
from pymeasure.test import expected_protocol

from instruments.adapters.gate_base import GateSettings
from instruments.adapters.gate_keithley2400 import Keithley2400Gate
from instruments.roles import ComplianceTrip, GateLimits, InstrumentError, LimitError

INIT = [(":FORMAT:ELEMENTS VOLTAGE, CURRENT, RESISTANCE, TIME, STATUS", None)]
NO_ERROR = ("SYST:ERR?", '0,"No error"')


def make_gate(driver, clock, **settings) -> Keithley2400Gate:
    return Keithley2400Gate(
        name="gate",
        driver=driver,
        settings=GateSettings(**settings),
        limits=GateLimits(),
        timebase=clock,
    )


def test_configure_sends_voltage_source_compliance_nplc_and_reads_errors(clock) -> None:
    pairs = [
        *INIT,
        ("*CLS", None),
        (":SOURCE:FUNCTION VOLT", None),
        (":SENSE:CURRENT:PROTECTION 1e-06", None),
        (":SENSE:CURRENT:NPLCYCLES 1", None),
        NO_ERROR,
    ]
    with expected_protocol(Keithley2400, pairs) as smu:
        gate = make_gate(smu, clock)
        gate.configure()
    assert gate.transactions == 5


def test_configure_raises_the_instruments_own_error_message(clock) -> None:
    pairs = [
        *INIT,
        ("*CLS", None),
        (":SOURCE:FUNCTION VOLT", None),
        (":SENSE:CURRENT:PROTECTION 1e-06", None),
        (":SENSE:CURRENT:NPLCYCLES 1", None),
        ("SYST:ERR?", '-113,"Undefined header"'),
        NO_ERROR,
    ]
    with expected_protocol(Keithley2400, pairs) as smu:
        gate = make_gate(smu, clock)
        with pytest.raises(
            InstrumentError, match='gate: instrument error: -113,"Undefined header"'
        ):
            gate.configure()


def test_ramp_from_output_off_steps_at_the_configured_rate(clock) -> None:
    steps = [(f":SOURCE:VOLTAGE {v:g}", None) for v in (0.01, 0.02, 0.03, 0.04, 0.05)]
    pairs = [*INIT, (":SOURCE:VOLTAGE?", "0.2"), ("OUTPUT?", "0"), (":SOURCE:VOLTAGE 0", None)]
    pairs += [("OUTPUT 1", None), *steps, (":MEASURE:CURRENT?", "0.05,1e-11,1e11,0.1,0")]
    with expected_protocol(Keithley2400, pairs) as smu:
        gate = make_gate(smu, clock, ramp_V_per_s=1.0)
        t0 = clock.now()
        gate.ramp_to(0.05)
    assert clock.now() - t0 == pytest.approx(0.05)  # 0.05 V at 1 V/s
    assert clock.sleeps_s == pytest.approx([0.01] * 5)


def test_out_of_limit_voltage_is_refused_before_anything_is_sent(clock) -> None:
    with expected_protocol(Keithley2400, INIT) as smu:
        gate = make_gate(smu, clock)
        with pytest.raises(LimitError) as err:
            gate.ramp_to(2.5)
    message = str(err.value)
    assert "gate" in message and "gate voltage = 2.5" in message
    assert "[-2, 2] V" in message and "nothing was sent" in message
    assert gate.transactions == 0


def test_compliance_above_the_station_limit_is_refused(clock) -> None:
    with expected_protocol(Keithley2400, INIT) as smu:
        gate = make_gate(smu, clock)
        with pytest.raises(LimitError, match=r"compliance current = 0\.001.*<= 1e-06 A"):
            gate.set_compliance(1e-3)
        with pytest.raises(LimitError, match="> 0 A"):
            gate.set_compliance(0.0)


def test_ramp_rate_setting_above_the_limit_is_refused_at_construction(clock) -> None:
    with expected_protocol(Keithley2400, INIT) as smu, pytest.raises(LimitError, match="V/s"):
        make_gate(smu, clock, ramp_V_per_s=100.0)


SAFE_FROM_1V = [  # safe state: read level and output, ramp down, output off
    (":SOURCE:VOLTAGE?", "1"),
    ("OUTPUT?", "1"),
    (":SOURCE:VOLTAGE 0", None),
    ("OUTPUT 0", None),
]
RAMP_TO_1V = [(":SOURCE:VOLTAGE?", "0"), ("OUTPUT?", "1"), (":SOURCE:VOLTAGE 1", None)]
TRIPPED = "1.0,9.9e-07,1e6,12.5,8"  # status word bit 3: in compliance
FINE = "1.0,1e-11,1e11,12.5,0"


def test_compliance_trip_at_the_plateau_stops_the_pulse_in_the_safe_state(clock) -> None:
    pairs = [*INIT, *RAMP_TO_1V, (":MEASURE:CURRENT?", TRIPPED), *SAFE_FROM_1V]
    with expected_protocol(Keithley2400, pairs) as smu:
        gate = make_gate(smu, clock, ramp_step_V=1.0, ramp_min_step_s=1.0)
        with pytest.raises(
            ComplianceTrip, match=r"0 s into 60 s: pulse stopped.*from 1 V to 0 V.*output off"
        ):
            gate.pulse(1.0, 60.0)


def test_compliance_trip_mid_plateau_stops_the_pulse_at_the_next_check(clock) -> None:
    checks = [(":MEASURE:CURRENT?", FINE)] * 2 + [(":MEASURE:CURRENT?", TRIPPED)]
    pairs = [*INIT, *RAMP_TO_1V, *checks, *SAFE_FROM_1V]
    with expected_protocol(Keithley2400, pairs) as smu:
        gate = make_gate(smu, clock, ramp_step_V=1.0, ramp_min_step_s=1.0, trip_check_s=6.0)
        start_s = clock.now()
        with pytest.raises(ComplianceTrip, match=r"12 s into 60 s: pulse stopped.*output off"):
            gate.pulse(1.0, 60.0)
        assert clock.now() - start_s < 60.0 - 12.0 + 1.0  # the rest of the pulse never ran


def test_compliance_trip_at_the_end_of_the_plateau_ends_in_the_safe_state(clock) -> None:
    checks = [(":MEASURE:CURRENT?", FINE)] + [(":MEASURE:CURRENT?", TRIPPED)] * 2
    pairs = [*INIT, *RAMP_TO_1V, *checks, *SAFE_FROM_1V]
    with expected_protocol(Keithley2400, pairs) as smu:
        gate = make_gate(smu, clock, ramp_step_V=1.0, ramp_min_step_s=1.0)
        with pytest.raises(ComplianceTrip, match=r"ramped gate from 1 V to 0 V.*output off"):
            gate.pulse(1.0, 60.0)


def test_compliance_trip_after_a_ramp_ends_in_the_safe_state(clock) -> None:
    pairs = [*INIT, *RAMP_TO_1V, (":MEASURE:CURRENT?", TRIPPED), *SAFE_FROM_1V]
    with expected_protocol(Keithley2400, pairs) as smu:
        gate = make_gate(smu, clock, ramp_step_V=1.0, ramp_min_step_s=1.0)
        with pytest.raises(ComplianceTrip, match=r"trip at 1 V.*from 1 V to 0 V.*output off"):
            gate.ramp_to(1.0)


def test_safe_state_on_a_confused_instrument_zeroes_without_a_ramp(clock) -> None:
    pairs = [*INIT, (":SOURCE:VOLTAGE?", "garbage"), (":SOURCE:VOLTAGE 0", None)]
    pairs += [("OUTPUT 0", None)]
    with expected_protocol(Keithley2400, pairs) as smu:
        gate = make_gate(smu, clock)
        assert "output off" in gate.safe_state()


def test_safe_state_with_output_off_only_switches_off(clock) -> None:
    pairs = [*INIT, (":SOURCE:VOLTAGE?", "0"), ("OUTPUT?", "0"), ("OUTPUT 0", None)]
    with expected_protocol(Keithley2400, pairs) as smu:
        gate = make_gate(smu, clock)
        assert gate.safe_state() == "gate: gate at 0 V, output off"


def test_a_zero_trip_check_interval_is_refused(clock) -> None:
    with (
        expected_protocol(Keithley2400, INIT) as smu,
        pytest.raises(
            ValueError, match=r"gate: setting trip_check_s must be a positive number, got 0\.0"
        ),
    ):
        make_gate(smu, clock, trip_check_s=0.0)
