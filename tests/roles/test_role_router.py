"""The Router contract, on every switch matrix (see implementations.py for the list)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from instruments.roles import Router, RouterLimits
from labctl.clock import VirtualClock

from .helpers import said
from .implementations import IMPLEMENTATIONS

ROUTERS = IMPLEMENTATIONS["router"]


@pytest.fixture(scope="module", params=sorted(ROUTERS))
def router(
    request: pytest.FixtureRequest,
    suite_clock: VirtualClock,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Router]:
    with ROUTERS[request.param].open(
        "router", tmp_path_factory.mktemp("router"), suite_clock
    ) as role:
        assert isinstance(role, Router)
        yield role


def test_plays_the_router_role(router: Router) -> None:
    assert router.role == "router" and type(router.limits) is RouterLimits


def test_connections_follow_connect_one_device_per_terminal(router: Router) -> None:
    router.disconnect_all()
    assert router.connections() == {}
    sent = router.transactions
    router.connect("pulse", 3)
    router.connect("hall", 2)
    assert router.connections() == {"pulse": 3, "hall": 2}
    router.connect("pulse", 5)  # a terminal moves: its old device is released
    assert router.connections() == {"pulse": 5, "hall": 2}
    assert router.transactions > sent
    router.connect("gate", 5)  # never two terminals on one device
    assert router.connections() == {"hall": 2, "gate": 5}


def test_unknown_terminals_and_devices_are_refused_before_anything_is_sent(router: Router) -> None:
    router.disconnect_all()
    sent = router.transactions
    with pytest.raises(ValueError, match=rf"{router.name}: no device 99"):
        router.connect("gate", 99)
    with pytest.raises(ValueError, match=rf"{router.name}: .*terminal"):
        router.connect("no-such-terminal", 1)
    assert router.transactions == sent and router.connections() == {}


def test_the_safe_state_opens_everything_and_can_be_repeated(router: Router) -> None:
    router.connect("hall", 1)
    said(router.safe_state())
    assert router.connections() == {}
    said(router.safe_state())
    router.check_health()
