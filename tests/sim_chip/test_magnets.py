"""Field magnets: electromagnet lag and remanence; AMI 430 state machine and quench."""

from __future__ import annotations

import math

import pytest

from sim_backend.magnets import (
    AMIState,
    Electromagnet,
    ElectromagnetParams,
    SuperconductingMagnet,
    SuperconductingMagnetParams,
)


def test_electromagnet_current_lags_exponentially() -> None:
    p = ElectromagnetParams()
    mag = Electromagnet(p, t0_s=10.0)
    mag.set_current(1.0, 10.0)
    for dt in (0.0, p.tau_L_s, 3 * p.tau_L_s):
        assert mag.current_at(10.0 + dt) == pytest.approx(1.0 - math.exp(-dt / p.tau_L_s))
    # a new setpoint mid-flight starts from the current reached, not from the old setpoint
    mag.set_current(0.0, 10.0 + p.tau_L_s)
    I1 = 1.0 - math.exp(-1.0)
    assert mag.current_at(10.0 + 2 * p.tau_L_s) == pytest.approx(I1 * math.exp(-1.0))
    with pytest.raises(ValueError, match="before the last magnet command"):
        mag.field_at(5.0)


def test_electromagnet_remanence_has_hysteresis() -> None:
    p = ElectromagnetParams()
    mag = Electromagnet(p)
    assert mag.field_at(0.0) == 0.0  # demagnetised
    I_big = 2 * p.B_sat_T / p.k_coil_T_per_A
    mag.set_current(I_big, 0.0)
    mag.set_current(0.0, 20 * p.tau_L_s)
    assert mag.field_at(60 * p.tau_L_s) == pytest.approx(p.B_rem_T, abs=1e-9)
    # a small negative excursion does not reverse the remanence ...
    mag.set_current(-0.5 * p.B_sat_T / p.k_coil_T_per_A, 60 * p.tau_L_s)
    mag.set_current(0.0, 80 * p.tau_L_s)
    assert mag.field_at(120 * p.tau_L_s) == pytest.approx(p.B_rem_T, abs=1e-9)
    # ... a saturating one does
    mag.set_current(-I_big, 120 * p.tau_L_s)
    mag.set_current(0.0, 140 * p.tau_L_s)
    assert mag.field_at(200 * p.tau_L_s) == pytest.approx(-p.B_rem_T, abs=1e-9)
    assert mag.settle_time_s(1e-4, 200 * p.tau_L_s) == 0.0
    with pytest.raises(ValueError, match="supply limit"):
        mag.set_current(2 * p.I_max_A, 300.0)


def test_ami_ramps_then_holds() -> None:
    mag = SuperconductingMagnet(t0_s=0.0)
    assert mag.state_at(0.0) == AMIState.PAUSED
    mag.set_ramp_rate(0.01, 0.0)
    mag.set_target(1.0, 0.0)
    mag.ramp(0.0)
    assert mag.state_at(50.0) == AMIState.RAMPING
    assert mag.field_at(50.0) == pytest.approx(0.5)
    assert mag.state_at(100.0) == AMIState.HOLDING and mag.field_at(150.0) == 1.0
    mag.pause(150.0)
    mag.set_target(-1.0, 150.0)
    assert mag.field_at(200.0) == 1.0 and mag.state_at(200.0) == AMIState.PAUSED
    mag.ramp(200.0)
    assert mag.field_at(300.0) == pytest.approx(0.0)
    mag.pause(300.0)
    assert mag.field_at(400.0) == pytest.approx(0.0) and mag.state_at(400.0) == AMIState.PAUSED
    mag.zero(400.0)
    assert mag.state_at(400.0) == AMIState.AT_ZERO


def test_ami_zeroing_and_rate_change_mid_ramp() -> None:
    mag = SuperconductingMagnet()
    mag.set_target(0.4, 0.0)
    mag.ramp(0.0)  # 0.01 T/s
    mag.set_ramp_rate(0.005, 20.0)  # at 0.2 T
    assert mag.field_at(40.0) == pytest.approx(0.3)
    mag.zero(40.0)
    assert mag.state_at(50.0) == AMIState.ZEROING
    assert mag.state_at(200.0) == AMIState.AT_ZERO and mag.field_at(200.0) == 0.0


def test_ami_refuses_out_of_limit_commands() -> None:
    p = SuperconductingMagnetParams()
    mag = SuperconductingMagnet(p)
    with pytest.raises(ValueError, match="field limit"):
        mag.set_target(p.field_limit_T * 1.1, 0.0)
    with pytest.raises(ValueError, match="ramp rate"):
        mag.set_ramp_rate(p.rate_limit_T_per_s * 2, 0.0)


def test_ami_quenches_when_ramped_too_fast() -> None:
    p = SuperconductingMagnetParams()
    mag = SuperconductingMagnet(p)
    rate = p.rate_limit_T_per_s  # allowed by the controller, beyond the magnet's quench rate
    assert rate > p.quench_rate_T_per_s
    mag.set_ramp_rate(rate, 0.0)
    mag.set_target(2.0, 0.0)
    mag.ramp(0.0)
    t_q = p.quench_onset_T / rate
    assert mag.state_at(0.99 * t_q) == AMIState.RAMPING
    assert mag.state_at(1.01 * t_q) == AMIState.QUENCH
    later = t_q + p.dump_tau_s
    assert mag.field_at(later) == pytest.approx(p.quench_onset_T * math.exp(-1.0))
    with pytest.raises(RuntimeError, match="quench"):
        mag.ramp(later)
    mag.reset_quench(later)
    assert mag.state_at(later) == AMIState.PAUSED


def test_ami_quenches_at_its_field_limit() -> None:
    p = SuperconductingMagnetParams(field_limit_T=10.0, quench_field_T=1.0)
    mag = SuperconductingMagnet(p)
    mag.set_target(2.0, 0.0)
    mag.ramp(0.0)  # 0.01 T/s, safe rate
    t_q = p.quench_field_T / mag.ramp_rate_T_per_s
    assert mag.state_at(0.99 * t_q) == AMIState.RAMPING
    assert mag.state_at(1.001 * t_q) == AMIState.QUENCH
    assert mag.field_at(1.001 * t_q) <= p.quench_field_T
