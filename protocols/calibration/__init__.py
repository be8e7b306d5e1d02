"""Chip calibration: fit the device model (``labctl.physics``) to recorded runs.

- :mod:`~protocols.calibration.calibrate` — which runs give what, the chip file it writes
- :mod:`~protocols.calibration.fits` — the fits (H0 and Δ, readout, ion kinetics)
- :mod:`~protocols.calibration.states` — Hc → hidden state x, the device model's laws inverted
- :mod:`~protocols.calibration.cli` — ``labctl calibrate``, registered through the
  ``labctl.commands`` entry-point group
"""
