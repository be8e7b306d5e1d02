"""Shared test set-up.

- Every test starts from a fresh virtual lab: the lab is cached per process (like a bench that
  stays powered between scripts), so a magnet left on by one test would otherwise act on the
  next, and virtual clocks restart from the same epoch (seeded results do not depend on order).
  So the lab is not kept outside the process (``LABSIM_PERSIST=0``: no orphan of a killed test
  process is ever taken over), and runs are not supervised (``LABCTL_SUPERVISE=0``: no watchdog
  process per run); tests of those features turn them on for their subprocesses.
- The default run is spread over two worker processes (pytest-xdist, ``-n 2`` in pyproject.toml):
  the longest tests are handed out first, and the tests that share a module-scoped fixture (one
  pyright run, one recorded database, one role implementation's suite clock) stay in one worker,
  in their order, so that fixture is built once.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from sim_backend.open_labs import forget_labs

os.environ.setdefault("LABSIM_PERSIST", "0")
os.environ.setdefault("LABCTL_SUPERVISE", "0")


# The longest tests of the default run (``pytest --durations=30``), longest first: they start
# first, so no worker is left running a long one alone at the end. A name missing here only
# costs scheduling; a test of a module with a module-scoped fixture moves with its module.
LONGEST_FIRST = (
    "tests/calibration/test_calibration_recovers.py::test_calibration_recovers_drawn_parameters",
    "tests/test_typecheck.py::",
    "tests/protocol_runs/test_protocols_sim.py::test_neuromodulation_single_device_levels",
    "tests/test_database.py::test_three_labctl_runs_and_a_reader_at_once",
    "tests/protocol_runs/test_protocols_sim.py::test_switching_probability_curves_shift",
    "tests/protocol_runs/test_protocols_sim.py::test_retention_is_nonvolatile",
    "tests/protocol_runs/test_protocols_sim.py::test_switching_probability_field_fit",
    "tests/protocol_runs/test_protocols_sim.py::test_retention_under_bias",
    "tests/protocol_runs/test_protocols_stations.py::test_array_map",
    "tests/test_database.py::test_three_processes_write",
    "tests/protocol_runs/test_protocols_stations.py::test_gate_program",
    "tests/protocol_runs/test_protocols_sim.py::test_hall_loop_series",
    "tests/learning/test_learning_chip_study.py::test_small_chip_study",
    "tests/protocol_runs/test_protocols_sim.py::test_gate_program",
    "tests/test_station_fuzz.py::",
    "tests/protocol_runs/test_protocols_stations.py::test_retention",
    "tests/test_supervisor.py::",
    "tests/recording/test_recording_script.py::",
    "tests/learning/test_learning_differential.py::",
    "tests/test_demo.py::",
    "tests/learning/test_learning_chip_study.py::test_small_medical",
)


def _rank(nodeid: str) -> int:
    return next(
        (i for i, prefix in enumerate(LONGEST_FIRST) if nodeid.startswith(prefix)),
        len(LONGEST_FIRST),
    )


def _shared_fixture_scope(item: pytest.Item) -> str | None:
    """The module whose fixture (one of ours, wider than a test) this test shares with
    others, if any. pytest's own (tmp_path_factory, ...) cost nothing to build twice."""
    info = getattr(item, "_fixtureinfo", None)
    for defs in info.name2fixturedefs.values() if info else ():
        if defs and defs[-1].scope != "function" and defs[-1].baseid:
            return item.nodeid.split("::")[0]
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    rank: dict[str, int] = {}  # a module with a shared fixture: its best-ranked test's rank
    for item in items:
        scope = _shared_fixture_scope(item)
        if scope is not None:
            # one group per module: xdist (--dist loadgroup) keeps its tests on one worker
            item.add_marker(pytest.mark.xdist_group(scope))
            rank[scope] = min(rank.get(scope, len(LONGEST_FIRST)), _rank(item.nodeid))
    order = {id(item): i for i, item in enumerate(items)}

    def key(item: pytest.Item) -> tuple[int, int]:
        scope = _shared_fixture_scope(item)
        return (rank[scope] if scope is not None else _rank(item.nodeid), order[id(item)])

    items.sort(key=key)


@pytest.fixture(autouse=True)
def _fresh_virtual_lab() -> Iterator[None]:
    forget_labs()
    yield
    forget_labs()
