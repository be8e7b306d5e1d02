"""The virtual magneto-ionic synapse chip (PHYSICS.md §1–5): pure numpy, vectorized, seeded.

``VirtualChip`` is the public entry point; ``ChipParams`` / ``load_preset`` /
``load_chip_params`` describe a chip; ``predict`` holds closed-form predictions.
"""

from sim_backend.chip.chip import VirtualChip
from sim_backend.chip.params import ChipParams, ChipParamsError, load_chip_params, load_preset

__all__ = ["ChipParams", "ChipParamsError", "VirtualChip", "load_chip_params", "load_preset"]
