"""The public API for protocols: everything a protocol may import from labctl."""

from labctl.errors import LabctlError, RunAborted
from labctl.figures import COLORS, Panel, Series, plus_minus, save_figure
from labctl.params import param
from labctl.protocol import protocol
from labctl.results import Result, quantity
from labctl.run import Run

__all__ = [
    "COLORS",
    "LabctlError",
    "Panel",
    "Result",
    "Run",
    "RunAborted",
    "Series",
    "param",
    "plus_minus",
    "protocol",
    "quantity",
    "save_figure",
]
