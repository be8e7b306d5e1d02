"""A synaptic array built from four roles: router, write-pulse source, gate source, readout.

Each device index is reached through the router (terminal ``hall`` for reads, ``pulse`` for
write pulses, ``gate`` for consolidation). Weights are binary: a device reads ``+1`` when its
Hall voltage times ``read_sign`` exceeds ``read_threshold_V``, else ``-1``.

Cost report (``counts``): reads, write pulses, consolidation pulses, router operations (each
connection change or open-all), instrument transactions of the four roles since the array was
built, and energy with

    E = V² / R · t   per pulse,

``R = device_resistance_ohm`` for a write pulse of amplitude V and width t, and
``R = gate_resistance_ohm`` (the gate dielectric's leakage resistance) for a consolidation gate
pulse of voltage V and duration t. Read energy is neglected (µA excitation).

The array has no instrument of its own: the station loader passes the other roles by name
(``settings: {router: matrix, pulse: awg, gate: smu, readout: hall}``) in ``roles``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from instruments.adapters.common import positive
from instruments.roles import (
    ArrayLimits,
    GateSource,
    HallReadout,
    PulseSource,
    Role,
    Router,
    SynapseArray,
    Timebase,
)


@dataclass
class SynapseArraySettings:
    """Names of the roles to build on, the read decision and the energy model."""

    router: str = "router"
    pulse: str = "pulse"
    gate: str = "gate"
    readout: str = "hall"
    read_threshold_V: float = 0.0
    read_sign: int = 1
    device_resistance_ohm: float = 1e3
    gate_resistance_ohm: float = 1e9
    n_devices: int | None = None  # None: every device the router knows


class RoutedSynapseArray(SynapseArray):
    """Batched read / write / consolidate over device indices through a router."""

    settings_type: ClassVar[type] = SynapseArraySettings
    # settings that name another instrument of the station, and the role it must play there
    references: ClassVar[dict[str, str]] = {
        "router": "router",
        "pulse": "pulse",
        "gate": "gate",
        "readout": "hall",
    }
    visa_address: ClassVar[bool] = False  # built from other roles; ``address`` is unused
    settings: SynapseArraySettings

    def __init__(
        self,
        *,
        name: str,
        router: Router,
        pulse: PulseSource,
        gate: GateSource,
        readout: HallReadout,
        settings: SynapseArraySettings,
        limits: ArrayLimits,
        timebase: Timebase,
    ) -> None:
        super().__init__(name, limits, timebase)
        self.router, self.pulser, self.gate, self.readout = router, pulse, gate, readout
        self.settings = settings
        self.check_settings(name, settings, limits)
        router_devices = getattr(router, "n_devices", None)
        self._n = settings.n_devices if settings.n_devices is not None else router_devices
        if self._n is None or self._n <= 0:
            raise ValueError(f"{name}: setting n_devices is required for this router")
        self._parts: tuple[Role, ...] = (router, pulse, gate, readout)
        self._baseline = sum(p.transactions for p in self._parts)

    @classmethod
    def check_settings(cls, name: str, settings: SynapseArraySettings, limits: ArrayLimits) -> None:
        """Run by the station loader (no instrument opened) and again at construction."""
        positive(name, "device_resistance_ohm", settings.device_resistance_ohm)
        positive(name, "gate_resistance_ohm", settings.gate_resistance_ohm)
        if settings.read_sign not in (1, -1):
            raise ValueError(f"{name}: setting read_sign must be +1 or -1")
        if settings.n_devices is not None and settings.n_devices <= 0:
            got = settings.n_devices
            raise ValueError(f"{name}: setting n_devices must be positive, got {got}")

    @classmethod
    def open(
        cls,
        *,
        name: str,
        address: str,
        visa_library: str,
        settings: SynapseArraySettings,
        limits: ArrayLimits,
        timebase: Timebase,
        roles: Mapping[str, Role] | None = None,
    ) -> RoutedSynapseArray:
        """Build from the station's other roles (``address``/``visa_library`` are unused)."""
        if roles is None:
            raise TypeError(f"{name}: a synapse array is built from other roles: pass roles=")
        wanted = {
            "router": (settings.router, Router),
            "pulse": (settings.pulse, PulseSource),
            "gate": (settings.gate, GateSource),
            "readout": (settings.readout, HallReadout),
        }
        parts: dict[str, Any] = {}
        for key, (role_name, role_type) in wanted.items():
            part = roles.get(role_name)
            if not isinstance(part, role_type):
                raise ValueError(
                    f"{name}: setting {key} = {role_name!r} must name a {role_type.__name__} "
                    f"of the station (have: {', '.join(sorted(roles))})"
                )
            parts[key] = part
        return cls(name=name, settings=settings, limits=limits, timebase=timebase, **parts)

    @property
    def n_devices(self) -> int:
        return int(self._n)

    def _connect(self, terminal: str, device: int) -> None:
        """Route ``terminal`` to ``device``; count it unless the router reports a no-op."""
        ops = getattr(self.router, "operations", None)  # routers that count their changes
        self.router.connect(terminal, int(device))
        if ops is None or self.router.operations != ops:  # type: ignore[attr-defined]
            self.counts.router_operations += 1

    def _tally(self) -> None:
        total = sum(p.transactions for p in self._parts) - self._baseline
        self.counts.transactions = total
        self.transactions = total

    def read(self, indices: Sequence[int] | np.ndarray) -> np.ndarray:
        idx = self.device_indices(indices)
        weights = np.empty(idx.size, dtype=int)
        try:
            for k, device in enumerate(idx):
                self._connect("hall", device)
                v_V = self.readout.read_voltage()
                weights[k] = (
                    1 if self.settings.read_sign * v_V > self.settings.read_threshold_V else -1
                )
                self.counts.reads += 1
        finally:
            self._tally()
        return weights

    def write(
        self,
        indices: Sequence[int] | np.ndarray,
        polarity: int | np.ndarray,
        amplitude_V: float,
        width_s: float,
    ) -> None:
        idx = self.device_indices(indices)
        self.check_polarity(polarity)
        signs = np.broadcast_to(np.asarray(polarity, dtype=float), idx.shape)
        # Refuse before the first pulse rather than half-way through the batch: the array's
        # limits, then those of the pulse source that carries the pulses.
        self.check_write(amplitude_V, width_s)
        self.pulser.limits.amplitude_V.check(self.name, "write amplitude", abs(amplitude_V))
        self.pulser.limits.amplitude_V.check(self.name, "write amplitude", -abs(amplitude_V))
        self.pulser.limits.width_s.check(self.name, "write pulse width", width_s)
        try:
            for device, sign in zip(idx, signs, strict=True):
                self._connect("pulse", device)
                self.pulser.pulse(float(sign) * amplitude_V, width_s, 1)
                self.counts.write_pulses += 1
                self.counts.energy_J += (
                    amplitude_V**2 / self.settings.device_resistance_ohm * width_s
                )
        finally:
            self._tally()

    def consolidate(
        self, indices: Sequence[int] | np.ndarray, voltage_V: float, duration_s: float
    ) -> None:
        idx = self.device_indices(indices)
        self.check_consolidation(voltage_V, duration_s)
        self.gate.limits.voltage_V.check(self.name, "consolidation gate voltage", voltage_V)
        self.gate.limits.pulse_duration_s.check(self.name, "consolidation duration", duration_s)
        try:
            for device in idx:
                self._connect("gate", device)
                self.gate.pulse(voltage_V, duration_s)
                self.counts.consolidation_pulses += 1
                self.counts.energy_J += (
                    voltage_V**2 / self.settings.gate_resistance_ohm * duration_s
                )
        finally:
            self._tally()

    def safe_state(self) -> str:
        done = [self.gate.safe_state(), self.pulser.safe_state(), self.router.safe_state()]
        return f"{self.name}: " + "; ".join(done)

    def snapshot(self) -> dict[str, Any]:
        return {
            **super().snapshot(),
            "n_devices": self.n_devices,
            "parts": {
                "router": self.router.name,
                "pulse": self.pulser.name,
                "gate": self.gate.name,
                "readout": self.readout.name,
            },
            "counts": self.counts.as_dict(),
        }
