"""Where the binary weights live: in software, or on a chip reached through a ``SynapseArray``.

Every rule talks to a :class:`WeightStore` only, so the same rule code drives the pure-software
reference, the fast virtual-chip path and the instrument path.

Device layout: the weights of all layers are mapped to device indices contiguously, layer after
layer, each layer's ``(n_in, n_out)`` matrix in row-major (C) order. Device ``offset[l] + i·n_out
+ j`` holds weight ``W_l[i, j]``; devices beyond the network's weights are left alone.

The chip store keeps a cache of the binary weights: one full read at attach time, then after each
write batch it reads back exactly the written devices (the minimum to know which writes took), and
optionally a full re-read at chosen boundaries to catch disturbed (half-selected) devices.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from instruments.roles import SynapseArray

Refresh = Literal["never", "epoch", "task"]


@dataclass(frozen=True)
class Layout:
    """Layer shapes and their contiguous device-index offsets."""

    shapes: tuple[tuple[int, int], ...]

    @property
    def sizes(self) -> tuple[int, ...]:
        return tuple(a * b for a, b in self.shapes)

    @property
    def offsets(self) -> tuple[int, ...]:
        return tuple(int(o) for o in np.concatenate([[0], np.cumsum(self.sizes)[:-1]]))

    @property
    def n_devices(self) -> int:
        return int(sum(self.sizes))

    def device_indices(self, layer: int, flat: np.ndarray) -> np.ndarray:
        """Device indices of the row-major flat positions ``flat`` of layer ``layer``."""
        return self.offsets[layer] + np.asarray(flat, dtype=np.int64)

    def split(self, values: np.ndarray) -> list[np.ndarray]:
        """Per-layer ``(n_in, n_out)`` views of a vector in device order."""
        return [
            values[o : o + n].reshape(s)
            for o, n, s in zip(self.offsets, self.sizes, self.shapes, strict=True)
        ]

    def join(self, per_layer: list[np.ndarray], out: np.ndarray | None = None) -> np.ndarray:
        """One vector in device order from per-layer matrices."""
        if out is None:
            out = np.empty(self.n_devices, dtype=per_layer[0].dtype)
        for o, n, m in zip(self.offsets, self.sizes, per_layer, strict=True):
            out[o : o + n] = m.reshape(-1)
        return out


@dataclass
class StoreCounts:
    """What the rules asked of the store (independent of how the array counts its own cost)."""

    write_requests: int = 0  # devices sent a write pulse
    successful_flips: int = 0  # of which the read-back shows the new sign
    consolidation_requests: int = 0  # devices sent a consolidation gate pulse
    refresh_reads: int = 0  # devices read in full re-reads
    stale_devices: int = 0  # devices found different from the cache at a full re-read
    array_calls: int = 0  # read/write/consolidate calls made on the array (≥ 1 transaction each)
    extra: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, int]:
        d = {k: v for k, v in self.__dict__.items() if k != "extra"}
        d.update(self.extra)
        return d


class WeightStore:
    """Software store: writes always take, consolidation is a no-op (counted).

    :attr:`flat` holds the binary weights of all devices in layout order; :attr:`binary` are the
    per-layer ``(n_in, n_out)`` views of it that the network multiplies with. Operations take
    device indices (see :class:`Layout`), so one call covers all layers.
    """

    def __init__(self, shapes: list[tuple[int, int]], dtype: type = np.float32) -> None:
        self.layout = Layout(tuple((int(a), int(b)) for a, b in shapes))
        self.dtype = dtype
        self.flat = np.ones(self.layout.n_devices, dtype=dtype)
        self.binary: list[np.ndarray] = [
            self.flat[off : off + size].reshape(shape)
            for off, size, shape in zip(
                self.layout.offsets, self.layout.sizes, self.layout.shapes, strict=True
            )
        ]
        self.counts = StoreCounts()
        self.refresh_at: Refresh = "never"

    @property
    def on_chip(self) -> bool:
        return False

    @property
    def array(self) -> SynapseArray | None:
        return None

    def initialise(self, rng: np.random.Generator) -> np.ndarray:
        """Start-up binary weights (random signs in software); returns :attr:`flat`."""
        self.flat[...] = np.where(rng.random(self.flat.shape) < 0.5, -1.0, 1.0)
        return self.flat

    def write(
        self,
        devices: np.ndarray,
        polarity: np.ndarray,
        amplitude_V: float = 0.0,
        width_s: float = 0.0,
    ) -> np.ndarray:
        """One write pulse per device toward ``polarity`` (±1 each); returns the flipped mask."""
        devices = np.asarray(devices, dtype=np.int64)
        if devices.size == 0:
            return np.zeros(0, dtype=bool)
        pol = np.broadcast_to(np.asarray(polarity, dtype=self.dtype), devices.shape)
        before = self.flat[devices]
        self._write(devices, pol, amplitude_V, width_s)
        after = self.flat[devices]
        flipped = (after != before) & (after == pol)
        self.counts.write_requests += int(devices.size)
        self.counts.successful_flips += int(flipped.sum())
        return flipped

    def _write(
        self, devices: np.ndarray, pol: np.ndarray, amplitude_V: float, width_s: float
    ) -> None:
        self.flat[devices] = pol

    def consolidate(
        self, devices: np.ndarray, voltage_V: float = 0.0, duration_s: float = 0.0
    ) -> None:
        """One consolidation gate pulse per device (a no-op in software)."""
        self.counts.consolidation_requests += int(np.asarray(devices).size)

    def refresh(self) -> int:
        """Re-read every weight; returns how many differed from the cache (0 in software)."""
        return 0


class ArrayWeights(WeightStore):
    """Binary weights held by the devices of a :class:`SynapseArray` (cached read-back)."""

    def __init__(
        self,
        shapes: list[tuple[int, int]],
        array: SynapseArray,
        refresh: Refresh = "task",
        dtype: type = np.float32,
    ) -> None:
        super().__init__(shapes, dtype)
        if array.n_devices < self.layout.n_devices:
            widths = [self.layout.shapes[0][0], *(n_out for _, n_out in self.layout.shapes)]
            raise ValueError(
                f"the network {'-'.join(map(str, widths))} needs {self.layout.n_devices} "
                f"synapses (one device per weight), the array has {array.n_devices} devices: "
                "train a smaller network (hidden widths, tasks) or use a larger array"
            )
        self._array = array
        self.refresh_at = refresh

    @property
    def on_chip(self) -> bool:
        return True

    @property
    def array(self) -> SynapseArray:
        return self._array

    def initialise(self, rng: np.random.Generator) -> np.ndarray:
        """The chip's current state is the start-up network: one full read, no write."""
        self._read_all()
        return self.flat

    def _read_all(self) -> int:
        values = self._read(np.arange(self.layout.n_devices, dtype=np.int64))
        stale = int(np.count_nonzero(values != self.flat))
        self.flat[...] = values
        return stale

    def _read(self, devices: np.ndarray) -> np.ndarray:
        self.counts.array_calls += 1
        values = np.asarray(self._array.read(devices), dtype=self.dtype)
        if values.shape != devices.shape or not np.all(np.abs(values) == 1):
            raise ValueError(f"{self._array.name}: read must return ±1 per device")
        return values

    def _write(
        self, devices: np.ndarray, pol: np.ndarray, amplitude_V: float, width_s: float
    ) -> None:
        polarity: int | np.ndarray = int(pol[0]) if np.all(pol == pol[0]) else pol.astype(int)
        self.counts.array_calls += 1
        self._array.write(devices, polarity, amplitude_V, width_s)
        self.flat[devices] = self._read(devices)

    def consolidate(
        self, devices: np.ndarray, voltage_V: float = 0.0, duration_s: float = 0.0
    ) -> None:
        devices = np.asarray(devices, dtype=np.int64)
        if devices.size == 0:
            return
        super().consolidate(devices, voltage_V, duration_s)
        self.counts.array_calls += 1
        self._array.consolidate(devices, voltage_V, duration_s)

    def refresh(self) -> int:
        stale = self._read_all()
        self.counts.refresh_reads += self.layout.n_devices
        self.counts.stale_devices += stale
        return stale


def make_store(
    shapes: list[tuple[int, int]],
    array: SynapseArray | None = None,
    refresh: Refresh = "task",
    dtype: type = np.float32,
) -> WeightStore:
    """A software store, or a chip store over ``array``."""
    if array is None:
        return WeightStore(shapes, dtype)
    return ArrayWeights(shapes, array, refresh, dtype)
