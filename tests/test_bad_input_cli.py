"""One bad value per kind of CLI option: exit code 2 and a line naming the option (or file, or
run) and what was expected; never a traceback, and nothing contacted or recorded."""

from __future__ import annotations

from pathlib import Path

import pytest

from labctl.cli import main
from labctl.data import list_runs


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    try:
        code = main(args)
    except SystemExit as exc:  # argparse's own errors (usage line + error line)
        code = int(exc.code or 0)
    err = capsys.readouterr().err
    assert "Traceback" not in err, err
    return code, err.strip().splitlines()[-1] if err.strip() else ""


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ["run", "hall-loop", "--step-T", "abc"],
            "hall-loop: parameter --step-T = 'abc': expected a finite number in T",
        ),
        (
            ["run", "hall-loop", "--step-T", "nan"],
            "hall-loop: parameter --step-T = 'nan': expected a finite number in T",
        ),
        (
            ["run", "hall-loop", "--step-T", "5"],
            "hall-loop: parameter --step-T = '5': expected a value <= 1 in T",
        ),
        (
            ["run", "hall-loop-series", "--loops-per-dwell", "2.5"],
            "parameter --loops-per-dwell = '2.5': expected an integer",
        ),
        (
            ["run", "gate-program", "--target", "x"],
            "gate-program: parameter --target = 'x': expected one of hc, level",
        ),
        (["run", "hall-loop", "--bogus", "1"], "error: unrecognized arguments: --bogus 1"),
        (["run", "hall-loop", "--step-T"], "error: argument --step-T: expected one argument"),
        (["run", "nope"], "unknown protocol 'nope'; available: array-map, gate-program"),
        (["frobnicate"], "invalid choice: 'frobnicate'"),
        (["show", "abc"], "argument run: invalid int value: 'abc'"),
        (["export", "1", "--format", "xls"], "argument --format: invalid choice: 'xls'"),
        (["station", "verify"], "argument action: invalid choice: 'verify'"),
    ],
    ids=lambda v: " ".join(v) if isinstance(v, list) else None,
)
def test_bad_option(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], expected: str
) -> None:
    db = tmp_path / "lab.db"
    code, line = run_cli([*args, "--db", str(db)] if args[0] == "run" else args, capsys)
    assert code == 2 and expected in line, line
    assert not db.exists() or not list_runs(db)


def test_unknown_run_id_without_a_database(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "lab.db"
    for command in ("show", "export"):
        code, line = run_cli([command, "999", "--db", str(db)], capsys)
        assert code == 2 and line.startswith(f"labctl: error: no database at {db}"), line


@pytest.mark.parametrize("kind", ["missing", "directory", "not yaml"])
def test_bad_station_file(tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: str) -> None:
    station = {"missing": tmp_path / "none.yaml", "directory": tmp_path}.get(kind)
    if station is None:
        station = tmp_path / "station.yaml"
        station.write_text("instruments: [\n")
    expected = {
        "missing": "cannot read the file: No such file or directory",
        "directory": "cannot read the file: Is a directory",
        "not yaml": "YAML syntax error at line",
    }[kind]
    for args in (
        ["station", "check", str(station)],
        ["run", "hall-loop", "--station", str(station)],
    ):
        code, line = run_cli([*args, "--db", str(tmp_path / "lab.db")], capsys)
        assert code == 2 and line == f"labctl: error: {station}: {line.split(': ', 3)[-1]}"
        assert expected in line, line


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ["gate-program", "--amplitude-V", "5", "--max-amplitude-V", "5"],
            "gate-program: parameter --amplitude-V = 5.0 applies 5, beyond the station limit "
            "instruments.gate.limits.voltage_V [-3, 3] V of",
        ),
        (
            [
                "gate-program",
                "--raise-polarity",
                "-1",
                "--amplitude-V",
                "3.5",
                "--max-amplitude-V",
                "4",
            ],
            "parameter --amplitude-V = 3.5 applies -3.5, beyond the station limit",
        ),
        (
            ["hall-loop", "--field-max-T", "0.5"],
            "hall-loop: parameter --field-max-T = 0.5 applies 0.5, beyond the station limit "
            "instruments.magnet.limits.field_T [-0.3, 0.3] T",
        ),
        (
            ["retention", "--bias-V", "-4"],
            "retention: parameter --bias-V = -4.0 applies -4, beyond the station limit "
            "instruments.gate.limits.voltage_V",
        ),
    ],
)
def test_parameters_beyond_the_station_limits_are_refused_before_the_bench_opens(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], expected: str
) -> None:
    db = tmp_path / "lab.db"
    code, line = run_cli(["run", *args, "--db", str(db)], capsys)
    assert code == 2 and expected in line, line
    assert line.endswith("expected a value within it (no instrument was opened)")
    assert not db.exists() or not list_runs(db)  # no run was created, no point written


def test_calibrate_refuses_runs_it_cannot_use(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "lab.db"
    quick = ["--db", str(db), "--step-T", "0.01"]
    assert (
        main(["run", "retention", "--points", "3", "--first-s", "1", "--last-s", "9", *quick]) == 0
    )
    out = tmp_path / "chip.yaml"
    code, line = run_cli(["calibrate", "1", "--db", str(db), "--out", str(out)], capsys)
    assert code == 2 and line == (
        "labctl: error: calibrate: run 1 (retention) cannot be used: no calibration uses "
        "retention runs; expected one of hall-loop-series, hall-loop, switching-probability, "
        "gate-program"
    )
    assert not out.exists()
    for command in ("show", "export", "calibrate"):  # a run id the database does not hold
        code, line = run_cli([command, "999", "--db", str(db)], capsys)
        assert code == 2 and line.startswith("labctl: error: no run 999 in "), line


def test_an_abbreviated_protocol_option_is_refused(tmp_path, capsys) -> None:
    """``--step`` must not quietly mean ``--step-T`` on a bench."""
    from labctl.cli import main

    with pytest.raises(SystemExit) as exc:
        main(["run", "hall-loop", "--db", str(tmp_path / "a.db"), "--step", "0.01"])
    assert exc.value.code == 2
    assert "--step" in capsys.readouterr().err
    assert not (tmp_path / "a.db").exists()
