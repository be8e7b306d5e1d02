"""The PulseSource contract, on every write-pulse source (see implementations.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from instruments.roles import PulseLimits, PulseSource
from labctl.clock import VirtualClock

from .helpers import outside, refused, said
from .implementations import IMPLEMENTATIONS

PULSERS = IMPLEMENTATIONS["pulse"]
AMPLITUDE_V, WIDTH_S = 4.0, 1e-4  # inside every pulser's limits and ranges


@pytest.fixture(scope="module", params=sorted(PULSERS))
def pulser(
    request: pytest.FixtureRequest,
    suite_clock: VirtualClock,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[PulseSource]:
    with PULSERS[request.param].open(
        "pulse", tmp_path_factory.mktemp("pulse"), suite_clock
    ) as role:
        assert isinstance(role, PulseSource)
        yield role


def test_plays_the_pulse_role_with_the_pulse_limits(pulser: PulseSource) -> None:
    assert pulser.role == "pulse" and type(pulser.limits) is PulseLimits


@pytest.mark.parametrize("amplitude_V", [AMPLITUDE_V, -AMPLITUDE_V])
@pytest.mark.parametrize("count", [1, 3])
def test_pulses_inside_the_limits_are_sent(
    pulser: PulseSource, amplitude_V: float, count: int
) -> None:
    sent = pulser.transactions
    pulser.pulse(amplitude_V, WIDTH_S, count)
    assert pulser.transactions > sent
    pulser.check_health()


@pytest.mark.parametrize("where", [0, 1, 2], ids=["above", "below", "nan"])
def test_pulses_outside_the_limits_are_refused(pulser: PulseSource, where: int) -> None:
    limits = pulser.limits
    amplitude_V = outside(limits.amplitude_V)[where]
    width_s = outside(limits.width_s)[where]
    refused(
        pulser,
        "pulse amplitude",
        limits.amplitude_V,
        lambda: pulser.pulse(amplitude_V, WIDTH_S),
    )
    refused(pulser, "pulse width", limits.width_s, lambda: pulser.pulse(AMPLITUDE_V, width_s))
    count = [int(limits.count.high) + 1, 0, int(limits.count.high) * 10][where]
    refused(pulser, "pulse count", limits.count, lambda: pulser.pulse(AMPLITUDE_V, WIDTH_S, count))


def test_the_safe_state_reports_and_can_be_repeated(pulser: PulseSource) -> None:
    said(pulser.safe_state())
    said(pulser.safe_state())
    pulser.pulse(AMPLITUDE_V, WIDTH_S)  # usable again after its safe state
