"""labctl.notebook: the Python API a notebook uses, on the simulated bench (real engine, real
@labsim transport, real qcodes database); and docs/notebook.ipynb executed in a kernel."""

from __future__ import annotations

import dataclasses
import json
import math
import os
import signal
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import labctl.notebook as lab
from labctl.data import load_run as stored_run
from labctl.engine import execute
from labctl.errors import LabctlError, ParamError, StationError
from labctl.params import build_params
from labctl.protocol import find_protocol
from labctl.results import Result, quantity, result_type_of, typed
from labctl.station import load_station
from sim_backend.open_labs import forget_labs

ROOT = Path(__file__).parents[1]
NOTEBOOK = ROOT / "docs" / "notebook.ipynb"
SMALL_LOOP: dict[str, Any] = {"field_max_T": 0.04, "step_T": 0.004, "dwell_s": 0.1}  # 41 points


@pytest.fixture
def station(tmp_path: Path) -> lab.StationSession:
    return lab.open_station(db=tmp_path / "lab.db", progress=False)


def test_a_run_returns_its_typed_result_and_its_data(
    station: lab.StationSession, tmp_path: Path
) -> None:
    run = station.run("hall-loop", **SMALL_LOOP)
    assert run.status == "completed" and run.completed and run.error == ""
    # the result is the protocol's declared dataclass, holding what the database holds
    result_type = result_type_of(find_protocol("hall-loop").function)
    assert result_type is not None and type(run.result) is result_type
    assert isinstance(run.result, Result)
    info, frame = stored_run(tmp_path / "lab.db", run.run_id)
    assert run.result.as_dict() == info.result == run.result_dict
    assert run.params == info.params and run.params["step_T"] == 0.004
    assert run.points == info.points == len(frame) == 2 * 10 * 2 + 1
    assert 0.01 < run.result.coercive_field_T < 0.05  # the virtual chip's loop opens
    assert run.safe_state and all(Path(p).exists() for p in run.figures)
    # the points: pandas as stored, xarray with a unit on every variable
    df = run.to_pandas()
    assert list(df.columns) == list(frame.columns) and df.equals(frame)
    ds = run.to_xarray()
    assert ds.sizes["index"] == run.points
    units = {name: ds[name].attrs["units"] for name in ds.data_vars}
    assert units["field_T"] == "T" and units["v_hall_V"] == "V" and units["t_s"] == "s"
    np.testing.assert_array_equal(ds["v_hall_V"].to_numpy(), frame["v_hall_V"].to_numpy())
    assert json.loads(ds.attrs["run_id"]) == run.run_id
    # the same run, read back from the database, is the same
    again = lab.load_run(run.run_id, tmp_path / "lab.db")
    assert again.result == run.result and again.figures == run.figures
    table = lab.runs(tmp_path / "lab.db")
    assert table.loc[run.run_id, "protocol"] == "hall-loop"
    assert table.loc[run.run_id, "status"] == "completed"


def test_columns_recorded_at_their_own_rate_are_in_the_frame(
    station: lab.StationSession,
) -> None:
    """gate-program records its trajectory (one row per pulse) among the loop points: the
    DataFrame lines both up, NaN where a column has no value (qcodes' own reader gives each
    such column only its own rows, and the frame used to drop them)."""
    run = station.run("gate-program", tolerance_T=0.002, step_T=0.003, loops_per_verify=1)
    assert run.status == "completed", run.error
    df = run.to_pandas()
    trajectory = df[df["hc_T"].notna()]
    for key, values in run.result.trajectory.items():
        np.testing.assert_allclose(trajectory[key].to_numpy(), values, rtol=1e-12, atol=0)
    loops = df[df["v_hall_V"].notna()]
    assert len(trajectory) + len(loops) == len(df) == run.points
    assert loops["hc_T"].isna().all() and trajectory["v_hall_V"].isna().all()
    assert run.to_xarray()["hc_T"].attrs["units"] == "T"


def test_text_display_is_the_result_table(station: lab.StationSession) -> None:
    run = station.run("hall-loop", **SMALL_LOOP)
    text = str(run)
    assert text.startswith(f"run {run.run_id} (hall-loop): completed, {run.points} points")
    assert "coercive_field_T" in text and "{'" not in text
    assert f"VISA {station.station.visa_library}" in str(station)


def test_same_parameters_same_numbers_as_the_engine(tmp_path: Path) -> None:
    """The notebook adds nothing to a run: the engine called directly, on a fresh lab, with
    the same parameters stores the same result."""
    spec = find_protocol("hall-loop")
    params = build_params(spec.params_type, SMALL_LOOP, spec.name)
    direct = execute(spec, params, load_station(), tmp_path / "direct.db")
    forget_labs()
    run = lab.open_station(db=tmp_path / "nb.db", progress=False).run("hall-loop", **SMALL_LOOP)
    assert run.result_dict == direct.result


def test_bad_parameters_are_refused_before_any_run(
    station: lab.StationSession, tmp_path: Path
) -> None:
    with pytest.raises(ParamError, match=r"--step-T = 5.0: expected a value <= 1 in T"):
        station.run("hall-loop", step_T=5.0)
    with pytest.raises(ParamError, match=r"unknown parameter.*field_max"):
        station.run("hall-loop", field_max=0.04)
    assert not (tmp_path / "lab.db").exists()  # no run was created


def test_stations_by_shipped_name_or_path(tmp_path: Path) -> None:
    assert {"simulated", "virtual_chip_fast", "simulated_707b"} <= set(lab.stations())
    fast = lab.open_station("virtual_chip_fast", db=tmp_path / "x.db")
    assert fast.name == "virtual-chip-fast" and "array" in fast.station.instruments
    assert lab.open_station(fast.station.path).name == "virtual-chip-fast"
    with pytest.raises(StationError) as caught:
        lab.open_station(tmp_path / "no_bench.yaml")
    assert "no_bench.yaml" in str(caught.value) and "\n" not in str(caught.value)


def test_protocols_and_parameters_tables() -> None:
    names = lab.protocols().index.tolist()
    assert "hall-loop" in names and "train" in names
    params = lab.parameters("hall-loop")
    assert params.loc["step_T", "unit"] == "T" and params.loc["step_T", "default"] == 0.001


def test_train_with_rule_settings(tmp_path: Path) -> None:
    chip = lab.open_station("virtual_chip_fast", db=tmp_path / "t.db", progress=False)
    run = chip.train(
        rule="device",
        tasks="permuted-iris:2",
        hidden=[8],
        epochs=1,
        settings={"flip_threshold": 0.03},
    )
    assert run.status == "completed", run.error
    assert type(run.result).__name__ == "TrainRunResult"
    assert run.params["settings"] == "flip_threshold=0.03"
    assert run.result.rule_params["flip_threshold"] == 0.03
    assert run.result.task_names == ["piris-1", "piris-2"]
    assert len(run.result.accuracy_matrix_pct) == 2
    assert len(run.to_pandas()) == run.points > 0
    with pytest.raises(ParamError, match=r"--flip-threshold = .-1.: expected a value >= "):
        chip.train(rule="device", tasks="permuted-iris:2", settings={"flip_threshold": -1})


def test_live_run_and_watch_offscreen(tmp_path: Path) -> None:
    """``live=True`` draws the points in a (offscreen) window while the run goes on and
    stores the same run; ``watch`` follows a stored run and saves the window."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    station = lab.open_station(db=tmp_path / "live.db", progress=False)
    live = station.run("hall-loop", live=True, **SMALL_LOOP)
    assert live.status == "completed" and live.points == 41
    forget_labs()
    plain = station.run("hall-loop", **SMALL_LOOP)
    assert live.result_dict == plain.result_dict
    snapshot = lab.watch(live.run_id, tmp_path / "live.db")
    assert snapshot.exists() and snapshot.stat().st_size > 1000
    assert lab.watch(db=tmp_path / "live.db").name == f"run{plain.run_id}_watch.png"


# ------------------------------------------------------------------------ typed results
@dataclasses.dataclass(frozen=True, kw_only=True)
class Level(Result):
    x50_T: float = quantity("T", "fitted field at P = 1/2")


@dataclasses.dataclass(frozen=True, kw_only=True)
class Levels(Result):
    best: Level = quantity("", "the best level")
    levels: list[Level] = quantity("", "one per level", default=[])
    note: str = quantity("", "a note", default="")


def test_typed_rebuilds_nested_results_and_keeps_unfit_mappings() -> None:
    result = Levels(best=Level(x50_T=0.02), levels=[Level(x50_T=0.01), Level(x50_T=math.nan)])
    back = typed(Levels, result.as_dict())
    assert isinstance(back, Levels) and isinstance(back.best, Level)
    assert [type(v) for v in back.levels] == [Level, Level]
    assert back.best == result.best and back.levels[0] == result.levels[0]
    assert math.isnan(back.levels[1].x50_T)
    # a result the type does not fit (an aborted run's partial one) stays a mapping
    assert typed(Levels, {"note": "aborted"}) == {"note": "aborted"}
    assert typed(Levels, {**result.as_dict(), "extra": 1})["extra"] == 1
    assert typed(None, {"a": 1}) == {"a": 1}


# ------------------------------------------------------------------------ the example notebook
def test_the_example_notebook_runs(tmp_path: Path) -> None:
    """docs/notebook.ipynb, executed cell by cell in a Python kernel of this interpreter, in an
    empty folder: every cell runs, and what it shows is what the text around it says."""
    nbformat = pytest.importorskip("nbformat")
    pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    from nbclient import NotebookClient

    notebook = nbformat.read(NOTEBOOK, as_version=4)
    assert all(not c.get("outputs") for c in notebook.cells if c.cell_type == "code"), (
        "docs/notebook.ipynb is stored without outputs"
    )
    env = {"LABCTL_DB": str(tmp_path / "labctl.db"), "QT_QPA_PLATFORM": "offscreen"}
    previous = {k: os.environ.get(k) for k in env}
    os.environ.update(env)  # the kernel inherits this process's environment
    try:
        client = NotebookClient(
            notebook,
            timeout=600,
            kernel_name="python3",
            resources={"metadata": {"path": str(tmp_path)}},
        )
        client.execute()
    finally:
        for k, v in previous.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    shown = "\n".join(_text(c) for c in notebook.cells if c.cell_type == "code")
    assert "Traceback" not in shown
    assert "(hall-loop): completed" in shown and "coercive_field_T" in shown
    assert "(train): completed" in shown
    assert "field_set_T" in shown  # the DataFrame's columns
    assert "units:    T" in shown or "units: T" in shown.replace("  ", " ")
    runs = lab.runs(tmp_path / "labctl.db")
    assert set(runs["status"]) == {"completed"} and len(runs) >= 3


# 32,001 points: minutes of the bench's time, far longer than the waits below
LONG_LOOP: dict[str, Any] = {"step_T": 1e-5, "dwell_s": 0}


def test_ctrl_c_returns_the_aborted_run_in_its_safe_state(
    station: lab.StationSession, tmp_path: Path
) -> None:
    """Ctrl-C (SIGINT) once points arrive: the run is aborted at its next checkpoint, the
    bench brought to its safe state, and the call returns the aborted run (no exception)."""
    db = tmp_path / "lab.db"

    def interrupt_once_points_are_stored() -> None:
        deadline = time.monotonic() + 120
        while not _points_stored(db) and time.monotonic() < deadline:
            time.sleep(0.05)
        os.kill(os.getpid(), signal.SIGINT)

    threading.Thread(target=interrupt_once_points_are_stored, daemon=True).start()
    run = station.run("hall-loop", **LONG_LOOP)
    assert run.status == "aborted" and run.error == "run aborted (SIGINT)"
    assert 0 < run.points < 32_001 and len(run.safe_state) == 3  # gate, Hall readout, magnet
    stored = lab.load_run(run.run_id, db)
    assert stored.status == "aborted" and stored.safe_state == run.safe_state


@pytest.mark.slow  # a kernel of its own: its imports and first run cost ~20 s
def test_interrupt_kernel_aborts_the_run_into_the_safe_state(tmp_path: Path) -> None:
    """What "Interrupt kernel" does in Jupyter (SIGINT to a real ipykernel) during a run: the
    run is aborted at its next checkpoint, the bench is brought to its safe state, the cell
    returns the aborted run and the kernel goes on."""
    pytest.importorskip("ipykernel")
    from jupyter_client.manager import KernelManager

    db = tmp_path / "lab.db"
    env = {**os.environ, "LABCTL_DB": str(db), "QT_QPA_PLATFORM": "offscreen"}
    # IPC sockets in tmp_path: no network port at all
    km = KernelManager(kernel_name="python3", transport="ipc", ip=str(tmp_path / "kernel"))
    km.start_kernel(env=env, cwd=str(tmp_path))
    kc = km.client()
    kc.start_channels()
    try:
        kc.wait_for_ready(timeout=120)
        code = (
            "import labctl.notebook as lab\n"
            f"run = lab.open_station(progress=False).run('hall-loop', **{LONG_LOOP!r})"
        )
        msg_id = kc.execute(code)
        deadline = time.monotonic() + 120
        while not _points_stored(db):
            assert time.monotonic() < deadline, "the run stored no point in 120 s"
            time.sleep(0.1)
        km.interrupt_kernel()
        reply = _reply(kc, msg_id)
        assert reply["content"]["status"] == "ok", reply["content"]  # returned, not raised
        shown: list[str] = []
        kc.execute_interactive(
            "print(run.status, run.points, len(run.safe_state), run.error)",
            timeout=60,
            output_hook=lambda m: shown.append(m["content"].get("text", "")),
        )
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    status, points, safe, *error = "".join(shown).split()
    assert status == "aborted" and " ".join(error) == "run aborted (SIGINT)"
    assert 0 < int(points) < 32_001 and int(safe) == 3  # gate, Hall readout, magnet
    stored = lab.load_run(lab.runs(db).index[-1], db)
    assert stored.status == "aborted" and any("magnet" in s for s in stored.safe_state)


def _points_stored(db: Path) -> bool:
    try:
        found = lab.runs(db)
    except (LabctlError, sqlite3.Error):  # the database is being created
        return False
    return bool(len(found)) and int(found["points"].iloc[-1]) > 0


def _reply(kc: Any, msg_id: str) -> dict[str, Any]:
    while True:
        msg = kc.get_shell_msg(timeout=120)
        if msg["parent_header"].get("msg_id") == msg_id:
            return msg


def _text(cell: Any) -> str:
    parts = []
    for out in cell.get("outputs", []):
        if out.get("output_type") == "stream":
            parts.append(out.get("text", ""))
        elif "data" in out:
            parts.append(out["data"].get("text/plain", ""))
        elif out.get("output_type") == "error":
            parts.append("Traceback: " + out.get("ename", "") + ": " + out.get("evalue", ""))
    return "\n".join(parts)
