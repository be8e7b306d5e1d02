"""The drivers a station file can name, and the role adapter behind each.

A station file says ``driver: keithley2400``; :func:`load_adapter` turns that key into the
adapter class (imported lazily, so listing drivers imports no instrument library).
"""

from __future__ import annotations

import importlib
from dataclasses import asdict, dataclass
from typing import Any, Literal

from instruments.roles import Role

Library = Literal["pymeasure", "qcodes", "labctl"]


@dataclass(frozen=True)
class DriverInfo:
    """One driver key: the model, the role it plays, the adapter class path, the library."""

    key: str
    model: str
    role: str
    adapter: str  # "module:Class"
    library: Library
    description: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


_A = "instruments.adapters."

_DRIVERS: tuple[DriverInfo, ...] = (
    # gate sources
    DriverInfo(
        "keithley2400",
        "Keithley 2400 SourceMeter",
        "gate",
        _A + "gate_keithley2400:Keithley2400Gate",
        "pymeasure",
        "gate voltage with current compliance; leakage and trip from :MEASURE:CURRENT?",
    ),
    DriverInfo(
        "keithley2450",
        "Keithley 2450 SourceMeter",
        "gate",
        _A + "gate_keithley2450:Keithley2450Gate",
        "pymeasure",
        "gate voltage (SOUR:VOLT:ILIM compliance); leakage from :READ?",
    ),
    DriverInfo(
        "keithley2636b",
        "Keithley 2636B SourceMeter (TSP)",
        "gate",
        _A + "gate_keithley2636b:Keithley2636BGate",
        "pymeasure",
        "gate voltage on smua/smub (settings.channel); TSP statements",
    ),
    DriverInfo(
        "yokogawa_gs200",
        "Yokogawa GS200",
        "gate",
        _A + "gate_yokogawa_gs200:YokogawaGS200Gate",
        "pymeasure",
        "gate voltage; current limiter 1-200 mA; leakage with the /MON option",
    ),
    # field sources
    DriverInfo(
        "kepco_bop",
        "Kepco BOP bipolar supply (BIT 4886), any rating",
        "field",
        _A + "field_kepco:KepcoBOPField",
        "labctl",
        "electromagnet in current mode, closed loop on an optional gaussmeter",
    ),
    DriverInfo(
        "lakeshore643",
        "Lake Shore 643 electromagnet supply",
        "field",
        _A + "field_lakeshore643:LakeShore643Field",
        "labctl",
        "electromagnet, SETI at RATE (no output switch), optional gaussmeter",
    ),
    DriverInfo(
        "ami430",
        "AMI 430 magnet programmer",
        "field",
        _A + "field_ami430:AMI430Field",
        "pymeasure",
        "superconducting magnet ramped in tesla, optional gaussmeter",
    ),
    # Hall / TMR readouts
    DriverInfo(
        "sr830",
        "Stanford Research SR830 lock-in",
        "hall",
        _A + "readout_lockin:SR830Readout",
        "pymeasure",
        "AC Hall voltage (X); excitation = SLVL / series resistor",
    ),
    DriverInfo(
        "sr860",
        "Stanford Research SR860 lock-in",
        "hall",
        _A + "readout_lockin:SR860Readout",
        "pymeasure",
        "AC Hall voltage (X); excitation = SLVL / series resistor",
    ),
    DriverInfo(
        "keithley6221_2182a",
        "Keithley 6221 + 2182A (delta mode)",
        "hall",
        _A + "readout_dc:Keithley6221DeltaReadout",
        "pymeasure",
        "DC delta-mode voltage; 2182A address in settings.nanovoltmeter_address",
    ),
    DriverInfo(
        "keithley2400_4wire",
        "Keithley 2400 SourceMeter, 4-wire",
        "hall",
        _A + "readout_dc:Keithley2400FourWireReadout",
        "pymeasure",
        "DC 4-wire voltage at a sourced excitation current (TMR)",
    ),
    # write pulses
    DriverInfo(
        "keysight33500b",
        "Keysight 33500B waveform generator",
        "pulse",
        _A + "pulse_keysight33500b:Keysight33500BPulse",
        "pymeasure",
        "bus-triggered pulse bursts into a high-impedance load",
    ),
    DriverInfo(
        "keithley6221_pulse",
        "Keithley 6221 pulse mode",
        "pulse",
        _A + "pulse_keithley6221:Keithley6221Pulse",
        "labctl",
        "current pulses 50 µs-12 ms (V / load_resistance_ohm)",
    ),
    # routers
    DriverInfo(
        "keithley707b",
        "Keithley 707B switching matrix (TSP)",
        "router",
        _A + "router_keithley_switch:Keithley707BRouter",
        "labctl",
        "terminal→row, device→column, break-before-make",
    ),
    DriverInfo(
        "keithley3706a",
        "Keithley 3706A system switch (TSP)",
        "router",
        _A + "router_keithley_switch:Keithley3706ARouter",
        "labctl",
        "terminal→row, device→column, break-before-make",
    ),
    # arrays
    DriverInfo(
        "synapse_array",
        "synaptic array over router + pulse + gate + readout",
        "array",
        _A + "synapse_array:RoutedSynapseArray",
        "labctl",
        "batched read/write/consolidate; open(..., roles=) with the station's roles",
    ),
)

DRIVERS: dict[str, DriverInfo] = {info.key: info for info in _DRIVERS}


@dataclass(frozen=True)
class CompanionInfo:
    """An instrument that plays no role of its own: a field instrument's gaussmeter, named in
    its settings (``gaussmeter: {driver: lakeshore425, address: ...}``)."""

    key: str
    model: str
    kind: str  # "gaussmeter"
    library: Library
    setting: str  # where a station file names it
    description: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


_COMPANIONS: tuple[CompanionInfo, ...] = (
    CompanionInfo(
        "lakeshore425",
        "Lake Shore 425 gaussmeter",
        "gaussmeter",
        "pymeasure",
        "settings.gaussmeter of a field instrument",
        "field readback for the closed loop of a field role",
    ),
    CompanionInfo(
        "lakeshore475",
        "Lake Shore 475 gaussmeter",
        "gaussmeter",
        "labctl",
        "settings.gaussmeter of a field instrument",
        "field readback for the closed loop of a field role",
    ),
)

COMPANIONS: dict[str, CompanionInfo] = {info.key: info for info in _COMPANIONS}
GAUSSMETERS: dict[str, str] = {
    c.key: f"{c.model} ({c.library}); {c.description}"
    for c in _COMPANIONS
    if c.kind == "gaussmeter"
}


def list_drivers() -> list[DriverInfo]:
    """Every driver key, sorted by role then key (for ``labctl drivers``)."""
    return sorted(DRIVERS.values(), key=lambda d: (d.role, d.key))


def list_companions() -> list[CompanionInfo]:
    """Every companion instrument (gaussmeters), sorted by kind then key."""
    return sorted(COMPANIONS.values(), key=lambda c: (c.kind, c.key))


def load_adapter(key: str) -> type[Role]:
    """The adapter class for driver ``key``; ``KeyError`` names the known keys."""
    try:
        info = DRIVERS[key]
    except KeyError:
        raise KeyError(
            f"unknown driver {key!r}; known drivers: {', '.join(sorted(DRIVERS))}"
        ) from None
    module_name, _, class_name = info.adapter.partition(":")
    cls = getattr(importlib.import_module(module_name), class_name)
    if not (isinstance(cls, type) and issubclass(cls, Role)):
        raise TypeError(f"driver {key!r}: {info.adapter} is not a Role subclass")
    return cls
