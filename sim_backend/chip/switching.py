"""Thermally activated switching: Néel–Arrhenius field switching and SOT (PHYSICS.md §3).

    field: P = 1 − exp(−(Δt/τ0)·exp[−Δ·(1 − |H_z|/H0)^n])
    SOT:   P = 1 − exp(−(t_p/τ0)·exp[−Δ·(1 − J/Jc0)])
    both:  barrier Δ·(1 − H_z/H0)^n·(1 − J/Jc0)   (default heuristic)

Between calls the field is constant, so each device is a two-state Markov chain with the
escape rates out of each state; :func:`flip_probability_two_state` is its exact solution over
Δt (for Δ ≳ 20 the back-rate is negligible and it reduces to the formula above).
"""

from __future__ import annotations

import math

import numpy as np


def _pow(q: np.ndarray, n: float) -> np.ndarray:
    """q**n in place, with the common exponents as plain multiplies (np.power is slow)."""
    if n == 2.0:
        q *= q
    elif n != 1.0:
        np.power(q, n, out=q)
    return q


def field_barrier_factor(h_assist: np.ndarray, n: float) -> np.ndarray:
    """max(0, 1 − h)^n for the reduced assisting field h = H/H0 (new array)."""
    q = 1.0 - np.asarray(h_assist, dtype=float)
    np.maximum(q, 0.0, out=q)
    return _pow(q, n)


def p_field(
    field_assist_T: float | np.ndarray,
    dwell_s: float,
    H0_T: np.ndarray,
    delta: np.ndarray,
    tau0_s: float,
    n: float,
) -> np.ndarray:
    """P that a device opposing the field switches in ``dwell_s`` (PHYSICS §3, no back-rate).

    ``field_assist_T`` is the field component along the target direction (> 0 assists).
    Devices with H0 = 0 (invalid) get P = 0.
    """
    H0 = np.asarray(H0_T, dtype=float)
    safe = np.where(H0 > 0, H0, 1.0)
    barrier = np.asarray(delta) * field_barrier_factor(np.asarray(field_assist_T) / safe, n)
    P = -np.expm1(-(dwell_s / tau0_s) * np.exp(-barrier))
    return np.where(H0 > 0, P, 0.0)


def p_sot(
    J_A_per_m2: float | np.ndarray,
    width_s: float,
    Jc0_A_per_m2: np.ndarray,
    H0_T: np.ndarray,
    delta: np.ndarray,
    tau0_s: float,
    n: float,
    field_assist_T: float | np.ndarray = 0.0,
) -> np.ndarray:
    """P that a device opposing the SOT drive switches in one pulse of ``width_s``.

    ``J_A_per_m2`` is the current density magnitude. Devices with H0 = 0 get P = 0.
    """
    H0 = np.asarray(H0_T, dtype=float)
    safe_H0 = np.where(H0 > 0, H0, 1.0)
    Jc = np.asarray(Jc0_A_per_m2, dtype=float)
    safe_Jc = np.where(Jc > 0, Jc, 1.0)
    fj = np.maximum(1.0 - np.abs(J_A_per_m2) / safe_Jc, 0.0)
    barrier = np.asarray(delta) * field_barrier_factor(np.asarray(field_assist_T) / safe_H0, n)
    barrier = barrier * fj
    P = -np.expm1(-(width_s / tau0_s) * np.exp(-barrier))
    return np.where(H0 > 0, P, 0.0)


def flip_probability_two_state(
    m: np.ndarray,
    field_T: float,
    inv_H0_per_T: np.ndarray,
    delta: np.ndarray,
    dt_s: float,
    tau0_s: float,
    n: float,
) -> np.ndarray:
    """Exact probability that each device ends Δt in the other state (two-state chain).

    Escape hazards over Δt: Λ_out = (Δt/τ0)·exp(−Δ·max(0, 1 − s)^n) out of the present state
    and Λ_back with (1 + s), where s = −m·H/H0 > 0 when the field opposes m. Then
    P = Λ_out/(Λ_out + Λ_back)·(1 − exp(−(Λ_out + Λ_back))). Written with in-place ops
    because it runs on 1e6 devices per step.
    """
    log_dt = math.log(dt_s / tau0_s)
    s = m * (-field_T)
    s *= inv_H0_per_T
    lam_out = 1.0 - s
    s += 1.0  # s is now the back-barrier base 1 + s
    np.maximum(lam_out, 0.0, out=lam_out)
    np.maximum(s, 0.0, out=s)
    _pow(lam_out, n)
    _pow(s, n)
    lam_out *= delta
    s *= delta
    np.subtract(log_dt, lam_out, out=lam_out)
    np.subtract(log_dt, s, out=s)
    np.exp(lam_out, out=lam_out)
    np.exp(s, out=s)
    s += lam_out  # total hazard
    lam_out /= s
    np.expm1(np.negative(s, out=s), out=s)
    lam_out *= s
    np.negative(lam_out, out=lam_out)
    return lam_out


def sharrock_field_T(t_s: float, H0_T: float, delta: float, tau0_s: float, n: float) -> float:
    """Sharrock coercive field Hc(t) = H0·{1 − [ln(t/(τ0·ln2))/Δ]^(1/n)} (T), floored at 0."""
    arg = math.log(t_s / (tau0_s * math.log(2.0))) / delta
    if arg >= 1.0:
        return 0.0
    return H0_T * (1.0 - max(arg, 0.0) ** (1.0 / n))
