"""PNG figures with pyqtgraph, rendered offscreen (no display needed).

Protocols describe a figure as panels of series; :func:`save_figure` renders it to a PNG.
Headless machines get ``QT_QPA_PLATFORM=offscreen`` automatically.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#17becf")


def ensure_qt_platform() -> None:
    """Use the offscreen Qt platform when there is no display."""
    if sys.platform.startswith("linux") and not os.environ.get("DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def qt_app() -> Any:
    ensure_qt_platform()
    import pyqtgraph as pg

    pg.setConfigOptions(antialias=True, background="w", foreground="k")
    return pg.mkQApp("labctl")


def release_qt_app() -> None:
    """Destroy the Qt application if a thread other than the main one made it, from that
    thread: a job that rendered figures on a worker thread (a Dask worker's) calls this when it
    ends, else the process crashes (SIGSEGV) at exit, when Python tears the application down
    from the main thread. The next figure makes a new application (tens of ms)."""
    if "pyqtgraph" not in sys.modules or threading.current_thread() is threading.main_thread():
        return
    import pyqtgraph as pg

    app = pg.QtWidgets.QApplication.instance()
    if app is None or app.thread() is not pg.QtCore.QThread.currentThread():
        return
    app.shutdown()
    pg.Qt.QAPP = None  # pyright: ignore[reportAttributeAccessIssue]  (mkQApp makes a new one)


_gui_jobs: list[tuple[Callable[[], Any], threading.Event, dict[str, Any]]] = []
_gui_lock = threading.Lock()
_gui_loop_active = threading.Event()


@contextmanager
def gui_loop() -> Iterator[Callable[[], None]]:
    """Mark the main thread as running a Qt event loop; yields ``pump`` to call in that loop.

    While active, :func:`save_figure` from a worker thread hands its rendering to the main
    thread (Qt widgets must live in the GUI thread) and waits for it.
    """

    def pump() -> None:
        with _gui_lock:
            jobs = list(_gui_jobs)
            _gui_jobs.clear()
        for fn, done, out in jobs:
            try:
                out["value"] = fn()
            except BaseException as exc:  # re-raised in the calling thread
                out["error"] = exc
            done.set()

    _gui_loop_active.set()
    try:
        yield pump
    finally:
        _gui_loop_active.clear()
        pump()


def _on_gui_thread(fn: Callable[[], Any]) -> Any:
    if threading.current_thread() is threading.main_thread() or not _gui_loop_active.is_set():
        return fn()
    done = threading.Event()
    out: dict[str, Any] = {}
    with _gui_lock:
        _gui_jobs.append((fn, done, out))
    done.wait()
    if "error" in out:
        raise out["error"]
    return out["value"]


@dataclass
class Series:
    x: Sequence[float] | np.ndarray
    y: Sequence[float] | np.ndarray
    label: str = ""
    line: bool = True
    symbol: str | None = None
    color: str | None = None  # default: the next of COLORS
    yerr: Sequence[float] | np.ndarray | None = None  # error bars: ± this around each y


@dataclass
class Panel:
    title: str = ""
    xlabel: str = ""
    ylabel: str = ""
    series: list[Series] = field(default_factory=list)
    vlines: list[float] = field(default_factory=list)
    image: np.ndarray | None = None  # a heat map instead of series (rows × columns)
    levels: tuple[float, float] | None = None  # colour range of the heat map (None: the data)
    cell_format: str = ""  # e.g. "{:.1f}": write each cell's value on the heat map
    xticks: list[tuple[float, str]] | None = None  # named ticks (categories) on the x axis


def save_figure(
    path: Path, panels: Sequence[Panel], width_px: int = 900, height_px: int = 600
) -> Path:
    """Render ``panels`` side by side into ``path`` (PNG); safe to call from a worker thread."""
    return _on_gui_thread(lambda: _render(path, panels, width_px, height_px))


def _render(path: Path, panels: Sequence[Panel], width_px: int, height_px: int) -> Path:
    qt_app()
    import pyqtgraph as pg
    import pyqtgraph.exporters

    layout = pg.GraphicsLayoutWidget()
    layout.resize(width_px, height_px)
    for panel in panels:
        plot = layout.addPlot(title=panel.title)
        plot.setLabel("bottom", panel.xlabel)
        plot.setLabel("left", panel.ylabel)
        plot.showGrid(x=True, y=True, alpha=0.3)
        if panel.image is not None:
            _heat_map(plot, panel)
            continue
        if any(s.label for s in panel.series):
            plot.addLegend(offset=(10, 10))
        for i, s in enumerate(panel.series):
            color = s.color or COLORS[i % len(COLORS)]
            plot.plot(
                np.asarray(s.x, dtype=float),
                np.asarray(s.y, dtype=float),
                pen=pg.mkPen(color, width=2) if s.line else None,
                symbol=s.symbol,
                symbolBrush=color,
                symbolPen=None,
                symbolSize=5,
                name=s.label or None,
            )
            if s.yerr is not None:
                plot.addItem(
                    pg.ErrorBarItem(
                        x=np.asarray(s.x, dtype=float),
                        y=np.asarray(s.y, dtype=float),
                        height=2 * np.asarray(s.yerr, dtype=float),
                        beam=0.1,
                        pen=pg.mkPen(color, width=1.5),
                    )
                )
        if panel.xticks is not None:
            plot.getAxis("bottom").setTicks([panel.xticks])
        for x in panel.vlines:
            plot.addLine(x=x, pen=pg.mkPen("#888888", style=pg.QtCore.Qt.PenStyle.DashLine))
    layout.show()
    pg.QtWidgets.QApplication.processEvents()
    path.parent.mkdir(parents=True, exist_ok=True)
    exporter = pyqtgraph.exporters.ImageExporter(layout.scene())
    exporter.parameters()["width"] = width_px
    exporter.export(str(path))
    layout.close()
    return path


def _heat_map(plot: Any, panel: Panel) -> None:
    """A heat map with a colour bar, cells ticked by index and (optionally) their values."""
    import pyqtgraph as pg

    data = np.atleast_2d(np.asarray(panel.image, dtype=float))
    finite = data[np.isfinite(data)]
    lo, hi = panel.levels or ((finite.min(), finite.max()) if finite.size else (0.0, 1.0))
    if hi <= lo:
        lo, hi = lo - 0.5, hi + 0.5
    cmap = pg.colormap.get("viridis")
    image = pg.ImageItem(data.T, levels=(lo, hi))
    image.setColorMap(cmap)
    plot.addItem(image)
    plot.invertY(True)
    plot.showGrid(x=False, y=False)
    rows, cols = data.shape
    plot.getAxis("bottom").setTicks([[(j + 0.5, str(j)) for j in range(cols)]])
    plot.getAxis("left").setTicks([[(i + 0.5, str(i)) for i in range(rows)]])
    bar = pg.ColorBarItem(values=(lo, hi), colorMap=cmap, interactive=False, width=12)
    bar.setImageItem(image, insert_in=plot)
    if panel.cell_format:
        for (i, j), v in np.ndenumerate(data):
            if np.isfinite(v):
                dark = (v - lo) / (hi - lo) < 0.6  # light text on the dark end of viridis
                label = panel.cell_format.format(v)
                text = pg.TextItem(label, color="w" if dark else "k", anchor=(0.5, 0.5))
                text.setPos(j + 0.5, i + 0.5)
                plot.addItem(text)
