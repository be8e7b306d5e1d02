"""Device-to-device variability, drawn once per chip from its seeded generator (docs/physics.md §5).

Gaussian σ/µ factors (H0, Δ, R_AHE, Jc0, R, breakdown) are floored at a small positive value
so a wide spread can never give a negative field or resistance; the ion-rate prefactor is
lognormal (it is an exponential of a spread barrier). The draw order is fixed so that the same
seed gives the same chip.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from labctl.physics.params import ChipParams

_FLOOR = 0.05  # smallest factor a Gaussian spread may give


def _gauss_factor(rng: np.random.Generator, rel: float, n: int) -> np.ndarray:
    f = rng.normal(1.0, rel, n) if rel > 0 else np.ones(n)
    return np.maximum(f, _FLOOR)


@dataclass
class DeviceSpread:
    """Per-device parameters (arrays of length n_devices)."""

    H0_scale: np.ndarray  # multiplies h0
    delta_scale: np.ndarray  # multiplies δ0
    A_scale: np.ndarray  # multiplies the ion-rate prefactor A (lognormal, median 1)
    R_AHE_ohm: np.ndarray  # anomalous Hall resistance at M_s0 (Ω)
    R_offset_ohm: np.ndarray  # Hall offset (Ω), uniform in ±R_offset_rel·R_AHE
    x_init: np.ndarray  # initial hidden state, clipped to [0, 1]
    Jc0_scale: np.ndarray  # multiplies Jc0
    R_xx_ohm: np.ndarray  # longitudinal resistance (Ω)
    R_P_ohm: np.ndarray  # MTJ parallel resistance (Ω)
    breakdown_V: np.ndarray  # oxide breakdown voltage magnitude (V)


def draw_spread(params: ChipParams, n: int, rng: np.random.Generator) -> DeviceSpread:
    """Draw the per-device parameters of an ``n``-device chip from ``rng``."""
    v = params.variability
    ro = params.readout
    H0_scale = _gauss_factor(rng, v.H0_rel, n)
    delta_scale = _gauss_factor(rng, v.delta_rel, n)
    A_scale = np.exp(rng.normal(0.0, v.A_sigma_ln, n)) if v.A_sigma_ln > 0 else np.ones(n)
    R_AHE = ro.R_AHE_ohm * _gauss_factor(rng, v.R_AHE_rel, n)
    offset = rng.uniform(-1.0, 1.0, n) * ro.R_offset_rel * R_AHE
    x0 = params.x_init + (rng.normal(0.0, v.x_init_sigma, n) if v.x_init_sigma > 0 else 0.0)
    x0 = np.clip(np.broadcast_to(x0, (n,)).astype(float), 0.0, 1.0)
    Jc0_scale = _gauss_factor(rng, v.Jc0_rel, n)
    R_xx = ro.R_xx_ohm * _gauss_factor(rng, v.R_rel, n)
    R_P = ro.R_P_ohm * _gauss_factor(rng, v.R_rel, n)
    breakdown = params.gate.breakdown_V * _gauss_factor(rng, v.breakdown_rel, n)
    return DeviceSpread(
        H0_scale, delta_scale, A_scale, R_AHE, offset, x0, Jc0_scale, R_xx, R_P, breakdown
    )
