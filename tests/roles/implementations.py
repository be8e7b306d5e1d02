"""Every implementation of every role, as the station entry that opens it.

A contract suite (``test_role_<role>.py``) runs on each entry of its role. The entries are
station files (or their ``instruments`` entries), so every implementation is opened the way a
run opens it: validated by the station loader, connected by :func:`labctl.bench.open_bench`,
over real pyvisa ``@labsim`` to the twins, or by class path for the fast array.
:func:`test_every_driver_has_a_contract_suite` keeps this list complete: a driver added to
the registry without an entry here fails it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from instruments.roles import Role
from labctl.bench import Bench, open_bench
from labctl.clock import VirtualClock
from labctl.station import load_station

STATIONS = Path(__file__).resolve().parents[2] / "labctl" / "stations"

MTJ_LAB = """\
name: 4-wire bench
chip: {preset: cofeb_mgo_mtj, n_devices: 2, seed: 2}
instruments:
  meter: {address: 'GPIB0::24::INSTR', model: keithley2400, wiring: {terminal: readout}}
"""


@dataclass(frozen=True)
class Implementation:
    """One implementation of a role: a station entry (or a whole station file) to open."""

    driver: str
    entry: dict[str, Any] = field(default_factory=dict)
    station_file: str = ""  # a shipped station file instead of ``entry``
    lab: str = ""  # the @labsim lab text, when not the default lab
    name: str = ""  # the instrument to test in a station file (default: the role's one)

    @contextmanager
    def open(
        self,
        role: str,
        directory: Path,
        clock: VirtualClock,
        visa: Callable[[str], str] | None = None,
    ) -> Iterator[Role]:
        """Open the station and yield the role; safe state and close on the way out.
        ``visa`` rewrites the station's VISA library (to record it, or to replay a recording)."""
        directory.mkdir(parents=True, exist_ok=True)
        if self.station_file:
            path = STATIONS / self.station_file
        else:
            library = "@labsim"
            if self.lab:
                lab_file = directory / "lab.yaml"
                lab_file.write_text(self.lab)
                library = f"{lab_file}@labsim"
            entry = {"driver": self.driver, "role": role, **self.entry}
            text = {"visa_library": library, "clock": "virtual", "instruments": {role: entry}}
            path = directory / "station.yaml"
            path.write_text(yaml.safe_dump(text, sort_keys=False))
        station = load_station(path)
        if visa is not None:
            station = dataclasses.replace(station, visa_library=visa(station.visa_library))
        bench: Bench = open_bench(station, clock)
        try:
            yield bench[self.name] if self.name else bench.one(_role_type(role))
        finally:
            bench.safe_state()
            bench.close()


def _role_type(role: str) -> type[Role]:
    from instruments.roles import ROLE_TYPES

    return ROLE_TYPES[role]


KEPCO_LIMITS = {"field_T": [-0.3, 0.3], "ramp_T_per_s": 1.0, "current_A": [-6.0, 6.0]}

IMPLEMENTATIONS: dict[str, dict[str, Implementation]] = {
    "gate": {
        "keithley2400@labsim": Implementation("keithley2400", {"address": "GPIB0::24::INSTR"}),
        "keithley2450@labsim": Implementation("keithley2450", {"address": "GPIB0::18::INSTR"}),
        "keithley2636b@labsim": Implementation("keithley2636b", {"address": "GPIB0::26::INSTR"}),
        "yokogawa_gs200@labsim": Implementation(
            "yokogawa_gs200",
            {
                "address": "GPIB0::2::INSTR",
                "limits": {"compliance_A": 1e-3},
                "settings": {"compliance_A": 1e-3},
            },
        ),
    },
    "field": {
        "kepco_bop+lakeshore425@labsim": Implementation(
            "kepco_bop",
            {
                "address": "GPIB0::6::INSTR",
                "limits": KEPCO_LIMITS,
                "settings": {
                    "coil_T_per_A": 0.03,
                    "remanence_T": 0.002,
                    "tolerance_T": 0.0005,
                    "settle_s": 0.3,
                    "gaussmeter": {"driver": "lakeshore425", "address": "GPIB0::12::INSTR"},
                },
            },
        ),
        "lakeshore643+lakeshore475@labsim": Implementation(
            "lakeshore643",
            {
                "address": "ASRL1::INSTR",
                "settings": {
                    "coil_T_per_A": 0.03,
                    "ramp_T_per_s": 0.05,
                    "tolerance_T": 2e-4,
                    "gaussmeter": {"driver": "lakeshore475", "address": "GPIB0::11::INSTR"},
                },
            },
        ),
        "ami430@labsim": Implementation(
            "ami430",
            {"address": "TCPIP0::127.0.0.1::7180::SOCKET", "settings": {"ramp_T_per_s": 0.01}},
        ),
    },
    "hall": {
        "sr830@labsim": Implementation(
            "sr830",
            {
                "address": "GPIB0::8::INSTR",
                "settings": {"excitation_A": 1e-4, "series_resistance_ohm": 1e4},
            },
        ),
        "sr860@labsim": Implementation(
            "sr860",
            {
                "address": "GPIB0::4::INSTR",
                "settings": {"excitation_A": 1e-4, "series_resistance_ohm": 1e4},
            },
        ),
        "keithley6221_2182a@labsim": Implementation(
            "keithley6221_2182a",
            {
                "address": "GPIB0::13::INSTR",
                "settings": {
                    "excitation_A": 1e-4,
                    "nanovoltmeter_address": "GPIB0::7::INSTR",
                    "delta_cycles": 10,
                },
            },
        ),
        "keithley2400_4wire@labsim(mtj)": Implementation(
            "keithley2400_4wire",
            {"address": "GPIB0::24::INSTR", "settings": {"excitation_A": 1e-5}},
            lab=MTJ_LAB,
        ),
    },
    "pulse": {
        "keysight33500b@labsim": Implementation("keysight33500b", {"address": "GPIB0::10::INSTR"}),
        "keithley6221_pulse@labsim": Implementation(
            "keithley6221_pulse",
            {"address": "GPIB0::13::INSTR", "settings": {"load_resistance_ohm": 1e3}},
        ),
    },
    "router": {
        "keithley707b@labsim": Implementation("keithley707b", {"address": "GPIB0::16::INSTR"}),
        "keithley3706a@labsim": Implementation(
            "keithley3706a",
            {
                "address": "GPIB0::17::INSTR",
                "settings": {"terminals": {"gate": "1", "pulse": "2", "hall": "3"}},
            },
        ),
    },
    "array": {
        "synapse_array@labsim(simulated_synapse_array.yaml)": Implementation(
            "synapse_array", station_file="simulated_synapse_array.yaml"
        ),
        "fast_array(virtual_chip_fast.yaml)": Implementation(
            "sim_backend.fast_array:VirtualSynapseArray", station_file="virtual_chip_fast.yaml"
        ),
    },
}
