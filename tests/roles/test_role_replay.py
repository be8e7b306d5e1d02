"""Every role suite on the replay: roles answered from a recorded run (``@labreplay``).

The replay implements the roles at the VISA level (:mod:`labctl.recording.replay_source` serves
recorded transactions; the role adapters run unchanged on top of it), so its implementations of
a role are the adapters over a recording. Each case runs the role's whole contract suite on the
twin through ``@labsim@labrec``, then the same suite on the same adapter over the recording:
every test of the suite must pass on the replay too, with every recorded transaction replayed
and no divergence. The fast array has no VISA traffic to record and is not replayed.
"""

from __future__ import annotations

import importlib
import inspect
import itertools
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from instruments.roles import Role
from labctl.clock import VirtualClock
from labctl.recording import libspec
from labctl.recording.replay_source import ReplayClock, ReplaySource
from labctl.recording.store import StoredRecording
from labctl.recording.traffic import Recording

from .implementations import IMPLEMENTATIONS

SUITES = {  # role -> (suite module, the name its tests give the role)
    "gate": ("test_role_gate", "gate"),
    "field": ("test_role_field", "magnet"),
    "hall": ("test_role_hall", "hall"),
    "pulse": ("test_role_pulse", "pulser"),
    "router": ("test_role_router", "router"),
    "array": ("test_role_array", "array"),
}
REPLAYED = [
    (role, key)
    for role, impls in IMPLEMENTATIONS.items()
    for key, impl in impls.items()
    if ":" not in impl.driver  # a class-path implementation talks no VISA
]


def suite_cases(role: str) -> list[tuple[str, Callable[..., None], dict[str, Any]]]:
    """Every (test id, function, parameters) of the role's suite that takes the role."""
    module_name, argument = SUITES[role]
    module = importlib.import_module(f"{__package__}.{module_name}")
    cases = []
    for name, func in inspect.getmembers(module, inspect.isfunction):
        parameters = list(inspect.signature(func).parameters)
        if not name.startswith("test_") or not parameters or parameters[0] != argument:
            continue
        grids = []
        for mark in getattr(func, "pytestmark", []):
            if mark.name == "parametrize":
                names = [n.strip() for n in mark.args[0].split(",")]
                grids.append(
                    [
                        dict(zip(names, v if len(names) > 1 else (v,), strict=True))
                        for v in mark.args[1]
                    ]
                )
        for combo in itertools.product(*grids):
            values = {k: v for part in combo for k, v in part.items()}
            cases.append((f"{name}{values or ''}", func, values))
    return sorted(cases, key=lambda case: case[0])


def run_suite(role: str, instance: Role) -> list[str]:
    done = []
    for case_id, func, values in suite_cases(role):
        func(instance, **values)
        done.append(case_id)
    return done


@pytest.fixture(autouse=True)
def _fresh_lab(suite_clock: VirtualClock) -> Iterator[None]:  # one lab for the module is enough
    yield


@pytest.mark.parametrize(
    ("role", "key"), REPLAYED, ids=[k.replace("@labsim", "@labreplay") for _, k in REPLAYED]
)
def test_the_role_suite_passes_on_a_replay_of_the_twin(
    role: str, key: str, suite_clock: VirtualClock, tmp_path: Path
) -> None:
    implementation = IMPLEMENTATIONS[role][key]
    recording = Recording(underlying="")
    recording.key = libspec.register("rec", recording)

    def record(underlying: str) -> str:
        recording.underlying = underlying
        return libspec.recording_library(underlying, recording.key)

    try:
        with implementation.open(role, tmp_path / "twin", suite_clock, visa=record) as twin:
            on_twin = run_suite(role, twin)
            twin_transactions = twin.transactions
    finally:
        libspec.unregister(recording.key)
    stored = StoredRecording(
        tmp_path / "memory",
        1,
        recording.underlying,
        recording.clock_start_s,
        recording.wall_start_s,
        {},
        list(recording.resources),
        True,
        recording.transactions(),
    )
    clock = ReplayClock(recording.clock_start_s)
    source = ReplaySource(stored, clock=clock)
    replay_key = libspec.register("replay", source)
    try:
        with implementation.open(
            role, tmp_path / "replay", clock, visa=lambda _: libspec.replay_library(replay_key)
        ) as replayed:
            on_replay = run_suite(role, replayed)
            assert replayed.transactions == twin_transactions
    finally:
        libspec.unregister(replay_key)
    assert on_replay == on_twin and len(on_twin) >= 3
    divergence = source.first_divergence()
    assert divergence is None, divergence.message()
    assert source.served > 0
