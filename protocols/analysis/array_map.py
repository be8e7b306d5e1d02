"""Array map: classify each device's loop and summarise the device-to-device variability."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import ArrayLike


def classify_devices(
    amplitude_V: ArrayLike,
    hc_T: ArrayLike,
    squareness: ArrayLike,
    min_amplitude_rel: float = 0.3,
    min_squareness: float = 0.5,
) -> np.ndarray:
    """Valid perpendicular synapses: a square loop with an AHE amplitude of at least
    ``min_amplitude_rel`` of the array's median amplitude (in-plane devices have none)."""
    amp = np.abs(np.asarray(amplitude_V, dtype=float))
    hc = np.asarray(hc_T, dtype=float)
    sq = np.asarray(squareness, dtype=float)
    reference = float(np.nanmedian(amp)) if np.any(np.isfinite(amp)) else 0.0
    return (
        np.isfinite(amp)
        & (amp >= min_amplitude_rel * reference)
        & np.isfinite(hc)
        & (hc > 0)
        & np.isfinite(sq)
        & (sq >= min_squareness)
    )


def spread(values: np.ndarray) -> dict[str, float]:
    """Mean, standard deviation (ddof 1), coefficient of variation, min and max."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return {"mean": math.nan, "std": math.nan, "cv": math.nan, "min": math.nan,
                "max": math.nan, "n": 0}  # fmt: skip
    std = float(np.std(v, ddof=1)) if v.size > 1 else math.nan
    mean = float(np.mean(v))
    return {
        "mean": mean,
        "std": std,
        "cv": std / abs(mean) if mean else math.nan,
        "min": float(np.min(v)),
        "max": float(np.max(v)),
        "n": int(v.size),
    }


def array_statistics(
    devices: ArrayLike,
    hc_T: ArrayLike,
    r_ahe_ohm: ArrayLike,
    r_offset_ohm: ArrayLike,
    valid: ArrayLike,
) -> dict[str, Any]:
    """Variability over the valid devices; the invalid ones are listed."""
    valid = np.asarray(valid, dtype=bool)
    devices = np.asarray(devices)
    return {
        "devices": int(devices.size),
        "valid": int(valid.sum()),
        "invalid_devices": [int(d) for d in devices[~valid]],
        "hc_T": spread(np.asarray(hc_T)[valid]),
        "r_ahe_ohm": spread(np.asarray(r_ahe_ohm)[valid]),
        "r_offset_ohm": spread(np.asarray(r_offset_ohm)[valid]),
    }


def grid_shape(n: int, columns: int = 0) -> tuple[int, int]:
    """(rows, columns) of the map: ``columns`` given, else near-square."""
    cols = columns or math.ceil(math.sqrt(n))
    return math.ceil(n / cols), cols


def as_grid(values: np.ndarray, columns: int = 0) -> np.ndarray:
    """Values laid out row by row on the map grid, NaN where there is no device."""
    v = np.asarray(values, dtype=float)
    rows, cols = grid_shape(v.size, columns)
    grid = np.full(rows * cols, np.nan)
    grid[: v.size] = v
    return grid.reshape(rows, cols)
