"""Live window and watch window rendered offscreen: the grabbed image has plotted pixels."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from labctl.figures import gui_loop
from labctl.live import LiveWindow, Series, run_live
from labctl.params import build_params
from labctl.protocol import find_protocol
from labctl.station import load_station
from labctl.watch import RunFollower, open_watch_window

# the first axis colour of labctl.figures.COLORS (#1f77b4)
LINE_RGB = np.array([0x1F, 0x77, 0xB4])


def coloured_pixels(path: Path) -> int:
    """Pixels of the first plot colour in a PNG (the data, not the axes or the background)."""
    from pyqtgraph.Qt import QtGui

    image = QtGui.QImage(str(path)).convertToFormat(QtGui.QImage.Format.Format_RGB888)
    w, h, stride = image.width(), image.height(), image.bytesPerLine()
    raw = np.frombuffer(image.constBits(), dtype=np.uint8, count=h * stride)
    rgb = raw.reshape(h, stride)[:, : 3 * w].reshape(h, w, 3).astype(int)
    return int((np.abs(rgb - LINE_RGB).sum(axis=2) < 60).sum())


def test_live_window_draws_pushed_rows_from_another_thread(tmp_path: Path) -> None:
    window = LiveWindow([("field_T", "v_hall_V")], "test")
    window.show()
    empty = coloured_pixels(window.grab(tmp_path / "empty.png"))

    def producer() -> None:
        for f in np.linspace(-1, 1, 200):
            window.push({"field_T": f, "v_hall_V": np.tanh(5 * f), "other": 1})
        window.push({"field_T": float("nan"), "v_hall_V": 1.0})  # skipped, not drawn

    t = threading.Thread(target=producer)
    t.start()
    t.join()
    path = window.grab(tmp_path / "live.png")
    window.close()
    assert window.points == 201
    assert coloured_pixels(path) > empty + 200


def test_run_live_plots_a_hall_loop_and_stores_it(tmp_path: Path) -> None:
    spec = find_protocol("hall-loop")
    params = build_params(spec.params_type, {"field_max_T": 0.04, "step_T": 0.002}, "hall-loop")
    grabbed: dict[str, Path] = {}

    def on_window(window: LiveWindow) -> None:
        grabbed["window"] = window  # type: ignore[assignment]

    outcome = run_live(
        spec, params, load_station(None), tmp_path / "live.db", keep_open=False,
        on_window=on_window,
    )  # fmt: skip
    assert outcome.status == "completed" and outcome.points > 50
    window = grabbed["window"]
    assert window.points == outcome.points  # type: ignore[attr-defined]


def test_run_live_abort_reaches_safe_state(tmp_path: Path) -> None:
    spec = find_protocol("hall-loop")
    params = build_params(spec.params_type, {"field_max_T": 0.04, "step_T": 0.001}, "hall-loop")

    def on_window(window: LiveWindow) -> None:
        original = window.push
        pushed = [0]

        def push(row: dict) -> None:
            original(row)
            pushed[0] += 1
            # the user presses Ctrl-C after 20 points (counted here: the GUI thread drains the
            # queue at its own pace, so the queue's size says nothing on a loaded machine)
            if pushed[0] == 20:
                os.kill(os.getpid(), __import__("signal").SIGINT)

        window.push = push  # type: ignore[method-assign]

    outcome = run_live(
        spec, params, load_station(None), tmp_path / "a.db", keep_open=False, on_window=on_window
    )
    assert outcome.status == "aborted"
    assert any("gate" in line for line in outcome.safe_state)


def test_watch_shows_a_finished_run(tmp_path: Path) -> None:
    from .conftest import run_protocol

    ran = run_protocol("hall-loop", {"field_max_T": 0.04, "step_T": 0.002}, tmp_path)
    follower = RunFollower(tmp_path / "runs.db", ran.outcome.run_id)
    assert follower.axes() == [("field_T", "v_hall_V")]
    window = open_watch_window(follower)
    path = window.grab(tmp_path / "watch.png")
    assert window.points == ran.outcome.points
    assert follower.status() == "completed"
    assert coloured_pixels(path) > 200
    assert follower.poll() == []  # nothing new
    again = RunFollower(tmp_path / "runs.db", ran.outcome.run_id)  # a few rows at a time
    ids = [row["id"] for rows in iter(lambda: again.poll(limit=7), []) for row in rows]
    assert ids == list(range(ids[0], ids[0] + ran.outcome.points))
    again.close()
    window.close()
    follower.close()


@pytest.mark.parametrize("flush_s", [0.05])
def test_watch_follows_a_run_in_progress(tmp_path: Path, flush_s: float) -> None:
    """A second reader sees rows arrive while the engine writes them."""
    from labctl.engine import execute

    spec = find_protocol("hall-loop")
    params = build_params(spec.params_type, {"field_max_T": 0.04, "step_T": 0.001}, "hall-loop")
    seen: list[int] = []
    started = threading.Event()

    def on_run(run) -> None:
        started.set()

    def go():
        return execute(spec, params, load_station(None), tmp_path / "w.db",
                       handle_signals=False, on_run=on_run, flush_interval_s=flush_s)  # fmt: skip

    result: dict = {}
    t = threading.Thread(target=lambda: result.setdefault("o", go()))
    follower = None
    with gui_loop() as pump:  # the figure at the end is drawn in this (GUI) thread
        t.start()
        started.wait(30)
        follower = _follow(t, tmp_path / "w.db", seen, pump)
    t.join()
    assert follower is not None
    seen.append(len(follower.poll()))
    assert sum(seen) == result["o"].points
    assert follower.status() == "completed"
    follower.close()


def _follow(t: threading.Thread, db: Path, seen: list[int], pump) -> RunFollower | None:
    follower = None
    while t.is_alive() or follower is None:
        pump()
        if follower is None and db.exists():
            try:
                follower = RunFollower(db, 1)
            except Exception:
                follower = None
        if follower is not None:
            seen.append(len(follower.poll()))
        if not t.is_alive() and follower is None:
            break
        threading.Event().wait(0.02)
    return follower


def test_cli_live_run_and_watch_return_offscreen(tmp_path: Path, capsys) -> None:
    """``labctl run hall-loop --live`` and ``labctl watch`` end by themselves without a display
    (nobody could close the window); watch leaves a snapshot of what it drew."""
    import json

    from labctl.cli import main

    db = tmp_path / "runs.db"
    args = ["run", "hall-loop", "--field-max-T", "0.04", "--step-T", "0.002", "--db", str(db)]
    assert main([*args, "--live", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["status"] == "completed" and out["points"] > 50
    assert main(["watch", str(out["run_id"]), "--db", str(db), "--json"]) == 0
    watched = json.loads(capsys.readouterr().out)
    assert watched["status"] == "completed"
    assert coloured_pixels(Path(watched["snapshot"])) > 200
    assert main(["watch", "7", "--db", str(db)]) != 0  # no such run: an error, not a window
    assert "no run 7" in capsys.readouterr().err


def test_a_live_curve_stays_bounded_and_evenly_decimated() -> None:
    """A curve fed far more points than it keeps: at most ``limit`` kept, evenly spaced over
    the whole run (the first point included), and the newest point is always drawn."""
    series = Series(limit=100)
    for i in range(10_007):
        series.add(float(i), -float(i))
    assert len(series.xs) <= 100 and series.seen == 10_007
    steps = np.diff(series.xs)
    assert series.xs[0] == 0.0 and np.all(steps == series.stride)
    assert series.xs[-1] > 10_007 - 1 - series.stride
    xs, ys = series.data()
    assert xs[-1] == 10_006.0 and ys[-1] == -10_006.0
