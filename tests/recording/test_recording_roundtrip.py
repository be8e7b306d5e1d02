"""Round trip on the twin: record a run, replay it strictly, get identical data; a changed
protocol is stopped at the transaction where it first sends something else."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from labctl.api import Run, protocol
from labctl.data import load_run
from labctl.protocol import find_protocol, spec_of
from labctl.recording.replay import replay_run
from labctl.recording.store import load_recording
from labctl.station import Station
from protocols.hall_loop import HallLoopParams

from .conftest import record

HALL_LOOP = {"field_max_T": 0.03, "step_T": 0.003, "dwell_s": 0.2}
CHANGED_POINT = 10  # the setpoint the modified protocol moves
HALL_LOOP_SPEC = find_protocol("hall-loop")


@protocol(
    "hall-loop",
    columns=dict(HALL_LOOP_SPEC.columns),
    setpoints=HALL_LOOP_SPEC.setpoints,
)
def hall_loop_one_setpoint_moved(run: Run, params: HallLoopParams) -> dict[str, Any]:
    """hall-loop, except that setpoint CHANGED_POINT is 0.5 mT off."""
    magnet, hall = run.station.field, run.station.hall
    setpoints, branches = params.sweep()
    magnet.set_field(float(setpoints[0]))
    run.sleep(params.saturate_s)
    for i, (field_set_T, branch) in enumerate(zip(setpoints, branches, strict=True)):
        if i == CHANGED_POINT:
            field_set_T = field_set_T + 0.0005
        field_T = magnet.set_field(float(field_set_T))  # the line the report must name
        run.sleep(params.dwell_s)
        run.record(
            field_set_T=field_set_T, field_T=field_T, v_hall_V=hall.read_voltage(), branch=branch
        )
    magnet.set_field(0.0)
    return {}


def test_hall_loop_replays_identically(station: Station, tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    original = record("hall-loop", station, db, **HALL_LOOP)
    report = replay_run(db, original.run_id)
    assert report.divergence is None, report.divergence.message()
    assert report.identical, report.text()
    _, before = load_run(db, original.run_id)
    _, after = load_run(db, report.replay_run)
    assert before.equals(after)  # t_s included: the replay clock reproduces station times
    assert report.outcome.result == original.result
    recording = load_recording(db, original.run_id)
    assert recording.complete
    # Served: every checked exchange (writes, reads, and the health checks' serial polls).
    checked = ("write", "read", "read_stb")
    assert report.transactions == sum(t.op in checked for t in recording.transactions)


def test_gate_program_replays_identically(station: Station, tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    original = record("gate-program", station, db, max_pulses=3, step_T=0.002)
    report = replay_run(db, original.run_id)
    assert report.identical, report.text()
    _, before = load_run(db, original.run_id)
    _, after = load_run(db, report.replay_run)
    assert len(before) > 0 and before.equals(after)
    assert report.outcome.result == original.result
    assert any(v != 0 for v in original.result["trajectory"]["pulse_V"])  # it did gate


def test_changed_setpoint_stops_at_the_right_transaction(station: Station, tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    original = record("hall-loop", station, db, **HALL_LOOP)
    report = replay_run(db, original.run_id, spec=spec_of(hall_loop_one_setpoint_moved))
    divergence = report.divergence
    assert divergence is not None and report.status == "failed"
    # Oracle from the recording alone: the Hall reading query is the hall instrument's most
    # frequent command; the divergence must be the magnet's first setting command after the
    # reading of point CHANGED_POINT - 1, i.e. after CHANGED_POINT readings.
    magnet = station.instruments["magnet"].address
    hall = station.instruments["hall"].address
    traffic = load_recording(db, original.run_id).transactions
    reading = Counter(t.data for t in traffic if t.resource == hall and t.op == "write")
    reading_query = reading.most_common(1)[0][0]
    readings = [t.seq for t in traffic if t.resource == hall and t.data == reading_query]
    expected = next(
        t
        for t in traffic
        if t.seq > readings[CHANGED_POINT - 1]
        and t.resource == magnet
        and t.op == "write"
        and b"?" not in (t.data or b"")
    )
    assert divergence.transaction == expected.seq
    assert divergence.resource == magnet
    assert divergence.expected == f"write {expected.data!r}"
    assert divergence.sent.startswith("write ") and divergence.sent != divergence.expected
    message = divergence.message()
    assert f"transaction {expected.seq}" in message and magnet in message
    assert "test_recording_roundtrip.py" in divergence.source
    assert "hall_loop_one_setpoint_moved" in divergence.source
    assert "magnet.set_field(float(field_set_T))" in divergence.source
    assert "diverged" in (report.outcome.error or "")


def test_changed_parameters_are_a_divergence_too(station: Station, tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    original = record("hall-loop", station, db, **HALL_LOOP)
    report = replay_run(db, original.run_id, params={"step_T": 0.006})
    assert report.divergence is not None
    assert report.divergence.resource == station.instruments["magnet"].address
    assert "protocols/loops.py" in report.divergence.source  # the loop hall-loop sweeps
