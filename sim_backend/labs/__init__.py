"""Lab files: the built-in default lab, the lab-file format, and a description for people.

:func:`describe_lab` returns what ``labctl sim list --json`` shows: the chip, the magnets, and
for every instrument its VISA address, model and wiring.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sim_backend.labs.schema import LabFileError, LabSpec, load_lab_file

DEFAULT_LAB = Path(__file__).with_name("default.yaml")


def describe_lab(path: str | Path | None = None) -> dict[str, Any]:
    """Addresses, models and wiring of a lab file (the default lab when ``path`` is None)."""
    return describe_spec(load_lab_file(path or DEFAULT_LAB))


def describe_spec(spec: LabSpec) -> dict[str, Any]:
    """Addresses, models and wiring of a loaded lab (``file``: the lab file it came from)."""
    return {
        "name": spec.name,
        "file": str(spec.path),
        "chip": {
            "preset": spec.chip.preset,
            "params": str(spec.chip.params_file) if spec.chip.params_file else None,
            "n_devices": spec.chip.n_devices,
            "seed": spec.chip.seed,
        },
        "magnets": {m.name: {"kind": m.kind, **m.params} for m in spec.magnets.values()},
        "instruments": [
            {
                "name": inst.name,
                "address": inst.address,
                "model": inst.model,
                "wiring": inst.wiring,
                "settings": inst.settings,
            }
            for inst in spec.instruments.values()
        ],
    }


__all__ = [
    "DEFAULT_LAB",
    "LabFileError",
    "LabSpec",
    "describe_lab",
    "describe_spec",
    "load_lab_file",
]
