"""Sharrock's law: the coercive field of a sweep versus the time spent per field
(docs/physics.md §3).

At a constant field a device opposing it switches with the Néel–Arrhenius rate
``(1/τ0)·exp(−Δ·(1 − H/H0)^n)``; the field at which half of the trials have switched within
``t`` is Sharrock's ``Hc(t) = H0·{1 − [ln(t/(τ0·ln 2))/Δ]^(1/n)}``.

A Hall loop is a *stepwise* sweep: the field dwells ``t_step`` at each point ``k·step``. Its
expected coercive field follows from the survival through the steps (:func:`stepwise_hc_T`),
including the half-step that the loop analysis' interpolated crossing adds; its median
switching field over a device population from :func:`survival_stepwise`. Both count escapes
with :func:`labctl.physics.switching.escape_hazard`, the simulator's own law.
"""

from __future__ import annotations

import math

import numpy as np

from labctl.physics.switching import escape_hazard, field_barrier_factor

LN2 = math.log(2.0)


def sharrock_hc_T(
    t_s: np.ndarray | float, H0_T: float, delta: float, tau0_s: float = 1e-9, n: float = 2.0
) -> np.ndarray:
    """Constant-field Sharrock coercive field (T) for waiting times ``t_s`` (floored at 0)."""
    arg = np.log(np.asarray(t_s, dtype=float) / (tau0_s * LN2)) / delta
    arg = np.clip(arg, 0.0, 1.0)
    return H0_T * (1.0 - arg ** (1.0 / n))


def stepwise_hc_T(
    t_step_s: np.ndarray | float,
    step_T: float,
    H0_T: float,
    delta: float,
    tau0_s: float = 1e-9,
    n: float = 2.0,
) -> np.ndarray:
    """Expected coercive field (T) of stepwise sweeps with ``t_step_s`` per point (1-d array).

    The field opposing the magnetisation takes the values ``k·step_T`` (k = 1, 2, ...), each
    for ``t_step_s``; the loop analysis puts the crossing half a step before the first
    switched point. Returns the mean of that crossing over the switching-point distribution.
    With ``step_T <= 0`` (a constant field, no steps) this is :func:`sharrock_hc_T`.
    """
    t = np.atleast_1d(np.asarray(t_step_s, dtype=float))
    if step_T <= 0:
        return sharrock_hc_T(t, H0_T, delta, tau0_s, n)
    k_max = max(2, math.ceil(1.2 * H0_T / step_T))
    h = step_T * np.arange(1, k_max + 1)
    barrier = delta * field_barrier_factor(h / H0_T, n)
    hazard = escape_hazard(t[:, None], barrier[None, :], tau0_s)
    survival = np.exp(-np.cumsum(hazard, axis=1))
    before = np.concatenate([np.ones((t.size, 1)), survival[:, :-1]], axis=1)
    p_switch_at = before - survival
    hc = (p_switch_at * (h - step_T / 2)[None, :]).sum(axis=1)
    return hc / np.maximum(p_switch_at.sum(axis=1), 1e-300)


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
    hazard = escape_hazard(dwell_s, d * field_barrier_factor(h, n), tau0_s)
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
