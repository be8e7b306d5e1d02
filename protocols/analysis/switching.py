"""Switching probability: fitting the Néel–Arrhenius model of docs/physics.md §3.

The model is the device model's ``labctl.physics.switching.p_switch`` (field, amplitude or
width as the drive), built on the same switching probability the simulator draws with.

Counts of flips out of N trials are fitted by binomial maximum likelihood, started from a
``scipy.optimize.curve_fit`` least-squares fit (weighted by the Wilson-adjusted binomial error);
the 1σ uncertainties come from the Fisher information Σ N·∇p∇pᵀ/(p(1−p)). Least squares on the
fractions alone over-estimates Δ by ~5 % at 60 trials per point; the likelihood does not.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

import numpy as np
from scipy.optimize import curve_fit, minimize

from labctl.physics.sharrock import sharrock_hc_T
from labctl.physics.switching import SWITCHING_MODES, p_switch

__all__ = [
    "MODES",
    "SwitchingFit",
    "binomial_mle",
    "empirical_x50",
    "fit_switching",
    "isotonic_probability",
    "p_switch",
    "transition_window",
    "x50_shift",
]

MODES = SWITCHING_MODES


@dataclass(frozen=True)
class SwitchingFit:
    mode: str
    delta: float  # Δ (field, amplitude) or the barrier B (width)
    delta_err: float
    scale: float  # H0 in T (field), Vc0 in V (amplitude), nan (width)
    scale_err: float
    x50: float  # drive at P = 1/2 (T, V or s)
    width_s: float
    tau0_s: float
    n_exponent: float
    points: int

    def as_dict(self) -> dict[str, float | int | str]:
        return asdict(self)


def _x50(mode: str, scale: float, delta: float, width_s: float, tau0_s: float, n: float) -> float:
    L = np.log(width_s / (tau0_s * np.log(2.0)))
    if mode == "width":
        return float(tau0_s * np.log(2.0) * np.exp(delta))
    if L <= 0 or L >= delta:
        return float("nan")
    # the drive at P = 1/2 within width_s is Sharrock's coercive field (n = 1 for a current)
    exponent = n if mode == "field" else 1.0
    return float(sharrock_hc_T(width_s, scale, delta, tau0_s, exponent))


def _guess(x: np.ndarray, p: np.ndarray, mode: str, width_s: float, tau0_s: float, n: float):
    """Initial (scale, Δ) from the drive at P ≈ 1/2 and the local slope of ln(−ln(1 − P))."""
    L = np.log(width_s / tau0_s)
    q = np.clip(p, 0.02, 0.98)
    y = np.log(-np.log1p(-q))  # = ln(t/τ0) − barrier
    mid = (p > 0.05) & (p < 0.95)
    if mode == "width":
        B = np.median(np.log(x / tau0_s) - y)
        return float("nan"), float(B)
    order = np.argsort(x)
    x50 = float(np.interp(0.5, q[order], x[order])) if np.ptp(q) > 0 else float(np.median(x))
    slope = np.polyfit(x[mid], y[mid], 1)[0] if mid.sum() >= 2 else 0.0
    barrier50 = L - np.log(np.log(2.0))
    exponent = n if mode == "field" else 1.0
    if slope > 0:
        # d barrier/dx = Δ·e·(1 − x/s)^(e−1)/s and barrier = Δ·(1 − x/s)^e  =>  s − x = e·B/slope
        scale = x50 + exponent * barrier50 / slope
    else:
        scale = 2.0 * x50
    delta = barrier50 / max(1e-3, (1.0 - x50 / scale)) ** exponent
    return float(scale), float(delta)


def binomial_mle(
    model: Callable[..., np.ndarray],
    x: np.ndarray,
    k: np.ndarray,
    N: np.ndarray,
    start: Sequence[float],
    lower: Sequence[float],
    upper: Sequence[float],
) -> tuple[np.ndarray, np.ndarray]:
    """Maximum-likelihood parameters of ``model(x, *θ)`` for ``k`` flips out of ``N`` (positive
    θ within [lower, upper], searched in log θ from ``start``) and their covariance."""
    lo, hi = np.log(np.asarray(lower, float)), np.log(np.asarray(upper, float))

    def nll(u: np.ndarray) -> float:
        if np.any(u < lo) or np.any(u > hi):
            return np.inf
        p = np.clip(model(x, *np.exp(u)), 1e-12, 1.0 - 1e-12)
        return float(-np.sum(k * np.log(p) + (N - k) * np.log1p(-p)))

    u0 = np.clip(np.log(np.asarray(start, float)), lo, hi)
    best = minimize(nll, u0, method="Nelder-Mead", options={"xatol": 1e-7, "fatol": 1e-9})
    theta = np.exp(best.x)
    grad = np.empty((x.size, theta.size))
    for j in range(theta.size):  # ∂p/∂θ_j by central differences
        h = 1e-6 * theta[j]
        up, down = theta.copy(), theta.copy()
        up[j], down[j] = theta[j] + h, theta[j] - h
        grad[:, j] = (model(x, *up) - model(x, *down)) / (2 * h)
    p = np.clip(model(x, *theta), 1e-9, 1.0 - 1e-9)
    fisher = (grad * (N / (p * (1.0 - p)))[:, None]).T @ grad
    try:
        cov = np.linalg.inv(fisher)
    except np.linalg.LinAlgError:
        cov = np.full((theta.size, theta.size), np.inf)
    return theta, cov


def fit_switching(
    drive: np.ndarray,
    flips: np.ndarray,
    trials: np.ndarray,
    mode: str,
    *,
    width_s: float = 1.0,
    tau0_s: float = 1e-9,
    n: float = 2.0,
) -> SwitchingFit:
    """Fit the §3 model to ``flips`` out of ``trials`` at each ``drive`` (1σ uncertainties)."""
    if mode not in MODES:
        raise ValueError(f"mode {mode!r}: expected one of {', '.join(MODES)}")
    x = np.abs(np.asarray(drive, dtype=float))
    k = np.asarray(flips, dtype=float)
    N = np.asarray(trials, dtype=float)
    ok = np.isfinite(x) & (N > 0)
    x, k, N = x[ok], k[ok], N[ok]
    if x.size < 3:
        raise ValueError("a switching fit needs at least three drive values")
    p = k / N
    p_adj = (k + 1.0) / (N + 2.0)
    sigma = np.sqrt(p_adj * (1.0 - p_adj) / N)
    scale0, delta0 = _guess(x, p, mode, width_s, tau0_s, n)
    if mode == "width":

        def model_w(xx: np.ndarray, B: float) -> np.ndarray:
            return p_switch(xx, "width", scale=1.0, delta=B, width_s=width_s, tau0_s=tau0_s)

        popt, _ = curve_fit(model_w, x, p, p0=(delta0,), sigma=sigma, absolute_sigma=True)
        popt, pcov = binomial_mle(model_w, x, k, N, (max(popt[0], 1e-3),), (1e-3,), (1e4,))
        B, B_err = float(popt[0]), float(np.sqrt(pcov[0, 0]))
        return SwitchingFit(
            mode, B, B_err, float("nan"), float("nan"),
            _x50(mode, 1.0, B, width_s, tau0_s, n), width_s, tau0_s, n, int(x.size),
        )  # fmt: skip

    def model(xx: np.ndarray, scale: float, delta: float) -> np.ndarray:
        return p_switch(xx, mode, scale=scale, delta=delta, width_s=width_s, tau0_s=tau0_s, n=n)

    x_max = float(np.max(x))
    lower, upper = (1.0001 * float(np.min(x)), 1.0), (100.0 * x_max, 1e5)
    # the guess kept inside the bounds (a sparse curve can guess H0 beyond 100·x_max)
    scale_p0 = min(max(scale0, 1.05 * x_max, 1.01 * lower[0]), 0.99 * upper[0])
    try:
        popt, _ = curve_fit(
            model,
            x,
            p,
            p0=(scale_p0, min(max(delta0, 2.0), 1e4)),
            sigma=sigma,
            absolute_sigma=True,
            bounds=(lower, upper),
            maxfev=2_000,  # a converging fit takes tens; a flat curve would burn 20,000 (~15 s)
        )
    except RuntimeError as exc:  # scipy's own sentence is a paragraph: keep its first clause
        reason = str(exc).split(":")[0]
        raise RuntimeError(f"no converged fit to {x.size} drive values ({reason})") from exc
    popt, pcov = binomial_mle(model, x, k, N, popt, lower, upper)
    perr = np.sqrt(np.diag(pcov))
    return SwitchingFit(
        mode=mode,
        delta=float(popt[1]),
        delta_err=float(perr[1]),
        scale=float(popt[0]),
        scale_err=float(perr[0]),
        x50=_x50(mode, float(popt[0]), float(popt[1]), width_s, tau0_s, n),
        width_s=width_s,
        tau0_s=tau0_s,
        n_exponent=n,
        points=int(x.size),
    )


def x50_shift(x50_by_level: dict[float, float]) -> float:
    """Spearman-like sign of how the half-switching drive moves with the level (+1 rises)."""
    levels = sorted(x50_by_level)
    values = np.array([x50_by_level[level] for level in levels])
    if values.size < 2 or not np.all(np.isfinite(values)):
        return float("nan")
    return float(np.sign(np.mean(np.sign(np.diff(values)))))


def transition_window(drive: np.ndarray, p: np.ndarray) -> tuple[float, float]:
    """Drive range that brackets the 0 → 1 transition of a coarse scan (sorted by drive).

    From the largest drive still below P = 0.1 that precedes the transition to the smallest
    drive at or above P = 0.9; the scan ends when it never reaches either side.
    """
    order = np.argsort(drive)
    x, q = np.asarray(drive, dtype=float)[order], np.asarray(p, dtype=float)[order]
    high = np.flatnonzero(q >= 0.9)
    hi = int(high[0]) if high.size else x.size - 1
    low = np.flatnonzero(q[: hi + 1] <= 0.1)
    lo = int(low[-1]) if low.size else 0
    if hi <= lo:
        hi = min(lo + 1, x.size - 1)
    return float(x[lo]), float(x[hi])


def isotonic_probability(
    drive: np.ndarray, flips: np.ndarray, trials: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Flip probability per distinct drive, made non-decreasing in the drive (scikit-learn's
    isotonic regression of the fractions, weighted by the trials): ``(drives, probabilities)``."""
    from sklearn.isotonic import IsotonicRegression

    x = np.abs(np.asarray(drive, dtype=float))
    k = np.asarray(flips, dtype=float)
    N = np.asarray(trials, dtype=float)
    ok = np.isfinite(x) & (N > 0)
    xs = np.unique(x[ok])
    if xs.size == 0:
        return xs, xs
    fit = IsotonicRegression(increasing=True).fit(x[ok], k[ok] / N[ok], sample_weight=N[ok])
    return xs, fit.predict(xs)


def empirical_x50(drive: np.ndarray, flips: np.ndarray, trials: np.ndarray) -> float:
    """Model-free drive at P = 1/2: linear interpolation of :func:`isotonic_probability`
    (NaN when the data never cross 1/2)."""
    xs, p = isotonic_probability(drive, flips, trials)
    above = np.flatnonzero(p >= 0.5)
    if xs.size < 2 or above.size == 0 or above[0] == 0:
        return float("nan")
    i = int(above[0])
    x0, x1, p0, p1 = xs[i - 1], xs[i], p[i - 1], p[i]
    return float(x0 + (0.5 - p0) * (x1 - x0) / (p1 - p0))
