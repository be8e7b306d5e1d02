"""Lake Shore Model 475 DSP gaussmeter (pymeasure has the 421 and 425, not the 475).

Commands (Model 475 user's manual, chapter 6): ``RDGFIELD?`` (field in the present units,
``±nnn.nnnE±nn``), ``UNIT n`` (1 gauss, 2 tesla, 3 oersted, 4 A/m), ``RANGE n`` (1-5, 1 the
highest range), ``AUTO 0|1`` (autorange off/on), ``RDGMODE?``. Terminator CR LF.
"""

from __future__ import annotations

from typing import Any

from pymeasure.instruments import Instrument
from pymeasure.instruments.validators import strict_discrete_set

UNITS = {"G": 1, "T": 2, "Oe": 3, "A/m": 4}


class LakeShore475(Instrument):
    """Lake Shore 475 gaussmeter: field readback for a closed-loop magnet."""

    def __init__(self, adapter: Any, name: str = "Lake Shore 475 gaussmeter", **kwargs: Any):
        super().__init__(
            adapter,
            name,
            includeSCPI=False,
            read_termination="\r\n",
            write_termination="\r\n",
            **kwargs,
        )

    field = Instrument.measurement(
        "RDGFIELD?",
        """Measure the field in the present units (float; tesla after ``unit = "T"``).""",
    )

    unit = Instrument.control(
        "UNIT?",
        "UNIT %d",
        """Control the field unit: ``"G"``, ``"T"``, ``"Oe"`` or ``"A/m"`` (str).""",
        validator=strict_discrete_set,
        values=UNITS,
        map_values=True,
        cast=int,
    )

    range = Instrument.control(
        "RANGE?",
        "RANGE %d",
        """Control the field range index, 1 (highest) to 5 (lowest) (int).""",
        validator=strict_discrete_set,
        values=[1, 2, 3, 4, 5],
        cast=int,
    )

    auto_range_enabled = Instrument.control(
        "AUTO?",
        "AUTO %d",
        """Control whether autorange is enabled (bool).""",
        validator=strict_discrete_set,
        values={True: 1, False: 0},
        map_values=True,
        cast=int,
    )
