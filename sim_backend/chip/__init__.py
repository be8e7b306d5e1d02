"""The virtual magneto-ionic synapse chip (docs/physics.md §1–5): pure numpy, vectorized, seeded.

``VirtualChip`` is the public entry point: the chip's state and its evolution in time. What a
chip is (``ChipParams``, ``load_preset``, ``load_chip_params``) and the laws it integrates are
the device model's, ``labctl.physics``; ``predict`` holds closed-form predictions.
"""

from labctl.physics.params import ChipParams, ChipParamsError, load_chip_params, load_preset
from sim_backend.chip.chip import VirtualChip

__all__ = ["ChipParams", "ChipParamsError", "VirtualChip", "load_chip_params", "load_preset"]
