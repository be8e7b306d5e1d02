"""Lake Shore 643 and AMI 430 field sources: manual command strings, refusals, safe state."""

from __future__ import annotations

import pytest
from pymeasure.instruments.ami import AMI430
from pymeasure.test import expected_protocol

from instruments.adapters.field_ami430 import AMI430Field
from instruments.adapters.field_base import FieldSettings
from instruments.adapters.field_lakeshore643 import LakeShore643Field
from instruments.drivers.lakeshore643 import LakeShore643
from instruments.roles import FieldLimits, InstrumentError, LimitError

BANNER = [(None, "American Magnetics Model 430 IP Interface"), (None, "Hello.")]


def make(cls, driver, clock, **settings):
    return cls(
        name="magnet",
        driver=driver,
        settings=FieldSettings(**settings),
        limits=FieldLimits(),
        timebase=clock,
    )


def test_643_driver_refuses_out_of_range_setpoints() -> None:
    with expected_protocol(LakeShore643, [("SETI -70.0000", None), ("RATE 0.5000", None)]) as ps:
        ps.current_setpoint_A = -70
        ps.ramp_rate_A_per_s = 0.5
        with pytest.raises(ValueError):
            ps.current_setpoint_A = 71
        with pytest.raises(ValueError):
            ps.ramp_rate_A_per_s = 100


def test_643_configure_sets_limit_and_rate_and_reads_erst(clock) -> None:
    pairs = [("*CLS", None), ("LIMIT 10.0000,20.0000", None), ("RATE 20.0000", None)]
    pairs += [("ERST?", "0,0")]
    with expected_protocol(LakeShore643, pairs) as ps:
        make(LakeShore643Field, ps, clock).configure()


def test_643_erst_bits_are_raised(clock) -> None:
    pairs = [("*CLS", None), ("LIMIT 10.0000,20.0000", None), ("RATE 20.0000", None)]
    pairs += [("ERST?", "0,4")]
    with expected_protocol(LakeShore643, pairs) as ps:
        with pytest.raises(InstrumentError, match="operational 4"):
            make(LakeShore643Field, ps, clock).configure()


def test_643_set_field_waits_the_ramp_and_polls_rdgi(clock) -> None:
    # 0.01 T / 0.05 T/A = 0.2 A at 20 A/s: 10 ms, then RDGI? until within tolerance
    pairs = [("SETI?", "+0.0000"), ("SETI 0.2000", None), ("RDGI?", "+0.1000")]
    pairs += [("RDGI?", "+0.2000"), ("RDGI?", "+0.2000")]
    with expected_protocol(LakeShore643, pairs) as ps:
        field = make(LakeShore643Field, ps, clock, settle_s=0.0)
        assert field.set_field(0.01) == pytest.approx(0.01)
    assert clock.sleeps_s[0] == pytest.approx(0.01)


def test_643_safe_state_is_seti_zero(clock) -> None:
    pairs = [("SETI?", "+1.0000"), ("SETI 0.0000", None), ("RDGI?", "+0.0000")]
    with expected_protocol(LakeShore643, pairs) as ps:
        line = make(LakeShore643Field, ps, clock).safe_state()
    assert (
        line == "magnet: ramped magnet from 1 A to 0 A at 20 A/s, no output switch "
        "(output follows 0 A)"
    )


def test_ami430_configure_ramp_and_hold(clock) -> None:
    pairs = [
        *BANNER,
        ("CONF:FIELD:UNITS 1", None),
        ("CONF:RAMP:RATE:UNITS 0", None),
        ("CONF:RAMP:RATE:FIELD 1,0.1,0.5", None),
        ("SYST:ERR?", '0,"No error"'),
        ("FIELD:MAG?", "0.0"),
        ("CONF:FIELD:TARG 0.2", None),
        ("RAMP", None),
        ("STATE?", "1"),
        ("STATE?", "2"),
        ("FIELD:MAG?", "0.2"),
    ]
    with expected_protocol(AMI430, pairs) as ami:
        field = make(AMI430Field, ami, clock, ramp_T_per_s=0.1)
        field.configure()
        assert field.set_field(0.2) == pytest.approx(0.2)
    assert clock.sleeps_s[0] == pytest.approx(2.0)


def test_ami430_quench_is_an_instrument_error(clock) -> None:
    pairs = [*BANNER, ("FIELD:MAG?", "0.0"), ("CONF:FIELD:TARG 0.1", None), ("RAMP", None)]
    pairs += [("STATE?", "7")]
    with expected_protocol(AMI430, pairs) as ami:
        with pytest.raises(InstrumentError, match="QUENCH"):
            make(AMI430Field, ami, clock).set_field(0.1)


def test_ami430_refuses_fields_and_currents_beyond_the_limits(clock) -> None:
    with expected_protocol(AMI430, BANNER) as ami:
        field = make(AMI430Field, ami, clock, coil_T_per_A=0.01)
        with pytest.raises(LimitError, match=r"refused field = 0\.7"):
            field.set_field(0.7)
        with pytest.raises(LimitError, match=r"magnet current = 20"):
            field.set_field(0.2)


def test_ami430_safe_state_zeroes(clock) -> None:
    pairs = [*BANNER, ("FIELD:MAG?", "0.3"), ("ZERO", None), ("STATE?", "8")]
    with expected_protocol(AMI430, pairs) as ami:
        assert "ZERO" in make(AMI430Field, ami, clock).safe_state()
