"""An instrument's rating, read from its driver's own validators.

pymeasure declares a setpoint's range in ``Instrument.control(..., values=[-210, 210])`` (a
``DynamicProperty`` may override it with a ``<name>_values`` class attribute). Reading the range
from there keeps one home for it: the station check refuses a limit the driver would clip
(``truncated_range``) or refuse only mid-run (``strict_range``), without opening the instrument.
"""

from __future__ import annotations

import inspect
from typing import Any

from instruments.roles import Window


def control_window(driver_type: type[Any], prop: str, unit: str) -> Window | None:
    """``[low, high]`` of ``driver_type.prop``'s validator, or None when it declares no range."""
    values = getattr(driver_type, f"{prop}_values", None)  # a DynamicProperty's override
    if values is None:
        try:
            control = inspect.getattr_static(driver_type, prop)
            parameters = inspect.signature(control.fset).parameters
            values = parameters["values"].default
        except (AttributeError, KeyError, TypeError, ValueError):
            return None
    if not isinstance(values, list | tuple) or len(values) != 2:
        return None  # a set of discrete values or no range at all
    low, high = values
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in (low, high)):
        return None
    return Window(float(low), float(high), unit)
