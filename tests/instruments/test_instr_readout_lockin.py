"""SR830 / SR860 readouts: SR830 and SR860 manual command strings, settling, refusals."""

from __future__ import annotations

import pytest
from pymeasure.instruments.srs import SR830, SR860
from pymeasure.test import expected_protocol

from instruments.adapters.readout_lockin import LockinSettings, SR830Readout, SR860Readout
from instruments.roles import InstrumentError, LimitError, ReadoutLimits

SR830_CONFIG = [
    ("*CLS", None),
    ("FREQ1.37000e+01", None),
    ("SLVL1.000", None),
    ("OFLT8", None),
    ("OFSL3", None),
    ("SENS17", None),
]


def make(cls, driver, clock, **settings):
    return cls(
        name="hall",
        driver=driver,
        settings=LockinSettings(**settings),
        limits=ReadoutLimits(),
        timebase=clock,
    )


def test_sr830_configure_and_error_registers(clock) -> None:
    with expected_protocol(SR830, [*SR830_CONFIG, ("*ESR?", "0"), ("ERRS?", "0")]) as lia:
        readout = make(SR830Readout, lia, clock)
        readout.configure()
    assert readout.transactions == 8


def test_sr830_command_error_bit_is_raised(clock) -> None:
    with expected_protocol(SR830, [*SR830_CONFIG, ("*ESR?", "32")]) as lia:
        with pytest.raises(
            InstrumentError,
            match=r"hall: instrument error: \*ESR\? reports "
            r"command error \(bit 5\)",
        ):
            make(SR830Readout, lia, clock).configure()


def test_sr830_errs_bits_are_raised(clock) -> None:
    with expected_protocol(SR830, [*SR830_CONFIG, ("*ESR?", "0"), ("ERRS?", "64")]) as lia:
        with pytest.raises(InstrumentError, match="DSP test error"):
            make(SR830Readout, lia, clock).configure()


@pytest.mark.parametrize(("slope_dB", "n_tau"), [(6, 5), (12, 7), (18, 9), (24, 10)])
def test_read_waits_the_settling_time_of_the_filter_slope(clock, slope_dB, n_tau) -> None:
    with expected_protocol(SR830, [("OUTP?1", "1.5e-06")]) as lia:
        readout = make(SR830Readout, lia, clock, time_constant_s=0.3, filter_slope_dB=slope_dB)
        assert readout.read_voltage() == pytest.approx(1.5e-6)
    assert clock.sleeps_s == pytest.approx([n_tau * 0.3])


def test_resistance_is_voltage_over_excitation(clock) -> None:
    with expected_protocol(SR830, [("OUTP?1", "2e-06")]) as lia:
        readout = make(SR830Readout, lia, clock, settle_time_constants=3)
        assert readout.read_resistance() == pytest.approx(2.0)
    assert clock.sleeps_s == pytest.approx([0.3])


def test_excitation_above_the_limit_is_refused(clock) -> None:
    with expected_protocol(SR830, []) as lia:
        with pytest.raises(LimitError, match=r"hall: refused excitation current = 0\.002"):
            make(SR830Readout, lia, clock, excitation_A=2e-3)


def test_sine_amplitude_outside_the_instrument_range_is_refused_not_clipped(clock) -> None:
    with expected_protocol(SR830, []) as lia:
        with pytest.raises(LimitError, match=r"sine amplitude.*= 0\.001.*\[0\.004, 5\] V"):
            make(SR830Readout, lia, clock, excitation_A=1e-9)


def test_settings_not_offered_by_the_instrument_are_refused(clock) -> None:
    with expected_protocol(SR830, []) as lia:
        with pytest.raises(ValueError, match=r"time_constant_s = 0\.2 is not one"):
            make(SR830Readout, lia, clock, time_constant_s=0.2)


def test_sr860_configure_and_read(clock) -> None:
    pairs = [
        ("*CLS", None),
        ("FREQ 1.370000e+01", None),
        ("SLVL 1.000000000e+00", None),
        ("OFLT 10", None),
        ("OFSL 3", None),
        ("SCAL 9", None),
        ("*ESR?", "0"),
        ("OUTP? 0", "3e-06"),
    ]
    with expected_protocol(SR860, pairs) as lia:
        readout = make(SR860Readout, lia, clock)
        readout.configure()
        assert readout.read_voltage() == pytest.approx(3e-6)


def test_safe_state_minimises_the_sine_amplitude(clock) -> None:
    with expected_protocol(SR830, [("SLVL0.004", None)]) as lia:
        assert "0.004 V" in make(SR830Readout, lia, clock).safe_state()
