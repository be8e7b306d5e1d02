"""One database, several writers: nothing lost. Unusable database paths: one line each."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from labctl import database
from labctl.cli import main
from labctl.data import list_runs, load_run
from labctl.recorder import ColumnSpec, RunWriter

TESTS = Path(__file__).parent
FAKE_STATION = TESTS / "stations" / "fake.yaml"
LABCTL = Path(sys.executable).parent / "labctl"
SMALL_LOOP = ["--field-max-T", "0.01", "--step-T", "0.002", "--dwell-s", "0", "--saturate-s", "0"]
SMALL_LOOP_POINTS = 21

# Each writer waits for a start file, then records N points with a flush every 10 ms and a
# metadata write every 50 points: as much contention as three processes can make.
WRITER = textwrap.dedent(
    """
    import sys, time
    from dataclasses import dataclass
    from pathlib import Path
    from labctl.api import Run, param, protocol
    from labctl.engine import execute
    from labctl.params import build_params
    from labctl.protocol import spec_of
    from labctl.station import load_station

    db, start, station, tag = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3], sys.argv[4]

    @dataclass(frozen=True)
    class P:
        n: int = param(1500)

    @protocol("burst", columns={"i": "", "writer": ""})
    def burst(run: Run, p: P) -> dict:
        for i in range(p.n):
            run.record(i=i, writer=float(tag))
            if i % 50 == 0:
                run._writer.add_metadata(f"labctl_mark_{tag}", i)
                time.sleep(0.002)
        return {"n": p.n}

    while not start.exists():
        time.sleep(0.01)
    outcome = execute(spec_of(burst), build_params(P, {}, "burst"), load_station(station), db,
                      flush_interval_s=0.01, handle_signals=False)
    print(outcome.status, outcome.run_id, outcome.points)
    """
)


def test_three_processes_write_one_database_at_once(tmp_path: Path) -> None:
    db, start = tmp_path / "shared.db", tmp_path / "go"
    env = {**os.environ, "PYTHONPATH": str(TESTS)}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(db), str(start), str(FAKE_STATION), str(tag)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for tag in (1, 2, 3)
    ]
    start.touch()  # all three create their run, and then write, at the same moment
    results = [p.communicate(timeout=180) for p in procs]
    for proc, (out, err) in zip(procs, results, strict=True):
        assert proc.returncode == 0, err
        assert "Traceback" not in err and "locked" not in err, err
        assert out.split()[0] == "completed"
    runs = list_runs(db)
    assert len(runs) == 3 and {r.status for r in runs} == {"completed"}
    writers = set()
    for run in runs:
        _, frame = load_run(db, run.run_id)
        assert list(frame["i"]) == list(range(1500))  # every point, in order, once
        assert frame["writer"].nunique() == 1
        writers.add(frame["writer"].iloc[0])
        assert run.result == {"n": 1500} and run.points == 1500
        assert run.metadata[f"mark_{int(frame['writer'].iloc[0])}"] == 1450
    assert writers == {1.0, 2.0, 3.0}


def test_three_labctl_runs_and_a_reader_at_once(tmp_path: Path) -> None:
    """The issue's case: three `labctl run` processes on one database (one of six was lost),
    while another process keeps listing the runs."""
    db = tmp_path / "runs.db"
    stop = threading.Event()
    reads: list[int] = []

    def reader() -> None:
        while not stop.is_set():
            out = subprocess.run(
                [LABCTL, "runs", "--json", "--db", str(db)], capture_output=True, text=True
            )
            assert out.returncode == 0 or "no database" in out.stderr, out.stderr
            reads.append(out.returncode)

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        procs = [
            subprocess.Popen(
                [LABCTL, "--db", str(db), "run", "hall-loop", *SMALL_LOOP],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(3)
        ]
        results = [p.communicate(timeout=180) for p in procs]
    finally:
        stop.set()
        thread.join()
    for proc, (_, err) in zip(procs, results, strict=True):
        assert proc.returncode == 0, err
        assert "Traceback" not in err, err
    runs = list_runs(db)
    assert [r.status for r in runs] == ["completed"] * 3
    assert [r.points for r in runs] == [SMALL_LOOP_POINTS] * 3
    for run in runs:
        assert len(load_run(db, run.run_id)[1]) == SMALL_LOOP_POINTS
    assert reads


def test_a_locked_database_delays_the_points_but_loses_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another process holds the write lock longer than the busy timeout and the retries: the
    writer keeps every point in memory and stores them all once the lock is gone."""
    monkeypatch.setattr(database, "BUSY_TIMEOUT_S", 0.05)
    monkeypatch.setattr(database, "RETRIES", 1)
    db = tmp_path / "locked.db"
    writer = RunWriter(db, "exp", "sample", "locked", flush_interval_s=0.02)
    writer.begin(ColumnSpec({"t_s": "s", "i": ""}))
    for i in range(100):
        writer.record(float(i), {"i": i})
    writer.flush()
    other = sqlite3.connect(str(db), isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # the write lock, held by someone else
    for i in range(100, 300):
        writer.record(float(i), {"i": i})
    writer.add_metadata("labctl_status", "while locked")
    deadline = time.monotonic() + 30
    while writer._error is None and time.monotonic() < deadline:  # a failed flush happened
        time.sleep(0.02)
    assert writer._error is not None and writer.rows_written == 100
    frame = writer.read_points()  # the committed points and the pending ones
    assert list(frame["i"]) == list(range(300)) and writer.rows_written == 100
    other.execute("COMMIT")
    other.close()
    writer.close()
    info, frame = load_run(db, writer.run_id)
    assert list(frame["i"]) == list(range(300))
    assert info.status == "while locked"


# ------------------------------------------------------------------ unusable database paths
@pytest.fixture(scope="module")
def good_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("good") / "good.db"
    assert main(["--db", str(db), "run", "hall-loop", *SMALL_LOOP]) == 0
    return db


def _bad_paths(tmp_path: Path, good_db: Path) -> dict[str, tuple[Path, str]]:
    (tmp_path / "folder.db").mkdir()
    (tmp_path / "text.db").write_text("not a database, a note\n")
    (tmp_path / "parent").write_text("a file")
    read_only = tmp_path / "ro.db"
    shutil.copy(good_db, read_only)
    read_only.chmod(0o444)
    return {
        "folder": (tmp_path / "folder.db", "is a folder, not an SQLite file"),
        "not sqlite": (tmp_path / "text.db", "is not an SQLite database"),
        "parent is a file": (tmp_path / "parent" / "x.db", "parent is a file, not a folder"),
        "read-only": (read_only, "is read-only: cannot write a run to it"),
    }


READING = [["runs"], ["show", "1"], ["export", "1", "--out", "{tmp}/x"], ["traffic", "1"]]
WRITING = [
    ["demo"],
    ["run", "hall-loop", *SMALL_LOOP],
    ["replay", "1"],
    ["train", "--path", "software", "--tasks", "permuted-iris:1", "--hidden", "2"],
]
OTHER = [["watch", "1"], ["calibrate", "1"]]


@pytest.mark.parametrize("kind", ["folder", "not sqlite", "parent is a file", "read-only"])
def test_an_unusable_database_is_one_line_for_every_command(
    kind: str, tmp_path: Path, good_db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db, message = _bad_paths(tmp_path, good_db)[kind]
    commands = WRITING if kind == "read-only" else READING + WRITING + OTHER
    for argv in commands:
        argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
        capsys.readouterr()
        code = main([*argv, "--db", str(db)])
        err = capsys.readouterr().err
        assert code != 0, argv
        assert err.count("\n") == 1 and "Traceback" not in err, (argv, err)
        assert str(db) in err and message in err, (argv, err)


def test_a_read_only_database_can_still_be_read(
    tmp_path: Path, good_db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db, _ = _bad_paths(tmp_path, good_db)["read-only"]
    for argv in READING:
        argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
        assert main([*argv, "--db", str(db)]) == 0, capsys.readouterr().err


def test_an_unusable_database_through_the_real_command(tmp_path: Path) -> None:
    (tmp_path / "folder.db").mkdir()
    out = subprocess.run(
        [LABCTL, "--db", str(tmp_path / "folder.db"), "run", "hall-loop", *SMALL_LOOP],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 2
    assert out.stderr == (
        f"labctl: error: database {tmp_path / 'folder.db'} is a folder, not an SQLite file\n"
    )


def test_points_leave_memory_once_committed(tmp_path: Path) -> None:
    """A run holds at most ``hold_at`` pending values whatever its length: the writer flushes
    early once ``flush_points`` are pending (here long before its interval), and record waits
    for it beyond twice that; every point is in the database at the end, in order."""
    db = tmp_path / "stream.db"
    writer = RunWriter(db, "exp", "sample", "stream", flush_interval_s=60.0, flush_points=50)
    writer.begin(ColumnSpec({"t_s": "s", "i": "", "v_V": "V"}))
    most = 0
    for i in range(5000):
        writer.record(i * 0.5, {"i": i, "v_V": i * 1e-3})
        most = max(most, len(writer.buffer))
    assert writer.rows_written > 0  # flushed without waiting for the 60 s interval
    assert most <= writer.hold_at + writer.width
    writer.close()
    frame = writer.read_points()  # after close too; the stored doubles exactly
    assert list(frame["v_V"]) == [i * 1e-3 for i in range(5000)]
    _, frame = load_run(db, writer.run_id)
    assert list(frame["i"]) == list(range(5000))
    # (qcodes reads NUMERIC values back through their text form: 15 significant digits)
    assert list(frame["v_V"]) == pytest.approx([i * 1e-3 for i in range(5000)], rel=1e-14)
