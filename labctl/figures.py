"""PNG figures with pyqtgraph, rendered offscreen (no display needed).

Protocols describe a figure as panels of series; :func:`save_figure` renders it to a PNG.
Headless machines get ``QT_QPA_PLATFORM=offscreen`` automatically.

The axis rules every figure (and the live window) follows, in one place:

- an axis names the quantity and its unit as a physicist writes it, ``µ0H (mT)``: a panel gives
  the quantity (``"µ0H"``) and the SI unit of its raw data (``"T"``); the axis picks the prefix
  from the range it shows (:func:`label_axis`). Never a multiplier (``(x0.001)``), never a raw
  column name;
- an axis of whole numbers (a step, a task, a device index) has ticks at whole numbers only
  (:class:`QuantityAxis` with ``integer``);
- a legend sits in a corner of its plot where it covers no point and no line; when every
  corner is taken, the plot gains headroom above the data for it (:func:`place_legend`).
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
# Units an axis may give a prefix to (mT, µV, ms); any other unit (%, A/m², a log axis) is
# written as it is, and its ticks are never rescaled.
SI_UNITS = frozenset({"T", "V", "A", "s", "Hz", "Ω", "J", "K", "W", "m", "F", "H"})
LEGEND_MARGIN_PX = 6  # free space kept around a legend


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
    yerr: Sequence[float] | np.ndarray | None = None  # error bars: ± this about each y


@dataclass
class Panel:
    """One plot. ``xlabel``/``ylabel`` name the quantity (``"µ0H"``, ``"V_xy"``); ``xunit``/
    ``yunit`` give the SI unit of the raw data (``"T"``, ``"V"``) and the axis writes it with
    a prefix (``µ0H (mT)``): pass the data in SI, unscaled. ``xlog``/``ylog``: a logarithmic
    axis (the data stays linear, e.g. seconds). ``xinteger``: ticks at whole numbers only
    (None: when every x value is a whole number)."""

    title: str = ""
    xlabel: str = ""
    ylabel: str = ""
    series: list[Series] = field(default_factory=list)
    vlines: list[float] = field(default_factory=list)
    image: np.ndarray | None = None  # a heat map instead of series (rows × columns)
    levels: tuple[float, float] | None = None  # colour range of the heat map (None: the data)
    cell_format: str = ""  # e.g. "{:.1f}": write each cell's value on the heat map
    xunit: str = ""
    yunit: str = ""
    xlog: bool = False
    ylog: bool = False
    xinteger: bool | None = None
    yinteger: bool = False
    xticks: Sequence[tuple[float, str]] | None = None  # named ticks (a heat map: at i + 0.5)
    yticks: Sequence[tuple[float, str]] | None = None

    def x_is_integer(self) -> bool:
        if self.xinteger is not None:
            return self.xinteger
        xs = [np.asarray(s.x, dtype=float) for s in self.series]
        finite = np.concatenate([x[np.isfinite(x)] for x in xs]) if xs else np.empty(0)
        return bool(finite.size) and not self.xlog and bool(np.all(finite == np.round(finite)))


def plus_minus(value: float, err: float = float("nan"), unit: str = "", scale: float = 1.0) -> str:
    """``25.0 ± 0.3 mT``: ``value`` and its uncertainty ``err`` (both times ``scale``), rounded
    where the uncertainty's first significant digit is (its first two when that is a 1);
    ``value`` alone to 4 significant digits when ``err`` is unknown."""
    v, e = value * scale, err * scale
    tail = f" {unit}" if unit else ""
    if not np.isfinite(v):
        return f"nan{tail}"
    if not (np.isfinite(e) and e > 0):
        return f"{v:.4g}{tail}"
    exponent = int(np.floor(np.log10(e)))
    leading_one = round(e / 10.0**exponent) == 1
    decimals = max(0, -exponent + (1 if leading_one else 0))
    return f"{v:.{decimals}f} ± {e:.{decimals}f}{tail}"


def axis_text(quantity: str, unit: str) -> str:
    """``quantity (unit)``, or the quantity alone when it has no unit."""
    return f"{quantity} ({unit})" if unit else quantity


def label_axis(axis: Any, quantity: str, unit: str = "", log: bool = False) -> None:
    """Name the quantity and its unit on ``axis`` (a pyqtgraph AxisItem): an SI unit gets the
    prefix that suits the shown range (``µ0H (mT)``, the ticks scaled to match); anything else
    is written as given, and the ticks show the values themselves (never ``(x0.001)``)."""
    if unit in SI_UNITS and not log:
        axis.setLabel(quantity, units=unit)
        axis.enableAutoSIPrefix(True)
        if unit == "s":  # ms and µs, but an hour is 3600 s, not 3.6 ks
            axis.setSIPrefixEnableRanges(((0.0, 1.0),))
    else:
        axis.setLabel(axis_text(quantity, unit))
        axis.enableAutoSIPrefix(False)


_axis_class: type | None = None


def quantity_axis(orientation: str, integer: bool = False) -> Any:
    """A pyqtgraph AxisItem whose ticks fall on whole numbers while ``integer`` is set."""
    global _axis_class
    if _axis_class is None:
        import pyqtgraph as pg

        class QuantityAxis(pg.AxisItem):
            integer = False

            def labelString(self) -> str:
                # the micro sign, as in µ0H (pyqtgraph's prefix is the Greek letter mu)
                return super().labelString().replace("\u03bc", "\u00b5")

            def tickSpacing(self, minVal: float, maxVal: float, size: float) -> Any:
                levels = super().tickSpacing(minVal, maxVal, size)
                if not self.integer or self.logMode:
                    return levels
                # pyqtgraph's spacings are 1, 2 or 5 × 10^k: those ≥ 1 are whole numbers
                whole = [(s, o) for s, o in levels if s >= 1]
                return whole or [(1.0, 0.0)]

        _axis_class = QuantityAxis
    axis = _axis_class(orientation)
    axis.integer = integer
    return axis


def save_figure(
    path: Path, panels: Sequence[Panel], width_px: int = 900, height_px: int = 600
) -> Path:
    """Render ``panels`` side by side into ``path`` (PNG); safe to call from a worker thread."""
    return _on_gui_thread(lambda: _render(path, panels, width_px, height_px))


def _render(path: Path, panels: Sequence[Panel], width_px: int, height_px: int) -> Path:
    import pyqtgraph.exporters

    layout = build_figure(panels, width_px, height_px)
    path.parent.mkdir(parents=True, exist_ok=True)
    exporter = pyqtgraph.exporters.ImageExporter(layout.scene())
    exporter.parameters()["width"] = width_px
    exporter.export(str(path))
    layout.close()
    return path


def build_figure(panels: Sequence[Panel], width_px: int = 900, height_px: int = 600) -> Any:
    """The laid-out figure (a shown pyqtgraph GraphicsLayoutWidget; GUI thread): what
    :func:`save_figure` exports, and what the tests inspect (labels, ticks, legends)."""
    qt_app()
    import pyqtgraph as pg

    layout = pg.GraphicsLayoutWidget()
    layout.resize(width_px, height_px)
    plots = []
    for panel in panels:
        axes = {
            "bottom": quantity_axis("bottom", panel.image is None and panel.x_is_integer()),
            "left": quantity_axis("left", panel.yinteger),
        }
        plot = layout.addPlot(title=panel.title, axisItems=axes)
        plot.setLogMode(x=panel.xlog, y=panel.ylog)
        label_axis(axes["bottom"], panel.xlabel, panel.xunit, panel.xlog)
        label_axis(axes["left"], panel.ylabel, panel.yunit, panel.ylog)
        plot.showGrid(x=True, y=True, alpha=0.3)
        if panel.xticks is not None:
            axes["bottom"].setTicks([list(panel.xticks)])
        if panel.yticks is not None:
            axes["left"].setTicks([list(panel.yticks)])
        if panel.image is not None:
            _heat_map(plot, panel)
            continue
        if any(s.label for s in panel.series):
            plot.addLegend(offset=(10, 10))
            plots.append(plot)
        for i, s in enumerate(panel.series):
            color = s.color or COLORS[i % len(COLORS)]
            if s.yerr is not None:
                _error_bars(plot, panel, s, color)
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
        for x in panel.vlines:
            x = float(np.log10(x)) if panel.xlog else x
            plot.addLine(x=x, pen=pg.mkPen("#888888", style=pg.QtCore.Qt.PenStyle.DashLine))
    layout.show()
    pg.QtWidgets.QApplication.processEvents()
    for plot in plots:
        place_legend(plot)
    return layout


def _error_bars(plot: Any, panel: Panel, s: Series, color: str) -> None:
    import pyqtgraph as pg

    x, y = np.asarray(s.x, dtype=float), np.asarray(s.y, dtype=float)
    err = np.nan_to_num(np.asarray(s.yerr, dtype=float), nan=0.0)
    lo, hi = y - err, y + err
    if panel.xlog:
        x = np.log10(x)
    if panel.ylog:  # the bar's ends, on the log axis
        y, lo, hi = np.log10(y), np.log10(np.fmax(lo, np.finfo(float).tiny)), np.log10(hi)
    bars = pg.ErrorBarItem(x=x, y=y, top=hi - y, bottom=y - lo, beam=0, pen=pg.mkPen(color))
    plot.addItem(bars)


# the corners a legend may take, in order of preference: (item corner = plot corner, offset)
_CORNERS = (
    ((0, 0), (10, 10)),  # top left
    ((1, 0), (-10, 10)),  # top right
    ((0, 1), (10, -10)),  # bottom left
    ((1, 1), (-10, -10)),  # bottom right
)


def place_legend(plot: Any) -> None:
    """Move ``plot``'s legend to a corner where it covers no data (points and the lines
    between them); when none is free, add headroom above the data and take a top corner."""
    import pyqtgraph as pg

    legend = plot.legend
    if legend is None:
        return
    entries = len(legend.items)
    # one column; then a wider, shorter legend; then headroom above the data
    for attempt, columns in enumerate((1, min(entries, 3), min(entries, 3))):
        if columns != legend.columnCount:
            legend.setColumnCount(columns)
            pg.QtWidgets.QApplication.processEvents()
        samples = data_in_scene(plot)
        for corner, offset in _CORNERS:
            legend.anchor(itemPos=corner, parentPos=corner, offset=offset)
            if not covers(legend, samples):
                return
        if attempt < 1:
            continue
        if attempt == 2:
            break
        view = plot.getViewBox()
        (_, _), (y0, y1) = view.viewRange()
        free = view.sceneBoundingRect().height()
        needed = legend.sceneBoundingRect().height() + 10 + 2 * LEGEND_MARGIN_PX
        fraction = min(needed / free, 0.6)
        view.setYRange(y0, y1 + (y1 - y0) * fraction / (1 - fraction), padding=0)
        pg.QtWidgets.QApplication.processEvents()
    legend.anchor(itemPos=(0, 0), parentPos=(0, 0), offset=(10, 10))


def data_in_scene(plot: Any, per_segment: int = 24) -> np.ndarray:
    """Scene coordinates (pixels) of every drawn point of ``plot``, and of points along the
    lines between them; (n, 2)."""
    import pyqtgraph as pg

    out = []
    for item in plot.items:
        if isinstance(item, pg.ErrorBarItem):  # the bars' ends count as data
            o = item.opts
            x, y = np.asarray(o["x"], dtype=float), np.asarray(o["y"], dtype=float)
            t = item.sceneTransform()
            for yy in (y + np.asarray(o["top"]), y - np.asarray(o["bottom"])):
                pts = np.column_stack(
                    [t.m11() * x + t.m21() * yy + t.dx(), t.m12() * x + t.m22() * yy + t.dy()]
                )
                out.append(pts[np.isfinite(pts).all(axis=1)])
    for item in plot.listDataItems():
        x, y = item.getData()  # as drawn (log10 on a log axis)
        if x is None or not len(x):
            continue
        t = item.sceneTransform()
        x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
        sx = t.m11() * x + t.m21() * y + t.dx()
        sy = t.m12() * x + t.m22() * y + t.dy()
        pts = np.column_stack([sx, sy])
        ok = np.asarray(np.isfinite(pts).all(axis=1))
        out.append(pts[ok])
        if item.opts.get("pen") is not None and len(pts) > 1:
            a, b = pts[:-1], pts[1:]
            both = ok[:-1] & ok[1:]  # a NaN breaks the line
            f = np.linspace(0, 1, per_segment)[None, :, None]
            out.append((a[both, None, :] + f * (b[both] - a[both])[:, None, :]).reshape(-1, 2))
    return np.concatenate(out) if out else np.empty((0, 2))


def covers(legend: Any, samples: np.ndarray) -> bool:
    """True when any of the scene points ``samples`` lies under ``legend`` (with a margin)."""
    r = legend.sceneBoundingRect()
    m = LEGEND_MARGIN_PX
    x, y = samples[:, 0], samples[:, 1]
    inside = (x >= r.left() - m) & (x <= r.right() + m) & (y >= r.top() - m) & (y <= r.bottom() + m)
    return bool(inside.any())


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
    rows, cols = data.shape  # cells ticked by index, unless the panel names them
    if panel.xticks is None:
        plot.getAxis("bottom").setTicks([[(j + 0.5, str(j)) for j in range(cols)]])
    if panel.yticks is None:
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
