"""The entry points of every installed package, read once per process.

labctl finds its protocols, learning rules and extra commands through entry-point groups
(``labctl.protocols``, ``labctl.rules``, ``labctl.commands``). Each
:func:`importlib.metadata.entry_points` call reads the metadata of every installed distribution
(55 ms for the 220 of a lab environment with Jupyter), and ``labctl --help`` needs two groups:
read once, then selected by group. A package installed while a process runs is seen by the next
process.
"""

from __future__ import annotations

import functools
from importlib.metadata import EntryPoint
from importlib.metadata import entry_points as _read_entry_points
from typing import Any


@functools.cache
def _installed() -> Any:
    return _read_entry_points()


def entry_points(group: str) -> tuple[EntryPoint, ...]:
    """The entry points of ``group`` across the installed packages."""
    return tuple(_installed().select(group=group))
