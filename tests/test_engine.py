"""The engine with in-process fake roles: data, metadata, safe state on every way out."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

from labctl.api import Run, param, protocol
from labctl.data import list_runs, load_run
from labctl.engine import execute
from labctl.params import build_params
from labctl.protocol import spec_of
from labctl.station import load_station

STATION = Path(__file__).parent / "stations" / "fake.yaml"


@dataclass(frozen=True)
class StepParams:
    points: int = param(20, low=1, high=10_000)
    gate_V: float = param(1.0, unit="V", low=-5, high=5)
    fail_after: int = param(-1, help="raise after this many points")
    abort_after: int = param(-1, help="request an abort after this many points")
    wait_s: float = param(60.0, unit="s", low=0)


@protocol("steps", columns={"i": "", "v_hall_V": "V"}, setpoints=("i",))
def steps(run: Run, params: StepParams) -> dict[str, float]:
    """Ramp the gate, then record Hall readings."""
    run.station.gate.ramp_to(params.gate_V)
    run.station.field.set_field(0.1)
    for i in range(params.points):
        if i == params.fail_after:
            raise RuntimeError(f"protocol bug at point {i}")
        if i == params.abort_after:
            run.control.request_abort("test")
        run.sleep(params.wait_s)
        run.record(i=i, v_hall_V=run.station.hall.read_voltage())
    return {"mean_V": float(run.points()["v_hall_V"].mean())}


def _run(tmp_path: Path, **values: object):
    spec = spec_of(steps)
    params = build_params(StepParams, values, "steps")
    bench_state = {}

    def keep(run: Run) -> None:
        bench_state["bench"] = run.station

    outcome = execute(
        spec, params, load_station(STATION), tmp_path / "t.db", on_run=keep, handle_signals=False
    )
    return outcome, bench_state["bench"]


def test_completed_run_is_stored_with_metadata(tmp_path: Path) -> None:
    outcome, bench = _run(tmp_path, points=20)
    assert outcome.status == "completed"
    info, frame = load_run(tmp_path / "t.db", outcome.run_id)
    assert info.points == 20 and len(frame) == 20
    assert list(frame["i"]) == list(range(20))
    assert info.params["points"] == 20
    assert info.result["mean_V"] == pytest.approx(0.0)
    # virtual clock: 20 waits of 60 s cost no wall time but show in t_s
    assert frame["t_s"].iloc[-1] == pytest.approx(20 * 60.0)
    assert bench.gate.voltage_V == 0.0 and not bench.gate.output
    assert any("output off" in line for line in outcome.safe_state)
    assert [r.run_id for r in list_runs(tmp_path / "t.db")] == [outcome.run_id]


def test_exception_reaches_safe_state_and_keeps_points(tmp_path: Path) -> None:
    outcome, bench = _run(tmp_path, points=50, fail_after=7)
    assert outcome.status == "failed" and "protocol bug at point 7" in outcome.error
    assert bench.gate.voltage_V == 0.0 and not bench.gate.output
    assert bench.field.field == 0.0
    info, frame = load_run(tmp_path / "t.db", outcome.run_id)
    assert len(frame) == 7 and info.status == "failed"
    assert info.metadata["safe_state"] == outcome.safe_state


def test_instrument_timeout_mid_run(tmp_path: Path) -> None:
    station = load_station(STATION)
    hall = station.instruments["hall"]
    object.__setattr__(hall, "settings", type(hall.settings)(fail_at_read=5))
    outcome = execute(
        spec_of(steps),
        build_params(StepParams, {}, "steps"),
        station,
        tmp_path / "t.db",
        handle_signals=False,
    )
    assert outcome.status == "failed" and "VI_ERROR_TMO" in outcome.error
    assert outcome.points == 4


def test_abort_request_stops_at_checkpoint(tmp_path: Path) -> None:
    outcome, bench = _run(tmp_path, points=50, abort_after=3)
    assert outcome.status == "aborted"
    assert outcome.points == 3
    assert not bench.gate.output


def test_out_of_limit_is_refused_and_safe(tmp_path: Path) -> None:
    outcome, bench = _run(tmp_path, gate_V=3.0)
    assert outcome.status == "failed"
    assert "gate: refused gate voltage = 3" in outcome.error
    assert "[-2, 2] V" in outcome.error
    assert bench.gate.voltage_V == 0.0


def test_undeclared_column_is_an_error(tmp_path: Path) -> None:
    @protocol("bad", columns={"a": ""})
    def bad(run: Run, params: StepParams) -> None:
        run.record(a=1.0, b=2.0)

    outcome = execute(
        spec_of(bad),
        build_params(StepParams, {}, "bad"),
        load_station(STATION),
        tmp_path / "t.db",
        handle_signals=False,
    )
    assert outcome.status == "failed" and "column(s) b not declared" in outcome.error


# ------------------------------------------------------------------ points read back
MIXED = [  # one point per dict: what a protocol may hand run.record
    {"x": 0.5, "n": 3, "flag": True, "label": "up", "level_V": float("nan")},
    {"x": 2.0, "n": 4, "flag": False, "label": "down", "level_V": 1.0},
    {"x": -1.25e-9, "n": -7, "flag": True, "label": "", "level_V": 2.5},
    {"x": 3.0, "label": "partial"},  # columns left out: missing in the frame, NaN
    {"x": 1e300, "n": 2**40, "flag": False, "label": "big", "level_V": -0.0},
]


@protocol("mixed", columns={"x": "", "n": "", "flag": "", "label": "text", "level_V": "V",
                            "never": ""})  # fmt: skip
def mixed(run: Run, params: StepParams) -> dict[str, object]:
    """Record MIXED several times; compare run.points() with the frame pandas makes of the
    same values in memory (what run.points() was before points were streamed)."""
    expected: list[dict[str, object]] = []
    seen = {}
    for repeat in range(params.points):
        for values in MIXED:
            expected.append({"t_s": run.now(), **values})
            run.record(**values)
            run.sleep(0.25)
        if repeat == 0:  # mid-run: some points committed, some pending
            seen["first"] = (run.points(), pd.DataFrame(expected))
    seen["last"] = (run.points(), pd.DataFrame(expected))
    for got, want in seen.values():
        pd.testing.assert_frame_equal(got, want, check_like=True)
    return {"rows": len(seen["last"][0])}


def test_points_read_back_from_the_dataset_as_recorded(tmp_path: Path) -> None:
    """Every value comes back with the dtype pandas gave the in-memory points: floats that
    SQLite's NUMERIC affinity stored as integers, NaN (qcodes stores it as text), bools,
    text, columns left out, a declared column never recorded (absent)."""
    outcome = execute(
        spec_of(mixed),
        build_params(StepParams, {"points": 3}, "mixed"),
        load_station(STATION),
        tmp_path / "t.db",
        handle_signals=False,
        flush_interval_s=0.01,
    )
    assert outcome.status == "completed", outcome.error
    assert outcome.result == {"rows": 3 * len(MIXED)}


@protocol("sparse", columns={"i": "", "v_hall_V": "V", "hc_T": "T", "note": "text"})
def sparse(run: Run, params: StepParams) -> dict[str, float]:
    """Loop points with a summary row after every fifth (a gate-program's trajectory)."""
    for i in range(params.points):
        run.record(i=i, v_hall_V=1e-6 * i)
        if i % 5 == 4:
            run.record(hc_T=0.02 + 1e-4 * i, note=f"after {i}")
    return {}


def test_load_run_keeps_sparse_columns_aligned(tmp_path: Path) -> None:
    """A column only some points record comes back whole and in line with the others (NaN
    where a point did not record it): what `export` and the replay comparison read."""
    params = build_params(StepParams, {"points": 10}, "sparse")
    outcome = execute(spec_of(sparse), params, load_station(STATION), tmp_path / "s.db",
                      handle_signals=False)  # fmt: skip
    assert outcome.status == "completed"
    _, frame = load_run(tmp_path / "s.db", outcome.run_id)
    assert "t_s" in frame.columns and len(frame) == 12
    summary = frame.dropna(subset=["hc_T"])
    assert list(summary["hc_T"]) == pytest.approx([0.0204, 0.0209])
    assert list(summary["note"]) == ["after 4", "after 9"]
    loop = frame.dropna(subset=["i"])
    assert list(loop["i"]) == list(range(10)) and loop["i"].dtype == float
    assert loop["hc_T"].isna().all()
