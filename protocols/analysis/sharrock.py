"""Sharrock's law: coercive field versus time, and a fit that gives Δ and H0 (PHYSICS §3).

At a constant field a device opposing it switches with the Néel–Arrhenius rate
``(1/τ0)·exp(−Δ·(1 − H/H0)^n)``; the field at which half of the trials have switched within
``t`` is Sharrock's ``Hc(t) = H0·{1 − [ln(t/(τ0·ln 2))/Δ]^(1/n)}``.

A Hall loop is a *stepwise* sweep: the field dwells ``t_step`` at each point ``k·step``. The
expected coercive field of such a loop is computed exactly from the survival through the steps
(:func:`stepwise_hc_T`), including the half-step that the loop analysis' interpolated crossing
adds. Fitting that model to Hc versus time per step is Sharrock's law for a stepwise sweep; the
constant-field form is kept for a first guess and for the figure.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
from scipy.optimize import curve_fit

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
    """Expected coercive field (T) of a stepwise sweep with ``t_step_s`` per point.

    The field opposing the magnetisation takes the values ``k·step_T`` (k = 1, 2, ...), each
    for ``t_step_s``; the loop analysis puts the crossing half a step before the first
    switched point. Returns the mean of that crossing over the switching-point distribution.
    """
    t = np.atleast_1d(np.asarray(t_step_s, dtype=float))
    k_max = max(2, math.ceil(1.2 * H0_T / step_T))
    h = step_T * np.arange(1, k_max + 1)
    q = np.clip(1.0 - h / H0_T, 0.0, None) ** n
    log_hazard = np.log(t / tau0_s)[:, None] - delta * q[None, :]
    hazard = np.exp(np.minimum(log_hazard, 50.0))
    survival = np.exp(-np.cumsum(hazard, axis=1))
    before = np.concatenate([np.ones((t.size, 1)), survival[:, :-1]], axis=1)
    p_switch_at = before - survival
    hc = (p_switch_at * (h - step_T / 2)[None, :]).sum(axis=1) / p_switch_at.sum(axis=1)
    return hc if np.ndim(t_step_s) else hc[:1]


@dataclass(frozen=True)
class SharrockFit:
    delta: float
    delta_err: float
    H0_T: float
    H0_err_T: float
    tau0_s: float
    n_exponent: float
    step_T: float
    chi2_reduced: float
    points: int
    model: str

    def as_dict(self) -> dict[str, float | int | str]:
        return asdict(self)


def _first_guess(t_s: np.ndarray, hc_T: np.ndarray, tau0_s: float, n: float) -> tuple[float, float]:
    """H0 and Δ from the straight line Hc = H0 − (H0/Δ^(1/n))·u, u = ln(t/τ0 ln2)^(1/n)."""
    u = np.log(t_s / (tau0_s * LN2)) ** (1.0 / n)
    if np.ptp(u) > 0 and hc_T.size >= 2:
        slope, intercept = np.polyfit(u, hc_T, 1)
        if slope < 0 and intercept > 0:
            return float(intercept), float((intercept / -slope) ** n)
    H0 = 2.0 * float(np.max(hc_T))
    return H0, float(np.mean(u**n) / max(1e-3, (1 - np.mean(hc_T) / H0) ** n))


def fit_sharrock(
    t_step_s: np.ndarray,
    hc_T: np.ndarray,
    hc_err_T: np.ndarray | None = None,
    *,
    step_T: float = 0.0,
    tau0_s: float = 1e-9,
    n: float = 2.0,
) -> SharrockFit:
    """Fit Δ and H0 (with 1σ uncertainties) to coercive fields measured at several times.

    ``t_step_s``: time per field point (a sweep) or the waiting time (``step_T = 0``: the
    constant-field law). ``hc_err_T``: standard errors of ``hc_T``; without them the scatter
    of the residuals sets the uncertainties. τ0 and n are held fixed (PHYSICS §3 convention).
    """
    t = np.asarray(t_step_s, dtype=float)
    hc = np.asarray(hc_T, dtype=float)
    ok = np.isfinite(t) & np.isfinite(hc) & (t > 0) & (hc > 0)
    t, hc = t[ok], hc[ok]
    sigma = None if hc_err_T is None else np.asarray(hc_err_T, dtype=float)[ok]
    if sigma is not None and not np.all(np.isfinite(sigma) & (sigma > 0)):
        sigma = None
    if np.unique(t).size < 2:
        raise ValueError("a Sharrock fit needs coercive fields at two or more times")
    H0_guess, delta_guess = _first_guess(t, hc, tau0_s, n)

    if step_T > 0:

        def model(tt: np.ndarray, H0: float, delta: float) -> np.ndarray:
            return stepwise_hc_T(tt, step_T, H0, delta, tau0_s, n)

        name = "stepwise sweep"
    else:

        def model(tt: np.ndarray, H0: float, delta: float) -> np.ndarray:
            return sharrock_hc_T(tt, H0, delta, tau0_s, n)

        name = "constant field"
    popt, pcov = curve_fit(
        model,
        t,
        hc,
        p0=(H0_guess, max(delta_guess, 2.0)),
        sigma=sigma,
        absolute_sigma=sigma is not None,
        bounds=((float(np.max(hc)), 1.0), (50.0 * float(np.max(hc)), 1e4)),
        maxfev=20_000,
    )
    residual = (hc - model(t, *popt)) / (sigma if sigma is not None else 1.0)
    dof = max(1, t.size - 2)
    perr = np.sqrt(np.diag(pcov))
    chi2 = float(np.sum(residual**2) / dof) if sigma is not None else float("nan")
    return SharrockFit(
        delta=float(popt[1]),
        delta_err=float(perr[1]),
        H0_T=float(popt[0]),
        H0_err_T=float(perr[0]),
        tau0_s=tau0_s,
        n_exponent=n,
        step_T=step_T,
        chi2_reduced=chi2,
        points=int(t.size),
        model=name,
    )
