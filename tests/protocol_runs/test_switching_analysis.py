"""The switching-probability analysis on synthetic binomial counts of the switching law
(docs/physics.md §3), no bench.

Statistical soundness: over many seeded repetitions the binomial maximum-likelihood fit is
unbiased, its reported uncertainty is the real scatter, and 60 trials × 12 points keep Δ
within 20 % with a wide margin (the protocol test relies on that).
"""

from __future__ import annotations

import numpy as np
import pytest

from protocols.analysis.switching import (
    empirical_x50,
    fit_switching,
    isotonic_probability,
    p_switch,
    transition_window,
)

H0_T, DELTA, HOLD_S = 0.0675, 55.0, 1.3


def transition_fields(points: int) -> np.ndarray:
    """``points`` fields across P = 3 %…97 % of the model (what the auto range scans)."""
    grid = np.linspace(0.0, H0_T, 4000)
    p = p_switch(grid, "field", scale=H0_T, delta=DELTA, width_s=HOLD_S)
    return np.linspace(grid[np.argmax(p > 0.03)], grid[np.argmax(p > 0.97)], points)


def fits(trials: int, points: int, repeats: int) -> np.ndarray:
    """(Δ/Δ_true, H0/H0_true, pull of Δ) for ``repeats`` seeded synthetic curves."""
    rng = np.random.default_rng(2024)
    x = transition_fields(points)
    p = p_switch(x, "field", scale=H0_T, delta=DELTA, width_s=HOLD_S)
    out = []
    for _ in range(repeats):
        k = rng.binomial(trials, p)
        f = fit_switching(x, k, np.full(points, trials), "field", width_s=HOLD_S)
        out.append((f.delta / DELTA, f.scale / H0_T, (f.delta - DELTA) / f.delta_err))
    return np.array(out)


def test_field_fit_is_unbiased_and_its_error_is_the_scatter() -> None:
    r = fits(trials=60, points=12, repeats=40)
    delta_ratio, h0_ratio, pull = r.T
    sd = float(np.std(delta_ratio, ddof=1))
    assert abs(delta_ratio.mean() - 1.0) < 3 * sd / np.sqrt(len(r))  # no bias
    assert abs(h0_ratio.mean() - 1.0) < 0.01
    assert 0.7 < np.std(pull, ddof=1) < 1.4  # the reported σ is the real scatter
    assert np.max(np.abs(delta_ratio - 1.0)) < 0.20  # 60 × 12: well inside the test tolerance
    assert sd < 0.20 / 3


def test_amplitude_and_width_fits_recover_their_parameters() -> None:
    rng = np.random.default_rng(7)
    v = np.linspace(1.6, 2.2, 10)
    p = p_switch(v, "amplitude", scale=2.5, delta=40.0, width_s=1e-3)
    f = fit_switching(v, rng.binomial(200, p), np.full(10, 200), "amplitude", width_s=1e-3)
    assert f.scale == pytest.approx(2.5, rel=0.05) and f.delta == pytest.approx(40.0, rel=0.15)
    widths = np.logspace(-3, 1, 9)
    p = p_switch(widths, "width", scale=1.0, delta=20.0, width_s=1.0)
    f = fit_switching(widths, rng.binomial(200, p), np.full(9, 200), "width")
    assert f.delta == pytest.approx(20.0, abs=3 * f.delta_err)
    assert f.x50 == pytest.approx(1e-9 * np.log(2) * np.exp(20.0), rel=0.1)


def test_fit_rejects_a_bad_mode_and_too_few_points() -> None:
    with pytest.raises(ValueError, match="mode 'pulse'"):
        fit_switching([1, 2, 3], [0, 1, 2], [2, 2, 2], "pulse")
    with pytest.raises(ValueError, match="at least three"):
        fit_switching([1, 2], [0, 1], [2, 2], "field")


def test_isotonic_probability_pools_repeats_and_violators() -> None:
    xs, p = isotonic_probability([1, 2, 3, 4, 2], [0, 4, 1, 6, 0], [6, 6, 6, 6, 6])
    assert xs.tolist() == [1, 2, 3, 4]
    # drive 2: 4/12; then 1/6 at drive 3 violates the order and is pooled: 5/18 for both
    np.testing.assert_allclose(p, [0.0, 5 / 18, 5 / 18, 1.0])


def test_empirical_x50_interpolates_and_is_nan_without_a_crossing() -> None:
    assert empirical_x50([1, 2, 3, 4], [0, 2, 4, 6], [6, 6, 6, 6]) == pytest.approx(2.5)
    assert np.isnan(empirical_x50([1, 2, 3], [6, 6, 6], [6, 6, 6]))  # already switched
    assert np.isnan(empirical_x50([1, 2, 3], [0, 1, 2], [6, 6, 6]))  # never reaches 1/2


def test_transition_window_brackets_the_rise() -> None:
    drive = np.linspace(0.005, 0.045, 9)
    p = p_switch(drive, "field", scale=H0_T, delta=DELTA, width_s=HOLD_S)
    lo, hi = transition_window(drive, p)
    x50 = float(np.interp(0.5, p, drive))
    assert lo < x50 < hi and hi - lo <= 2 * (drive[1] - drive[0]) + 1e-12
