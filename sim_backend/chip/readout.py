"""The correlated readout noise a bench adds, evolving in time (docs/physics.md §4).

The signal laws (AHE, TMR) and Johnson noise are the device model's
(``labctl.physics.readout``); Johnson noise is taken over the bandwidth Δf the instrument sets
(lock-in ENBW, NPLC of a DC meter): the caller passes it, the chip does not guess. Here:
- 1/f noise of a DC-biased readout, with a corner ``f_c`` where it equals the white level:
  a bank of Ornstein–Uhlenbeck processes with log-spaced correlation times (one per decade,
  1 ms to 1000 s) whose summed spectrum is ``4 k_B T R·f_c/f`` in that range. Being a
  process in time (not a fresh draw per read), successive reads are correlated as on a bench.
- Thermal-EMF offset of the DC leads: a mean plus an OU drift (µV, minutes).
An AC (lock-in) readout at a reference far above the corner sees neither of the last two.
"""

from __future__ import annotations

import math

import numpy as np

from labctl.physics.params import NoiseParams
from labctl.physics.readout import K_B_J_PER_K

_FLICKER_TAUS_S = 10.0 ** np.arange(-3, 4)  # one OU process per decade
_LN_DECADE = math.log(10.0)


class DriftingNoise:
    """Correlated DC-readout noise of one chip/bench: the 1/f bank and the thermal EMF.

    Unit-variance OU states are evolved exactly between read times and scaled at read time,
    so one bank serves reads of devices of different resistance.
    """

    def __init__(self, noise: NoiseParams, rng: np.random.Generator, t0_s: float) -> None:
        self.noise = noise
        self.rng = rng
        self.t_s = t0_s
        self.flicker = rng.standard_normal(_FLICKER_TAUS_S.size)
        self.emf = rng.standard_normal()

    def _evolve(self, t_s: float) -> None:
        dt = t_s - self.t_s
        if dt <= 0:
            return
        decay = np.exp(-dt / _FLICKER_TAUS_S)
        self.flicker = self.flicker * decay + np.sqrt(-np.expm1(-2 * dt / _FLICKER_TAUS_S)) * (
            self.rng.standard_normal(_FLICKER_TAUS_S.size)
        )
        d = math.exp(-dt / self.noise.thermal_emf_tau_s)
        self.emf = self.emf * d + math.sqrt(1.0 - d * d) * self.rng.standard_normal()
        self.t_s = t_s

    def sample_V(self, t_s: float, temperature_K: float, resistance_ohm: float) -> float:
        """1/f + thermal-EMF voltage (V) at ``t_s`` for a readout through ``resistance_ohm``."""
        self._evolve(t_s)
        white = 4.0 * K_B_J_PER_K * temperature_K * resistance_ohm  # V²/Hz
        # Σ OU of variance σ² spaced one decade: S(f) ≈ σ²/(f·ln 10) ⇒ σ² = S_w·f_c·ln 10.
        sigma = math.sqrt(white * self.noise.flicker_corner_Hz * _LN_DECADE)
        v_flicker = sigma * float(self.flicker.sum())
        v_emf = self.noise.thermal_emf_mean_V + self.noise.thermal_emf_rms_V * self.emf
        return v_flicker + v_emf

    def state(self) -> dict:
        return {"t_s": self.t_s, "flicker": self.flicker.copy(), "emf": self.emf}

    def load(self, d: dict) -> None:
        self.t_s = d["t_s"]
        self.flicker = np.array(d["flicker"], dtype=float)
        self.emf = float(d["emf"])
