"""Live plots: a pyqtgraph window fed with a run's points as they arrive.

:class:`LiveWindow` draws one plot per ``(x, y)`` pair of the protocol's ``axes``. Rows come in
through :meth:`LiveWindow.push` from any thread (a queue); a Qt timer on the GUI thread drains
it, so acquisition never waits for drawing. :func:`run_live` runs the engine in a worker thread
and the Qt event loop in the main thread; Ctrl-C (or closing the window) asks the run to abort
at its next checkpoint, and the engine brings the bench to its safe state as on any other exit.
"""

from __future__ import annotations

import math
import os
import queue
import signal
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from labctl.figures import COLORS, ensure_qt_platform, gui_loop, label_axis, qt_app, quantity_axis
from labctl.protocol import axis_label

REFRESH_MS = 100
# Points a live curve keeps. Past that it keeps every other one and takes new points at twice
# the stride: a run of any length draws its whole shape at a bounded memory and drawing cost
# (the newest point is always drawn). A figure or an analysis reads the run from the database.
LIVE_POINTS = 20_000


def has_display() -> bool:
    """True when Qt draws on a screen (not ``QT_QPA_PLATFORM=offscreen``/``minimal``)."""
    ensure_qt_platform()
    return os.environ.get("QT_QPA_PLATFORM", "") not in ("offscreen", "minimal")


def _number(value: Any) -> float | None:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


class Series:
    """One curve's points, evenly decimated to at most ``LIVE_POINTS`` (see there)."""

    def __init__(self, limit: int = LIVE_POINTS) -> None:
        self.xs: list[float] = []
        self.ys: list[float] = []
        self.limit = max(2, limit)
        self.stride = 1  # the kept points are those whose index is a multiple of this
        self.seen = 0
        self.last: tuple[float, float] | None = None  # the newest point, if not kept
        self.whole_x = True  # every x so far is a whole number (a step, a task, a device)

    def add(self, x: float, y: float) -> None:
        if self.whole_x and x != round(x):
            self.whole_x = False
        if self.seen % self.stride:
            self.last = (x, y)
        else:
            self.last = None
            self.xs.append(x)
            self.ys.append(y)
            if len(self.xs) > self.limit:
                del self.xs[1::2], self.ys[1::2]
                self.stride *= 2
        self.seen += 1

    def data(self) -> tuple[list[float], list[float]]:
        """What to draw: the kept points and the newest one."""
        if self.last is None:
            return self.xs, self.ys
        return [*self.xs, self.last[0]], [*self.ys, self.last[1]]


class LiveWindow:
    """A window with one scatter-line plot per axes pair; thread-safe ``push`` of rows.

    ``label_of(column)`` gives (quantity, SI unit) of a column for its axis (a protocol's
    :meth:`~labctl.protocol.ProtocolSpec.axis_label`; default: from the column's name)."""

    def __init__(
        self,
        axes: Sequence[tuple[str, str]],
        title: str = "labctl",
        label_of: Callable[[str], tuple[str, str]] | None = None,
    ) -> None:
        qt_app()
        import pyqtgraph as pg

        label_of = label_of or axis_label
        self.axes = list(axes) or [("t_s", "value")]
        self.widget = pg.GraphicsLayoutWidget(title=title)
        self.widget.setWindowTitle(title)
        self.widget.resize(500 * len(self.axes), 420)
        self._queue: queue.SimpleQueue[Mapping[str, Any]] = queue.SimpleQueue()
        self._data: list[Series] = []
        self._curves = []
        self._x_axes: list[Any] = []
        for i, (x, y) in enumerate(self.axes):
            (xq, xu), (yq, yu) = label_of(x), label_of(y)
            items: dict[str, Any] = {
                "bottom": quantity_axis("bottom", True),
                "left": quantity_axis("left"),
            }
            plot = self.widget.addPlot(title=f"{yq} vs {xq}", axisItems=items)
            label_axis(items["bottom"], xq, xu)
            label_axis(items["left"], yq, yu)
            self._x_axes.append(items["bottom"])
            plot.showGrid(x=True, y=True, alpha=0.3)
            color = COLORS[i % len(COLORS)]
            curve = plot.plot([], [], pen=pg.mkPen(color, width=1.5), symbol="o",
                              symbolSize=4, symbolBrush=color, symbolPen=None)  # fmt: skip
            self._curves.append(curve)
            self._data.append(Series())
        self.points = 0
        self.status = ""
        self._timers: list[Any] = []
        self.timer = self.every(REFRESH_MS, self.drain)

    def every(self, interval_ms: int, callback: Callable[[], Any]) -> Any:
        """Call ``callback`` on the GUI thread every ``interval_ms`` until :meth:`close`."""
        import pyqtgraph as pg

        timer = pg.QtCore.QTimer()
        timer.timeout.connect(callback)
        timer.start(interval_ms)
        self._timers.append(timer)
        return timer

    def push(self, row: Mapping[str, Any]) -> None:
        """Queue one row (any thread)."""
        self._queue.put(row)

    def extend(self, rows: Iterable[Mapping[str, Any]]) -> None:
        for row in rows:
            self._queue.put(row)

    def drain(self) -> int:
        """Move queued rows into the plots (GUI thread); returns how many were drawn."""
        n = 0
        while True:
            try:
                row = self._queue.get_nowait()
            except queue.Empty:
                break
            n += 1
            for (x, y), series in zip(self.axes, self._data, strict=True):
                vx, vy = _number(row.get(x)), _number(row.get(y))
                if vx is not None and vy is not None:
                    series.add(vx, vy)
        if n:
            self.points += n
            for curve, axis, series in zip(self._curves, self._x_axes, self._data, strict=True):
                axis.integer = series.whole_x  # whole-number ticks while x is whole numbers
                curve.setData(*series.data())
        return n

    def set_status(self, text: str) -> None:
        self.status = text
        self.widget.setWindowTitle(text)

    def grab(self, path: Path) -> Path:
        """Render the window (as on screen) to a PNG."""
        import pyqtgraph as pg

        self.drain()
        pg.QtWidgets.QApplication.processEvents()
        path.parent.mkdir(parents=True, exist_ok=True)
        self.widget.grab().save(str(path))
        return path

    def show(self) -> None:
        self.widget.show()

    def close(self) -> None:
        """Stop every timer (none fires after this) and close the window."""
        for timer in self._timers:
            timer.stop()
        self.widget.close()


def run_live(
    spec: Any,
    params: Any,
    station: Any,
    db: Path,
    *,
    keep_open: bool | None = None,
    on_window: Callable[[LiveWindow], None] | None = None,
    on_end: Callable[[LiveWindow, Any], None] | None = None,
    **kwargs: Any,
) -> Any:
    """Run the engine (``labctl.engine.execute``) in a worker thread with a live window.

    Returns the engine's outcome (``kwargs`` go to ``execute``). ``keep_open``: after the run,
    leave the window up until the user closes it (default: when there is a display — offscreen
    nobody could close it). Ctrl-C or closing the window during the run requests an abort.
    ``on_end(window, outcome)``: called once the run has ended, before the window closes (to
    save its last frame: a closed window draws nothing).
    """
    from labctl.engine import execute

    app = qt_app()
    if keep_open is None:
        keep_open = has_display()
    window = LiveWindow(spec.axes, f"labctl: {spec.name}", spec.axis_label)
    control: dict[str, Any] = {}
    outcome: dict[str, Any] = {}

    def on_run(run: Any) -> None:
        control["run"] = run
        run.subscribers.append(window.push)
        window.set_status(f"labctl: run {run.run_id} {spec.name}: running")

    def worker() -> None:
        try:
            outcome["value"] = execute(
                spec, params, station, db, on_run=on_run, handle_signals=False, **kwargs
            )
        except BaseException as exc:  # reported in the main thread
            outcome["error"] = exc

    def abort(reason: str) -> None:
        run = control.get("run")
        if thread.is_alive() and run is not None:
            run.control.request_abort(reason)
        elif not thread.is_alive() and reason == "Ctrl-C" and window.widget.isVisible():
            window.widget.close()  # the run is over: Ctrl-C closes the window

    thread = threading.Thread(target=worker, name=f"labctl-{spec.name}", daemon=True)
    previous = signal.getsignal(signal.SIGINT) if _main_thread() else None
    if _main_thread():
        signal.signal(signal.SIGINT, lambda *_: abort("Ctrl-C"))
    window.widget.destroyed.connect(lambda *_: abort("live window closed"))
    window.show()
    if on_window is not None:
        on_window(window)
    try:
        # the event loop yields to Python every REFRESH_MS (signals run then); figures the
        # worker renders are drawn here, in the GUI thread
        with gui_loop() as pump:
            thread.start()
            while thread.is_alive():
                app.processEvents()
                pump()
                thread.join(REFRESH_MS / 1000)
        window.drain()
        result = outcome.get("value")
        if result is not None:
            window.set_status(f"labctl: run {result.run_id} {spec.name}: {result.status}")
        if keep_open and window.widget.isVisible():
            while window.widget.isVisible():
                app.processEvents()
                threading.Event().wait(REFRESH_MS / 1000)
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
        if on_end is not None and "value" in outcome:
            on_end(window, outcome["value"])
        window.close()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def _main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()
