"""The command line by hand, in-process: ``labctl run`` records by default (``LABCTL_RECORD=0``
turns it off), ``labctl traffic``, ``labctl replay`` (strict and ``--sim``), ``labctl calibrate``,
and one clear error line for what is missing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from labctl.cli import main
from labctl.recording.store import load_recording

RUN = ["run", "hall-loop", "--field-max-T", "0.03", "--step-T", "0.003", "--dwell-s", "0.2"]


def _json(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict]:
    code = main([*argv, "--json"])
    return code, json.loads(capsys.readouterr().out.strip().splitlines()[-1])


def test_cli_records_replays_and_calibrates(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    db = str(tmp_path / "D.db")
    assert main([*RUN, "--db", db]) == 0
    recording = load_recording(Path(db), 1)
    assert recording.complete and len(recording.transactions) > 100
    capsys.readouterr()

    code, traffic = _json(capsys, "traffic", "1", "--db", db, "--limit", "3")
    assert code == 0 and len(traffic["transactions"]) == 3 and traffic["underlying"] == "@labsim"
    code, strict = _json(capsys, "replay", "1", "--db", db)
    assert code == 0 and strict["identical"] and strict["replay_run"] == 2
    code, twin = _json(capsys, "replay", "1", "--sim", "--db", db)
    assert code == 0 and twin["status"] == "completed" and Path(twin["files"]["figure"]).exists()
    chip = tmp_path / "chip.yaml"
    code, calibration = _json(capsys, "calibrate", "1", "--db", db, "--out", str(chip))
    assert code == 0 and chip.exists()
    assert (
        Path(calibration["figure"]) == chip.with_suffix(".png")
        and chip.with_suffix(".png").exists()
    )
    assert calibration["parameters"]["R_AHE"]["status"] == "fitted"
    # one loop at one sweep rate cannot separate H0 from Δ: said so, not invented
    assert calibration["parameters"]["H0"]["status"] == "unconstrained"

    monkeypatch.setenv("LABCTL_RECORD", "0")
    assert main([*RUN, "--db", db]) == 0
    capsys.readouterr()
    assert main(["replay", "4", "--db", db]) != 0  # runs 2 and 3 are the replays
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert error.startswith("labctl: error: ") and "run 4 has no recorded VISA traffic" in error
    assert "LABCTL_RECORD=0" in error
    assert main(["calibrate", "1", "--db", db, "--base", str(tmp_path / "nope.yaml")]) != 0
    assert capsys.readouterr().err.strip().endswith("nope.yaml: no such chip parameter file")
