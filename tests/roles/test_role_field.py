"""The FieldSource contract, on every field source (see implementations.py for the list)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from instruments.roles import FieldLimits, FieldSource
from labctl.clock import VirtualClock

from .helpers import finite_float, outside, refused, said
from .implementations import IMPLEMENTATIONS

FIELDS = IMPLEMENTATIONS["field"]
REMANENCE_T = 5e-3  # what an iron-core magnet may keep at 0 A


@pytest.fixture(scope="module", params=sorted(FIELDS))
def magnet(
    request: pytest.FixtureRequest,
    suite_clock: VirtualClock,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[FieldSource]:
    with FIELDS[request.param].open("field", tmp_path_factory.mktemp("field"), suite_clock) as role:
        assert isinstance(role, FieldSource)
        yield role


def test_plays_the_field_role_with_the_field_limits(magnet: FieldSource) -> None:
    assert magnet.role == "field" and type(magnet.limits) is FieldLimits


@pytest.mark.parametrize("target_T", [0.02, -0.015])
def test_set_field_reaches_the_field_and_returns_the_measured_one(
    magnet: FieldSource, target_T: float
) -> None:
    sent = magnet.transactions
    measured_T = finite_float(magnet.set_field(target_T))
    assert measured_T == pytest.approx(target_T, abs=1e-3)
    assert finite_float(magnet.field_T()) == pytest.approx(target_T, abs=1e-3)
    assert magnet.transactions > sent


@pytest.mark.parametrize("where", [0, 1, 2], ids=["above", "below", "nan"])
def test_a_field_outside_the_limits_is_refused_not_clipped(magnet: FieldSource, where: int) -> None:
    magnet.set_field(0.01)
    value = outside(magnet.limits.field_T)[where]
    refused(magnet, "field", magnet.limits.field_T, lambda: magnet.set_field(value))
    assert magnet.field_T() == pytest.approx(0.01, abs=1e-3)  # left where it was


def test_the_safe_state_brings_the_field_to_zero_and_can_be_repeated(magnet: FieldSource) -> None:
    magnet.set_field(0.02)
    said(magnet.safe_state())
    assert abs(magnet.field_T()) < REMANENCE_T
    said(magnet.safe_state())
    magnet.check_health()
