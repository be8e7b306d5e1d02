"""The Hall-loop analysis on synthetic loops with known coercive fields, amplitude and offset."""

from __future__ import annotations

import numpy as np
import pytest

from protocols.analysis.hall import analyze_hall_loop


def _loop(hc_down: float, hc_up: float, amp: float, off: float, noise: float, seed: int = 0):
    rng = np.random.default_rng(seed)
    down = np.linspace(0.08, -0.08, 161)
    up = down[::-1][1:]
    v_down = np.where(down > hc_down, amp, -amp) + off
    v_up = np.where(up < hc_up, -amp, amp) + off
    field = np.concatenate([down, up])
    v = np.concatenate([v_down, v_up]) + noise * rng.standard_normal(field.size)
    branch = np.concatenate([np.zeros(down.size), np.ones(up.size)])
    return field, v, branch


@pytest.mark.parametrize(("hc_down", "hc_up"), [(-0.0203, 0.0207), (-0.031, 0.019)])
def test_recovers_coercive_fields_amplitude_offset(hc_down: float, hc_up: float) -> None:
    field, v, branch = _loop(hc_down, hc_up, amp=1e-4, off=-2e-5, noise=2e-6)
    r = analyze_hall_loop(field, v, branch, excitation_A=1e-4)
    step = 1e-3  # the field step bounds the crossing resolution
    assert r.hc_down_T == pytest.approx(hc_down, abs=step)
    assert r.hc_up_T == pytest.approx(hc_up, abs=step)
    assert r.coercive_field_T == pytest.approx((hc_up - hc_down) / 2, abs=step)
    assert r.loop_shift_T == pytest.approx((hc_up + hc_down) / 2, abs=step)
    assert r.amplitude_V == pytest.approx(1e-4, rel=0.02)
    assert r.offset_V == pytest.approx(-2e-5, abs=2e-6)
    assert r.r_ahe_ohm == pytest.approx(1.0, rel=0.02)
    assert r.squareness == pytest.approx(1.0, abs=0.05)


def test_negative_ahe_sign_is_kept() -> None:
    field, v, branch = _loop(-0.02, 0.02, amp=-5e-5, off=0.0, noise=0.0)
    r = analyze_hall_loop(field, v, branch)
    assert r.amplitude_V == pytest.approx(-5e-5) and r.coercive_field_T == pytest.approx(
        0.02, abs=1e-3
    )


def test_unsaturated_or_one_branch_is_refused() -> None:
    field, v, branch = _loop(-0.02, 0.02, 1e-4, 0.0, 0.0)
    with pytest.raises(ValueError, match="both branches"):
        analyze_hall_loop(field, v, np.zeros_like(branch))


def test_an_abrupt_switch_gives_the_bracket_middle_with_the_step_uncertainty() -> None:
    """A square loop sampled every 1 mT: the crossing lies between the bracketing points; the
    interpolation gives their middle and the step its standard uncertainty (uniform, 1/√12)."""
    step = 1e-3
    field, v, branch = _loop(-0.0203, 0.0207, amp=1e-4, off=0.0, noise=0.0)
    r = analyze_hall_loop(field, v, branch)
    assert r.hc_down_T == pytest.approx(-0.0205)  # between -0.020 and -0.021
    assert r.hc_up_T == pytest.approx(0.0205)
    assert r.hc_down_err_T == pytest.approx(step / np.sqrt(12))
    assert r.hc_up_err_T == pytest.approx(step / np.sqrt(12))
    assert r.coercive_field_err_T == pytest.approx(step / np.sqrt(12) / np.sqrt(2))
    assert r.loop_shift_err_T == pytest.approx(r.coercive_field_err_T)
    # the true fields lie within √3 standard uncertainties (the half-width of the bracket)
    assert abs(r.hc_down_T - -0.0203) <= np.sqrt(3) * r.hc_down_err_T
    assert abs(r.hc_up_T - 0.0207) <= np.sqrt(3) * r.hc_up_err_T


def test_a_gradual_crossing_is_interpolated_between_the_bracketing_points() -> None:
    """A loop whose branches cross the centre over several points: the crossing is read
    between the two points that bracket it, off the grid and off the bracket's middle."""
    field = np.linspace(0.08, -0.08, 161)
    up = field[::-1][1:]
    hc = 0.0203
    v_down = 1e-4 * np.tanh((field + hc) / 0.004)
    v_up = 1e-4 * np.tanh((up - hc) / 0.004)
    branch = np.concatenate([np.zeros(field.size), np.ones(up.size)])
    r = analyze_hall_loop(np.concatenate([field, up]), np.concatenate([v_down, v_up]), branch)
    assert r.hc_up_T == pytest.approx(hc, abs=2e-5)
    assert r.hc_down_T == pytest.approx(-hc, abs=2e-5)
    assert abs(r.hc_up_T / 1e-3 - round(r.hc_up_T / 1e-3 - 0.5) - 0.5) > 0.1  # not the middle
    assert r.coercive_field_err_T == pytest.approx(1e-3 / np.sqrt(12) / np.sqrt(2))
