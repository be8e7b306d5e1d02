"""Keithley 6221 current source with its pulse-delta commands (pymeasure has delta, not these).

Commands (6221 reference manual, "Pulse delta"): ``:SOUR:PDEL:HIGH i`` / ``:SOUR:PDEL:LOW i``
(pulse and base currents, A), ``:SOUR:PDEL:WIDT w`` (50 µs to 12 ms), ``:SOUR:PDEL:SDEL d``
(source delay, 16 µs to 11.966 ms), ``:SOUR:PDEL:COUN n`` (1 to 65536), ``:SOUR:PDEL:INT n``
(pulse interval in power-line cycles, 5 to 999999), ``:SOUR:PDEL:ARM``, ``:INIT:IMM``,
``:SOUR:SWE:ABOR``.
"""

from __future__ import annotations

from pymeasure.instruments import Instrument
from pymeasure.instruments.keithley import Keithley6221
from pymeasure.instruments.validators import strict_range

PULSE_WIDTH_RANGE_S = (50e-6, 12e-3)
CURRENT_RANGE_A = (-0.105, 0.105)


class Keithley6221PulseDelta(Keithley6221):
    """pymeasure's Keithley 6221 plus the pulse-delta controls (strict validators)."""

    pulse_high_A = Instrument.control(
        ":SOUR:PDEL:HIGH?",
        ":SOUR:PDEL:HIGH %g",
        """Control the pulse current in A (float, strictly ±0.105 A).""",
        validator=strict_range,
        values=list(CURRENT_RANGE_A),
    )

    pulse_low_A = Instrument.control(
        ":SOUR:PDEL:LOW?",
        ":SOUR:PDEL:LOW %g",
        """Control the base current between pulses in A (float, strictly ±0.105 A).""",
        validator=strict_range,
        values=list(CURRENT_RANGE_A),
    )

    pulse_width_s = Instrument.control(
        ":SOUR:PDEL:WIDT?",
        ":SOUR:PDEL:WIDT %g",
        """Control the pulse width in s (float, strictly 50 µs to 12 ms).""",
        validator=strict_range,
        values=list(PULSE_WIDTH_RANGE_S),
    )

    pulse_source_delay_s = Instrument.control(
        ":SOUR:PDEL:SDEL?",
        ":SOUR:PDEL:SDEL %g",
        """Control the source delay in s (float, strictly 16 µs to 11.966 ms).""",
        validator=strict_range,
        values=[16e-6, 11.966e-3],
    )

    pulse_count = Instrument.control(
        ":SOUR:PDEL:COUN?",
        ":SOUR:PDEL:COUN %d",
        """Control the number of pulses (int, strictly 1 to 65536).""",
        validator=strict_range,
        values=[1, 65536],
        cast=int,
    )

    pulse_interval_plc = Instrument.control(
        ":SOUR:PDEL:INT?",
        ":SOUR:PDEL:INT %d",
        """Control the pulse repetition interval in power-line cycles (int, strictly 5-999999).""",
        validator=strict_range,
        values=[5, 999999],
        cast=int,
    )

    def pulse_arm(self) -> None:
        """Arm pulse-delta."""
        self.write(":SOUR:PDEL:ARM")
