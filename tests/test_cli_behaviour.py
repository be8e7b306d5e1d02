"""Command-line behaviour: common options anywhere, Ctrl-C at any moment, how a run ended,
and real (@py) transports that fail fast on an unreachable address."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import yaml

from labctl import cli, database
from labctl.cli import build_parser, main
from labctl.data import list_runs

LABCTL = Path(sys.executable).parent / "labctl"
STATIONS = Path(cli.__file__).parent / "stations"
SMALL_LOOP = ["--field-max-T", "0.01", "--step-T", "0.002", "--dwell-s", "0", "--saturate-s", "0"]

# The smallest argument list of each sub-command (a new sub-command must be added here).
MINIMAL = {
    "run": ["run", "hall-loop"],
    "demo": ["demo"],
    "runs": ["runs"],
    "show": ["show", "1"],
    "export": ["export", "1"],
    "station": ["station", "check"],
    "protocols": ["protocols"],
    "drivers": ["drivers"],
    "sim": ["sim", "list"],
    "watch": ["watch"],
    "replay": ["replay", "1"],
    "calibrate": ["calibrate", "1"],
    "traffic": ["traffic", "1"],
    "train": ["train"],
    "study": ["study"],
    "server": ["server", "status"],
}


def test_common_options_work_before_and_after_every_subcommand() -> None:
    parser = build_parser()
    subcommands = next(a for a in parser._actions if a.dest == "command").choices
    assert set(subcommands) == set(MINIMAL)
    for name, argv in MINIMAL.items():
        before = vars(parser.parse_args(["--db", "a.db", "--json", "--debug", *argv]))
        after = vars(parser.parse_args([*argv, "--db", "a.db", "--json", "--debug"]))
        neither = vars(parser.parse_args(argv))
        # `run` reads what follows the protocol name itself: test_db_before_the_subcommand...
        for args in (before, after) if name != "run" else (before,):
            assert (args["db"], args["json"], args["debug"]) == ("a.db", True, True), name
        assert (neither["db"], neither["json"], neither["debug"]) == (None, False, False), name


def test_db_before_the_subcommand_is_where_the_run_goes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Was: `labctl --db X.db run hall-loop` wrote to ./labdata/labctl.db."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("LABCTL_DB", raising=False)
    assert main(["--db", "x.db", "--json", "run", "hall-loop", *SMALL_LOOP]) == 0
    assert json.loads(capsys.readouterr().out)["db"] == "x.db"
    assert main(["--debug", "run", "hall-loop", *SMALL_LOOP, "--db", "y.db", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["db"] == "y.db"
    assert [r.points for r in list_runs(tmp_path / "x.db")] == [21]
    assert [r.points for r in list_runs(tmp_path / "y.db")] == [21]
    assert not (tmp_path / "labdata").exists()


# ------------------------------------------------------------------ Ctrl-C
INTERRUPT_AT_IMPORT = textwrap.dedent(
    """
    import sys
    class CtrlC:
        def find_spec(self, name, path=None, target=None):
            if name == sys.argv[1]:
                raise KeyboardInterrupt
    sys.meta_path.insert(0, CtrlC())
    from labctl.cli_main import main
    sys.exit(main(sys.argv[2:]))
    """
)


@pytest.mark.parametrize("module", ["labctl.cli", "numpy", "qcodes", "pandas", "labctl.engine"])
def test_ctrl_c_while_importing_is_one_line(module: str, tmp_path: Path) -> None:
    # numpy, qcodes, pandas and the engine load when a command needs them (a run), not at start-up
    db = str(tmp_path / "x.db")
    out = subprocess.run(
        [sys.executable, "-c", INTERRUPT_AT_IMPORT, module, "--db", db, "run", "hall-loop"],
        capture_output=True,
        text=True,
    )
    assert (out.returncode, out.stderr) == (130, "labctl: interrupted\n")


def _interrupt(*_args: object, **_kwargs: object) -> None:
    raise KeyboardInterrupt


@pytest.mark.parametrize(
    "where",
    ["labctl.cli_run.load_station", "labctl.engine.RunWriter", "labctl.engine.open_bench"],
)
def test_ctrl_c_before_the_bench_is_open_is_one_line(
    where: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(where, _interrupt)
    code = main(["--db", str(tmp_path / "x.db"), "run", "hall-loop", *SMALL_LOOP])
    err = capsys.readouterr().err
    assert code == 130 and "Traceback" not in err
    assert err.strip().splitlines()[-1].startswith("labctl:")
    assert "interrupted" in err.strip().splitlines()[-1]


def test_a_real_ctrl_c_at_any_moment_never_prints_a_traceback(tmp_path: Path) -> None:
    db = tmp_path / "c.db"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    argv = [LABCTL, "--db", str(db), "run", "hall-loop"]  # a few seconds of run
    for delay_s in (0.3, 0.8, 1.5, 2.5):
        proc = subprocess.Popen(argv, stderr=subprocess.PIPE, text=True, env=env)
        time.sleep(delay_s)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=120)
        assert "Traceback" not in err, (delay_s, err)
        assert proc.returncode in (0, 130), (delay_s, err)
        if proc.returncode == 130:
            last = err.strip().splitlines()[-1]
            assert last.startswith("labctl:") and ("interrupted" in last or "aborted" in last)


# ------------------------------------------------------------------ how a run ended
def test_show_says_how_and_why_a_run_ended(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from labctl.engine import execute
    from labctl.params import build_params
    from labctl.protocol import find_protocol
    from labctl.station import load_station

    spec = find_protocol("hall-loop")
    db = tmp_path / "s.db"

    def abort_at_30(run) -> None:  # type: ignore[no-untyped-def]
        run.subscribers.append(
            lambda row: run.control.request_abort("operator stop") if run.n_points == 30 else None
        )

    outcome = execute(
        spec,
        build_params(spec.params_type, {}, spec.name),
        load_station(None),
        db,
        on_run=abort_at_30,
        handle_signals=False,
    )
    assert outcome.status == "aborted"
    capsys.readouterr()
    assert main(["show", str(outcome.run_id), "--db", str(db)]) == 0
    text = capsys.readouterr().out
    assert "ended: aborted: " in text and "operator stop" in text
    assert "last checkpoint: 30 points" in text and "field sweep" in text
    assert "safe state: magnet" in text and "output off" in text
    shown = json.loads(_out(capsys, ["show", str(outcome.run_id), "--json", "--db", str(db)]))
    assert shown["metadata"]["last_checkpoint"]["points"] == 30
    assert "operator stop" in shown["metadata"]["reason"]


def _out(capsys: pytest.CaptureFixture[str], argv: list[str]) -> str:
    capsys.readouterr()
    assert main(argv) == 0
    return capsys.readouterr().out


# ------------------------------------------------------------------ real transports
def _closed_ports(n: int) -> list[int]:
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()  # bound, never listened: connecting is refused
    return ports


def _real_station(tmp_path: Path, addresses: dict[str, str]) -> Path:
    """The built-in bench, with ``@py`` and the given addresses (old address -> new)."""
    text = (STATIONS / "simulated.yaml").read_text().replace('"@labsim"', '"@py"')
    for old, new in addresses.items():
        text = text.replace(old, new)
    path = tmp_path / "real.yaml"
    path.write_text(text)
    assert yaml.safe_load(text)["visa_library"] == "@py"
    return path


def test_pyvisa_py_is_installed() -> None:
    import pyvisa

    rm = pyvisa.ResourceManager("@py")  # was: "Wrapper not found"
    rm.close()


def test_an_unreachable_address_fails_fast_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old = ["GPIB0::6::INSTR", "GPIB0::12::INSTR", "GPIB0::8::INSTR", "GPIB0::24::INSTR"]
    new = [f"TCPIP::127.0.0.1::{p}::SOCKET" for p in _closed_ports(4)]
    station = _real_station(tmp_path, dict(zip(old, new, strict=True)))
    db = tmp_path / "r.db"
    started = time.monotonic()
    code = main(["--db", str(db), "run", "hall-loop", "--station", str(station), "--json"])
    assert time.monotonic() - started < 60  # not a hang: the connect timeout is 2 s
    out = json.loads(capsys.readouterr().out)
    assert code == 1 and out["status"] == "failed" and out["points"] == 0
    assert f"cannot reach {new[0]}" in out["error"] and "Connection refused" in out["error"]
    assert "nothing was sent" in out["error"]
    assert main(["traffic", str(out["run_id"]), "--json", "--db", str(db)]) == 0
    assert json.loads(capsys.readouterr().out)["transactions"] == []


def test_a_companion_at_an_unreachable_address_is_the_one_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (port,) = _closed_ports(1)
    station = _real_station(tmp_path, {"GPIB0::12::INSTR": f"TCPIP::127.0.0.1::{port}::SOCKET"})
    code = main(["--db", str(tmp_path / "r.db"), "run", "hall-loop", "--station", str(station)])
    err = capsys.readouterr().err
    assert code == 1
    assert f"instruments.magnet.settings.gaussmeter: cannot reach TCPIP::127.0.0.1::{port}" in err


def test_a_gpib_address_without_gpib_support_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    station = _real_station(tmp_path, {})
    code = main(["--db", str(tmp_path / "r.db"), "run", "hall-loop", "--station", str(station)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1 and "GPIB0::6::INSTR" in err[-1] and "Traceback" not in "".join(err)
    assert err[-1].startswith("labctl: run 1 failed:")


def test_busy_retries_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    import sqlite3

    monkeypatch.setattr(database, "BACKOFF_S", 0.001)
    calls = []

    def busy() -> None:
        calls.append(1)
        raise sqlite3.OperationalError("database is locked")

    with pytest.raises(sqlite3.OperationalError):
        database.retrying(busy, "test")
    assert len(calls) == database.RETRIES + 1
