"""kill -9 of a run: its supervisor brings the bench to the safe state and marks the run
"interrupted"; a run whose process is gone never shows "running".

The bench state is judged from the simulated instruments' own state (the lab's journal,
``LABSIM_STATE_FILE``), which the supervisor's process writes after taking the lab over.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

from labctl.data import list_runs
from labctl.recorder import RunWriter
from labctl.supervisor import process_gone, process_identity, start_supervisor

SAFE_WITHIN_S = 10.0  # the requirement; a deadline for polling, not a measured time


def _journal(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def _wait_for(predicate: Any, timeout_s: float, what: str) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"not within {timeout_s:g} s: {what}")


def _magnet_energised(path: Path) -> bool:
    state = _journal(path)
    if state is None:
        return False
    bop = state["instruments"]["bop"]
    return bool(bop["output"]) and abs(bop["current_A"]) > 0.5


def _safe(path: Path) -> dict[str, Any] | None:
    state = _journal(path)
    if state is None:
        return None
    bop, gate = state["instruments"]["bop"], state["instruments"]["gate_smu"]
    if bop["output"] or abs(bop["current_A"]) > 1e-9 or gate["output"]:
        return None
    return state


def test_kill_9_mid_hall_loop_reaches_the_safe_state(tmp_path: Path) -> None:
    db, journal = tmp_path / "k.db", tmp_path / "state.json"
    env = {
        **os.environ,
        "LABSIM_PERSIST": "1",
        "LABSIM_STATE_DIR": str(tmp_path / "labsim"),
        "LABSIM_STATE_FILE": str(journal),
        "LABCTL_SUPERVISE": "1",
    }
    labctl = [sys.executable, "-c", "from labctl.cli import main; main()"]
    proc = subprocess.Popen(
        [*labctl, "run", "hall-loop", "--db", str(db)],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        _wait_for(lambda: _magnet_energised(journal), 120, "the magnet energised by the run")
        energised = _journal(journal)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        killed_at = time.monotonic()
        state = _wait_for(lambda: _safe(journal), SAFE_WITHIN_S, "the bench in its safe state")
        safe_after_s = time.monotonic() - killed_at
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert energised is not None and abs(energised["instruments"]["bop"]["current_A"]) > 0.5
    assert state["chip"]["field_T"] == pytest.approx(0.0, abs=3e-3)  # remanence only
    assert safe_after_s < SAFE_WITHIN_S

    def interrupted() -> Any:
        runs = list_runs(db)
        return runs if runs and runs[0].metadata.get("safe_state") else None

    runs = _wait_for(interrupted, 30, "the supervisor's report in the run")
    assert runs[0].status == "interrupted"
    assert any("ramped magnet" in line for line in runs[0].metadata["safe_state"])
    assert "died" in runs[0].metadata["error"]
    # the lab's store is gone with the supervisor's clean exit: nothing left to take over
    assert not list((tmp_path / "labsim").glob("*.snap"))


GATE_SCRIPT = textwrap.dedent(
    """
    import sys
    from dataclasses import dataclass
    from pathlib import Path
    from labctl.api import Run, param, protocol
    from labctl.engine import execute
    from labctl.params import build_params
    from labctl.protocol import spec_of
    from labctl.station import load_station

    @dataclass(frozen=True)
    class P:
        gate_V: float = param(0.25)

    @protocol("gate-hold", columns={"v": "V"})
    def gate_hold(run: Run, p: P) -> None:
        run.station.field.set_field(0.05)
        run.station.gate.ramp_to(p.gate_V)
        while True:  # holds the gate on until killed
            run.sleep(0.5)
            run.record(v=run.station.gate.voltage_V)

    execute(spec_of(gate_hold), build_params(P, {}, "gate-hold"), load_station(None),
            Path(sys.argv[1]))
    """
)


def _gate_on(path: Path) -> bool:
    state = _journal(path)
    if state is None:
        return False
    gate = state["instruments"]["gate_smu"]
    return bool(gate["output"]) and gate["level_V"] == pytest.approx(0.25)


def test_kill_9_with_the_gate_on_from_a_script_run(tmp_path: Path) -> None:
    """``execute`` from a plain script is supervised by default (no ``supervise`` argument)."""
    db, journal = tmp_path / "g.db", tmp_path / "state.json"
    env = {k: v for k, v in os.environ.items() if k != "LABCTL_SUPERVISE"}
    env.update(
        LABSIM_PERSIST="1",
        LABSIM_STATE_DIR=str(tmp_path / "labsim"),
        LABSIM_STATE_FILE=str(journal),
    )
    proc = subprocess.Popen([sys.executable, "-c", GATE_SCRIPT, str(db)], env=env, cwd=tmp_path)
    try:
        _wait_for(lambda: _gate_on(journal), 120, "the gate on at 0.25 V")
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        _wait_for(lambda: _safe(journal), SAFE_WITHIN_S, "the bench in its safe state")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    runs = _wait_for(
        lambda: [r for r in list_runs(db) if r.metadata.get("safe_state")], 30, "the report"
    )
    assert runs[0].status == "interrupted"
    assert any("gate" in line and "0 V" in line for line in runs[0].metadata["safe_state"])


def test_a_running_run_whose_process_is_gone_shows_interrupted(tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    for identity in (process_identity(), process_identity(dead.pid)):
        writer = RunWriter(db, experiment="e", sample="s", name="n")
        writer.add_metadata("labctl_status", "running")
        writer.add_metadata("labctl_process", identity)
        writer.close(completed=False)
    alive, gone = list_runs(db)
    assert alive.status == "running"
    assert gone.status == "interrupted"


def test_process_gone_judges_only_this_host_and_catches_pid_reuse() -> None:
    me = process_identity()
    assert not process_gone(me)
    assert not process_gone({**me, "host": "some-other-host"})
    if me["start"] is not None:  # same pid, other start time: another process
        assert process_gone({**me, "start": me["start"] + 1})


def test_the_supervisor_does_nothing_when_the_run_ends_cleanly(tmp_path: Path) -> None:
    db = tmp_path / "c.db"
    writer = RunWriter(db, experiment="e", sample="s", name="n")
    writer.add_metadata("labctl_status", "completed")
    supervision = start_supervisor("no/such/station.yaml", "@labsim", db, writer.run_id)
    writer.close()
    supervision.release()
    assert supervision.proc.wait(timeout=60) == 0
    (run,) = list_runs(db)
    assert run.status == "completed"
    assert "safe_state" not in run.metadata


def test_a_run_is_supervised_only_when_an_instrument_outlives_the_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The simulated bench's twins (and any VISA instrument) outlive a killed run: supervised.
    A class-path virtual chip dies with the run: no supervisor (its start costs ~1 s of CPU)."""
    from labctl import engine
    from labctl.params import build_params
    from labctl.protocol import find_protocol
    from labctl.station import builtin_station, load_station

    started: list[str] = []
    real = engine.start_supervisor

    def spy(station_path: str, *args: object) -> object:
        started.append(Path(station_path).name)
        return real(station_path, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(engine, "start_supervisor", spy)
    bench = load_station(builtin_station("simulated.yaml"))
    chip = load_station(builtin_station("virtual_chip_fast.yaml"))
    assert bench.outlives_the_process and not chip.outlives_the_process
    hall = find_protocol("hall-loop")
    params = build_params(hall.params_type, {"field_max_T": 0.01, "step_T": 0.005}, "hall-loop")
    assert engine.execute(hall, params, bench, tmp_path / "a.db", supervise=True).status == (
        "completed"
    )
    train = find_protocol("train")
    params = build_params(
        train.params_type, {"tasks": "permuted-iris:1", "epochs": 1, "on_chip": True}, "train"
    )
    outcome = engine.execute(train, params, chip, tmp_path / "b.db", supervise=True)
    assert outcome.status == "completed", outcome.error
    assert started == ["simulated.yaml"]
