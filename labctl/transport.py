"""Reachability of a station's network instruments before anything is sent to them.

pyvisa-py reports a TCP/IP socket "opened" even when nobody listens (its non-blocking connect
returns success as soon as the socket is ready, refused or not), so a bench would only learn at
its first write, deep inside a driver's set-up, and name the wrong instrument. For ``@py``
stations every TCP/IP address (instruments and their companions, e.g. a gaussmeter in
``settings``) is first connected to and closed again: a connection, no byte of data.
"""

from __future__ import annotations

import dataclasses
import re
import socket
from collections.abc import Iterator, Mapping
from typing import Any

from labctl.errors import LabctlError

CONNECT_TIMEOUT_S = 2.0
TCPIP = re.compile(r"^TCPIP\d*::(?P<host>[^:]+)::(?:(?P<port>\d+)::SOCKET|[^:]+::INSTR|INSTR)$")
VXI11_PORT = 111  # portmapper of a VXI-11 (…::INSTR) instrument


def uses_pyvisa_py(visa_library: str) -> bool:
    """``@py``, also under the run recorder (``@py#rec-…@labrec``)."""
    library = visa_library.strip()
    if library.endswith("@labrec"):
        library = library.split("#", 1)[0]
    return library in ("", "@py") or library.endswith("@py")


def addresses(instruments: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """``(where, address)`` for every instrument and every companion in its settings."""
    for name, spec in instruments.items():
        yield f"instruments.{name}", spec.address
        yield from _nested(f"instruments.{name}.settings", spec.settings)


def _nested(where: str, settings: Any) -> Iterator[tuple[str, str]]:
    if dataclasses.is_dataclass(settings) and not isinstance(settings, type):
        settings = dataclasses.asdict(settings)
    if not isinstance(settings, Mapping):
        return
    for key, value in settings.items():
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            value = dataclasses.asdict(value)
        if isinstance(value, Mapping):
            if isinstance(value.get("address"), str):
                yield f"{where}.{key}", value["address"]
            yield from _nested(f"{where}.{key}", value)


def check_reachable(station: Any, timeout_s: float = CONNECT_TIMEOUT_S) -> None:
    """Raise one line naming the first TCP/IP instrument of an ``@py`` station nobody answers
    at; nothing is sent to any instrument."""
    if not uses_pyvisa_py(station.visa_library):
        return
    for where, address in addresses(station.instruments):
        match = TCPIP.match(address.strip())
        if match is None:
            continue
        host, port = match["host"], int(match["port"] or VXI11_PORT)
        try:
            with socket.create_connection((host, port), timeout=timeout_s):
                pass
        except OSError as exc:
            reason = "no answer" if isinstance(exc, TimeoutError) else exc.strerror or str(exc)
            raise LabctlError(
                f"{station.path}: {where}: cannot reach {address} ({reason} at {host} port "
                f"{port} within {timeout_s:g} s); nothing was sent"
            ) from None
