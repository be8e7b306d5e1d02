"""Kepco BOP field source: BIT 4886 command strings, closed loop on a Lake Shore 425."""

from __future__ import annotations

import pytest
from pymeasure.instruments.lakeshore import LakeShore425
from pymeasure.test import expected_protocol

from instruments.adapters.field_base import FieldSettings
from instruments.adapters.field_kepco import KepcoBOPField
from instruments.adapters.gaussmeter import Gaussmeter, GaussmeterSpec
from instruments.drivers.kepco_bop import KepcoBOP
from instruments.roles import FieldLimits, FieldNotReached, InstrumentError, LimitError

NO_ERROR = ("SYST:ERR?", '0,"No error"')


def make_field(driver, clock, **settings) -> KepcoBOPField:
    return KepcoBOPField(
        name="magnet",
        driver=driver,
        settings=FieldSettings(**settings),
        limits=FieldLimits(),
        timebase=clock,
    )


def test_driver_refuses_a_setpoint_beyond_its_rating() -> None:
    with expected_protocol(KepcoBOP, [], max_current_A=4.0, max_voltage_V=50.0) as bop:
        with pytest.raises(ValueError):
            bop.current_setpoint = 4.5
        with pytest.raises(ValueError):
            bop.voltage_setpoint = -51
    with expected_protocol(
        KepcoBOP, [("CURR 4", None), ("VOLT -50", None)], max_current_A=4.0, max_voltage_V=50.0
    ) as bop:
        bop.current_setpoint = 4.0
        bop.voltage_setpoint = -50


def test_driver_reads_mode_and_measurements() -> None:
    pairs = [("FUNC:MODE?", "1"), ("MEAS:CURR?", "2.71E-1"), ("OUTP?", "0")]
    with expected_protocol(KepcoBOP, pairs) as bop:
        assert bop.operating_mode == "CURR"
        assert bop.current_A == pytest.approx(0.271)
        assert bop.output_enabled is False


def test_configure_current_mode_with_compliance_voltage(clock) -> None:
    pairs = [("FUNC:MODE CURR", None), ("VOLT 10", None), NO_ERROR]
    with expected_protocol(KepcoBOP, pairs) as bop:
        make_field(bop, clock).configure()


def test_configure_error_queue_is_raised(clock) -> None:
    pairs = [
        ("FUNC:MODE CURR", None),
        ("VOLT 10", None),
        ("SYST:ERR?", '-222,"Data out of range"'),
        NO_ERROR,
    ]
    with expected_protocol(KepcoBOP, pairs) as bop:
        with pytest.raises(InstrumentError, match='-222,"Data out of range"'):
            make_field(bop, clock).configure()


def test_open_loop_set_field_ramps_the_calibrated_current(clock) -> None:
    # 0.01 T at 0.05 T/A -> 0.2 A; 0.1 T/s -> 2 A/s; steps of 1 mT = 0.02 A every 10 ms
    ramp = [(f"CURR {0.02 * k:g}", None) for k in range(1, 11)]
    pairs = [("CURR?", "0"), ("OUTP?", "0"), ("OUTP 1", None), *ramp, ("MEAS:CURR?", "2.0E-1")]
    with expected_protocol(KepcoBOP, pairs) as bop:
        field = make_field(bop, clock, ramp_T_per_s=0.1, settle_s=0.5)
        t0 = clock.now()
        assert field.set_field(0.01) == pytest.approx(0.01)
    assert clock.now() - t0 == pytest.approx(0.1 + 0.5)


def test_closed_loop_corrects_until_within_tolerance(clock) -> None:
    bop_pairs = [("CURR?", "0"), ("OUTP?", "1"), ("CURR 0.2", None)]
    bop_pairs += [("CURR?", "2.0E-1"), ("OUTP?", "1"), ("CURR 0.21", None)]
    meter_pairs = [("RDGFIELD?", "+9.500E-03"), ("RDGFIELD?", "+1.001E-02")]
    with (
        expected_protocol(KepcoBOP, bop_pairs) as bop,
        expected_protocol(LakeShore425, meter_pairs) as meter,
    ):
        field = make_field(bop, clock, ramp_step_T=1.0, ramp_min_step_s=1.0)
        field.gaussmeter = Gaussmeter(meter, field)
        assert field.set_field(0.01) == pytest.approx(0.01001)
    assert field.transactions == len(bop_pairs) + len(meter_pairs)


def test_closed_loop_feeds_its_last_correction_forward(clock) -> None:
    # The calibration misses 0.5 mT (a remanence): the first field is corrected by +0.01 A;
    # the next one starts from the calibration plus that correction, so it does not first land
    # 0.5 mT off its target (which a sample would feel for settle_s) and needs no correction.
    bop_pairs = [("CURR?", "0"), ("OUTP?", "1"), ("CURR 0.2", None)]
    bop_pairs += [("CURR?", "2.0E-1"), ("OUTP?", "1"), ("CURR 0.21", None)]
    bop_pairs += [("CURR?", "2.1E-1"), ("OUTP?", "1"), ("CURR 0.41", None)]
    meter_pairs = [("RDGFIELD?", "+9.500E-03"), ("RDGFIELD?", "+1.000E-02")]
    meter_pairs += [("RDGFIELD?", "+2.000E-02")]
    with (
        expected_protocol(KepcoBOP, bop_pairs) as bop,
        expected_protocol(LakeShore425, meter_pairs) as meter,
    ):
        field = make_field(bop, clock, ramp_step_T=1.0, ramp_min_step_s=1.0)
        field.gaussmeter = Gaussmeter(meter, field)
        assert field.set_field(0.01) == pytest.approx(0.01)
        assert field.set_field(0.02) == pytest.approx(0.02)


def test_closed_loop_gives_up_after_max_corrections(clock) -> None:
    bop_pairs = [("CURR?", "0"), ("OUTP?", "1"), ("CURR 0.2", None)]
    bop_pairs += [("CURR?", "2.0E-1"), ("OUTP?", "1"), ("CURR 0.22", None)]
    meter_pairs = [("RDGFIELD?", "0.009"), ("RDGFIELD?", "0.009")]
    with (
        expected_protocol(KepcoBOP, bop_pairs) as bop,
        expected_protocol(LakeShore425, meter_pairs) as meter,
    ):
        field = make_field(bop, clock, ramp_step_T=1.0, ramp_min_step_s=1.0, max_corrections=1)
        field.gaussmeter = Gaussmeter(meter, field)
        with pytest.raises(FieldNotReached, match=r"target 0\.01 T"):
            field.set_field(0.01)


def test_field_and_current_limits_are_refused_before_anything_is_sent(clock) -> None:
    with expected_protocol(KepcoBOP, []) as bop:
        field = make_field(bop, clock)
        with pytest.raises(LimitError, match=r"magnet: refused field = 0\.6.*\[-0\.5, 0\.5\] T"):
            field.set_field(0.6)
    with expected_protocol(KepcoBOP, [], max_current_A=4.0) as bop:
        field = make_field(bop, clock, coil_T_per_A=0.01, max_current_A=4.0)
        with pytest.raises(LimitError, match=r"magnet current \(supply rating\) = 5"):
            field.set_field(0.05)
        with pytest.raises(LimitError, match=r"magnet current = -20.*\[-10, 10\] A"):
            field.set_field(-0.2)
    assert field.transactions == 0


def test_safe_state_ramps_to_zero_and_switches_off(clock) -> None:
    pairs = [("CURR?", "1.0E0"), ("OUTP?", "1"), ("CURR 0", None), ("OUTP 0", None)]
    with expected_protocol(KepcoBOP, pairs) as bop:
        field = make_field(bop, clock, ramp_min_step_s=10.0)
        assert field.safe_state() == "magnet: ramped magnet from 1 A to 0 A at 20 A/s, output off"


def test_gaussmeter_spec_is_validated() -> None:
    spec = GaussmeterSpec.parse("magnet", {"driver": "lakeshore425", "address": "GPIB::5"})
    assert spec.driver == "lakeshore425"
    with pytest.raises(ValueError, match="gaussmeter names an unknown driver 'ls999'"):
        GaussmeterSpec.parse("magnet", {"driver": "ls999", "address": "GPIB::5"})
    with pytest.raises(ValueError, match="driver, address"):
        GaussmeterSpec.parse("magnet", {"driver": "lakeshore425"})


def test_gaussmeter_is_put_in_tesla_and_autorange(clock) -> None:
    with (
        expected_protocol(KepcoBOP, []) as bop,
        expected_protocol(LakeShore425, [("UNIT 2", None), ("AUTO", None)]) as meter,
    ):
        Gaussmeter(meter, make_field(bop, clock)).configure()
