"""The contract suites cover every implementation, and the bench hands out typed roles."""

from __future__ import annotations

import typing

from instruments import registry
from instruments.roles import ROLE_TYPES
from labctl.bench import Bench

from .implementations import IMPLEMENTATIONS


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
