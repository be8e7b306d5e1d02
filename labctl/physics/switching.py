"""Thermally activated switching: Néel–Arrhenius field switching and SOT (docs/physics.md §3).

    field: P = 1 − exp(−(Δt/τ0)·exp[−Δ·(1 − |H_z|/H0)^n])
    SOT:   P = 1 − exp(−(t_p/τ0)·exp[−Δ·(1 − J/Jc0)])
    both:  barrier Δ·(1 − H_z/H0)^n·(1 − J/Jc0)   (default heuristic)

Between calls the field is constant, so each device is a two-state Markov chain with the
escape rates out of each state; :func:`p_two_state_one` is its exact solution over Δt (for
Δ ≳ 20 the back-rate is negligible and it reduces to the formula above), compiled (numba) for
the simulator's 1e6-device steps. The simulator draws with these
functions; the protocols' analysis and the calibration fit :func:`p_switch` and
:func:`p_field`, which are built on the same :func:`p_arrhenius`.
"""

from __future__ import annotations

import math

import numpy as np

from labctl.physics.jit import law


def _pow(q: np.ndarray, n: float) -> np.ndarray:
    """q**n in place, with the common exponents as plain multiplies (np.power is slow)."""
    if n == 2.0:
        q *= q
    elif n != 1.0:
        np.power(q, n, out=q)
    return q


def escape_hazard(
    duration_s: float | np.ndarray, barrier: float | np.ndarray, tau0_s: float
) -> np.ndarray:
    """Expected number of thermally activated escapes over ``duration_s``: (t/τ0)·e^{−B}."""
    return (duration_s / tau0_s) * np.exp(-barrier)


def p_arrhenius(
    duration_s: float | np.ndarray, barrier: float | np.ndarray, tau0_s: float
) -> np.ndarray:
    """Néel–Arrhenius P = 1 − exp(−(t/τ0)·e^{−B}) of crossing barrier B (in k_B T) within t."""
    return -np.expm1(-escape_hazard(duration_s, barrier, tau0_s))


def field_barrier_factor(h_assist: np.ndarray, n: float) -> np.ndarray:
    """max(0, 1 − h)^n for the reduced assisting field h = H/H0 (new array)."""
    q = np.asarray(1.0 - np.asarray(h_assist, dtype=float))  # an array even for one value
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
    """P that a device opposing the field switches in ``dwell_s`` (docs/physics.md §3, no
    back-rate).

    ``field_assist_T`` is the field component along the target direction (> 0 assists).
    Devices with H0 = 0 (invalid) get P = 0.
    """
    H0 = np.asarray(H0_T, dtype=float)
    safe = np.where(H0 > 0, H0, 1.0)
    barrier = np.asarray(delta) * field_barrier_factor(np.asarray(field_assist_T) / safe, n)
    P = p_arrhenius(dwell_s, barrier, tau0_s)
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
    P = p_arrhenius(width_s, barrier, tau0_s)
    return np.where(H0 > 0, P, 0.0)


@law
def _pow_one(q: float, n: float) -> float:
    if n == 2.0:
        return q * q
    if n == 1.0:
        return q
    return q**n


@law
def log_hazard_out_one(m: float, field_T: float, inv_H0_per_T: float, delta: float,
                    log_dt_tau0: float, n: float) -> float:  # fmt: skip
    """ln Λ_out = ln(Δt/τ0) − Δ·max(0, 1 − s)^n, s = −m·H/H0 (the escape out of state m)."""
    s = m * (-field_T) * inv_H0_per_T
    return log_dt_tau0 - _pow_one(max(1.0 - s, 0.0), n) * delta


@law
def p_two_state_one(m: float, field_T: float, inv_H0_per_T: float, delta: float,
                    log_dt_tau0: float, n: float) -> float:  # fmt: skip
    """Exact probability that one device ends Δt in the other state (two-state chain).

    Escape hazards over Δt: Λ_out = (Δt/τ0)·exp(−Δ·max(0, 1 − s)^n) out of the present state
    and Λ_back with (1 + s), where s = −m·H/H0 > 0 when the field opposes m. Then
    P = Λ_out/(Λ_out + Λ_back)·(1 − exp(−(Λ_out + Λ_back))). ``log_dt_tau0`` = ln(Δt/τ0).
    The kernels of :mod:`labctl.physics.arrays` apply it to device arrays.
    """
    s = m * (-field_T) * inv_H0_per_T
    lam_out = math.exp(log_hazard_out_one(m, field_T, inv_H0_per_T, delta, log_dt_tau0, n))
    lam_back = math.exp(log_dt_tau0 - _pow_one(max(s + 1.0, 0.0), n) * delta)
    total = lam_back + lam_out
    return -(lam_out / total * math.expm1(-total))


# ln-units by which Λ_out must stay below a draw u to decide "no flip" without P: far above
# the few ulps by which the computed P can exceed the computed Λ_out (P <= Λ_out exactly).
_NO_FLIP_MARGIN = 1e-6


@law
def may_flip_one(u: float, log_hazard_out: float) -> bool:
    """False when a draw ``u`` is surely above P (<= Λ_out): ln Λ_out + margin < −(1 − u)/u
    <= ln u, tested as 1 + u·(ln Λ_out + margin − 1) < 0 (no exponential, no division)."""
    return 1.0 + u * (log_hazard_out + (_NO_FLIP_MARGIN - 1.0)) >= 0.0


@law
def flips_one(u: float, m: float, field_T: float, inv_H0_per_T: float, delta: float,
              log_dt_tau0: float, n: float) -> bool:  # fmt: skip
    """``u < p_two_state_one(...)``: does a device with uniform draw ``u`` flip over Δt.

    The same decision, cheaper: P <= Λ_out, so when :func:`may_flip_one` rules the draw out
    no exponential is needed (most devices of a big chip, every step).
    """
    lh = log_hazard_out_one(m, field_T, inv_H0_per_T, delta, log_dt_tau0, n)
    if not may_flip_one(u, lh):
        return False
    return u < p_two_state_one(m, field_T, inv_H0_per_T, delta, log_dt_tau0, n)


SWITCHING_MODES = ("field", "amplitude", "width")


def p_switch(
    drive: np.ndarray | float,
    mode: str,
    *,
    scale: float,
    delta: float,
    width_s: float,
    tau0_s: float = 1e-9,
    n: float = 2.0,
) -> np.ndarray:
    """Switching probability of one device. ``drive``: |H| (T), amplitude (V) or width (s)
    by ``mode``:

        field:     P(H) = 1 − exp(−(t/τ0)·exp[−Δ·(1 − H/H0)^n])
        amplitude: P(V) = 1 − exp(−(t_p/τ0)·exp[−Δ·(1 − V/Vc0)])      (J ∝ V: Jc0 = Vc0·J/V)
        width:     P(t) = 1 − exp(−(t/τ0)·exp[−B])                     (B: barrier at that drive)

    ``scale``: H0 (T) for ``field``, Vc0 (V) for ``amplitude``; for ``width`` ``delta`` is the
    barrier B and ``scale`` is unused.
    """
    x = np.abs(np.asarray(drive, dtype=float))
    if mode == "width":
        return p_arrhenius(x, delta, tau0_s)
    exponent = n if mode == "field" else 1.0
    barrier = delta * field_barrier_factor(x / scale, exponent)
    return p_arrhenius(width_s, barrier, tau0_s)
