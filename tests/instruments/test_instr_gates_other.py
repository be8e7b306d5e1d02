"""Keithley 2450, Keithley 2636B (TSP) and Yokogawa GS200 gates: manual command strings."""

from __future__ import annotations

import pytest
from pymeasure.instruments.keithley import Keithley2450, Keithley2600
from pymeasure.instruments.yokogawa import YokogawaGS200
from pymeasure.test import expected_protocol

from instruments.adapters.gate_base import GateSettings
from instruments.adapters.gate_keithley2450 import Keithley2450Gate
from instruments.adapters.gate_keithley2636b import Keithley2636BGate, Keithley2636BGateSettings
from instruments.adapters.gate_yokogawa_gs200 import GS200GateSettings, YokogawaGS200Gate
from instruments.roles import GateLimits, InstrumentError, LimitError

NO_ERROR = ("SYST:ERR?", '0,"No error"')


def make(cls, driver, clock, settings, limits=None):
    return cls(
        name="gate",
        driver=driver,
        settings=settings,
        limits=limits or GateLimits(),
        timebase=clock,
    )


def test_2450_configure_ramp_and_trip(clock) -> None:
    pairs = [
        ("*CLS", None),
        (":SOUR:FUNC VOLT", None),
        (":SENS:FUNC 'CURR'", None),
        (":SENS:CURR:NPLC 1", None),
        (":SOUR:VOLT:ILIM 1e-06", None),
        NO_ERROR,
        (":SOUR:VOLT?", "0"),
        ("OUTPUT?", "0"),
        ("OUTPUT ON", None),
        (":SOUR:VOLT:LEV 0.05", None),
        (":READ?", "1e-09"),  # the compliance check after the ramp: healthy
        (":READ?", "9.99e-07"),
    ]
    with expected_protocol(Keithley2450, pairs) as smu:
        gate = make(Keithley2450Gate, smu, clock, GateSettings(ramp_step_V=1.0))
        gate.configure()
        gate.ramp_to(0.05)
        assert gate.tripped()


def test_2450_station_limit_beyond_the_rating_is_refused(clock) -> None:
    limits = GateLimits(compliance_A=2.0)
    with expected_protocol(Keithley2450, []) as smu:
        with pytest.raises(LimitError, match=r"station limit compliance_A = 2.*<= 1\.05 A"):
            make(Keithley2450Gate, smu, clock, GateSettings(), limits)


def test_2636b_tsp_statements_and_error_queue(clock) -> None:
    pairs = [
        ("smub.source.func=smub.OUTPUT_DCVOLTS", None),
        ("smub.source.limiti=1e-07", None),
        ("smub.measure.nplc=1", None),
        ("print(errorqueue.next())", "-286\tTSP Runtime error\t2\t0"),
        ("print(errorqueue.next())", "0\tQueue Is Empty\t0\t0"),
    ]
    with expected_protocol(Keithley2600, pairs) as smu:
        settings = Keithley2636BGateSettings(channel="b", compliance_A=1e-7)
        gate = make(Keithley2636BGate, smu, clock, settings)
        with pytest.raises(InstrumentError, match='-286,"TSP Runtime error"'):
            gate.configure()


def test_2636b_safe_state_ramps_down_and_switches_off(clock) -> None:
    pairs = [
        ("print(smua.source.levelv)", "1.00000e+00"),
        ("print(smua.source.output)", "1.00000e+00"),
        ("smua.source.levelv=0", None),
        ("smua.source.output=0", None),
        ("print(smua.measure.i())", "1.2e-9\t0"),
    ]
    with expected_protocol(Keithley2600, pairs) as smu:
        gate = make(Keithley2636BGate, smu, clock, Keithley2636BGateSettings(ramp_min_step_s=1))
        assert gate.safe_state().startswith("gate: ramped gate from 1 V to 0 V")
        assert gate.leakage_current_A() == pytest.approx(1.2e-9)


def test_gs200_configure_on_the_smallest_range_with_monitor(clock) -> None:
    limits = GateLimits(compliance_A=1e-3)
    pairs = [
        (":SOURce:FUNCtion VOLT", None),
        ("SOURce:RANGe 10", None),
        ("SOURce:PROTection:CURRent 0.001", None),
        (":SENS 1", None),
        (":SENS:NPLC 1", None),
        NO_ERROR,
        (":MEAS?", "+1.0E-03"),
    ]
    with expected_protocol(YokogawaGS200, pairs) as gs:
        gate = make(YokogawaGS200Gate, gs, clock, GS200GateSettings(), limits)
        gate.configure()
        assert gate.tripped()


def test_gs200_compliance_below_its_current_limiter_is_refused_not_rounded(clock) -> None:
    with expected_protocol(YokogawaGS200, []) as gs:
        with pytest.raises(LimitError, match="GS200 current limiter"):
            make(YokogawaGS200Gate, gs, clock, GS200GateSettings())
