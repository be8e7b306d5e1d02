"""What a bench measures on a ``VirtualChip``: Hall and TMR signals, resistance, gate leakage.

Kept apart from ``chip.py`` (which owns the state and its evolution); this mixin only reads the
state, applies the readout laws of ``labctl.physics.readout``, adds the drifting noise of
``readout.py`` and computes the gate leakage.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from labctl.physics import readout
from labctl.physics.params import ChipParams

if TYPE_CHECKING:
    from sim_backend.chip.readout import DriftingNoise
    from sim_backend.chip.variability import DeviceSpread

# Device selection of every chip method: None (all), an int, a list or an int array.
Indices = int | list[int] | np.ndarray | None


class ReadoutMixin:
    """Readout and leakage methods of :class:`~sim_backend.chip.chip.VirtualChip`."""

    params: ChipParams
    spread: DeviceSpread
    rng: np.random.Generator
    m: np.ndarray
    gate_V: np.ndarray
    broken: np.ndarray
    temperature_K: float
    _ms: np.ndarray
    _one: bool  # a 1-device chip
    _noise: DriftingNoise

    def _idx(self, indices: Indices) -> np.ndarray: ...  # provided by VirtualChip
    def advance_to(self, t_s: float) -> None: ...  # provided by VirtualChip

    def _noise_V(self, t_s: float, R_ohm: float, bandwidth_Hz: float, dc_coupled: bool) -> float:
        if bandwidth_Hz < 0:
            raise ValueError(f"bandwidth_Hz: got {bandwidth_Hz}, expected >= 0")
        v = readout.johnson_rms_V(self.temperature_K, R_ohm, bandwidth_Hz)
        v *= float(self.rng.standard_normal())
        if dc_coupled:
            v += self._noise.sample_V(t_s, self.temperature_K, R_ohm)
        return v

    def hall_resistance_ohm(self, indices: Indices = None) -> np.ndarray:
        """Noiseless R_xy = R_AHE(x)·m_z + R_offset (Ω); invalid devices give R_offset only."""
        idx = self._idx(indices)
        s = self.spread
        return readout.hall_resistance_ohm(s.R_AHE_ohm[idx], self._ms[idx], self.m[idx],
                                           s.R_offset_ohm[idx])  # fmt: skip

    def hall_voltage_V(
        self,
        index: int,
        current_A: float,
        bandwidth_Hz: float,
        t_s: float,
        dc_coupled: bool = True,
    ) -> float:
        """V_xy (V) for a bias ``current_A`` read over ``bandwidth_Hz`` (the instrument's ENBW).

        Adds Johnson noise sqrt(4 k_B T R_xx Δf) of the cross; when ``dc_coupled`` also the
        1/f noise and the drifting thermal EMF (an AC lock-in readout passes
        ``dc_coupled=False`` and gets the in-phase amplitude). Advances to ``t_s`` first.
        """
        self.advance_to(t_s)
        s = self.spread
        if self._one and type(index) is int and index == 0:  # one device: on floats
            R = readout.hall_resistance_ohm(float(s.R_AHE_ohm[0]), float(self._ms[0]),
                                            float(self.m[0]), float(s.R_offset_ohm[0]))  # fmt: skip
        else:
            R = float(self.hall_resistance_ohm(index)[0])
        R_probe = float(s.R_xx_ohm[index])
        return current_A * R + self._noise_V(t_s, R_probe, bandwidth_Hz, dc_coupled)

    def hall_voltages_V(
        self,
        indices: Indices,
        current_A: float,
        bandwidth_Hz: float,
        t_s: float,
        dc_coupled: bool = True,
    ) -> np.ndarray:
        """Batched ``hall_voltage_V`` (V) of ``indices`` read at the same time ``t_s``.

        Johnson noise is independent per device; the 1/f and thermal-EMF drift belong to the
        one readout chain, so a batch read at one instant shares a single drift sample
        (scaled by the mean probe resistance).
        """
        self.advance_to(t_s)
        idx = self._idx(indices)
        R_probe = self.spread.R_xx_ohm[idx]
        v = current_A * self.hall_resistance_ohm(idx)
        white = readout.johnson_rms_V(self.temperature_K, 1.0, bandwidth_Hz) * np.sqrt(R_probe)
        v += white * self.rng.standard_normal(idx.size)
        if dc_coupled:
            v += self._noise.sample_V(t_s, self.temperature_K, float(R_probe.mean()))
        return v

    def mtj_resistance_ohm(self, indices: Indices = None, bias_V: float = 0.01) -> np.ndarray:
        """Noiseless R = R_P·(1 + TMR(V)·(1 − m)/2) (Ω); TMR(V) = TMR0/(1 + (V/V_h)²).

        In-plane (invalid) devices, m = 0, sit half-way.
        """
        idx = self._idx(indices)
        ro = self.params.readout
        return readout.mtj_resistance_ohm(self.spread.R_P_ohm[idx], ro.TMR0, ro.V_h_V,
                                          self.m[idx], bias_V)  # fmt: skip

    def device_resistance_ohm(self, indices: Indices = None) -> np.ndarray:
        """What a 2-/4-wire meter sees (Ω): MTJ: R_TMR at 10 mV; Hall cross: R_xx."""
        if self.params.device_type == "mtj":
            return self.mtj_resistance_ohm(indices)
        return self.spread.R_xx_ohm[self._idx(indices)].copy()

    def device_voltage_V(
        self,
        index: int,
        current_A: float,
        bandwidth_Hz: float,
        t_s: float,
        dc_coupled: bool = True,
    ) -> float:
        """Two-terminal voltage (V) across the device (MTJ: I·R_TMR(V); Hall: I·R_xx) + noise.

        The MTJ's TMR depends on its own bias V = I·R(V): solved by bisection.
        """
        self.advance_to(t_s)
        if self.params.device_type == "mtj":
            # |V| − |I|·R(V) rises monotonically (R falls with |V|): bisect between R_P and R(0).
            ro, a = self.params.readout, abs(current_A)
            R_P, half = float(self.spread.R_P_ohm[index]), (1.0 - float(self.m[index])) / 2.0
            lo, hi = a * R_P, a * R_P * (1.0 + ro.TMR0 * half)
            for _ in range(60):
                mid = 0.5 * (lo + hi)
                R_mid = R_P * (1.0 + ro.TMR0 * half / (1.0 + (mid / ro.V_h_V) ** 2))
                lo, hi = (mid, hi) if mid < a * R_mid else (lo, mid)
            R = float(self.mtj_resistance_ohm(index, bias_V=0.5 * (lo + hi))[0])
        else:
            R = float(self.spread.R_xx_ohm[index])
        return current_A * R + self._noise_V(t_s, R, bandwidth_Hz, dc_coupled)

    def gate_leakage_at_A(self, indices: Indices, voltage_V: float | np.ndarray) -> np.ndarray:
        """Gate leakage (A) the devices would draw at ``voltage_V`` (no state change).

        Intact oxide: V/R_leak plus a tunnelling term that grows e-fold every
        ``breakdown_slope_V`` and reaches V_bd/R_broken at the breakdown voltage; broken
        oxide: V/R_broken (so a source compliance trips).
        """
        g = self.params.gate
        idx = self._idx(indices)
        V = np.broadcast_to(np.asarray(voltage_V, dtype=float), idx.shape)
        Vbd = self.spread.breakdown_V[idx]
        tunnel = np.exp((np.abs(V) - Vbd) / g.breakdown_slope_V)
        tunnel *= np.sign(V) * (Vbd / g.broken_R_ohm)
        intact = V / g.leakage_R_ohm + tunnel
        return np.where(self.broken[idx], V / g.broken_R_ohm, intact)

    def gate_leakage_one_A(self, index: int, voltage_V: float) -> float:
        """``gate_leakage_at_A`` of one device (A), in scalar math (the twins' hot path)."""
        g = self.params.gate
        if self.broken[index]:
            return voltage_V / g.broken_R_ohm
        if voltage_V == 0:
            return 0.0
        vbd = float(self.spread.breakdown_V[index])
        tunnel = math.exp((abs(voltage_V) - vbd) / g.breakdown_slope_V) * (vbd / g.broken_R_ohm)
        return voltage_V / g.leakage_R_ohm + math.copysign(tunnel, voltage_V)

    def gate_leakage_A(self, indices: Indices = None) -> np.ndarray:
        """Gate leakage current (A) at the gate voltage now applied (see ``gate_leakage_at_A``)."""
        idx = self._idx(indices)
        return self.gate_leakage_at_A(idx, self.gate_V[idx])

    def johnson_rms_V(self, index: int, bandwidth_Hz: float) -> float:
        """Expected rms Johnson noise (V) of a Hall/device readout over ``bandwidth_Hz``."""
        R = (
            float(self.device_resistance_ohm(index)[0])
            if self.params.device_type == "mtj"
            else float(self.spread.R_xx_ohm[index])
        )
        return readout.johnson_rms_V(self.temperature_K, R, bandwidth_Hz)
