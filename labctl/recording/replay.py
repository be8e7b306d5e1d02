"""Strict replay: re-run a recorded run's protocol with its parameters and station, the
instruments' answers coming from the recording, and check that the data come out the same."""

from __future__ import annotations

import dataclasses
import json
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from labctl.data import load_run, open_db
from labctl.engine import execute
from labctl.errors import LabctlError
from labctl.params import build_params
from labctl.protocol import ProtocolSpec, find_protocol
from labctl.recording import libspec
from labctl.recording.divergence import Divergence
from labctl.recording.replay_source import ReplayClock, ReplaySource
from labctl.recording.store import StoredRecording, load_recording
from labctl.station import Station, load_station


@dataclass
class ReplayReport:
    db: Path
    original_run: int
    replay_run: int
    replay_db: Path
    status: str  # the replayed run's status
    divergence: Divergence | None
    data_mismatch: str  # "" when the points are identical
    transactions: int  # recorded checked transactions served to the replay
    outcome: Any = None

    @property
    def identical(self) -> bool:
        return self.divergence is None and not self.data_mismatch and self.status == "completed"

    def as_dict(self) -> dict[str, Any]:
        return {
            "db": str(self.db),
            "original_run": self.original_run,
            "replay_run": self.replay_run,
            "replay_db": str(self.replay_db),
            "status": self.status,
            "identical": self.identical,
            "divergence": self.divergence.as_dict() if self.divergence else None,
            "data_mismatch": self.data_mismatch,
            "transactions": self.transactions,
        }

    def text(self) -> str:
        head = f"replay of run {self.original_run} -> run {self.replay_run} ({self.status})"
        if self.divergence is not None:
            return f"{head}: DIVERGED\n{self.divergence.message()}"
        if self.data_mismatch:
            return f"{head}: the data differ: {self.data_mismatch}"
        if self.status != "completed":
            return f"{head}: the replayed run did not complete"
        return f"{head}: identical ({self.transactions} transactions replayed, same data)"


def station_of(recording: StoredRecording, fallback: str | None = None) -> Station:
    """The station a recording was made on, from the content stored with it."""
    raw = recording.station.get("content")
    if not isinstance(raw, dict) or "instruments" not in raw:
        if fallback is None:
            raise LabctlError(f"run {recording.run_id} was not recorded with its station")
        return load_station(fallback)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "station.yaml"
        path.write_text(yaml.safe_dump(raw, sort_keys=False))
        station = load_station(path)
    return dataclasses.replace(station, path=str(recording.station.get("file") or fallback))


def compare_points(original: pd.DataFrame, replayed: pd.DataFrame) -> str:
    """``""`` if the two runs' points are identical (NaN equals NaN), else the first difference."""
    if list(original.columns) != list(replayed.columns):
        return f"columns {list(original.columns)} vs {list(replayed.columns)}"
    if len(original) != len(replayed):
        return f"{len(original)} points recorded, {len(replayed)} replayed"
    for column in original.columns:
        a, b = original[column].to_numpy(), replayed[column].to_numpy()
        if a.dtype.kind in "fc" and b.dtype.kind in "fc":
            same = (a == b) | (np.isnan(a) & np.isnan(b))
        else:
            same = a == b
        if not bool(np.all(same)):
            i = int(np.argmin(same))
            return f"point {i}, column {column}: recorded {a[i]!r}, replayed {b[i]!r}"
    return ""


def mark_replay(db: Path, run_id: int, key: str, value: Any) -> None:
    """Add a metadata entry to an existing run (after its writer has closed)."""
    from qcodes.dataset import load_by_id

    with open_db(db) as conn:
        load_by_id(run_id, conn=conn).add_metadata(f"labctl_{key}", json.dumps(value, default=str))


def replay_run(
    db: Path,
    run_id: int,
    *,
    spec: ProtocolSpec | None = None,
    params: Mapping[str, Any] | None = None,
    out_db: Path | None = None,
    **execute_kw: Any,
) -> ReplayReport:
    """Replay run ``run_id`` of ``db`` strictly; the new run goes into ``out_db`` (default
    ``db``). ``spec`` replaces the recorded protocol and ``params`` overrides some recorded
    parameters: that is how a changed protocol is checked against a recorded run."""
    db, out_db = Path(db), Path(out_db or db)
    info, original = load_run(db, run_id)  # first: "no such database / run" before traffic
    recording = load_recording(db, run_id)
    spec = spec or find_protocol(info.protocol)
    values = {**info.params, **(params or {})}
    built = build_params(spec.params_type, values, spec.name)
    station = station_of(recording, info.metadata.get("station_file"))
    clock = ReplayClock(recording.clock_start_s)
    source = ReplaySource(recording, clock=clock, run_id=run_id)
    key = libspec.register("replay", source)
    replayed = dataclasses.replace(
        station, visa_library=libspec.replay_library(key), clock="virtual"
    )
    execute_kw.setdefault("handle_signals", False)
    try:
        outcome = execute(spec, built, replayed, out_db, clock=clock, **execute_kw)
    finally:
        libspec.unregister(key)
    divergence = source.first_divergence()
    mismatch = ""
    if divergence is None:
        _, points = load_run(out_db, outcome.run_id)
        mismatch = compare_points(original, points)
    if outcome.status != "completed" and divergence is None and not mismatch:
        mismatch = f"the replayed run {outcome.status}: {outcome.error}"
    report = ReplayReport(
        db,
        run_id,
        outcome.run_id,
        out_db,
        outcome.status,
        divergence,
        mismatch,
        source.served,
        outcome,
    )
    try:
        mark_replay(out_db, outcome.run_id, "replay_of", report.as_dict())
    except Exception as exc:  # the report is still returned; the mark is a convenience
        raise LabctlError(f"cannot mark run {outcome.run_id} as a replay: {exc}") from exc
    return report
