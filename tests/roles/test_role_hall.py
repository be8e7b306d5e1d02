"""The HallReadout contract, on every readout (see implementations.py for the list)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from instruments.roles import HallReadout, ReadoutLimits
from labctl.clock import VirtualClock
from labctl.errors import StationError

from .helpers import finite_float, said
from .implementations import IMPLEMENTATIONS

READOUTS = IMPLEMENTATIONS["hall"]


@pytest.fixture(scope="module", params=sorted(READOUTS))
def hall(
    request: pytest.FixtureRequest,
    suite_clock: VirtualClock,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[HallReadout]:
    with READOUTS[request.param].open("hall", tmp_path_factory.mktemp("hall"), suite_clock) as role:
        assert isinstance(role, HallReadout)
        yield role


def test_plays_the_hall_role_with_the_readout_limits(hall: HallReadout) -> None:
    assert hall.role == "hall" and type(hall.limits) is ReadoutLimits
    excitation_A = finite_float(hall.excitation_A)
    assert excitation_A > 0 and hall.limits.excitation_A.contains(excitation_A)


def test_reads_finite_volts_and_ohms_that_agree(hall: HallReadout) -> None:
    sent = hall.transactions
    volts = [finite_float(hall.read_voltage()) for _ in range(3)]
    assert hall.transactions > sent
    assert np.ptp(volts) <= 0.05 * max(abs(v) for v in volts) + 1e-9  # a steady device
    resistance_ohm = finite_float(hall.read_resistance())
    assert resistance_ohm == pytest.approx(np.mean(volts) / hall.excitation_A, rel=0.05)


def test_the_safe_state_reports_and_can_be_repeated(hall: HallReadout) -> None:
    said(hall.safe_state())
    said(hall.safe_state())
    hall.check_health()


@pytest.mark.parametrize("key", sorted(READOUTS))
def test_an_excitation_beyond_the_limits_is_refused_at_open(
    key: str, suite_clock: VirtualClock, tmp_path: Path
) -> None:
    implementation = READOUTS[key]
    limit = ReadoutLimits().excitation_A
    settings = {**implementation.entry.get("settings", {}), "excitation_A": 2 * limit.high}
    too_strong = dataclasses.replace(
        implementation, entry={**implementation.entry, "settings": settings}
    )
    with pytest.raises(StationError) as caught:
        with too_strong.open("hall", tmp_path, suite_clock):
            pass
    message = str(caught.value)
    assert "refused excitation current = 0.002" in message and str(limit) in message, message
