"""Kepco BOP bipolar power supply with a BIT 4886 (or 4882) digital interface, any model.

pymeasure's ``KepcoBOP3612`` is fixed to the 36 V / 12 A model and *truncates* setpoints to
that range. This driver takes the model's rating at construction and *refuses* anything outside
it (``strict_range``), as a driver of a magnet supply should.

Commands (BIT 4886 operator manual, appendix B): ``FUNC:MODE CURR|VOLT`` (query answers ``0``
voltage, ``1`` current), ``CURR x``, ``VOLT x``, ``OUTP 1|0``, ``MEAS:CURR?``, ``MEAS:VOLT?``,
``SYST:ERR?``. Numbers come back in scientific notation (``2.71E1``).
"""

from __future__ import annotations

from typing import Any

from pymeasure.instruments import Instrument, SCPIMixin
from pymeasure.instruments.validators import strict_discrete_set, strict_range

OPERATING_MODES = ["VOLT", "CURR"]


class KepcoBOP(SCPIMixin, Instrument):
    """A Kepco BOP of rating ``max_voltage_V`` / ``max_current_A`` (e.g. 36 V / 12 A).

    Setpoints outside ``[-max, +max]`` raise ``ValueError`` before anything is sent.
    """

    def __init__(
        self,
        adapter: Any,
        name: str = "Kepco BOP bipolar power supply",
        max_voltage_V: float = 36.0,
        max_current_A: float = 12.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(adapter, name, read_termination="\n", write_termination="\n", **kwargs)
        self.max_voltage_V = float(max_voltage_V)
        self.max_current_A = float(max_current_A)
        self.current_setpoint_values = [-self.max_current_A, self.max_current_A]
        self.voltage_setpoint_values = [-self.max_voltage_V, self.max_voltage_V]

    output_enabled = Instrument.control(
        "OUTP?",
        "OUTP %d",
        """Control whether the output is enabled (bool).""",
        validator=strict_discrete_set,
        values={True: 1, False: 0},
        map_values=True,
        cast=int,
    )

    operating_mode = Instrument.control(
        "FUNC:MODE?",
        "FUNC:MODE %s",
        """Control the operating mode: ``"CURR"`` (current source) or ``"VOLT"`` (str).

        The query answers ``0`` (voltage) or ``1`` (current).""",
        validator=strict_discrete_set,
        values=OPERATING_MODES,
        get_process=lambda v: OPERATING_MODES[int(v)],
    )

    current_setpoint = Instrument.control(
        "CURR?",
        "CURR %g",
        """Control the programmed output current in A (float, strictly within the rating).

        In current mode this is the output current; in voltage mode the current limit.""",
        validator=strict_range,
        values=[-12.0, 12.0],
        dynamic=True,
    )

    voltage_setpoint = Instrument.control(
        "VOLT?",
        "VOLT %g",
        """Control the programmed output voltage in V (float, strictly within the rating).

        In current mode this is the compliance voltage; in voltage mode the output voltage.""",
        validator=strict_range,
        values=[-36.0, 36.0],
        dynamic=True,
    )

    current_A = Instrument.measurement(
        "MEAS:CURR?",
        """Measure the output current in A (float).""",
    )

    voltage_V = Instrument.measurement(
        "MEAS:VOLT?",
        """Measure the output voltage in V (float).""",
    )
