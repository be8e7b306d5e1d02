"""The device physics the calibration fits, in plain numpy (PHYSICS.md §1–4).

These are the equations of the chip model written out again on purpose: labctl does not import
the simulator, and a calibration of a real chip must not depend on it either.

- Sharrock / Néel–Arrhenius (§3): a device opposed by a field H switches at the rate
  ``(1/τ0)·exp(−Δ·(1 − H/H0)^n)``. A Hall loop is a stepwise sweep (``t_step`` per point on
  the grid ``k·step``); its expected coercive field follows from the survival over the steps.
- Anisotropy (§2): ``H0(x) = h0·k(x)``, ``Δ(x) = δ0·k(x)`` with ``k = K_eff(x)/K_eff(x_init)``,
  ``K_eff = K_s(x)/t_F − µ0·M_s(x)²/2``.
- Kinetics (§1): ``dx/dt = r⁺·(1 − x)`` while oxidising, ``−r⁻·x`` while reducing, with
  ``r⁺ = r0·sinh(|V|/V0)``, ``r⁻ = r⁺/asymmetry`` and ``r0 = A·exp(−E_a/k_B·T)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.optimize import brentq

LN2 = math.log(2.0)
MU0 = 4e-7 * math.pi
K_B_EV_PER_K = 8.617333262e-5


def stepwise_hc_T(
    t_step_s: np.ndarray | float,
    step_T: float,
    H0_T: float,
    delta: float,
    tau0_s: float = 1e-9,
    n: float = 2.0,
) -> np.ndarray:
    """Expected coercive field (T) of stepwise sweeps with ``t_step_s`` per point.

    The opposing field takes the values ``k·step_T`` for ``t_step_s`` each; the loop analysis
    puts the crossing half a step before the first switched point. With ``step_T = 0`` this is
    Sharrock's constant-field law ``H0·(1 − [ln(t/(τ0 ln2))/Δ]^(1/n))``.
    """
    t = np.atleast_1d(np.asarray(t_step_s, dtype=float))
    if step_T <= 0:
        arg = np.clip(np.log(t / (tau0_s * LN2)) / delta, 0.0, 1.0)
        return H0_T * (1.0 - arg ** (1.0 / n))
    k_max = max(2, math.ceil(1.2 * H0_T / step_T))
    h = step_T * np.arange(1, k_max + 1)
    q = np.clip(1.0 - h / H0_T, 0.0, None) ** n
    hazard = np.exp(np.minimum(np.log(t / tau0_s)[:, None] - delta * q[None, :], 50.0))
    survival = np.exp(-np.cumsum(hazard, axis=1))
    before = np.concatenate([np.ones((t.size, 1)), survival[:, :-1]], axis=1)
    p_at = before - survival
    return (p_at * (h - step_T / 2)[None, :]).sum(axis=1) / np.maximum(p_at.sum(axis=1), 1e-300)


def p_switch_field(
    field_T: np.ndarray, H0_T: float, delta: float, width_s: float, tau0_s: float, n: float
) -> np.ndarray:
    """Probability that a field pulse of |H| and ``width_s`` switches the device (§3)."""
    q = np.clip(1.0 - np.abs(np.asarray(field_T, dtype=float)) / H0_T, 0.0, None)
    log_rate = math.log(width_s / tau0_s) - delta * q**n
    return -np.expm1(-np.exp(np.minimum(log_rate, 50.0)))


@dataclass(frozen=True)
class Anisotropy:
    """The parameters of ``K_eff(x)`` (the chip file's ``anisotropy`` section and ``x_init``)."""

    x_init: float = 0.35
    K_s_form: str = "parabolic"
    K_s_max_J_per_m2: float = 1.2e-3
    K_s_curvature_J_per_m2: float = 5.92e-3
    x_opt: float = 0.55
    K_s0_J_per_m2: float = 0.3e-3
    dK_s_J_per_m2: float = 0.75e-3
    t_F_m: float = 0.8e-9
    M_s0_A_per_m: float = 1.1e6
    x_ox: float = 0.95
    K_eff_ref_J_per_m3: float | None = None

    def K_eff_J_per_m3(self, x: float) -> float:
        if self.K_s_form == "parabolic":
            K_s = self.K_s_max_J_per_m2 - self.K_s_curvature_J_per_m2 * (x - self.x_opt) ** 2
        else:
            K_s = self.K_s0_J_per_m2 + self.dK_s_J_per_m2 * x
        ms = 1.0 if self.x_ox >= 1.0 else min(1.0, (1.0 - x) / (1.0 - self.x_ox))
        return K_s / self.t_F_m - 0.5 * MU0 * (self.M_s0_A_per_m * ms) ** 2

    @property
    def K_ref(self) -> float:
        if self.K_eff_ref_J_per_m3 is not None:
            return self.K_eff_ref_J_per_m3
        return self.K_eff_J_per_m3(self.x_init)

    def k(self, x: float) -> float:
        """K_eff(x)/K_eff,ref: the factor on H0 and Δ."""
        return max(self.K_eff_J_per_m3(x), 0.0) / self.K_ref

    def x_of_k(self, k: float) -> float:
        """The state x with ``k(x) = k`` on the branch where k rises with x (x_init side of
        the optimum, where a gate program that raises Hc works)."""
        hi = self.x_opt if self.K_s_form == "parabolic" else min(1.0, self.x_ox)
        lo = 0.0
        f_lo, f_hi = self.k(lo) - k, self.k(hi) - k
        if f_lo > 0:
            return lo
        if f_hi < 0:
            return hi
        return float(brentq(lambda x: self.k(x) - k, lo, hi, xtol=1e-12))


def k_of_hc(
    hc_T: float, t_step_s: float, step_T: float, h0_T: float, delta0: float, tau0_s: float, n: float
) -> float:
    """The anisotropy factor k at which a loop's expected coercive field is ``hc_T``."""

    def f(k: float) -> float:
        return float(stepwise_hc_T(t_step_s, step_T, h0_T * k, delta0 * k, tau0_s, n)[0]) - hc_T

    lo, hi = 0.05, 1.0
    while f(hi) < 0 and hi < 50:
        hi *= 1.5
    if f(lo) > 0 or f(hi) < 0:
        return math.nan
    return float(brentq(f, lo, hi, xtol=1e-10))


def step_x(
    x: float,
    voltage_V: float,
    width_s: float,
    r0_per_s: float,
    V0_V: float,
    asymmetry: float,
    polarity: int,
) -> float:
    """x after one gate pulse (exact solution of the linear rate equation)."""
    s = voltage_V * polarity
    r = r0_per_s * math.sinh(abs(voltage_V) / V0_V)
    if s > 0:
        return 1.0 - (1.0 - x) * math.exp(-r * width_s)
    if s < 0:
        return x * math.exp(-r / asymmetry * width_s)
    return x
