"""A tiny in-test SynapseArray: P_sw = p0·exp(−k·x), consolidation raises x (for tests only).

Not a physics model (the virtual chip in ``sim_backend`` is): the write probability ignores the
pulse amplitude and width; a gate pulse moves ``x`` with the exact step of docs/physics.md §1,
``x ← 1 − (1 − x)·exp(−r·Δt)`` for V > 0 and ``x ← x·exp(−r·Δt)`` for V < 0, with
``r = rate_at_2V · sinh(|V|/V0) / sinh(2/V0)`` (V0 = 0.15 V). Each call is one transaction;
reads and pulses are counted per device.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from instruments.roles import ArrayLimits, SynapseArray


class _Clock:
    def __init__(self) -> None:
        self.t_s = 0.0

    def now(self) -> float:
        return self.t_s

    def sleep(self, seconds: float) -> None:
        self.t_s += seconds


class FakeSynapseArray(SynapseArray):
    """``n_devices`` binary devices with a hidden level ``x`` in [0, 1]."""

    WRITE_ENERGY_J = 1e-12
    GATE_ENERGY_J = 1e-9
    READ_ENERGY_J = 1e-14

    def __init__(
        self,
        n_devices: int,
        p0: float = 0.9,
        k: float = 8.0,
        rate_at_2V_per_s: float = 3.0,
        x0: float = 0.0,
        disturb: float = 0.0,
        seed: int = 0,
    ) -> None:
        super().__init__("fake-array", ArrayLimits(), _Clock())
        self._n = int(n_devices)
        self.p0, self.k, self.rate_at_2V_per_s, self.disturb = p0, k, rate_at_2V_per_s, disturb
        self.rng = np.random.default_rng(seed)
        self.m = np.where(self.rng.random(self._n) < 0.5, -1, 1).astype(np.int8)
        self.x = np.full(self._n, x0, dtype=np.float64)

    @property
    def n_devices(self) -> int:
        return self._n

    def p_switch(self, indices: np.ndarray) -> np.ndarray:
        return self.p0 * np.exp(-self.k * self.x[indices])

    def read(self, indices: Sequence[int] | np.ndarray) -> np.ndarray:
        idx = np.asarray(indices, dtype=np.int64)
        self.counts.reads += int(idx.size)
        self.counts.transactions += 1
        self.counts.energy_J += self.READ_ENERGY_J * idx.size
        return self.m[idx].astype(np.float64)

    def write(
        self,
        indices: Sequence[int] | np.ndarray,
        polarity: int | np.ndarray,
        amplitude_V: float,
        width_s: float,
    ) -> None:
        idx = np.asarray(indices, dtype=np.int64)
        pol = np.broadcast_to(np.asarray(polarity), idx.shape).astype(np.int8)
        if np.any(np.abs(pol) != 1):
            raise ValueError("polarity must be +1 or -1")
        opposing = self.m[idx] != pol
        flips = opposing & (self.rng.random(idx.size) < self.p_switch(idx))
        self.m[idx[flips]] = pol[flips]
        if self.disturb:  # half-select: an unselected device flips with probability `disturb`
            hit = self.rng.random(self._n) < self.disturb * idx.size / self._n
            self.m[hit] = -self.m[hit]
        self.counts.write_pulses += int(idx.size)
        self.counts.transactions += 1
        self.counts.energy_J += self.WRITE_ENERGY_J * idx.size
        self.timebase.sleep(width_s)

    def consolidate(
        self, indices: Sequence[int] | np.ndarray, voltage_V: float, duration_s: float
    ) -> None:
        idx = np.asarray(indices, dtype=np.int64)
        v0_V = 0.15
        rate = self.rate_at_2V_per_s * np.sinh(abs(voltage_V) / v0_V) / np.sinh(2.0 / v0_V)
        decay = np.exp(-rate * duration_s)
        if voltage_V >= 0:
            self.x[idx] = 1.0 - (1.0 - self.x[idx]) * decay
        else:
            self.x[idx] *= decay
        self.counts.consolidation_pulses += int(idx.size)
        self.counts.transactions += 1
        self.counts.energy_J += self.GATE_ENERGY_J * idx.size
        self.timebase.sleep(duration_s)

    def safe_state(self) -> str:
        return "fake array: nothing to do"
