"""The contract suites cover every implementation, and the bench hands out typed roles."""

from __future__ import annotations

import typing
from pathlib import Path

import pytest

from instruments import registry
from instruments.roles import ROLE_TYPES, LimitError, Window
from labctl.bench import Bench, open_bench
from labctl.clock import VirtualClock
from labctl.errors import StationError
from labctl.station import load_station

from .implementations import IMPLEMENTATIONS, STATIONS


def test_every_driver_has_a_contract_suite() -> None:
    covered = {(role, i.driver) for role, impls in IMPLEMENTATIONS.items() for i in impls.values()}
    missing = sorted(
        f"{info.key} ({info.role})"
        for info in registry.DRIVERS.values()
        if (info.role, info.key) not in covered
    )
    assert not missing, f"drivers without a contract-suite entry in implementations.py: {missing}"
    assert set(IMPLEMENTATIONS) == set(ROLE_TYPES)  # one suite per role


def test_each_role_of_the_bench_is_typed_as_its_contract() -> None:
    """``run.station.gate`` is a GateSource to a type checker (and so on for every role)."""
    for role, role_type in ROLE_TYPES.items():
        prop = getattr(Bench, role)
        assert isinstance(prop, property), role
        assert typing.get_type_hints(prop.fget)["return"] is role_type, role


def test_a_class_path_that_is_no_role_is_refused_with_one_line(tmp_path: Path) -> None:
    station = tmp_path / "station.yaml"
    station.write_text(
        'visa_library: "@labsim"\n'
        "instruments:\n"
        "  array: {driver: 'collections:OrderedDict', address: x, role: array}\n"
    )
    with pytest.raises(StationError) as caught:
        load_station(station)
    message = str(caught.value)
    assert "instruments.array.driver" in message and "is not a role implementation" in message
    assert "\n" not in message


def test_the_fast_array_is_held_to_the_limits_of_its_station_file(tmp_path: Path) -> None:
    text = (STATIONS / "virtual_chip_fast.yaml").read_text()
    text = text.replace(
        "      seed: 0\n", "      seed: 0\n    limits:\n      gate_voltage_V: [-1.0, 1.0]\n"
    )
    station_file = tmp_path / "fast.yaml"
    station_file.write_text(text)
    bench = open_bench(load_station(station_file), VirtualClock(0.0))
    try:
        array = bench.array
        assert array.limits.gate_voltage_V == Window(-1.0, 1.0, "V")
        with pytest.raises(
            LimitError, match=r"array: refused consolidation gate voltage = 2: .*\[-1, 1\] V"
        ):
            array.consolidate([0], 2.0, 0.7)
        assert array.counts.consolidation_pulses == 0
    finally:
        bench.safe_state()
        bench.close()
