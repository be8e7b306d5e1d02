"""Lake Shore Model 643 (and 648) electromagnet power supply; none in pymeasure or qcodes.

Commands (Model 643 user's manual, chapter 5): ``SETI x`` / ``SETI?`` (output current setting,
A), ``RATE r`` / ``RATE?`` (ramp rate, A/s; the output follows a new ``SETI`` at this rate),
``RDGI?`` / ``RDGV?`` (measured output current, A / voltage, V), ``LIMIT i,r`` (software limits
of current and rate), ``STOP`` (stop a ramp), ``ERST?`` (hardware, operational error bits),
``OPST?`` (operational status bits), ``*CLS``. There is no output on/off command.
Serial: 57600 baud, 7 data bits, odd parity, 1 stop bit, CR LF terminators.
"""

from __future__ import annotations

from typing import Any

from pymeasure.instruments import Instrument
from pymeasure.instruments.validators import strict_range

MAX_CURRENT_A = 70.1  # Model 643: ±70 A (+0.1 % headroom of the instrument's own range)
RATE_RANGE_A_PER_S = (0.0001, 99.999)


class LakeShore643(Instrument):
    """Lake Shore 643 magnet supply: current setpoint, ramp rate, readback, error status."""

    def __init__(self, adapter: Any, name: str = "Lake Shore 643 magnet supply", **kwargs: Any):
        super().__init__(
            adapter,
            name,
            includeSCPI=False,
            read_termination="\r\n",
            write_termination="\r\n",
            asrl={"baud_rate": 57600, "data_bits": 7, "parity": 1, "stop_bits": 10},
            **kwargs,
        )

    current_setpoint_A = Instrument.control(
        "SETI?",
        "SETI %.4f",
        """Control the output current setting in A (float, strictly ±70.1 A).""",
        validator=strict_range,
        values=[-MAX_CURRENT_A, MAX_CURRENT_A],
    )

    ramp_rate_A_per_s = Instrument.control(
        "RATE?",
        "RATE %.4f",
        """Control the output current ramp rate in A/s (float, strictly 0.0001-99.999).""",
        validator=strict_range,
        values=list(RATE_RANGE_A_PER_S),
    )

    current_A = Instrument.measurement("RDGI?", """Measure the output current in A (float).""")

    voltage_V = Instrument.measurement("RDGV?", """Measure the output voltage in V (float).""")

    limits = Instrument.control(
        "LIMIT?",
        "LIMIT %.4f,%.4f",
        """Control the software limits: (max current in A, max rate in A/s) (tuple of float).""",
    )

    error_status = Instrument.measurement(
        "ERST?",
        """Get the error status: (hardware error bits, operational error bits) (ints).""",
        cast=int,
    )

    operational_status = Instrument.measurement(
        "OPST?", """Get the operational status bits (int).""", cast=int
    )

    def stop(self) -> None:
        """Stop a ramp at the present output current."""
        self.write("STOP")

    def clear(self) -> None:
        """Clear the status registers."""
        self.write("*CLS")
