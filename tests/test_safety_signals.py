"""SIGTERM, Ctrl-C and a double Ctrl-C in the middle of a run on the simulated bench.

The run happens in a subprocess; the simulated lab's state journal (LABSIM_STATE_FILE) tells
the instruments' final state after the process is gone, and the database the points it kept.
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

import pytest

from labctl.data import list_runs

SCRIPT = textwrap.dedent(
    """
    import json, sys, time
    from dataclasses import dataclass
    from pathlib import Path
    from labctl.api import Run, param, protocol
    from labctl.engine import execute
    from labctl.params import build_params
    from labctl.protocol import spec_of
    from labctl.station import load_station

    @dataclass(frozen=True)
    class P:
        gate_V: float = param(1.0)

    @protocol("hold", columns={"v_hall_V": "V"})
    def hold(run: Run, p: P) -> None:
        run.station.gate.ramp_to(p.gate_V)
        run.station.field.set_field(0.05)
        i = 0
        while True:
            run.sleep(1.0)
            run.record(v_hall_V=run.station.hall.read_voltage())
            i += 1
            if i == 20:
                print("RUNNING", flush=True)
            time.sleep(0.01)

    outcome = execute(spec_of(hold), build_params(P, {}, "hold"), load_station(None),
                      Path(sys.argv[1]))
    print(json.dumps(outcome.as_dict()), flush=True)
    """
)


def _run_and_signal(tmp_path: Path, signals: list[int]) -> tuple[dict, dict, int]:
    db, journal = tmp_path / "s.db", tmp_path / "state.json"
    env = {**os.environ, "LABSIM_STATE_FILE": str(journal)}
    proc = subprocess.Popen(
        [sys.executable, "-c", SCRIPT, str(db)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.strip() == "RUNNING", proc.stderr.read() if proc.stderr else line
        state = json.loads(journal.read_text())
        assert state["instruments"]["gate_smu"]["output"] is True
        assert state["instruments"]["bop"]["output"] is True
        for sig in signals:
            proc.send_signal(sig)
            time.sleep(0.05)
        out, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    outcome = json.loads(out.strip().splitlines()[-1])
    return outcome, json.loads(journal.read_text()), len(list_runs(db))


def _assert_safe(state: dict) -> None:
    gate, bop = state["instruments"]["gate_smu"], state["instruments"]["bop"]
    assert gate["output"] is False and gate["level_V"] == 0.0
    assert bop["output"] is False and bop["current_A"] == 0.0
    assert max(abs(v) for v in state["chip"]["gate_V"]) == 0.0
    assert abs(state["chip"]["field_T"]) < 0.003  # remanence of the pole pieces only


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "Ctrl-C"])
def test_signal_mid_run_reaches_safe_state_and_keeps_points(tmp_path: Path, sig: int) -> None:
    outcome, state, runs = _run_and_signal(tmp_path, [sig])
    assert outcome["status"] == "aborted"
    assert outcome["points"] >= 20
    assert any("ramped" in line and "output off" in line for line in outcome["safe_state"])
    _assert_safe(state)
    assert runs == 1


def test_second_ctrl_c_interrupts_and_is_still_safe(tmp_path: Path) -> None:
    outcome, state, _ = _run_and_signal(tmp_path, [signal.SIGINT, signal.SIGINT])
    assert outcome["status"] in ("aborted", "interrupted")
    _assert_safe(state)
