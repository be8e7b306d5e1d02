"""The physical rule: the chip's magneto-ionic state ``x`` is the metaplastic hidden weight.

The host keeps only what a controller would keep per synapse — Adam-like gradient moments, a
signed *pressure* accumulator, a retry counter and the net number of gate pulses it has sent
(``level``: the controller's own pulse log, not a measurement of x) — and nothing of the hidden
weight. Each step:

1. The moments give the update the reference would apply to a hidden weight,
   ``u = step·m̂/(√v̂ + eps)``; its component along the current binary weight ``b`` is the
   pressure ``p = u·b`` (> 0 pushes toward a sign flip, < 0 agrees with the sign).
2. ``p`` is integrated in an accumulator ``a``. When ``a ≥ flip_threshold`` the device gets one
   write pulse toward ``−b``; the chip decides: it flips with its physical probability
   ``P_sw(pulse, x)`` (lower for consolidated devices), and the host reads back only the written
   devices. ``a`` is reset after the attempt: a consolidated device resists, and the host must
   build the pressure up again before it tries once more — the device does the metaplastic
   attenuation.
3. When ``a ≤ −consolidation_threshold`` the synapse earns a consolidation credit. Credits are
   spent in batches (``consolidate_at``: every step, epoch or task — gate pulses are slow,
   ms to minutes) as gate pulses through ``SynapseArray.consolidate``, which raise ``x``. A
   device gets at most ``max_level`` net pulses: the anisotropy of the chip peaks at an optimal
   oxidation (beyond it the device softens again, then turns in-plane), so the controller stops
   there instead of over-oxidising.
4. Controller bookkeeping from the write outcomes only: a failed write multiplies that synapse's
   flip threshold by ``failure_backoff`` (reset on success: retry back-off, which keeps write
   pulses below the flip-when-asked baseline), and with ``erode_on_failed_write`` earns a
   negative credit, spent as a gate pulse at ``−gate_voltage_V`` for ``erosion_duration_s``
   that lowers ``x`` (only on devices with ``level > 0``) — the chip's counterpart of the
   reference's slow erosion of |W_h| under sustained opposing pressure.
5. Optional global-field neuromodulation (``field_T ≠ 0``, arrays with ``field_pulse``): two
   phases ``+H_g``, ``−H_g`` at task starts or every epoch (see :mod:`.neuromodulation`).

Defaults are tuned for the ``ptco_gdox_hall`` virtual chip (x_init ≈ 0.35, anisotropy peak at
x_opt = 0.55), measured with ``VirtualChip.switching_probability_sot``: a 3.5 V, 20 ns write flips
a fresh device with P ≈ 0.96; a +2 V, 0.7 s gate pulse (τ(2 V) ≈ 8 s) raises x by ≈ 0.05, and
after 1, 2, 3, 4 such pulses P falls to ≈ 0.29, 0.04, 0.009, 0.02 (x ≈ 0.41, 0.46, 0.51, 0.55:
the last one sits at the anisotropy peak; beyond it P rises again). At 4 V the floor is ≈ 0.07,
too high for consolidation to hold. ``max_level = 4`` stops at the peak; reducing is ≈ 5×
slower, hence the longer erosion pulse. Over 5 seeds of permuted digits × 5 this setting was the
best of a small sweep (3.25–3.6 V, 0.34–1 s, max_level 3–6; a 4.9 s erosion pulse was worse).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from .neuromodulation import FieldEvent, neuromodulate, supports_field
from .rule import Rule, register

When = Literal["step", "epoch", "task"]
FieldWhen = Literal["task", "epoch"]


@dataclass
class DeviceRuleConfig:
    lr: float = 0.005
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8
    flip_threshold: float = 0.02  # accumulated update toward a flip per write pulse
    consolidation_threshold: float = 0.05  # accumulated agreeing update per consolidation credit
    consolidate_at: When = "epoch"
    max_consolidation_pulses: int = 8  # per device and per consolidation batch
    max_level: int = 4  # net gate pulses a device may hold (stay below the anisotropy peak)
    reset_on_failed_write: bool = True
    failure_backoff: float = 2.0  # flip threshold × this per consecutive failed write (1: off)
    max_backoff_steps: int = 12
    backoff_reset_at_task: bool = False  # forget the back-off at task boundaries
    erode_on_failed_write: bool = True  # a failed write earns a de-consolidation (V < 0) pulse
    write_amplitude_V: float = 3.5
    write_width_s: float = 2e-8
    gate_voltage_V: float = 2.0
    gate_duration_s: float = 0.7
    erosion_duration_s: float = 2.4  # the reducing direction is ≈ 5× slower
    consolidate: bool = True  # off: the "flip when asked" baseline on the same accumulator
    field_T: float = 0.0  # global-field neuromodulation amplitude H_g (0: off)
    field_width_s: float = 1e-6
    field_at: FieldWhen = "task"  # task: at each task start after the first; epoch: every epoch


@register
class DeviceRule(Rule):
    """Accumulate, write when a flip is asked, consolidate when the sign is confirmed."""

    name = "device"

    def __init__(self, **settings: float | str | bool) -> None:
        super().__init__()
        self.cfg = DeviceRuleConfig(**settings)  # type: ignore[arg-type]
        self.m = np.zeros(0, dtype=np.float32)  # vectors in device order
        self.v = np.zeros(0, dtype=np.float32)
        self.acc = np.zeros(0, dtype=np.float32)
        self.credit = np.zeros(0, dtype=np.int32)
        self.level = np.zeros(0, dtype=np.int16)  # net gate pulses sent (controller's log)
        self.fails = np.zeros(0, dtype=np.uint8)  # consecutive failed writes (retry back-off)
        self.t = 0
        self.write_attempts = 0
        self.failed_writes = 0
        self.field_events: list[FieldEvent] = []
        self._tasks_done = 0

    def _init_state(self) -> None:
        c = self.cfg
        if c.field_T and not supports_field(self.store.array):
            where = "software" if self.store.array is None else self.store.array.name
            raise ValueError(
                f"device rule: field_T = {c.field_T} T needs an array with field_pulse "
                f"(global field); {where} has none"
            )
        self.acc = np.zeros_like(self.store.flat)
        self.credit = np.zeros(self.store.flat.shape, dtype=np.int32)
        self.level = np.zeros(self.store.flat.shape, dtype=np.int16)
        self.fails = np.zeros(self.store.flat.shape, dtype=np.uint8)
        self._thresholds = (
            c.flip_threshold * c.failure_backoff ** np.arange(c.max_backoff_steps + 1)
        ).astype(self.store.flat.dtype)
        self._reset_moments()

    def _reset_moments(self) -> None:
        self.t = 0
        self.m = np.zeros_like(self.store.flat)
        self.v = np.zeros_like(self.store.flat)

    def step_flat(self, grad: np.ndarray) -> None:
        c, m, v, a = self.cfg, self.m, self.v, self.acc
        self.t += 1
        step_size = float(c.lr * np.sqrt(1.0 - c.beta2**self.t) / (1.0 - c.beta1**self.t))
        m *= c.beta1
        m += (1.0 - c.beta1) * grad
        v *= c.beta2
        v += (1.0 - c.beta2) * (grad * grad)
        a += step_size * (m / (np.sqrt(v) + c.eps)) * self.store.flat
        self._write_asked()
        if c.consolidate:
            self._earn_credit()
            if c.consolidate_at == "step":
                self._spend_credit()

    def _write_asked(self) -> None:
        a = self.acc
        devices = np.flatnonzero(a >= self._thresholds[self.fails])
        if devices.size == 0:
            return
        target = -self.store.flat[devices]
        flipped = self.store.write(
            devices, target, self.cfg.write_amplitude_V, self.cfg.write_width_s
        )
        self.write_attempts += int(devices.size)
        self.failed_writes += int(devices.size - flipped.sum())
        failed = devices[~flipped]
        if self.cfg.erode_on_failed_write:
            self.credit[failed] -= 1
        self.fails[devices[flipped]] = 0
        self.fails[failed] = np.minimum(self.fails[failed] + 1, self.cfg.max_backoff_steps)
        if self.cfg.reset_on_failed_write:
            a[devices] = 0.0
        else:
            a[devices[flipped]] = 0.0
            a[failed] = self._thresholds[self.fails[failed]]  # try again at the next step

    def _earn_credit(self) -> None:
        theta = self.cfg.consolidation_threshold
        devices = np.flatnonzero(self.acc <= -theta)
        if devices.size:
            earned = np.floor(-self.acc[devices] / theta)
            self.credit[devices] += earned.astype(np.int32)
            self.acc[devices] += (earned * theta).astype(self.acc.dtype)

    def _spend_credit(self) -> None:
        """Positive credits: gate pulses at +V (raise x, up to ``max_level``); negative ones
        (erosion) at −V (lower x, down to level 0). One array call per pulse round."""
        c = self.cfg
        for k in range(1, c.max_consolidation_pulses + 1):
            devices = np.flatnonzero((self.credit >= k) & (self.level < c.max_level))
            if devices.size == 0:
                break
            self.store.consolidate(devices, c.gate_voltage_V, c.gate_duration_s)
            self.level[devices] += 1
        for k in range(1, c.max_consolidation_pulses + 1):
            devices = np.flatnonzero((self.credit <= -k) & (self.level > 0))
            if devices.size == 0:
                break
            self.store.consolidate(devices, -c.gate_voltage_V, c.erosion_duration_s)
            self.level[devices] -= 1
        self.credit[...] = 0

    def _neuromodulate(self) -> None:
        c = self.cfg
        self.field_events.append(neuromodulate(self.store, c.field_T, c.field_width_s))

    def epoch_end(self) -> None:
        if self.cfg.consolidate and self.cfg.consolidate_at == "epoch":
            self._spend_credit()
        if self.cfg.field_T and self.cfg.field_at == "epoch":
            self._neuromodulate()
        super().epoch_end()

    def task_boundary(self) -> None:
        if self.cfg.consolidate and self.cfg.consolidate_at == "task":
            self._spend_credit()
        self._reset_moments()
        self.acc[...] = 0.0
        if self.cfg.backoff_reset_at_task:
            self.fails[...] = 0
        super().task_boundary()
        self._tasks_done += 1

    def begin_task(self) -> None:
        """Called before each task's first step: the "novelty" neuromodulatory event."""
        if self.cfg.field_T and self.cfg.field_at == "task" and self._tasks_done > 0:
            self._neuromodulate()

    def counts(self) -> dict[str, int]:
        return {
            **super().counts(),
            "write_attempts": self.write_attempts,
            "failed_writes": self.failed_writes,
            "field_events": len(self.field_events),
            "field_flipped_devices": sum(e.flipped_devices for e in self.field_events),
            "devices_at_max_level": int(np.count_nonzero(self.level >= self.cfg.max_level)),
        }
