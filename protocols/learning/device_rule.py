"""The physical rule: the chip's magneto-ionic state ``x`` is the metaplastic hidden weight.

The host keeps only what a controller would keep per synapse — Adam-like gradient moments, a
signed *pressure* accumulator, a retry counter and the net number of gate pulses it has sent
(``level``: the controller's own pulse log, not a measurement of x) — and nothing of the hidden
weight. Each step:

1. The moments give the update the reference would apply to a hidden weight,
   ``u = step·m̂/(√v̂ + eps)``; its component along the current binary weight ``b`` is the
   pressure ``p = u·b`` (> 0 pushes toward a sign flip, < 0 agrees with the sign). With
   ``task_moments="keep"`` the moments are kept across tasks: the second moment ``v`` then carries
   the old tasks' gradient scale (a diagonal-Fisher-like importance), so a synapse that mattered
   before feels a weaker pressure under a new task, and a new task does not open with the
   bias-corrected full-size step on every synapse that a reset gives.
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
   reference's slow erosion of |W_h| under sustained opposing pressure. From
   ``booked_failure_level`` on (4 = the anisotropy peak, P ≈ 0.02) a write would fail: the
   controller books it as failed (back-off, erosion credit) without sending the pulse.
5. Optional global-field neuromodulation (``field_T ≠ 0``, arrays with ``field_pulse``): two
   phases ``+H_g``, ``−H_g`` at task starts or every epoch (see :mod:`.neuromodulation`).
6. Options from the controller's own pulse log (off by default): ``frozen_level`` sends no write
   pulse (and books nothing) to a device holding that many gate pulses: it stays frozen (the
   medical preset), ``level_write_V`` picks the write amplitude by level, ``reset_level_on_flip``
   erodes a device that did flip back to level 0 (a reference hidden weight restarts near 0),
   ``layer_consolidation_scale`` gives each layer its own consolidation threshold (medical),
   ``max_writes_per_task`` caps the write pulses a device receives per task (an endurance
   budget: a device at its budget is left alone until the next task; its pressure is kept).

**Defaults** (the study's permuted-digits settings): ``task_moments="keep"``,
``flip_threshold=0.025``, ``consolidation_threshold=0.06``, ``booked_failure_level=4``; the pulse
settings suit the ``ptco_gdox_hall`` virtual chip. They are the middle of a plateau found by
sweeps, not a fit: before changing one, read the record of what was tried and what was noise in
``docs/learning/device_rule_tuning.md`` (the medical sequence's preset is in
:data:`.comparison.SEQUENCE_SETTINGS`, tuned the same way).
"""

from __future__ import annotations

import numpy as np

from .neuromodulation import FieldEvent, neuromodulate, supports_field
from .rule import Rule
from .rule_settings import DEVICE, DeviceRuleConfig


class DeviceRule(Rule, declaration=DEVICE):
    """Accumulate, write when a flip is asked, consolidate when the sign is confirmed."""

    cfg: DeviceRuleConfig

    def __init__(self, **settings: float | str | bool) -> None:
        super().__init__(**settings)
        self.m = np.zeros(0, dtype=np.float32)  # vectors in device order
        self.v = np.zeros(0, dtype=np.float32)
        self.acc = np.zeros(0, dtype=np.float32)
        self.credit = np.zeros(0, dtype=np.int32)
        self.level = np.zeros(0, dtype=np.int16)  # net gate pulses sent (controller's log)
        self.fails = np.zeros(0, dtype=np.uint8)  # consecutive failed writes (retry back-off)
        self.task_writes = np.zeros(0, dtype=np.int32)  # write pulses sent in this task
        self.t = 0
        self.write_attempts = 0
        self.failed_writes = 0
        self.booked_failures = 0  # writes not sent: predicted to fail (booked_failure_level)
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
        self.task_writes = np.zeros(self.store.flat.shape, dtype=np.int32)
        self._theta: float | np.ndarray = c.consolidation_threshold
        if c.layer_consolidation_scale:  # one threshold per device, from its layer's scale
            sizes = self.store.layout.sizes
            if len(c.layer_consolidation_scale) != len(sizes):
                raise ValueError(
                    f"device rule: layer_consolidation_scale has "
                    f"{len(c.layer_consolidation_scale)} values for {len(sizes)} layers"
                )
            scale = np.repeat(np.asarray(c.layer_consolidation_scale, dtype=float), sizes)
            self._theta = (c.consolidation_threshold * scale).astype(self.store.flat.dtype)
        self._thresholds = (
            c.flip_threshold * c.failure_backoff ** np.arange(c.max_backoff_steps + 1)
        ).astype(self.store.flat.dtype)
        self._flip_at = np.full_like(self.store.flat, self._thresholds[0])  # = _thresholds[fails]
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
        c, a = self.cfg, self.acc
        asked = a >= self._flip_at
        if c.frozen_level > 0:
            asked &= self.level < c.frozen_level
        if c.max_writes_per_task > 0:
            asked &= self.task_writes < c.max_writes_per_task
        devices = np.flatnonzero(asked)
        if c.booked_failure_level > 0:  # predicted to fail: booked as failed, no pulse sent
            booked = self.level[devices] >= c.booked_failure_level
            devices, skipped = devices[~booked], devices[booked]
        else:
            skipped = devices[:0]
        if devices.size + skipped.size == 0:
            return
        flipped = self._write_flips(devices) if devices.size else np.zeros(0, dtype=bool)
        if c.max_writes_per_task > 0:
            self.task_writes[devices] += 1
        self.write_attempts += int(devices.size)
        self.failed_writes += int(devices.size - flipped.sum())
        failed = devices[~flipped]
        if skipped.size:  # booked failures join the failed writes
            self.booked_failures += int(skipped.size)
            failed = np.concatenate([failed, skipped])
            devices = np.concatenate([devices, skipped])
            flipped = np.concatenate([flipped, np.zeros(skipped.size, dtype=bool)])
        if self.cfg.erode_on_failed_write:
            self.credit[failed] -= 1
        self.fails[devices[flipped]] = 0
        if self.cfg.reset_level_on_flip:
            won = devices[flipped]
            self.credit[won] = -self.level[won]
        self.fails[failed] = np.minimum(self.fails[failed] + 1, self.cfg.max_backoff_steps)
        self._flip_at[devices] = self._thresholds[self.fails[devices]]
        if self.cfg.reset_on_failed_write:
            a[devices] = 0.0
        else:
            a[devices[flipped]] = 0.0
            a[failed] = self._flip_at[failed]  # try again at the next step

    def _write_flips(self, devices: np.ndarray) -> np.ndarray:
        """One write pulse per device toward ``−b``, at the amplitude of its level."""
        c = self.cfg
        target = -self.store.flat[devices]
        if not c.level_write_V:
            return self.store.write(devices, target, c.write_amplitude_V, c.write_width_s)
        volts = np.asarray(c.level_write_V, dtype=float)
        lv = np.minimum(self.level[devices], volts.size - 1)
        flipped = np.zeros(devices.size, dtype=bool)
        for k in np.unique(lv):
            sel = np.flatnonzero(lv == k)
            flipped[sel] = self.store.write(
                devices[sel], target[sel], float(volts[k]), c.write_width_s
            )
        return flipped

    def _earn_credit(self) -> None:
        theta = self._theta
        devices = np.flatnonzero(self.acc <= -theta)
        if devices.size:
            theta = theta[devices] if isinstance(theta, np.ndarray) and theta.ndim else theta
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
        if self.cfg.task_moments == "reset":
            self._reset_moments()
        elif self.cfg.task_moments == "keep_v":
            self.m[...] = 0.0
        self.acc[...] = 0.0
        self.task_writes[...] = 0
        if self.cfg.backoff_reset_at_task:
            self.fails[...] = 0
            self._flip_at[...] = self._thresholds[0]
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
            "booked_failures": self.booked_failures,
            "field_events": len(self.field_events),
            "field_flipped_devices": sum(e.flipped_devices for e in self.field_events),
            "devices_at_max_level": int(np.count_nonzero(self.level >= self.cfg.max_level)),
        }
