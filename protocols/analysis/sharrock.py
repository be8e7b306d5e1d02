"""Fitting Sharrock's law: coercive field versus time gives Δ and H0 (docs/physics.md §3).

The law itself is the device model's (``labctl.physics.sharrock``): the constant-field
``Hc(t) = H0·{1 − [ln(t/(τ0·ln 2))/Δ]^(1/n)}`` and the expected coercive field of a stepwise
sweep (``stepwise_hc_T``), the same functions the simulator's predictions and the calibration
use. Fitting the stepwise model to Hc versus time per step is Sharrock's law for a Hall loop;
the constant-field form gives the first guess and the fit of waiting-time data.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from scipy.optimize import curve_fit

from labctl.physics.sharrock import LN2, sharrock_hc_T, stepwise_hc_T

__all__ = ["SharrockFit", "fit_sharrock", "sharrock_hc_T", "stepwise_hc_T"]


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
    of the residuals sets the uncertainties. τ0 and n are held fixed (docs/physics.md §3
    convention).
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
