"""Continual-learning metrics from the accuracy matrix, and the device-cost summary.

``R[i, j]`` is the test accuracy (percent) on task ``j`` after training task ``i``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from instruments.roles import SynapseArray


def average_accuracy(R: np.ndarray) -> float:
    """Mean of the last row: accuracy over all tasks at the end of the sequence."""
    return float(np.mean(R[-1]))


def backward_transfer(R: np.ndarray) -> float:
    """BWT = mean over t < T−1 of R[T−1, t] − R[t, t] (0 for a single task)."""
    T = R.shape[0]
    if T < 2:
        return 0.0
    return float(np.mean([R[T - 1, t] - R[t, t] for t in range(T - 1)]))


def forgetting(R: np.ndarray) -> float:
    """The negative of the backward transfer."""
    return -backward_transfer(R)


def plasticity(R: np.ndarray) -> float:
    """Mean of the diagonal: how well each task is learnt when it is trained."""
    return float(np.mean(np.diag(R)))


def summary(R: np.ndarray) -> dict[str, float]:
    return {
        "average_accuracy_pct": average_accuracy(R),
        "bwt_pct": backward_transfer(R),
        "forgetting_pct": forgetting(R),
        "plasticity_pct": plasticity(R),
    }


def device_cost(
    array: SynapseArray | None, rule_counts: dict[str, int], steps: int
) -> dict[str, Any]:
    """The array's own operation counts (reads, pulses, router ops, transactions, energy)
    merged with the rule's counts, plus per-step rates."""
    cost: dict[str, Any] = {f"rule_{k}": int(v) for k, v in rule_counts.items()}
    if array is not None:
        cost.update(array.counts.as_dict())
        if steps:
            cost["transactions_per_step"] = array.counts.transactions / steps
            cost["write_pulses_per_step"] = array.counts.write_pulses / steps
    return cost
