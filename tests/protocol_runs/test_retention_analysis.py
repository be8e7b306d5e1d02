"""Retention analysis on synthetic hold series: drift per decade and the non-volatile verdict."""

from __future__ import annotations

import numpy as np
import pytest

from protocols.analysis.retention import analyze_retention

HOLD_S = np.logspace(1, 4.5, 8)


def test_flat_noisy_series_is_nonvolatile_and_a_real_drift_is_not() -> None:
    rng = np.random.default_rng(3)
    noise = 0.0008 * rng.standard_normal(HOLD_S.size)  # a single loop's Hc scatter (T)
    flat = analyze_retention(HOLD_S, 0.025 + noise)
    assert flat.nonvolatile and abs(flat.span_drift_rel) < 0.05
    assert flat.drift_per_decade == pytest.approx(0.0, abs=3 * flat.drift_per_decade_err)
    # 2 mT per decade over 3.5 decades: 7 mT out of ~20 mT is far beyond 5 %
    falling = analyze_retention(HOLD_S, 0.025 - 0.002 * np.log10(HOLD_S / 10) + noise)
    assert not falling.nonvolatile
    assert falling.drift_per_decade == pytest.approx(-0.002, abs=3 * falling.drift_per_decade_err)
    assert falling.decades == pytest.approx(3.5)


def test_retention_needs_three_values() -> None:
    with pytest.raises(ValueError, match="at least three"):
        analyze_retention(np.array([1.0, 10.0, 100.0]), np.array([0.02, np.nan, 0.02]))
