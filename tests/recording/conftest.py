"""Shared helpers of the record/replay tests: an isolated simulated lab per test, and a
recorded run on it."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path
from typing import Any

import pytest

from labctl.engine import RunOutcome, execute
from labctl.params import build_params
from labctl.protocol import ProtocolSpec, find_protocol
from labctl.station import Station, load_station


def default_lab_file() -> Path:
    from sim_backend.open_labs import default_lab_path

    return Path(default_lab_path())


def isolated_station(directory: Path, lab_text: str | None = None) -> Station:
    """The built-in simulated station on a private copy of the default lab (its own chip)."""
    directory.mkdir(parents=True, exist_ok=True)
    lab = directory / "lab.yaml"
    if lab_text is None:
        shutil.copy(default_lab_file(), lab)
    else:
        lab.write_text(lab_text)
    return dataclasses.replace(load_station(None), visa_library=f"{lab}@labsim")


def record(protocol: str | ProtocolSpec, station: Station, db: Path, **values: Any) -> RunOutcome:
    spec = find_protocol(protocol) if isinstance(protocol, str) else protocol
    params = build_params(spec.params_type, values, spec.name)
    outcome = execute(spec, params, station, db, handle_signals=False)  # records by default
    assert outcome.status == "completed", outcome.error
    return outcome


@pytest.fixture
def station(tmp_path: Path) -> Station:
    return isolated_station(tmp_path / "lab")
