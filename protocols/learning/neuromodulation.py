"""Global-field neuromodulation: a field pulse on the whole array, in two phases
(docs/physics.md §7).

A global perpendicular field ``H_g`` acts on every device at once and only drives flips toward its
own sign, so it is applied in two phases, ``+H_g`` then ``−H_g``. It is a *global* plasticity
knob, not a selective write: under a pulse of ``H_g`` for ``width_s`` a device opposing the field
flips with the Néel–Arrhenius probability of its own barrier ``Δ(x)·(1 − H_g/H0(x))²`` — large
for unconsolidated devices (low x), negligible for consolidated ones. A neuromodulatory event
therefore re-opens the weakly held synapses (they take the field's sign, the last phase
winning) and leaves the consolidated ones alone.

The rule calls :func:`apply_two_phase` at the events it is configured for (task starts: a
"novelty" signal, or every epoch). The host does not assume what flipped: it re-reads the whole
weight store afterwards (one full read, as a bench would). The feature is detected on the
array: an array without ``field_pulse`` makes :func:`supports_field` false and the rule refuses a
non-zero field at init with a message that says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np


def supports_field(array: Any) -> bool:
    """True when ``array`` offers ``field_pulse(field_T, width_s)`` (the global field)."""
    return callable(getattr(array, "field_pulse", None))


@dataclass
class FieldEvent:
    """What one two-phase event did (from the full re-read that follows it)."""

    field_T: float
    width_s: float
    flipped_devices: int  # devices of the store whose sign changed over both phases


def apply_two_phase(array: Any, field_T: float, width_s: float) -> None:
    """``+|field_T|`` for ``width_s``, then ``−|field_T|`` for ``width_s``."""
    h = abs(float(field_T))
    for sign in (1.0, -1.0):
        array.field_pulse(sign * h, width_s)


def neuromodulate(store: Any, field_T: float, width_s: float) -> FieldEvent:
    """Two field phases on the store's array, then a full re-read of the store."""
    before = np.array(store.flat, copy=True)
    apply_two_phase(store.array, field_T, width_s)
    store.refresh()
    return FieldEvent(field_T, width_s, int(np.count_nonzero(store.flat != before)))
