"""How a moving field is followed by the chip: the instants between which it may be held.

The chip treats the field as constant between calls (``sim_backend/chip/chip.py``). While a
magnet's field moves, :func:`field_steps` gives the times t0 < … < t1 at which the lab
(:meth:`sim_backend.lab.Lab._follow_field`) applies a new field, each held at its mean over the
step: steps sized by how much any device's switching barrier can change across one
(:func:`hazard_step_T`, the device model's switching laws), at the times the magnets give in
closed form. docs/physics.md §6 says why.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from labctl.physics import switching

MAX_FIELD_SUBSTEPS = 2000
# While the field moves, one step may change any device's barrier (in k_B T) by at most this:
# the field is held at its mean over the step, which errs in the escape rate by ~ε²/24 (4 % at
# ε = 1; the bound takes the barrier's steepest slope, at zero field: where devices switch,
# (1 − h)^(n−1) ≈ 0.6 of it for n = 2, so ≈ 1.5 %, below a 60-trial switching curve's binomial
# spread). 0.25 (0.3 %) made a switching-probability trial ~880 chip steps (issue 13).
HAZARD_STEP_KT = 1.0
# ... or more, as long as a device's expected escapes over the interval can change by no more
# than this (a device that can hardly switch needs no fine steps).
ESCAPE_TOL = 1e-4


def hazard_step_T(chip: Any, dt_s: float, b0_T: float, b1_T: float) -> float:
    """The largest field step (T) a field moving from ``b0_T`` to ``b1_T`` over ``dt_s`` may
    be held constant over, for ``chip``.

    Per device, the expected escapes E over ``dt_s`` in the worst case: the largest |field|
    assisting a device that opposes it (every device, if the field changes sign); zero field
    for a device along it (its barrier only grows). A field error δB changes its barrier by
    at most κ·δB (κ = n·Δ/H0 bounds |d barrier/dB|), so E by a factor e^(κ·δB). A step may
    change the barrier by ``HAZARD_STEP_KT`` (holding the step's mean field, the rate then
    errs by ~ε²/24), or by more as long as E·(e^(κ·δB) − 1) <= ``ESCAPE_TOL`` (a device that can
    hardly switch needs no fine steps). ``inf`` when no device can escape.
    """
    delta, H0 = np.asarray(chip.delta()), np.asarray(chip.H0_T())
    valid = H0 > 0
    if not valid.any():
        return math.inf
    delta, H0, m = delta[valid], H0[valid], np.asarray(chip.m)[valid]
    sw = chip.params.switching
    field_max_T = max(abs(b0_T), abs(b1_T))
    if b0_T * b1_T > 0:  # one sign throughout: only the devices against it are pushed
        assist_T = np.where(m * b1_T < 0, field_max_T, 0.0)
    else:
        assist_T = np.full(H0.shape, field_max_T)
    barrier = delta * switching.field_barrier_factor(assist_T / H0, sw.n_exponent)
    escapes = switching.escape_hazard(dt_s, barrier, sw.tau0_s)
    live = escapes > 0
    if not live.any():
        return math.inf
    allowed_kT = np.maximum(HAZARD_STEP_KT, np.log1p(ESCAPE_TOL / escapes[live]))
    kappa_per_T = max(sw.n_exponent, 1.0) * delta[live] / H0[live]
    return float(np.min(allowed_kT / kappa_per_T))


def field_steps(
    chip: Any, magnets: list[Any], t0_s: float, t1_s: float, b0_T: float, b1_T: float
) -> list[float]:
    """Times t0 < … < t1 between which the field may be held constant for ``chip``.

    Each moving magnet gives, in closed form, the times at which its field has moved by one
    hazard step (:func:`hazard_step_T`); a magnet without that method is stepped uniformly.
    Where the field cannot switch anything the interval is one step.
    """
    step_T = hazard_step_T(chip, t1_s - t0_s, b0_T, b1_T)
    if not math.isfinite(step_T):
        return [t0_s, t1_s]
    moving = [m for m in magnets if m.field_at(t1_s) != m.field_at(t0_s)]
    step_T *= 1.0 / max(1, len(moving))  # the moving fields add
    inner: set[float] = set()
    for magnet in moving:
        steps = getattr(magnet, "field_step_times", None)
        if steps is not None:
            inner.update(steps(t0_s, t1_s, step_T, MAX_FIELD_SUBSTEPS))
            continue
        n = math.ceil(abs(magnet.field_at(t1_s) - magnet.field_at(t0_s)) / step_T)
        n = min(max(n, 1), MAX_FIELD_SUBSTEPS)
        inner.update(t0_s + k * (t1_s - t0_s) / n for k in range(1, n))
    return [t0_s, *sorted(t for t in inner if t0_s < t < t1_s), t1_s]
