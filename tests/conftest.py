"""Shared test set-up.

- Every test starts from a fresh virtual lab: the lab is cached per process (like a bench that
  stays powered between scripts), so a magnet left on by one test would otherwise act on the
  next, and virtual clocks restart from the same epoch (seeded results do not depend on order).
  So the lab is not kept outside the process (``LABSIM_PERSIST=0``: no orphan of a killed test
  process is ever taken over), and runs are not supervised (``LABCTL_SUPERVISE=0``: no watchdog
  process per run); tests of those features turn them on for their subprocesses.
- The default run is spread over two worker processes (pytest-xdist, ``-n 2 --dist loadfile`` in
  pyproject.toml): a file's tests run on one worker, in their order, so a module-scoped fixture
  (one pyright run, one recorded database, one role implementation's suite clock) is built once;
  the longest files are handed out first.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from sim_backend.open_labs import forget_labs

os.environ.setdefault("LABSIM_PERSIST", "0")
os.environ.setdefault("LABCTL_SUPERVISE", "0")


# The test files that take longest in the default run (``pytest --durations=0``, summed per
# file), longest first: xdist (``--dist loadfile``) hands whole files to whichever worker is
# free in collection order, so these start first and no worker is left running a long one alone
# at the end. A file missing here only costs scheduling.
LONGEST_FIRST = (
    "tests/calibration/test_calibration_recovers.py",
    "tests/protocol_runs/test_protocols_sim.py",
    "tests/faults/test_fault_matrix.py",
    "tests/test_typecheck.py",
    "tests/protocol_runs/test_protocols_stations.py",
    "tests/protocol_runs/test_protocol_defaults.py",
    "tests/test_cli_behaviour.py",
    "tests/server/test_instrument_server.py",
    "tests/test_notebook.py",
    "tests/learning/test_learning_chip_study.py",
    "tests/learning/test_learning_dask_study.py",
    "tests/test_database.py",
    "tests/sim_twins/test_twin_fuzz.py",
    "tests/learning/test_learning_cli_protocol.py",
    "tests/test_safety_signals.py",
    "tests/test_supervisor.py",
    "tests/learning/test_learning_differential.py",
    "tests/protocol_runs/test_live_view.py",
    "tests/recording/test_recording_roundtrip.py",
    "tests/recording/test_recording_script.py",
    "tests/test_station_fuzz.py",
)
_RANK = {path: i for i, path in enumerate(LONGEST_FIRST)}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # a stable sort by file: the tests of one file keep their order (module fixtures built once)
    items.sort(key=lambda item: _RANK.get(item.nodeid.split("::")[0], len(LONGEST_FIRST)))


@pytest.fixture(autouse=True)
def _fresh_virtual_lab() -> Iterator[None]:
    forget_labs()
    yield
    forget_labs()
