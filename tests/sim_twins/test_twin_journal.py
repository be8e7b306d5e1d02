"""The state journal survives a killed subprocess and shows the bench state it left."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

SCRIPT = """
import pyvisa, sys, time
rm = pyvisa.ResourceManager('@labsim')
smu = rm.open_resource('GPIB0::24::INSTR')
smu.write(':SOUR:FUNC VOLT;:SOUR:VOLT 1.25;:SENS:CURR:PROT 1e-6;:OUTP ON')
bop = rm.open_resource('GPIB0::6::INSTR')
bop.write('FUNC:MODE CURR;VOLT 20;CURR 0.5;OUTP 1')
print('ready', flush=True)
time.sleep(60)
"""


def test_journal_of_a_terminated_subprocess(tmp_path: Path) -> None:
    state_file = tmp_path / "state.json"
    env = {**os.environ, "LABSIM_STATE_FILE": str(state_file)}
    proc = subprocess.Popen(
        [sys.executable, "-c", SCRIPT], env=env, stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    state = json.loads(state_file.read_text())
    smu = state["instruments"]["gate_smu"]
    assert smu["output"] is True
    assert smu["level_V"] == 1.25
    assert state["instruments"]["bop"]["output_current_A"] == 0.5
    assert state["chip"]["gate_V"][0] == 1.25
