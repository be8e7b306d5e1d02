"""The fast path: a synapse array operated on the vectorized virtual chip directly.

:class:`VirtualSynapseArray` implements the ``instruments.roles.SynapseArray`` role for real:
the station's :class:`~instruments.roles.ArrayLimits` (checked by the role's own checks before
the chip is touched, refused with a :class:`~instruments.roles.LimitError` like every adapter),
the role's :class:`~instruments.roles.OperationCounts`, its safe state. ``field_pulse`` adds
global neuromodulation. A station reaches it by class path::

    array:
      driver: "sim_backend.fast_array:VirtualSynapseArray"
      address: "chip://ptco_gdox_hall"
      role: array
      settings: {n_devices: 65536, seed: 0}
      limits: {gate_voltage_V: [-3.0, 3.0]}   # optional, ArrayLimits' defaults otherwise

Why it lives here and imports ``instruments.roles``: it is the device itself, with no transport
in between (the twins talk SCPI over pyvisa; this class has no pyvisa to talk over), so the
physics must sit in ``sim_backend`` next to the chip, and a role must import its contract to
share its limits, counts and checks (a structural copy is what drifted before: no limits, its
own counts). ``instruments.roles`` is a leaf (numpy only, checked by an import-linter contract),
so this one import, allowed for this module only, creates no cycle and pulls no driver in. A
thin adapter in ``instruments/adapters`` instead could not import the chip (instruments never
import sim_backend) and would reach it through a string class path all the same.

Batched operations act on all listed devices at once (an idealised parallel write), and the
station clock advances by the pulse width or gate duration. Energy model, per device:
write pulse ``V²/R_channel · width``; consolidation ``C_gate·V²/2 + V·I_leak·duration``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, ClassVar

import numpy as np

from instruments.roles import ArrayLimits, SynapseArray, Timebase
from sim_backend.chip.chip import VirtualChip


@dataclass
class FastArraySettings:
    preset: str = "ptco_gdox_hall"
    n_devices: int = 65536
    seed: int = 0
    gate_capacitance_F: float = 1e-13  # per device, for the consolidation energy


class VirtualSynapseArray(SynapseArray):
    settings_type: ClassVar[type] = FastArraySettings
    visa_address: ClassVar[bool] = False  # ``address`` names the chip, not a VISA resource

    def __init__(
        self,
        name: str,
        chip: VirtualChip,
        timebase: Timebase,
        settings: FastArraySettings,
        limits: ArrayLimits | None = None,
    ) -> None:
        super().__init__(name, limits if limits is not None else ArrayLimits(), timebase)
        self.chip = chip
        self.settings = settings
        self._r_channel_ohm = chip.params.switching.channel_R_ohm

    @classmethod
    def open(
        cls,
        *,
        name: str,
        address: str,
        visa_library: str,
        settings: FastArraySettings,
        limits: ArrayLimits,
        timebase: Timebase,
    ) -> VirtualSynapseArray:
        chip = VirtualChip.from_preset(
            settings.preset, n_devices=settings.n_devices, seed=settings.seed, t0_s=timebase.now()
        )
        return cls(name, chip, timebase, settings, limits)

    @property
    def n_devices(self) -> int:
        return self.chip.n_devices

    def _tick(self, duration_s: float) -> float:
        self.counts.transactions += 1
        self.transactions += 1
        t_s = max(self.timebase.now(), self.chip.t_s)
        self.timebase.sleep(duration_s)
        return t_s

    def read(self, indices: Sequence[int] | np.ndarray) -> np.ndarray:
        """Binary weights (+1 up, -1 down; in-plane devices read as +1)."""
        idx = self.device_indices(indices)
        self.counts.reads += idx.size
        self.chip.advance_to(self._tick(0.0))
        return np.where(self.chip.m[idx] < 0, -1, 1).astype(np.int8)

    def write(
        self,
        indices: Sequence[int] | np.ndarray,
        polarity: int | np.ndarray,
        amplitude_V: float,
        width_s: float,
    ) -> None:
        """One write pulse per device toward ``polarity`` (+1/-1); it flips with P_sw(x)."""
        self.check_write(amplitude_V, width_s)
        self.check_polarity(polarity)
        idx = self.device_indices(indices)
        if idx.size == 0:
            return
        t_s = self._tick(width_s)
        self.chip.sot_pulse(idx, abs(amplitude_V), width_s, t_s, polarity=polarity)
        self.counts.write_pulses += idx.size
        self.counts.energy_J += idx.size * amplitude_V**2 / self._r_channel_ohm * width_s

    def consolidate(
        self, indices: Sequence[int] | np.ndarray, voltage_V: float, duration_s: float
    ) -> None:
        """A gate pulse of ``voltage_V`` for ``duration_s`` on each device (raises x)."""
        self.check_consolidation(voltage_V, duration_s)
        idx = self.device_indices(indices)
        if idx.size == 0:
            return
        t_s = self._tick(duration_s)
        self.chip.gate_pulse(idx, voltage_V, duration_s, t_s)
        leak_A = self.chip.gate_leakage_A(idx)
        self.counts.consolidation_pulses += idx.size
        self.counts.energy_J += float(
            idx.size * self.settings.gate_capacitance_F * voltage_V**2 / 2
            + np.sum(np.abs(voltage_V * leak_A)) * duration_s
        )

    def field_pulse(self, field_T: float, width_s: float) -> np.ndarray:
        """A global field pulse on the whole array; returns which devices flipped."""
        self.limits.field_T.check(self.name, "field pulse", field_T)
        t_s = self._tick(width_s)
        return self.chip.field_pulse(field_T, width_s, t_s)

    def hidden_state(self, indices: Sequence[int] | np.ndarray | range) -> np.ndarray:
        """The magneto-ionic level x (simulation only: a bench cannot read it directly)."""
        return self.chip.x[self.device_indices(indices)].copy()

    def safe_state(self) -> str:
        self.chip.set_gate(None, 0.0, max(self.timebase.now(), self.chip.t_s))
        self.chip.set_field(0.0, self.chip.t_s)
        return "all gates at 0 V, no field (virtual chip)"

    def snapshot(self) -> dict[str, Any]:
        return {
            **super().snapshot(),
            "settings": asdict(self.settings),
            "counts": self.counts.as_dict(),
        }


def make_fast_array(
    n_devices: int, seed: int = 0, preset: str = "ptco_gdox_hall", name: str = "array"
) -> VirtualSynapseArray:
    """A fresh fast array on its own virtual clock (studies: one chip per training run)."""
    from labctl.clock import VirtualClock

    settings = FastArraySettings(preset=preset, n_devices=int(n_devices), seed=int(seed))
    return VirtualSynapseArray.open(
        name=name,
        address=f"chip://{preset}",
        visa_library="",
        settings=settings,
        limits=ArrayLimits(),
        timebase=VirtualClock(0.0),
    )
