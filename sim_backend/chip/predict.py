"""Closed-form predictions of what a measurement on the virtual chip should give.

Pure functions of the parameters, used by tests to check simulated loops and pulses against
the physics of docs/physics.md §1 and §3 without running the simulator. Every law comes from the
device model (``labctl.physics``); the sweep predictions are re-exported from it.
"""

from __future__ import annotations

import numpy as np

from labctl.physics import anisotropy, kinetics
from labctl.physics.kinetics import x_after_gate
from labctl.physics.params import ChipParams
from labctl.physics.sharrock import coercive_field_stepwise_T, sharrock_hc_T, survival_stepwise
from labctl.physics.switching import p_sot

__all__ = [
    "H0_delta_at_x",
    "coercive_field_stepwise_T",
    "sharrock_hc_T",
    "sot_switching_probability",
    "survival_stepwise",
    "x_after_gate",
    "x_after_gate_program",
]


def x_after_gate_program(
    params: ChipParams,
    x0: float,
    voltage_V: float,
    total_s: float,
    A_scale: float = 1.0,
    temperature_K: float | None = None,
) -> float:
    """x after ``total_s`` seconds (sum of the pulse durations) at gate ``voltage_V`` (V).

    The exact kinetics step of docs/physics.md §1 at the nominal rate times the device's prefactor
    factor ``A_scale`` (cycle-to-cycle noise averages out over many pulses).
    """
    kp = params.kinetics
    T = params.temperature_K if temperature_K is None else temperature_K
    rate_per_s = kinetics.rate_per_s(kp, voltage_V, T) * A_scale
    oxidising = voltage_V * kp.oxidising_polarity > 0
    return float(x_after_gate(x0, rate_per_s, total_s, oxidising))


def H0_delta_at_x(
    params: ChipParams, x: float, H0_scale: float = 1.0, delta_scale: float = 1.0
) -> tuple[float, float]:
    """(µ0·H0 in T, Δ) of a device at hidden state ``x`` with its variability factors, at 0 V."""
    xs = np.array([x], dtype=float)
    H0 = float(anisotropy.H0_T(params, xs)[0]) * H0_scale
    delta = float(anisotropy.delta(params, xs)[0]) * delta_scale
    return H0, delta


def sot_switching_probability(
    J_A_per_m2: float,
    width_s: float,
    Jc0_A_per_m2: np.ndarray,
    H0_T: np.ndarray,
    delta: np.ndarray,
    tau0_s: float = 1e-9,
    n: float = 2.0,
    Jc_c2c_rel: float = 0.0,
    field_assist_T: float = 0.0,
) -> float:
    """Population-mean Néel–Arrhenius probability that one SOT pulse switches a device.

    Averages the per-device P of docs/physics.md §3 over the devices given and over the
    pulse-to-pulse Gaussian spread ``Jc_c2c_rel`` of Jc0 (Gauss–Hermite quadrature, 24 nodes).
    """
    nodes, weights = np.polynomial.hermite_e.hermegauss(24)
    weights = weights / weights.sum()
    factors = np.maximum(1.0 + Jc_c2c_rel * nodes, 0.05) if Jc_c2c_rel > 0 else np.ones(1)
    weights = weights if Jc_c2c_rel > 0 else np.ones(1)
    Jc = np.asarray(Jc0_A_per_m2, dtype=float)[None, :] * factors[:, None]
    P = p_sot(J_A_per_m2, width_s, Jc, np.asarray(H0_T), np.asarray(delta), tau0_s, n,
              field_assist_T=field_assist_T)  # fmt: skip
    return float((weights[:, None] * P).sum(axis=0).mean())
