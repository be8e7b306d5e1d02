"""labctl: instrument control and on-chip learning for magneto-ionic synapse chips.

Kept import-light on purpose: ``sim_backend`` imports ``labctl.clock``, which runs this file.
The public API for protocols lives in :mod:`labctl.api`.
"""

__version__ = "0.1.0"
