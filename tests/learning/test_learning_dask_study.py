"""``labctl study`` on Dask distributed: cells as runs, resume, seeds, loopback, ``--scheduler``.

Real Dask: one local cluster of two worker processes for the module (the commands reach it
through ``$LABCTL_SCHEDULER``: a worker process imports the training stack once, ~10 s on a
busy 2-core machine), a one-worker cluster inside the test process, and a ``dask scheduler`` +
``dask worker`` started as separate processes on loopback. Tiny networks (8 hidden units, one
epoch on two tasks) keep each cell near a second.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import nullcontext
from functools import partial
from pathlib import Path
from typing import Any

import psutil
import pytest

from labctl.cluster import LOOPBACK, map_jobs, open_client, scheduler_address
from labctl.data import list_runs, load_run
from labctl.errors import LabctlError
from labctl.station import builtin_station
from protocols.learning import cli as learning_cli
from protocols.learning.study_runs import CELL_KEY, make_cell, run_cell, run_cells

SMALL = ["--tasks", "permuted-digits:2", "--hidden", "8", "--epochs", "1"]
BIN = Path(sys.executable).parent


def _cli(argv: list[str]) -> tuple[argparse.Namespace, dict]:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--json", action="store_true")
    common.add_argument("--debug", action="store_true")
    common.add_argument("--db", default=None)
    parser = argparse.ArgumentParser()
    handlers = learning_cli.register(parser.add_subparsers(dest="command"), common)
    return parser.parse_args(argv), handlers


@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    """A local cluster of two worker processes, as ``labctl study`` opens by default."""
    with open_client(n_workers=2) as client:
        yield client


@pytest.fixture
def scheduler_env(cluster: Any, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("LABCTL_SCHEDULER", cluster.scheduler.address)
    return cluster.scheduler.address


def _here(cells: list) -> dict[str, object]:
    """The cells' numbers run in this process, one after the other (no Dask)."""
    return {c.key_text(): _cell_numbers(run_cell(c).result) for c in cells}


def _cell_numbers(result: dict) -> tuple:
    """A cell's numbers (not its wall time)."""
    return (result["accuracy_matrix_pct"], result["device_cost"]["write_pulses"])


def _cells() -> list:
    station = str(builtin_station("virtual_chip_fast.yaml"))
    return [
        make_cell(
            {
                "rule": rule,
                "tasks": "permuted-digits:2",
                "hidden": [8.0],
                "epochs": 1,
                "seed": seed,
                "settings": "",
                "on_chip": True,
            },
            station,
        )
        for rule in ("none", "device")
        for seed in (0, 1)
    ]


def _numbers(runs: list) -> dict[str, object]:
    return {r.cell.key_text(): _cell_numbers(r.result) for r in runs}


def _listening(pids: list[int]) -> list[str]:
    """The addresses the processes ``pids`` listen on (TCP)."""
    out = []
    for pid in pids:
        for conn in psutil.Process(pid).net_connections(kind="inet"):
            if conn.status == psutil.CONN_LISTEN:
                out.append(f"{conn.laddr.ip}:{conn.laddr.port}")
    return out


def test_same_seeds_same_numbers_here_and_on_two_workers_and_a_rerun_resumes(
    cluster: Any, tmp_path: Path
) -> None:
    cells = _cells()
    # two workers, the cells submitted in the reverse order: they finish in another order too
    two_db = tmp_path / "two.db"
    two = run_cells(cells[::-1], two_db, partial(nullcontext, cluster), progress=False)
    assert all(r.status == "completed" for r in two)
    assert _numbers(two) == _here(cells)
    # each cell is one run in the database: parameters, chip seed, result, points, figure
    stored = list_runs(two_db)
    assert len(stored) == len(cells)
    for info in stored:
        cell = info.metadata[CELL_KEY]
        assert cell["chip_seed"] == cell["params"]["seed"] == info.params["seed"]
        assert cell["preset"] == "ptco_gdox_hall" and info.result["average_accuracy_pct"] > 0
        _, points = load_run(two_db, info.run_id)
        assert len(points) == info.points == 2 * 1 * 2  # (task, epoch, evaluated task)
        (figure,) = info.metadata["figures"]
        assert Path(figure).name == f"run{info.run_id}_train_main.png" and Path(figure).exists()

    # a re-run finds every cell done: no worker starts, no run is added
    def no_cluster() -> None:
        raise AssertionError("a resumed study opened a cluster")

    again = run_cells(cells, two_db, no_cluster, progress=False)  # type: ignore[arg-type]
    assert all(r.resumed for r in again) and len(list_runs(two_db)) == len(cells)
    assert _numbers(again) == _numbers(two)


def test_a_study_resumes_after_some_cells(
    scheduler_env: str, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    db, stem = str(tmp_path / "s.db"), tmp_path / "study"
    base = ["study", "--rules", "none", "--db", db, "--out", str(stem), *SMALL]
    args, handlers = _cli([*base, "--seeds", "0", "--json"])
    assert handlers["study"](args) == 0
    capsys.readouterr()
    args, _ = _cli([*base, "--seeds", "0", "1", "--json"])
    assert handlers["study"](args) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["resumed"] == 1 and [r["resumed"] for r in out["runs"]] == [True, False]
    assert len(list_runs(Path(db))) == 2
    assert Path(out["figure"]).stat().st_size > 1000 and Path(out["md"]).exists()


def test_presets_are_a_grid_axis_of_the_table(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    db, stem = str(tmp_path / "p.db"), tmp_path / "presets"
    argv = [
        "study",
        "--rules",
        "none",
        "--seeds",
        "0",
        "--presets",
        "ptco_gdox_hall",
        "tacofeb_hfo2_hall",
        "--db",
        db,
        "--out",
        str(stem),
        *SMALL,
    ]
    args, handlers = _cli(argv)
    assert handlers["study"](args) == 0
    table = stem.with_suffix(".md").read_text()
    assert table.startswith("| rule | settings | preset | seeds | ACC % |")
    assert "tacofeb_hfo2_hall" in table and stem.with_suffix(".png").exists()
    snapshots = {json.dumps(i.metadata[CELL_KEY]["preset"]) for i in list_runs(Path(db))}
    assert snapshots == {'"ptco_gdox_hall"', '"tacofeb_hfo2_hall"'}


def test_bad_presets_and_scheduler_addresses_are_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    args, handlers = _cli(["study", "--rules", "none", "--presets", "nickel", *SMALL])
    with pytest.raises(Exception, match="--presets nickel: unknown chip preset; expected one of"):
        handlers["study"](args)
    with pytest.raises(LabctlError, match="expected an address like tcp://"):
        scheduler_address("127.0.0.1:8786")
    monkeypatch.setenv("LABCTL_SCHEDULER", "localhost")
    with pytest.raises(LabctlError, match=r"from \$LABCTL_SCHEDULER"):
        scheduler_address()
    monkeypatch.setattr("labctl.cluster.CONNECT_TIMEOUT_S", 1.0)
    with pytest.raises(
        LabctlError, match=re.escape("cannot reach the Dask scheduler at tcp://127.0.0.1:9")
    ):
        with open_client("tcp://127.0.0.1:9"):
            pass


def test_local_cluster_listens_on_loopback_only(cluster: Any) -> None:
    assert cluster.scheduler.address.startswith(f"tcp://{LOOPBACK}:")
    # the scheduler (in this process), the workers and their nannies: every listening socket
    pids = [os.getpid(), *(p.pid for p in psutil.Process().children(recursive=True))]
    listening = _listening(pids)
    assert len(listening) >= 3 and all(a.startswith(f"{LOOPBACK}:") for a in listening), listening
    seen: list[int] = []
    map_jobs(cluster, abs, [-1, -2, -3], lambda i, r: seen.append(r), progress=False)
    assert sorted(seen) == [1, 2, 3]


@pytest.fixture
def dask_cluster(tmp_path: Path) -> Iterator[str]:
    """``dask scheduler`` and one ``dask worker`` as separate processes, both on loopback."""
    file = tmp_path / "scheduler.json"
    env = {**os.environ, "DASK_DISTRIBUTED__LOGGING__DISTRIBUTED": "error"}
    scheduler = subprocess.Popen(
        [
            BIN / "dask",
            "scheduler",
            "--host",
            LOOPBACK,
            "--port",
            "0",
            "--no-dashboard",  # its HTTP routes stay: on loopback too, not 0.0.0.0:8787
            "--dashboard-address",
            f"{LOOPBACK}:0",
            "--scheduler-file",
            str(file),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    processes = [scheduler]
    try:
        deadline = time.monotonic() + 60
        while not file.exists() or not file.read_text().strip():
            assert time.monotonic() < deadline and scheduler.poll() is None, "no scheduler"
            time.sleep(0.2)
        address = json.loads(file.read_text())["address"]
        processes.append(
            subprocess.Popen(
                [
                    BIN / "dask",
                    "worker",
                    address,
                    "--host",
                    LOOPBACK,
                    "--nworkers",
                    "1",
                    "--nthreads",
                    "1",
                    "--dashboard-address",
                    f"{LOOPBACK}:0",
                    "--no-nanny",
                ],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
        yield address
    finally:
        for p in processes[::-1]:
            p.terminate()
        for p in processes[::-1]:
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


def test_study_on_a_scheduler_started_as_separate_processes(
    dask_cluster: str, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    from distributed import Client

    with Client(dask_cluster, timeout=30) as client:
        client.wait_for_workers(1, timeout=60)
        # a synchronous client returns the values (its stubs say coroutines too)
        workers: dict[str, int] = client.run(os.getpid)  # pyright: ignore[reportAssignmentType]
        scheduler: int = client.run_on_scheduler(os.getpid)  # pyright: ignore[reportAssignmentType]
        pids = [scheduler, *workers.values()]
    assert all(a.startswith(f"{LOOPBACK}:") for a in _listening(pids)), _listening(pids)
    db, stem = tmp_path / "remote.db", tmp_path / "remote"
    argv = [
        "study",
        "--rules",
        "none",
        "device",
        "--seeds",
        "0",
        "--db",
        str(db),
        "--out",
        str(stem),
        "--scheduler",
        dask_cluster,
        "--json",
        *SMALL,
    ]
    args, handlers = _cli(argv)
    assert handlers["study"](args) == 0
    out = json.loads(capsys.readouterr().out)
    assert [r["rule"] for r in out["runs"]] == ["none", "device"]
    assert len(list_runs(db)) == 2 and stem.with_suffix(".md").exists()
    # the same cells in this process give the same numbers
    cells = _cells()
    here = _here([cells[0], cells[2]])  # none and device, seed 0
    stored = {json.dumps(i.metadata[CELL_KEY], sort_keys=True): i.result for i in list_runs(db)}
    assert {k: _cell_numbers(r) for k, r in stored.items()} == here


def test_cells_on_a_bench_run_one_at_a_time(scheduler_env: str, tmp_path: Path) -> None:
    """Two workers, but the instrument path's station has instruments: never two runs at once."""
    db = tmp_path / "bench.db"
    argv = ["study", "--rules", "none", "device", "--seeds", "0", "--path", "instrument",
            "--tasks", "permuted-iris:2", "--hidden", "2", "--epochs", "1", "--batch", "40",
            "--db", str(db), "--out", str(tmp_path / "bench"), "--json"]  # fmt: skip
    args, handlers = _cli(argv)
    assert handlers["study"](args) == 0
    with sqlite3.connect(db) as conn:
        spans = conn.execute(
            "SELECT run_timestamp, completed_timestamp FROM runs ORDER BY run_timestamp"
        ).fetchall()
    assert len(spans) == 2 and spans[0][1] <= spans[1][0], spans


def _worker_environment() -> tuple[str | None, bool]:
    import os

    from protocols.learning import heap

    return os.environ.get("MALLOC_TRIM_THRESHOLD_"), heap.keep_heap()


def test_a_local_cluster_leaves_this_process_environment_as_it_was() -> None:
    """distributed's nanny writes its workers' variables (OPENBLAS_NUM_THREADS=1,
    MALLOC_TRIM_THRESHOLD_, PYTHONHASHSEED) into the parent's environment and leaves them: a
    notebook's later children would inherit them. And the workers keep their freed heap for
    training's temporaries, as `labctl train` does."""
    before = dict(os.environ)
    with open_client(n_workers=1) as client:
        assert dict(os.environ) == before
        assert client.submit(_worker_environment).result() == (None, True)
    assert dict(os.environ) == before
