"""The device model of a magneto-ionic synapse chip (docs/physics.md §1–5), a leaf package.

What a chip is (:mod:`~labctl.physics.params`: the typed parameter set, its YAML loader,
validation and writer, and the bundled presets) and the laws it obeys, each written once:
:mod:`~labctl.physics.kinetics` (ion hopping moves the hidden state x),
:mod:`~labctl.physics.anisotropy` (K_eff, M_s, H0 and Δ from x),
:mod:`~labctl.physics.switching` (Néel–Arrhenius switching probability),
:mod:`~labctl.physics.sharrock` (coercive field versus sweep rate) and
:mod:`~labctl.physics.readout` (AHE, TMR, Johnson noise).

The simulator (``sim_backend.chip``) integrates these laws in time; the protocols' analysis
and the calibration fit them. numpy, scipy and PyYAML only: this package imports nothing else
of the project (an import-linter contract keeps it so).
"""

from labctl.physics.params import (
    ChipParams,
    ChipParamsError,
    load_chip_params,
    load_preset,
    params_from_dict,
    preset_names,
    write_chip_params,
)

__all__ = [
    "ChipParams",
    "ChipParamsError",
    "load_chip_params",
    "load_preset",
    "params_from_dict",
    "preset_names",
    "write_chip_params",
]
