"""From a coercive field back to the hidden state x: the device model's laws inverted.

The laws are the device model's (``labctl.physics``), the ones the simulator integrates:
a loop's expected coercive field is Sharrock's law for a stepwise sweep
(:func:`~labctl.physics.sharrock.stepwise_hc_T`) with ``H0 = h0·k`` and ``Δ = δ0·k``, where
``k = max(K_eff(x), 0)/K_eff,ref`` (:func:`~labctl.physics.anisotropy.k_rel`). The calibration
inverts them: Hc → k (:func:`k_of_hc`) → x (:func:`x_of_k`).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from scipy.optimize import brentq

from labctl.physics.anisotropy import k_rel
from labctl.physics.params import ChipParams
from labctl.physics.sharrock import stepwise_hc_T


def _brentq(f: Callable[[float], float], lo: float, hi: float, xtol: float) -> float:
    """scipy's brentq, typed: without full_output it returns the root alone, never a tuple."""
    root = brentq(f, lo, hi, xtol=xtol)
    assert not isinstance(root, tuple)
    return float(root)


def k_at(params: ChipParams, x: float) -> float:
    """K_eff(x)/K_eff,ref (0 once in-plane) of the chip ``params`` at state ``x``, no gate."""
    return float(k_rel(params, np.float64(x)))


def x_of_k(params: ChipParams, k: float) -> float:
    """The state x with ``k(x) = k`` on the branch where k rises with x (x_init side of
    the optimum, where a gate program that raises Hc works)."""
    ap = params.anisotropy
    hi = ap.x_opt if ap.K_s_form == "parabolic" else min(1.0, ap.x_ox)
    lo = 0.0
    f_lo, f_hi = k_at(params, lo) - k, k_at(params, hi) - k
    if f_lo > 0:
        return lo
    if f_hi < 0:
        return hi
    return _brentq(lambda x: k_at(params, x) - k, lo, hi, xtol=1e-12)


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
    return _brentq(f, lo, hi, xtol=1e-10)
