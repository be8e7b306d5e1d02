"""Anisotropy, moment, switching field and stability from the hidden state (docs/physics.md §2).

    K_s(x)   = K_s,max − a·(x − x_opt)²        (or K_s0 + ΔK_s·x)  + ξ·V_gate/t_ox while gated
    K_eff(x) = K_s(x)/t_F − µ0·M_s(x)²/2
    M_s(x)   = M_s0·min(1, (1 − x)/(1 − x_ox))
    H0(x)    = h0·max(K_eff, 0)/K_eff,ref ,  Δ(x) = δ0·max(K_eff, 0)/K_eff,ref·T_ref/T

A device is a valid synapse when K_eff > 0 (perpendicular) and some moment is left.
"""

from __future__ import annotations

import math

import numpy as np

from labctl.physics.jit import law
from labctl.physics.kinetics import step_x_one
from labctl.physics.params import AnisotropyParams, ChipParams, ChipParamsError

MU0 = 4e-7 * math.pi  # vacuum permeability (T·m/A)


def K_s_J_per_m2(ap: AnisotropyParams, x: np.ndarray, gate_V: np.ndarray | float = 0.0):
    """Interface anisotropy K_s (J/m²), incl. the instantaneous VCMA term while gated."""
    if ap.K_s_form == "parabolic":
        K_s = ap.K_s_max_J_per_m2 - ap.K_s_curvature_J_per_m2 * (x - ap.x_opt) ** 2
    else:
        K_s = ap.K_s0_J_per_m2 + ap.dK_s_J_per_m2 * x
    return K_s + ap.xi_J_per_V_m * np.asarray(gate_V) / ap.t_ox_m


def M_s_rel(ap: AnisotropyParams, x: np.ndarray) -> np.ndarray:
    """M_s(x)/M_s0: 1 until x_ox, then falling linearly to 0 at x = 1."""
    if ap.x_ox >= 1.0:
        return np.ones_like(np.asarray(x, dtype=float))
    return np.minimum(1.0, (1.0 - np.asarray(x, dtype=float)) / (1.0 - ap.x_ox))


def K_eff_J_per_m3(ap: AnisotropyParams, x: np.ndarray, gate_V: np.ndarray | float = 0.0):
    """Effective anisotropy K_eff (J/m³): interface term minus shape (demagnetising) term."""
    Ms = ap.M_s0_A_per_m * M_s_rel(ap, x)
    return K_s_J_per_m2(ap, x, gate_V) / ap.t_F_m - 0.5 * MU0 * Ms * Ms


def K_eff_ref_J_per_m3(params: ChipParams) -> float:
    """The K_eff at which H0 = h0 and Δ = δ0: given, or K_eff at x_init without gate."""
    ap = params.anisotropy
    if ap.K_eff_ref_J_per_m3 is not None:
        return ap.K_eff_ref_J_per_m3
    ref = float(K_eff_J_per_m3(ap, np.float64(params.x_init)))
    if ref <= 0:
        raise ChipParamsError(
            f"x_init: got {params.x_init}, expected a state with K_eff > 0 (K_eff = {ref:.3g}"
            " J/m³ there); move x_init into the PMA branch or give anisotropy.K_eff_ref_J_per_m3"
        )
    return ref


def k_rel(
    params: ChipParams, x: np.ndarray | float, gate_V: np.ndarray | float = 0.0
) -> np.ndarray:
    """max(K_eff(x), 0)/K_eff,ref: the factor on h0, δ0 and Jc0 (0 once in-plane)."""
    k = np.maximum(K_eff_J_per_m3(params.anisotropy, x, gate_V), 0.0)
    return k / K_eff_ref_J_per_m3(params)


def H0_T(params: ChipParams, x: np.ndarray, gate_V: np.ndarray | float = 0.0) -> np.ndarray:
    """Nominal µ0·H0 (T) without variability."""
    return params.anisotropy.h0_T * k_rel(params, x, gate_V)


def delta(
    params: ChipParams,
    x: np.ndarray,
    gate_V: np.ndarray | float = 0.0,
    temperature_K: float | None = None,
) -> np.ndarray:
    """Nominal Δ without variability (Δ ∝ K_eff/T)."""
    ap = params.anisotropy
    T = params.temperature_K if temperature_K is None else temperature_K
    return ap.delta0 * k_rel(params, x, gate_V) * (ap.T_ref_K / T)


@law
def k_ms_one(x: float, gate_V: float, c: tuple) -> tuple[float, float, bool]:
    """(K_eff/K_eff,ref or 0 if invalid, M_s/M_s0, valid) of one device: the law of
    :func:`k_rel` and :func:`M_s_rel` compiled, with the constants ``c`` of
    :attr:`AnisotropyModel.consts` (the simulator's per-device update, 1e6 devices per step).
    """
    parabolic, k_a, k_b, x_opt, vcma_per_V, demag, x_ox, valid_ms, inv_K_ref = c
    if parabolic:
        d = x - x_opt
        K = d * d * k_a + k_b
    else:
        K = x * k_a + k_b
    K += gate_V * vcma_per_V
    ms = 1.0 if x_ox >= 1.0 else min(1.0, (1.0 - x) / (1.0 - x_ox))
    K -= demag * ms * ms
    valid = K > 0.0 and ms > valid_ms
    return (K * inv_K_ref if valid else 0.0), ms, valid


@law
def step_refresh_one(step: bool, x: float, x_inf: float, decay: float, gate_V: float, c: tuple,
                     h0_dev: float, d0_dev: float, t_factor: float) -> tuple:  # fmt: skip
    """One device: x after its exact step (when ``step``), then (x, k, M_s/M_s0, valid, H0,
    1/H0 (0 if invalid), Δ) with H0 = k·h0_dev and Δ = k·d0_dev·t_factor. The kernels of
    :mod:`~labctl.physics.arrays` apply it to every device; a 1-device chip calls it directly."""
    if step:
        x = step_x_one(x, x_inf, decay)
    k, ms, v = k_ms_one(x, gate_V, c)
    h = k * h0_dev
    d = k * d0_dev
    if t_factor != 1.0:
        d *= t_factor
    return x, k, ms, v, h, (1.0 / h if v else 0.0), d


class AnisotropyModel:
    """The constants of :func:`k_ms_one` for one chip: the law of :func:`k_rel` and
    :func:`M_s_rel` with K_s/t_F, the demagnetising term and the VCMA per volt precomputed."""

    def __init__(self, params: ChipParams) -> None:
        ap = params.anisotropy
        self.ap = ap
        self.K_ref = K_eff_ref_J_per_m3(params)
        self.demag = 0.5 * MU0 * ap.M_s0_A_per_m**2  # µ0·M_s0²/2 (J/m³)
        self.vcma_per_V = ap.xi_J_per_V_m / ap.t_ox_m / ap.t_F_m  # ΔK_eff per gate volt
        parabolic = ap.K_s_form == "parabolic"
        if parabolic:
            k_a = -ap.K_s_curvature_J_per_m2 / ap.t_F_m
            k_b = ap.K_s_max_J_per_m2 / ap.t_F_m
        else:
            k_a = ap.dK_s_J_per_m2 / ap.t_F_m
            k_b = ap.K_s0_J_per_m2 / ap.t_F_m
        self.consts = (
            parabolic, float(k_a), float(k_b), float(ap.x_opt), float(self.vcma_per_V),
            float(self.demag), float(ap.x_ox), float(ap.valid_M_s_rel), float(1.0 / self.K_ref),
        )  # fmt: skip
