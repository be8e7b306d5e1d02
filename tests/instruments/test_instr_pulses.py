"""Write-pulse sources: Keysight 33500B bursts and Keithley 6221 pulse mode."""

from __future__ import annotations

import pytest
from pymeasure.instruments.agilent import Agilent33500
from pymeasure.test import expected_protocol

from instruments.adapters.pulse_keithley6221 import Keithley6221Pulse, Keithley6221PulseSettings
from instruments.adapters.pulse_keysight33500b import Keysight33500BPulse, Keysight33500BSettings
from instruments.drivers.keithley6221_pulse import Keithley6221PulseDelta
from instruments.roles import InstrumentError, LimitError, PulseLimits

NO_ERROR = ("SYST:ERR?", '0,"No error"')


def awg(driver, clock, **settings) -> Keysight33500BPulse:
    return Keysight33500BPulse(
        name="awg",
        driver=driver,
        settings=Keysight33500BSettings(**settings),
        limits=PulseLimits(),
        timebase=clock,
    )


def test_33500b_configure(clock) -> None:
    pairs = [
        ("*CLS", None),
        ("OUTP1 OFF", None),
        ("OUTP1:LOAD INF", None),
        ("SOUR1:FUNC PULS", None),
        ("SOUR1:VOLT:LOW 0", None),
        ("SOUR1:BURS:MODE TRIG", None),
        ("SOUR1:BURS:STAT 1", None),
        ("TRIG1:SOUR BUS", None),
        NO_ERROR,
    ]
    with expected_protocol(Agilent33500, pairs) as gen:
        awg(gen, clock).configure()


def test_33500b_pulses_send_only_what_changed(clock) -> None:
    first = [
        ("SOUR2:FUNC:PULS:PER 1e-06", None),
        ("SOUR2:FUNC:PULS:WIDT 1e-07", None),
        ("SOUR2:VOLT:HIGH 2.5", None),
        ("OUTP2:POL NORM", None),
        ("SOUR2:BURS:NCYC 3", None),
        NO_ERROR,
        ("OUTP2 ON", None),
        ("*TRG", None),
    ]
    second = [("OUTP2:POL INV", None), NO_ERROR, ("*TRG", None)]
    with expected_protocol(Agilent33500, first + second) as gen:
        source = awg(gen, clock, channel=2)
        source.pulse(2.5, 100e-9, 3)
        source.pulse(-2.5, 100e-9, 3)
    assert clock.sleeps_s == pytest.approx([3e-6, 3e-6])


def test_33500b_error_after_a_change_is_raised_and_forces_a_resend(clock) -> None:
    pairs = [
        ("SOUR1:FUNC:PULS:PER 0.01", None),
        ("SOUR1:FUNC:PULS:WIDT 0.001", None),
        ("SOUR1:VOLT:HIGH 9", None),
        ("OUTP1:POL NORM", None),
        ("SOUR1:BURS:NCYC 1", None),
        ("SYST:ERR?", '-222,"Data out of range"'),
        NO_ERROR,
    ]
    with expected_protocol(Agilent33500, pairs) as gen:
        source = awg(gen, clock)
        with pytest.raises(InstrumentError, match="Data out of range"):
            source.pulse(9.0, 1e-3)
        assert source._sent == {}


def test_33500b_refusals_send_nothing(clock) -> None:
    with expected_protocol(Agilent33500, []) as gen:
        source = awg(gen, clock)
        with pytest.raises(LimitError, match=r"awg: refused pulse amplitude = 12"):
            source.pulse(12.0, 1e-6)
        with pytest.raises(LimitError, match=r"pulse width = 0\.1"):
            source.pulse(1.0, 0.1)
        with pytest.raises(LimitError, match=r"pulse count = 0"):
            source.pulse(1.0, 1e-6, 0)
    assert source.transactions == 0


def test_33500b_safe_state(clock) -> None:
    with expected_protocol(Agilent33500, [("OUTP1 OFF", None)]) as gen:
        assert awg(gen, clock).safe_state() == "awg: output 1 off"


def k6221(driver, clock) -> Keithley6221Pulse:
    return Keithley6221Pulse(
        name="pulser",
        driver=driver,
        settings=Keithley6221PulseSettings(),
        limits=PulseLimits(),
        timebase=clock,
    )


def test_6221_pulse_mode_commands(clock) -> None:
    pairs = [
        ("*CLS", None),
        (":SOUR:CURR:COMP 10", None),
        (":SOUR:PDEL:LOW 0", None),
        (":SOUR:PDEL:INT 5", None),
        NO_ERROR,
        (":SOUR:PDEL:HIGH -0.002", None),
        (":SOUR:PDEL:WIDT 0.0001", None),
        (":SOUR:PDEL:COUN 4", None),
        NO_ERROR,
        (":SOUR:PDEL:ARM", None),
        (":INIT:IMM", None),
        (":SOUR:SWE:ABOR", None),
    ]
    with expected_protocol(Keithley6221PulseDelta, pairs) as source:
        pulser = k6221(source, clock)
        pulser.configure()
        pulser.pulse(-2.0, 100e-6, 4)
    assert clock.sleeps_s == pytest.approx([4 * 5 / 50])


def test_6221_width_outside_its_range_is_refused(clock) -> None:
    with expected_protocol(Keithley6221PulseDelta, []) as source:
        with pytest.raises(LimitError, match=r"pulse width \(6221 range\) = 1e-06"):
            k6221(source, clock).pulse(1.0, 1e-6)


def test_6221_safe_state(clock) -> None:
    pairs = [(":SOUR:SWE:ABOR", None), ("OUTPut 0", None)]
    with expected_protocol(Keithley6221PulseDelta, pairs) as source:
        assert "output off" in k6221(source, clock).safe_state()
