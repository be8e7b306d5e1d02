"""runs / show / export on a database with one recorded run; errors are one readable line."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import xarray as xr

from labctl.cli import main


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cli") / "cli.db"
    args = ["run", "hall-loop", "--field-max-T", "0.05", "--step-T", "0.005", "--db", str(path)]
    assert main(args) == 0
    return path


def _json(capsys: pytest.CaptureFixture[str], argv: list[str]) -> dict:
    capsys.readouterr()
    assert main(argv) == 0
    return json.loads(capsys.readouterr().out)


def test_runs_and_show(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    runs = _json(capsys, ["runs", "--json", "--db", str(db)])["runs"]
    assert [r["protocol"] for r in runs] == ["hall-loop"] and runs[0]["status"] == "completed"
    shown = _json(capsys, ["show", str(runs[0]["run_id"]), "--json", "--db", str(db)])
    assert shown["params"]["step_T"] == 0.005 and shown["points"] == 41
    assert "coercive_field_T" in shown["result"]
    assert {"t_s", "field_T", "v_hall_V", "branch"} <= set(shown["columns"])
    assert main(["show", str(runs[0]["run_id"]), "--db", str(db)]) == 0
    text = capsys.readouterr().out
    assert "parameters:" in text and "coercive_field_T" in text


def test_export_csv_and_netcdf(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = _json(
        capsys,
        ["export", "1", "--format", "csv", "--out", str(tmp_path), "--json", "--db", str(db)],
    )
    frame = pd.read_csv(out["path"])
    assert len(frame) == 41 and frame["field_T"].iloc[0] == pytest.approx(0.05, abs=1e-3)
    meta = json.loads(Path(out["path"]).with_suffix(".json").read_text())
    assert meta["protocol"] == "hall-loop"
    out = _json(
        capsys,
        ["export", "1", "--format", "netcdf", "--out", str(tmp_path), "--json", "--db", str(db)],
    )
    ds = xr.open_dataset(out["path"], engine="h5netcdf")
    assert ds["field_T"].attrs["units"] == "T" and ds.sizes["index"] == 41


def test_errors_are_one_line(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["show", "99", "--db", str(db)]) == 2
    err = capsys.readouterr().err
    assert err.strip() == f"labctl: error: no run 99 in {db}"
    assert main(["runs", "--db", str(db.parent / "none.db")]) == 0
    assert main(["run", "no-such-protocol", "--db", str(db)]) == 2
    assert "unknown protocol 'no-such-protocol'" in capsys.readouterr().err
    assert main(["run", "hall-loop", "--step-T", "-1", "--db", str(db)]) == 2
    assert "--step-T = '-1': expected a value >= 1e-06 in T" in capsys.readouterr().err


def test_runs_lists_what_qcodes_reads(db: Path) -> None:
    # `labctl runs` reads the runs table with SQLite alone (no qcodes import: 1-2 s); what it
    # lists is what qcodes' load_by_id gives for every run
    from labctl.data import list_runs, load_run

    listed = list_runs(db)
    assert listed and [r.as_dict() for r in listed] == [
        load_run(db, r.run_id)[0].as_dict() for r in listed
    ]


def test_runs_of_a_file_that_is_not_a_runs_database(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import sqlite3

    empty = tmp_path / "empty.db"
    empty.write_bytes(b"")  # an SQLite file nobody wrote to yet: no runs
    assert main(["runs", "--db", str(empty)]) == 0
    assert "no runs in" in capsys.readouterr().out
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE runs (run_id INTEGER, note TEXT)")
    conn.close()
    assert main(["runs", "--db", str(other)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(other) in err
    assert "is not a qcodes runs database: its runs table lacks name" in err
