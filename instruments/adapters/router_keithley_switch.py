"""Keithley 707B / 3706A switch matrices as the router of a synapse array (our TSP driver).

Rows carry instrument terminals, columns carry devices: ``terminals`` maps a terminal name to
its row, ``devices`` lists the column of device 0, 1, 2 ... The channel name is
``channel_format.format(slot=, row=, column=)`` (707B: ``1A01``).

Rules: break-before-make — a connection first opens every crosspoint on the terminal's row and
on the device's column, then closes the new one; so a device pin never carries two terminals
(two sources on one pin) and a terminal never reaches two devices. With ``verify`` the closed
set is read back (``channel.getclose``) after every change and must be exactly the expected one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from instruments.adapters.common import OpensDriver, count_transactions, drain_error_queue
from instruments.drivers.keithley_tsp_switch import Keithley707B, Keithley3706A
from instruments.roles import InstrumentError, Router, RouterLimits, Timebase


def _default_terminals() -> dict[str, str]:
    return {"gate": "A", "pulse": "B", "hall": "C"}


def _default_devices() -> list[str]:
    return [f"{column:02d}" for column in range(1, 13)]


@dataclass
class SwitchSettings:
    """Terminal → row, device index → column, slot, channel-name format, read-back check."""

    terminals: dict[str, str] = field(default_factory=_default_terminals)
    devices: list[str] = field(default_factory=_default_devices)
    slot: int = 1
    channel_format: str = "{slot}{row}{column}"
    verify: bool = True


class KeithleySwitchRouter(OpensDriver, Router):
    """Router on a Keithley TSP switch matrix."""

    settings_type: ClassVar[type] = SwitchSettings
    driver_type: ClassVar[type[Any]] = Keithley707B
    settings: SwitchSettings

    def __init__(
        self,
        *,
        name: str,
        driver: Any,
        settings: SwitchSettings,
        limits: RouterLimits,
        timebase: Timebase,
    ) -> None:
        super().__init__(name, limits, timebase)
        self.driver = driver
        self.settings = settings
        rows = list(settings.terminals.values())
        if len(set(rows)) != len(rows) or len(set(settings.devices)) != len(settings.devices):
            raise ValueError(f"{name}: settings terminals/devices must not share a row/column")
        self._channels = {
            (terminal, device): settings.channel_format.format(
                slot=settings.slot, row=row, column=column
            )
            for terminal, row in settings.terminals.items()
            for device, column in enumerate(settings.devices)
        }
        self._pairs = {channel: pair for pair, channel in self._channels.items()}
        self._closed: dict[str, int] = {}
        self.operations = 0  # connect / disconnect_all calls
        count_transactions(self, driver)

    @property
    def n_devices(self) -> int:
        return len(self.settings.devices)

    def configure(self) -> None:
        self.driver.clear()
        self.disconnect_all()

    def _check_errors(self) -> None:
        drain_error_queue(self.name, self.driver.ask, "print(errorqueue.next())")

    def _verify(self) -> None:
        if not self.settings.verify:
            return
        closed = set(self.driver.closed_channels)
        expected = {self._channels[(t, d)] for t, d in self._closed.items()}
        if closed != expected:
            raise InstrumentError(
                self.name, f"closed crosspoints {sorted(closed)}, expected {sorted(expected)}"
            )

    def connect(self, terminal: str, device: int) -> None:
        if terminal not in self.settings.terminals:
            known = ", ".join(sorted(self.settings.terminals))
            raise ValueError(f"{self.name}: unknown terminal {terminal!r} (known: {known})")
        if not 0 <= device < self.n_devices:
            raise ValueError(f"{self.name}: no device {device} (0..{self.n_devices - 1})")
        if self._closed.get(terminal) == device:
            return
        self.operations += 1
        breaks = [t for t, d in self._closed.items() if t == terminal or d == device]
        if breaks:
            self.driver.open_channels(
                ",".join(self._channels[(t, self._closed[t])] for t in breaks)
            )
            for t in breaks:
                del self._closed[t]
        self.driver.close_channels(self._channels[(terminal, device)])
        self._closed[terminal] = device
        self._check_errors()
        self._verify()

    def disconnect_all(self) -> None:
        self.operations += 1
        self.driver.open_all()
        self._closed.clear()
        self._check_errors()
        self._verify()

    def connections(self) -> dict[str, int]:
        found: dict[str, int] = {}
        for channel in self.driver.closed_channels:
            if channel not in self._pairs:
                raise InstrumentError(self.name, f"unexpected closed crosspoint {channel}")
            terminal, device = self._pairs[channel]
            found[terminal] = device
        return found

    def safe_state(self) -> str:
        self.driver.open_all()
        self._closed.clear()
        return f"{self.name}: all crosspoints open"

    def snapshot(self) -> dict[str, Any]:
        return {
            **super().snapshot(),
            "terminals": dict(self.settings.terminals),
            "devices": list(self.settings.devices),
        }

    def close(self) -> None:
        self.driver.adapter.close()


class Keithley707BRouter(KeithleySwitchRouter):
    """Keithley 707B switching matrix (channels ``1A01`` …)."""

    driver_type = Keithley707B


class Keithley3706ARouter(KeithleySwitchRouter):
    """Keithley 3706A system switch with a matrix card (channel format from settings)."""

    driver_type = Keithley3706A
