"""Continual-learning metrics on a hand-made accuracy matrix."""

from __future__ import annotations

import numpy as np
import pytest

from protocols.learning import metrics


def test_metrics_of_a_known_matrix() -> None:
    R = np.array([[90.0, 10.0, 10.0], [50.0, 80.0, 10.0], [30.0, 60.0, 70.0]])
    assert metrics.average_accuracy(R) == pytest.approx((30 + 60 + 70) / 3)
    assert metrics.backward_transfer(R) == pytest.approx(((30 - 90) + (60 - 80)) / 2)
    assert metrics.forgetting(R) == pytest.approx(40.0)
    assert metrics.plasticity(R) == pytest.approx(80.0)
    assert metrics.backward_transfer(R[:1, :1]) == 0.0
    assert set(metrics.summary(R)) == {
        "average_accuracy_pct",
        "bwt_pct",
        "forgetting_pct",
        "plasticity_pct",
    }
