"""Magneto-ionic kinetics of the hidden state x (docs/physics.md §1).

Cabrera–Mott hopping ``r(V, T) = A·exp(−E_a/k_B T)·sinh(|V|/V0)``; the gate polarity that
oxidises drives ``dx/dt = +r⁺·(1 − x)``, the other ``dx/dt = −r⁻·x`` with ``A⁻ = A⁺/asymmetry``;
an optional retention term ``−(x − x_eq)/τ_ret`` relaxes x. All of it is linear in x,
``dx/dt = a − b·x``, so one exact exponential step covers any Δt: the equation is stiff at high
|V| (r ~ 1e2–1e4 /s) and an explicit step would overshoot [0, 1].
"""

from __future__ import annotations

import math

import numpy as np

from labctl.physics.jit import law
from labctl.physics.params import KineticsParams

K_B_EV_PER_K = 8.617333262e-5  # Boltzmann constant (eV/K)


def boltzmann_factor(E_a_eV: float, temperature_K: float) -> float:
    """exp(−E_a/k_B T): the thermally activated part of the hopping rate."""
    return math.exp(-E_a_eV / (K_B_EV_PER_K * temperature_K))


def prefactor_A_per_s(kp: KineticsParams) -> float:
    """Oxidising-direction prefactor A⁺ (1/s): given, or set so 1/r(V_ref, T_ref) = tau_ref_s."""
    if kp.A_per_s is not None:
        return kp.A_per_s
    boltz = boltzmann_factor(kp.E_a_eV, kp.T_ref_K)
    return 1.0 / (kp.tau_ref_s * boltz * math.sinh(kp.V_ref_V / kp.V0_V))


def rate_per_s(kp: KineticsParams, voltage_V: float, temperature_K: float) -> float:
    """Nominal ion-hopping rate |r| (1/s) at a gate voltage (sign picks A⁺ or A⁻)."""
    oxidising = voltage_V * kp.oxidising_polarity > 0
    A = prefactor_A_per_s(kp) / (1.0 if oxidising else kp.asymmetry)
    return hopping_rate_per_s(A * boltzmann_factor(kp.E_a_eV, temperature_K), voltage_V, kp.V0_V)


def hopping_rate_per_s(r0_per_s: float, voltage_V: float, V0_V: float) -> float:
    """Cabrera–Mott rate r0·sinh(|V|/V0) (1/s), r0 = A·exp(−E_a/k_B T) of the direction."""
    return r0_per_s * math.sinh(abs(voltage_V) / V0_V)


def tau_s(kp: KineticsParams, voltage_V: float, temperature_K: float) -> float:
    """Nominal time constant 1/|r| (s) of x at a gate voltage (inf at 0 V)."""
    r = rate_per_s(kp, voltage_V, temperature_K)
    return math.inf if r == 0 else 1.0 / r


@law
def drive_one(s_V: float, A_per_s: float, A_scale: float, V0_V: float, asymmetry: float,
              ret_per_s: float, x_eq: float) -> tuple[float, float]:  # fmt: skip
    """Coefficients (a, b) (1/s) of ``dx/dt = a − b·x`` of one device.

    ``s_V`` is the gate voltage times the oxidising polarity (> 0 oxidises), ``A_per_s`` the
    prefactor times the Boltzmann factor, ``A_scale`` the device's and the pulse's rate
    factors; ``ret_per_s`` the retention rate (< 0: no retention).
    """
    r = A_per_s * A_scale * math.sinh(abs(s_V) / V0_V)
    r_ox = r if s_V > 0 else 0.0
    r_red = r / asymmetry if s_V < 0 else 0.0
    a = r_ox
    b = r_ox + r_red
    if ret_per_s >= 0.0:
        a = a + ret_per_s * x_eq
        b = b + ret_per_s
    return a, b


def drive_constants(kp: KineticsParams, temperature_K: float) -> tuple[float, float, float]:
    """(A⁺·exp(−E_a/k_B T) (1/s), retention rate (1/s, −1 without retention), x_eq) at T."""
    A = prefactor_A_per_s(kp) * boltzmann_factor(kp.E_a_eV, temperature_K)
    if kp.tau_ret_s is None:
        return A, -1.0, 0.0
    # Retention is ion hopping at zero bias: same activation energy, so scale with T.
    ret = (
        math.exp(-kp.E_a_eV / K_B_EV_PER_K * (1.0 / temperature_K - 1.0 / kp.T_ref_K))
        / kp.tau_ret_s
    )
    return A, ret, float(kp.x_eq)


def step_x(x: np.ndarray, a: np.ndarray, b: np.ndarray, dt_s: float) -> np.ndarray:
    """Exact step of ``dx/dt = a − b·x`` over ``dt_s``: x → x∞ + (x − x∞)·exp(−b·Δt).

    Returns the new x (new array); x∞ = a/b stays in [0, 1] because 0 <= a <= b.
    """
    decay = np.expm1(-b * dt_s)  # −(1 − e^{−bΔt}), accurate for tiny bΔt
    x_inf = np.divide(a, b, out=np.zeros_like(x), where=b > 0)
    # x + (x∞ − x)·(1 − e^{−bΔt}); clip guards against the last ulp only.
    out = x - (x_inf - x) * decay
    np.clip(out, 0.0, 1.0, out=out)
    return out


@law
def step_x_one(x: float, x_inf: float, decay: float) -> float:
    """Exact step x∞ + (x − x∞)·e^{−bΔt} of one device, given ``decay`` = expm1(−b·Δt) (≤ 0).

    Same result as :func:`step_x`, compiled for the simulator's fused step, where x∞ and the
    decay are cached; clipped to [0, 1] against the last ulp.
    """
    return min(max(x - (x_inf - x) * decay, 0.0), 1.0)


def x_after_gate(x0: float | np.ndarray, rate_per_s: float, duration_s: float, oxidising: bool):
    """Exact x after a constant gate: 1 − (1 − x0)·e^{−rt} (oxidising) or x0·e^{−rt}
    (reducing, ``rate_per_s`` being that direction's rate)."""
    decay = math.exp(-rate_per_s * duration_s)
    x0 = np.asarray(x0, dtype=float)
    return 1.0 - (1.0 - x0) * decay if oxidising else x0 * decay


def ramped_pulse_exposure_s(
    voltage_V: float, width_s: float, V0_V: float, ramp_V_per_s: float
) -> float:
    """Effective duration (s) of a gate pulse ramped in and out at ``ramp_V_per_s``:
    ∫ sinh(|V(t)|/V0) dt over the pulse in units of sinh(|V|/V0), i.e. the plateau plus what
    the two ramps add (0 for a 0 V pulse; an infinite ramp rate adds nothing)."""
    a = abs(voltage_V) / V0_V
    if a == 0:
        return 0.0
    ramps = 0.0
    if math.isfinite(ramp_V_per_s) and ramp_V_per_s > 0:
        # a linear ramp 0 -> V takes V/R; its exposure is (V0/R)·(cosh a − 1), i.e.
        # (V0/R)·tanh(a/2) in units of sinh(a)
        ramps = 2.0 * (V0_V / ramp_V_per_s) * math.tanh(a / 2.0)
    return width_s + ramps
