"""A recorded third-party pyvisa script (pymeasure and qcodes drivers, no labctl) replays."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).with_name("third_party_script.py")


def _run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, **env, "PYTHONWARNINGS": "ignore"}
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args],
        env=full,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=SCRIPT.parent,
    )


def _no_times(text: str) -> str:
    return re.sub(r"in \d+(\.\d+)?s", "in <t>s", text)


def test_third_party_script_records_and_replays(tmp_path: Path) -> None:
    traffic = tmp_path / "script.db"
    recorded = _run(
        {"PYVISA_LIBRARY": "@labrec", "LABREC_UNDERLYING": "@labsim", "LABREC_FILE": str(traffic)}
    )
    assert recorded.returncode == 0, recorded.stderr
    assert "gate current" in recorded.stdout and "lockin" in recorded.stdout

    replayed = _run({"PYVISA_LIBRARY": f"{traffic}@labreplay"})
    assert replayed.returncode == 0, replayed.stderr
    # qcodes' connect message carries a wall time ("... in 0.01s"): the only part that may differ
    assert _no_times(replayed.stdout) == _no_times(recorded.stdout)

    changed = _run({"PYVISA_LIBRARY": f"{traffic}@labreplay"}, "0.6")
    assert changed.returncode != 0
    assert "diverged at transaction" in changed.stderr
    assert "GPIB0::24::INSTR" in changed.stderr
    assert "expected write b':SOURCE:VOLTAGE 0.5\\r\\n'" in changed.stderr
    assert "third_party_script.py:13 in <module>: smu.source_voltage = gate_V" in changed.stderr
