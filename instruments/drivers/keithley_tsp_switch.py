"""Keithley TSP switch systems: 707B switching matrix and 3706A system switch (our driver).

pymeasure has neither; qcodes' 3706A reads the whole card inventory at init. The channel
commands are the same on both (Series 700 / 3700A reference manuals, ``channel`` functions):
``channel.close("1A01")``, ``channel.open("1A01")``, ``channel.open("allslots")``,
``print(channel.getclose("allslots"))`` (``nil`` when nothing is closed, else the closed
channels joined by ``;``), ``print(errorqueue.count)``, ``print(errorqueue.next())``
(``code<TAB>message<TAB>severity<TAB>node``). TSP statements have no reply; queries are
``print(...)``.
"""

from __future__ import annotations

import re
from typing import Any

from pymeasure.instruments import Instrument

CHANNEL_PATTERN = re.compile(r"^[0-9A-Za-z]+$")


def _checked(channels: str) -> str:
    """Refuse anything but channel names (no quotes or Lua reaching the instrument)."""
    names = channels.split(",")
    if not names or not all(CHANNEL_PATTERN.match(n) for n in names):
        raise ValueError(f"not a channel list: {channels!r}")
    return channels


class KeithleyTSPSwitch(Instrument):
    """A Keithley TSP switch: close, open and list crosspoints."""

    def __init__(self, adapter: Any, name: str = "Keithley TSP switch", **kwargs: Any) -> None:
        super().__init__(
            adapter,
            name,
            includeSCPI=False,
            read_termination="\n",
            write_termination="\n",
            **kwargs,
        )

    def close_channels(self, channels: str) -> None:
        """Close the channels of ``channels`` (comma-separated names such as ``1A01``)."""
        self.write(f'channel.close("{_checked(channels)}")')

    def open_channels(self, channels: str) -> None:
        """Open the channels of ``channels`` (or ``allslots``)."""
        self.write(f'channel.open("{_checked(channels)}")')

    def open_all(self) -> None:
        """Open every channel of every slot."""
        self.write('channel.open("allslots")')

    @property
    def closed_channels(self) -> list[str]:
        """Get the closed channels (list of str, empty when none)."""
        reply = self.ask('print(channel.getclose("allslots"))').strip()
        if reply in ("", "nil"):
            return []
        return [c for c in reply.split(";") if c]

    @property
    def error_count(self) -> int:
        """Get the number of entries in the error queue (int)."""
        return int(float(self.ask("print(errorqueue.count)")))

    def clear(self) -> None:
        """Clear the status registers and the error queue."""
        self.write("*CLS")


class Keithley707B(KeithleyTSPSwitch):
    """Keithley 707B six-slot switching matrix (channels ``<slot><row A-H><column 01-12>``)."""

    def __init__(self, adapter: Any, name: str = "Keithley 707B", **kwargs: Any) -> None:
        super().__init__(adapter, name, **kwargs)


class Keithley3706A(KeithleyTSPSwitch):
    """Keithley 3706A system switch (matrix channels ``<slot><bank><row><column 2 digits>``)."""

    def __init__(self, adapter: Any, name: str = "Keithley 3706A", **kwargs: Any) -> None:
        super().__init__(adapter, name, **kwargs)
