"""The recording library and its storage, on pyvisa-sim (no labctl run): every call is
forwarded and logged, errors included, and a replay answers the same, error for error."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from pyvisa import ResourceManager, constants, errors

from labctl.recording import libspec
from labctl.recording.divergence import ReplayDivergence
from labctl.recording.hook import RunRecorder, recorder_for_run
from labctl.recording.replay_source import ReplaySource
from labctl.recording.store import load_recording, traffic_frame
from labctl.recording.traffic import Recording
from labctl.station import load_station

SIM_YAML = """\
spec: "1.1"
devices:
  dev:
    eom:
      GPIB INSTR: {q: "\\n", r: "\\n"}
    dialogues:
      - {q: "*IDN?", r: "ACME,Meter,1,1.0"}
      - {q: "READ?", r: "+1.25E-03"}
resources:
  GPIB0::5::INSTR: {device: dev}
"""


@pytest.fixture
def sim_lib(tmp_path: Path) -> str:
    path = tmp_path / "sim.yaml"
    path.write_text(SIM_YAML)
    return f"{path}@sim"


def _session(library: str) -> list[object]:
    rm = ResourceManager(library)
    inst = rm.open_resource("GPIB0::5::INSTR", read_termination="\n", write_termination="\n")
    inst.timeout = 50
    out: list[object] = [inst.query("*IDN?"), inst.query("READ?"), inst.timeout]
    try:
        inst.read()  # nothing pending: pyvisa-sim times out
    except errors.VisaIOError as exc:
        out.append(exc.error_code)
    inst.close()
    return out


def _record(sim_lib: str, db: Path) -> tuple[list[object], RunRecorder]:
    recorder = RunRecorder(Recording(sim_lib))
    recorder.stream_to(db, run_id=7)
    try:
        answers = _session(recorder.library())
    finally:
        recorder.close()
    return answers, recorder


def test_recorded_session_replays_reply_for_reply_and_error_for_error(
    sim_lib: str, tmp_path: Path
) -> None:
    db = tmp_path / "traffic.db"
    answers, _ = _record(sim_lib, db)
    assert answers == _session(sim_lib)  # recording changes nothing
    assert answers[-1] == constants.StatusCode.error_timeout
    assert _session(libspec.replay_library(f"{db}#7")) == answers


def test_storage_round_trip(sim_lib: str, tmp_path: Path) -> None:
    db = tmp_path / "traffic.db"
    _record(sim_lib, db)
    stored = load_recording(db, 7)
    assert stored.complete and stored.underlying == sim_lib
    ops = [t.op for t in stored.transactions]
    assert ops[0] == "open" and "set_attr" in ops and ops[-1] == "close"
    writes = [t.data for t in stored.transactions if t.op == "write"]
    assert writes == [b"*IDN?\n", b"READ?\n"]
    reads = [t for t in stored.transactions if t.op == "read"]
    assert reads[0].data == b"ACME,Meter,1,1.0\n"
    assert reads[-1].status == constants.StatusCode.error_timeout and reads[-1].data == b""
    timeout = [t for t in stored.transactions if t.op == "set_attr"][-1].detail
    assert timeout == {"attribute": int(constants.ResourceAttribute.timeout_value), "value": 50}
    assert [t.seq for t in stored.transactions] == list(range(1, len(ops) + 1))
    assert all(t.t_wall_s > 1e9 and t.duration_s >= 0 for t in stored.transactions)
    frame = traffic_frame(db, 7)
    assert list(frame["op"]) == ops


def test_replay_of_another_command_diverges(sim_lib: str, tmp_path: Path) -> None:
    db = tmp_path / "traffic.db"
    _record(sim_lib, db)
    rm = ResourceManager(libspec.replay_library(f"{db}#7"))
    inst = rm.open_resource("GPIB0::5::INSTR", read_termination="\n", write_termination="\n")
    with pytest.raises(ReplayDivergence) as caught:
        inst.query("*RST")
    d = caught.value.divergence
    assert d.resource == "GPIB0::5::INSTR" and d.expected == "write b'*IDN?\\n'"
    assert d.sent == "write b'*RST\\n'" and "test_recording_store.py" in d.source


def test_unreplayed_tail_is_reported(sim_lib: str, tmp_path: Path) -> None:
    db = tmp_path / "traffic.db"
    _record(sim_lib, db)
    source = ReplaySource(load_recording(db, 7))
    assert source.take("GPIB0::5::INSTR", "write", b"*IDN?\n") is not None
    left = source.first_divergence()
    assert left is not None and left.expected == "read b'ACME,Meter,1,1.0\\n'"
    assert "never replayed" in left.sent


def test_recording_is_on_by_default_and_off_with_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    station = dataclasses.replace(load_station(None), visa_library="@labsim")
    wrapped, recorder = recorder_for_run(station)
    try:
        assert recorder.enabled and wrapped.visa_library.endswith("@labrec")
        assert libspec.underlying_of(wrapped.visa_library) == "@labsim"
        again, inner = recorder_for_run(wrapped)  # already recording: left alone
        assert again is wrapped and not inner.enabled
    finally:
        recorder.close()
    monkeypatch.setenv("LABCTL_RECORD", "0")
    same, off = recorder_for_run(station)
    assert same is station and not off.enabled and off.summary() == {"enabled": False}
