"""Retention: how a measured quantity (coercive field, AHE amplitude) drifts with hold time."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np


@dataclass(frozen=True)
class RetentionResult:
    initial: float  # value at the first hold time
    final: float
    relative_change: float  # (final − initial) / initial
    drift_per_decade: float  # slope of value vs log10(t), per decade of hold time
    drift_per_decade_err: float
    relative_drift_per_decade: float  # drift_per_decade / mean value
    decades: float  # log10(t_last / t_first)
    span_drift_rel: float  # fitted change over the whole span / mean value
    span_drift_rel_err: float  # its standard error
    nonvolatile: bool  # |span drift| within the threshold (allowing 2 standard errors)
    points: int

    def as_dict(self) -> dict[str, float | bool | int]:
        return asdict(self)


def analyze_retention(
    t_s: np.ndarray, value: np.ndarray, threshold_rel: float = 0.05
) -> RetentionResult:
    """Fit ``value = a + b·log10(t)`` over the hold times ``t_s`` (> 0).

    Non-volatile means the fitted drift over the whole span is below ``threshold_rel`` of the
    value, allowing two standard errors of the fit: a single loop's coercive field scatters by
    a few % (thermally activated switching), so neither one point against another nor a
    noise-sized slope can make a state volatile — a real drift beyond the threshold does.
    """
    t = np.asarray(t_s, dtype=float)
    v = np.asarray(value, dtype=float)
    ok = np.isfinite(t) & np.isfinite(v) & (t > 0)
    t, v = t[ok], v[ok]
    if t.size < 3:
        raise ValueError("retention needs at least three hold times with a value")
    lt = np.log10(t)
    coeffs, cov = np.polyfit(lt, v, 1, cov=True)
    slope, slope_err = float(coeffs[0]), float(np.sqrt(cov[0, 0]))
    mean = float(np.mean(v))
    decades = float(lt.max() - lt.min())
    rel_change = float((v[-1] - v[0]) / v[0]) if v[0] else float("nan")
    rel_drift = slope / mean if mean else float("nan")
    span = rel_drift * decades
    span_err = abs(slope_err / mean) * decades if mean else float("nan")
    nonvolatile = bool(abs(span) <= threshold_rel + 2.0 * span_err)
    return RetentionResult(
        initial=float(v[0]),
        final=float(v[-1]),
        relative_change=rel_change,
        drift_per_decade=slope,
        drift_per_decade_err=slope_err,
        relative_drift_per_decade=rel_drift,
        decades=decades,
        span_drift_rel=span,
        span_drift_rel_err=span_err,
        nonvolatile=nonvolatile,
        points=int(t.size),
    )
