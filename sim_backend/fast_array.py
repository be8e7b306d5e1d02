"""The fast path: a synapse array operated on the vectorized virtual chip directly.

It offers what ``instruments.roles.SynapseArray`` offers (``read``, ``write``, ``consolidate``,
``counts``, ``safe_state``; and ``field_pulse`` for global neuromodulation), structurally:
``sim_backend`` may not import ``instruments``. A station reaches it by class path::

    array:
      driver: "sim_backend.fast_array:VirtualSynapseArray"
      address: "chip://ptco_gdox_hall"
      role: array
      settings: {n_devices: 65536, seed: 0}

Batched operations act on all listed devices at once (an idealised parallel write), and the
station clock advances by the pulse width or gate duration. Energy model, per device:
write pulse ``V²/R_channel · width``; consolidation ``C_gate·V²/2 + V·I_leak·duration``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, ClassVar, Protocol

import numpy as np

from sim_backend.chip.chip import VirtualChip


class _Timebase(Protocol):
    def now(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


@dataclass
class FastArraySettings:
    preset: str = "ptco_gdox_hall"
    n_devices: int = 65536
    seed: int = 0
    gate_capacitance_F: float = 1e-13  # per device, for the consolidation energy
    # safety limits, checked before anything touches the chip (like ArrayLimits on a bench);
    # the gate limit stays well below the oxide breakdown of the preset (8 V ± 5 %)
    max_write_V: float = 6.0
    min_write_width_s: float = 1e-9
    max_write_width_s: float = 1e-3
    max_gate_V: float = 3.0
    max_gate_duration_s: float = 60.0
    max_field_T: float = 0.3


@dataclass
class FastCounts:
    """Same fields as ``instruments.roles.OperationCounts``."""

    reads: int = 0
    write_pulses: int = 0
    consolidation_pulses: int = 0
    router_operations: int = 0
    transactions: int = 0
    energy_J: float = 0.0

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


class VirtualSynapseArray:
    role: ClassVar[str] = "array"
    limits_type: ClassVar[None] = None
    settings_type: ClassVar[type] = FastArraySettings

    def __init__(self, name: str, chip: VirtualChip, timebase: _Timebase, settings: Any) -> None:
        self.name = name
        self.chip = chip
        self.timebase = timebase
        self.settings = settings
        self.counts = FastCounts()
        self.transactions = 0
        self._r_channel_ohm = chip.params.switching.channel_R_ohm

    @classmethod
    def open(
        cls,
        *,
        name: str,
        address: str,
        visa_library: str,
        settings: FastArraySettings,
        limits: Any,
        timebase: _Timebase,
    ) -> VirtualSynapseArray:
        chip = VirtualChip.from_preset(
            settings.preset, n_devices=settings.n_devices, seed=settings.seed, t0_s=timebase.now()
        )
        return cls(name, chip, timebase, settings)

    @property
    def n_devices(self) -> int:
        return self.chip.n_devices

    def _indices(self, indices: Any) -> np.ndarray:
        idx = np.asarray(indices, dtype=np.intp).ravel()
        if idx.size and (idx.min() < 0 or idx.max() >= self.chip.n_devices):
            raise IndexError(f"{self.name}: device index out of range 0..{self.chip.n_devices - 1}")
        return idx

    def _tick(self, duration_s: float) -> float:
        self.counts.transactions += 1
        self.transactions += 1
        t_s = max(self.timebase.now(), self.chip.t_s)
        self.timebase.sleep(duration_s)
        return t_s

    def _check(self, what: str, value: float, low: float, high: float, unit: str) -> None:
        if not (np.isfinite(value) and low <= value <= high):
            expected = f"expected {low:g} to {high:g} {unit}"
            raise ValueError(f"{self.name}: refused {what} = {value:g} {unit}: {expected}")

    def read(self, indices: Any) -> np.ndarray:
        """Binary weights (+1 up, -1 down; in-plane devices read as +1)."""
        idx = self._indices(indices)
        self.counts.reads += idx.size
        self.chip.advance_to(self._tick(0.0))
        return np.where(self.chip.m[idx] < 0, -1, 1).astype(np.int8)

    def write(self, indices: Any, polarity: Any, amplitude_V: float, width_s: float) -> None:
        """One write pulse per device toward ``polarity`` (+1/-1); it flips with P_sw(x)."""
        st = self.settings
        self._check("write amplitude", abs(amplitude_V), 0.0, st.max_write_V, "V")
        self._check("write pulse width", width_s, st.min_write_width_s, st.max_write_width_s, "s")
        pol = np.asarray(polarity)
        if not np.all(np.abs(pol) == 1):
            raise ValueError(f"{self.name}: write polarity must be +1 or -1, got {polarity!r}")
        idx = self._indices(indices)
        if idx.size == 0:
            return
        t_s = self._tick(width_s)
        self.chip.sot_pulse(idx, abs(amplitude_V), width_s, t_s, polarity=polarity)
        self.counts.write_pulses += idx.size
        self.counts.energy_J += idx.size * amplitude_V**2 / self._r_channel_ohm * width_s

    def consolidate(self, indices: Any, voltage_V: float, duration_s: float) -> None:
        """A gate pulse of ``voltage_V`` for ``duration_s`` on each device (raises x)."""
        st = self.settings
        self._check("gate voltage", voltage_V, -st.max_gate_V, st.max_gate_V, "V")
        self._check("gate pulse duration", duration_s, 0.0, st.max_gate_duration_s, "s")
        idx = self._indices(indices)
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
        self._check("field", field_T, -self.settings.max_field_T, self.settings.max_field_T, "T")
        t_s = self._tick(width_s)
        return self.chip.field_pulse(field_T, width_s, t_s)

    def hidden_state(self, indices: Any) -> np.ndarray:
        """The magneto-ionic level x (simulation only: a bench cannot read it directly)."""
        return self.chip.x[self._indices(indices)].copy()

    def safe_state(self) -> str:
        self.chip.set_gate(None, 0.0, max(self.timebase.now(), self.chip.t_s))
        self.chip.set_field(0.0, self.chip.t_s)
        return "all gates at 0 V, no field (virtual chip)"

    def snapshot(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "role": self.role,
            "class": type(self).__name__,
            "settings": asdict(self.settings),
        }

    def close(self) -> None:
        pass


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
        limits=None,
        timebase=VirtualClock(0.0),
    )
