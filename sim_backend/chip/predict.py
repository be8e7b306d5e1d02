"""Closed-form predictions of what a measurement on the virtual chip should give.

Pure functions of the parameters, used by tests and analyses to check simulated and measured
loops against the physics of PHYSICS.md §1 and §3 without running the simulator.
"""

from __future__ import annotations

import math

import numpy as np

from sim_backend.chip import anisotropy, kinetics
from sim_backend.chip.params import ChipParams
from sim_backend.chip.switching import field_barrier_factor, p_sot, sharrock_field_T

__all__ = [
    "H0_delta_at_x",
    "coercive_field_stepwise_T",
    "sharrock_hc_T",
    "sot_switching_probability",
    "survival_stepwise",
    "x_after_gate",
    "x_after_gate_program",
]


def survival_stepwise(
    fields_T: np.ndarray,
    dwell_s: float,
    H0_T: float | np.ndarray,
    delta: float | np.ndarray,
    start_m: int = 1,
    tau0_s: float = 1e-9,
    n: float = 2.0,
) -> np.ndarray:
    """Probability that a device starting at ``start_m`` has not switched after each point.

    The field steps through ``fields_T`` and dwells ``dwell_s`` at each; the hazard of a point
    is (dwell/τ0)·exp(−Δ·max(0, 1 − h)^n) with h the field along −start_m over H0.
    With arrays ``H0_T``/``delta`` (a device population) the survival is the population mean.
    Returns an array of the length of ``fields_T``.
    """
    fields = np.asarray(fields_T, dtype=float)
    H0 = np.atleast_1d(np.asarray(H0_T, dtype=float))[None, :]
    d = np.atleast_1d(np.asarray(delta, dtype=float))[None, :]
    h = (-start_m * fields)[:, None] / H0
    hazard = (dwell_s / tau0_s) * np.exp(-d * field_barrier_factor(h, n))
    return np.exp(-np.cumsum(hazard, axis=0)).mean(axis=1)


def coercive_field_stepwise_T(
    fields_T: np.ndarray,
    dwell_s: float,
    H0_T: float | np.ndarray,
    delta: float | np.ndarray,
    start_m: int = 1,
    tau0_s: float = 1e-9,
    n: float = 2.0,
) -> float:
    """Median switching field (T) of a stepwise sweep: the first field point at which the
    (population-mean) survival has fallen to 1/2 — what the median over many devices of
    "the field point at which each device switched" gives. NaN if it never falls that far.
    """
    S = survival_stepwise(fields_T, dwell_s, H0_T, delta, start_m, tau0_s, n)
    below = np.flatnonzero(S <= 0.5)
    return float(np.asarray(fields_T)[below[0]]) if below.size else math.nan


def sharrock_hc_T(t_s: float, H0_T: float, delta: float, tau0_s: float = 1e-9, n: float = 2.0):
    """Sharrock Hc(t) = H0·{1 − [(1/Δ)·ln(t/(τ0·ln 2))]^(1/n)} (T): the field at which half
    of the devices switch within ``t_s`` at constant field."""
    return sharrock_field_T(t_s, H0_T, delta, tau0_s, n)


def x_after_gate(x0: float | np.ndarray, rate_per_s: float, duration_s: float, oxidising: bool):
    """Exact x after a constant gate: 1 − (1 − x0)·e^{−rt} (oxidising) or x0·e^{−rt}."""
    decay = math.exp(-rate_per_s * duration_s)
    x0 = np.asarray(x0, dtype=float)
    return 1.0 - (1.0 - x0) * decay if oxidising else x0 * decay


def x_after_gate_program(
    params: ChipParams,
    x0: float,
    voltage_V: float,
    total_s: float,
    A_scale: float = 1.0,
    temperature_K: float | None = None,
) -> float:
    """x after ``total_s`` seconds (sum of the pulse durations) at gate ``voltage_V`` (V).

    The exact kinetics step of PHYSICS §1 at the nominal rate times the device's prefactor
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

    Averages the per-device P of PHYSICS §3 over the devices given and over the pulse-to-pulse
    Gaussian spread ``Jc_c2c_rel`` of Jc0 (Gauss–Hermite quadrature, 24 nodes).
    """
    nodes, weights = np.polynomial.hermite_e.hermegauss(24)
    weights = weights / weights.sum()
    factors = np.maximum(1.0 + Jc_c2c_rel * nodes, 0.05) if Jc_c2c_rel > 0 else np.ones(1)
    weights = weights if Jc_c2c_rel > 0 else np.ones(1)
    Jc = np.asarray(Jc0_A_per_m2, dtype=float)[None, :] * factors[:, None]
    P = p_sot(J_A_per_m2, width_s, Jc, np.asarray(H0_T), np.asarray(delta), tau0_s, n,
              field_assist_T=field_assist_T)  # fmt: skip
    return float((weights[:, None] * P).sum(axis=0).mean())
