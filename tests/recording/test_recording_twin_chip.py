"""``replay --sim --chip FILE`` reaches the simulator through pyvisa only: the station's VISA
library becomes ``FILE@labsim`` (the built-in lab with that chip); labctl writes no lab file
and no simulator key."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from labctl.errors import LabctlError
from labctl.physics import load_preset, write_chip_params
from labctl.recording.twin import replay_on_twin, twin_library
from sim_backend.open_labs import forget_labs, get_lab

from .conftest import record


def test_the_twin_runs_on_the_chip_file_without_a_lab_file(tmp_path: Path, station) -> None:
    db = tmp_path / "bench.db"
    run = record("hall-loop", station, db, field_max_T=0.03, step_T=0.003, dwell_s=0.2)
    preset = load_preset("ptco_gdox_hall")
    chip = preset.replace(anisotropy=dataclasses.replace(preset.anisotropy, h0_T=0.07))
    chip_dir = tmp_path / "chips"
    chip_file = write_chip_params(chip_dir / "mine.yaml", chip)
    forget_labs()
    twin = replay_on_twin(db, run.run_id, chip=chip_file, out_dir=tmp_path / "twin")
    assert twin.status == "completed", twin.text()
    assert twin.lab == str(chip_file.resolve())
    assert get_lab(chip_file).chip.params == chip  # the simulator read the file itself
    assert sorted(p.name for p in chip_dir.iterdir()) == ["mine.yaml"]  # nothing written by it


def test_a_missing_chip_file_is_one_clear_line(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    with pytest.raises(LabctlError, match=r"nope\.yaml: no such chip parameter file"):
        twin_library(missing)
    assert twin_library(None) == "@labsim"
