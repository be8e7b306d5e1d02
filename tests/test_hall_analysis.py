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
