"""Readout laws: anomalous Hall and TMR signals, and Johnson noise (docs/physics.md §4).

    R_xy = R_AHE·(M_s/M_s0)·m_z + R_offset          (R_AHE ∝ M_s)
    R    = R_P·(1 + TMR(V)·(1 − m)/2),  TMR(V) = TMR0/(1 + (V/V_h)²)
    v_n  = sqrt(4 k_B T R Δf)

The correlated noise processes of a bench (1/f, thermal EMF) evolve in time with the chip's
random stream and live with the simulator's chip state.
"""

from __future__ import annotations

import math

import numpy as np

K_B_J_PER_K = 1.380649e-23  # Boltzmann constant (J/K)


def johnson_rms_V(temperature_K: float, resistance_ohm: float, bandwidth_Hz: float) -> float:
    """rms Johnson–Nyquist noise voltage sqrt(4 k_B T R Δf) (V)."""
    return math.sqrt(4.0 * K_B_J_PER_K * temperature_K * resistance_ohm * bandwidth_Hz)


def hall_resistance_ohm(
    R_AHE_ohm: np.ndarray, M_s_rel: np.ndarray, m: np.ndarray, R_offset_ohm: np.ndarray
) -> np.ndarray:
    """R_xy = R_AHE·(M_s/M_s0)·m_z + R_offset (Ω); R_AHE ∝ M_s."""
    return R_AHE_ohm * M_s_rel * m + R_offset_ohm


def tmr_ratio(TMR0: float, V_h_V: float, bias_V: float | np.ndarray) -> np.ndarray:
    """TMR(V) = TMR0/(1 + (V/V_h)²)."""
    v = np.asarray(bias_V, dtype=float) / V_h_V
    return TMR0 / (1.0 + v * v)


def mtj_resistance_ohm(
    R_P_ohm: np.ndarray, TMR0: float, V_h_V: float, m: np.ndarray, bias_V: float | np.ndarray
) -> np.ndarray:
    """R = R_P·(1 + TMR(V)·(1 − m)/2) (Ω): R_P for m = +1 (parallel), R_AP for m = −1."""
    return R_P_ohm * (1.0 + tmr_ratio(TMR0, V_h_V, bias_V) * (1.0 - m) / 2.0)
