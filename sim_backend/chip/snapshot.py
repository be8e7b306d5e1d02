"""Snapshot and restore of a ``VirtualChip``: the state that evolves, not the drawn chip.

A snapshot holds m, x, time, drives, broken oxides, the cycle-to-cycle factors and the random
generator's state, so that a restored chip continues bit-for-bit as the original would. The
per-device parameters are not in it: they follow from (params, n_devices, seed).
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from sim_backend.chip.readout import DriftingNoise


class SnapshotMixin:
    """``state_dict`` / ``load_state`` of :class:`~sim_backend.chip.chip.VirtualChip`."""

    n_devices: int
    t_s: float
    m: np.ndarray
    x: np.ndarray
    field_T: float
    inplane_field_T: float
    temperature_K: float
    gate_V: np.ndarray
    broken: np.ndarray
    rng: np.random.Generator
    _c2c: np.ndarray
    _all: np.ndarray
    _noise: DriftingNoise

    def _sync_gate(self, idx: np.ndarray | None = None) -> None: ...  # by VirtualChip
    def _update_drive(self, idx: np.ndarray) -> None: ...  # provided by VirtualChip
    def _refresh(self, sel: np.ndarray | slice, assign_m: bool = True) -> None: ...

    def state_dict(self) -> dict:
        """Snapshot of m, x, t_s, drives, broken flags and the rng state (a deep copy)."""
        return {
            "n_devices": self.n_devices,
            "t_s": self.t_s,
            "m": self.m.copy(),
            "x": self.x.copy(),
            "field_T": self.field_T,
            "inplane_field_T": self.inplane_field_T,
            "temperature_K": self.temperature_K,
            "gate_V": self.gate_V.copy(),
            "broken": self.broken.copy(),
            "c2c": self._c2c.copy(),
            "rng": copy.deepcopy(self.rng.bit_generator.state),
            "noise": self._noise.state(),
        }

    def load_state(self, d: dict) -> None:
        """Restore a snapshot made by ``state_dict`` on a chip with the same params/n_devices."""
        if d["n_devices"] != self.n_devices:
            raise ValueError(
                f"state n_devices: got {d['n_devices']}, expected {self.n_devices} (this chip)"
            )
        self.t_s = float(d["t_s"])
        self.x = np.array(d["x"], dtype=float)
        self.field_T = float(d["field_T"])
        self.inplane_field_T = float(d["inplane_field_T"])
        self.temperature_K = float(d["temperature_K"])
        self.gate_V = np.array(d["gate_V"], dtype=float)
        self.broken = np.array(d["broken"], dtype=bool)
        self._c2c = np.array(d["c2c"], dtype=float)
        self.rng.bit_generator.state = copy.deepcopy(d["rng"])
        self._noise.load(d["noise"])
        self._sync_gate()
        self._update_drive(self._all)
        self._refresh(slice(None), assign_m=False)
        self.m = np.array(d["m"], dtype=float)
