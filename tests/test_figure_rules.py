"""The rules every figure follows (labctl/figures.py), checked on the laid-out pyqtgraph scene.

- an axis names the quantity and its unit as a physicist writes it (µ0H (mT), V_xy (µV)), never
  a raw column name or a multiplier (``(x0.001)``);
- an axis of whole numbers ticks at whole numbers only;
- a legend covers no data point and no line between points;
- one unit per axis (gate-program's pulse panel was volts and log10 seconds on one axis);
- the train figure names tasks as the result prints them.

The legend check maps each point to the scene with pyqtgraph's own ``mapViewToScene`` (not the
vectorised transform the placement uses), along the lines as well as at the points.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
import pytest

from labctl.figures import Panel, Series, build_figure, plus_minus, qt_app
from labctl.live import LiveWindow
from labctl.protocol import available_protocols, axis_label

MU = ("µ",)  # the micro sign (pyqtgraph's own prefix is the Greek mu: QuantityAxis swaps it)


@pytest.fixture(autouse=True)
def _app() -> None:
    qt_app()


def plots_of(layout: Any) -> list[Any]:
    import pyqtgraph as pg

    items = [layout.ci.getItem(0, c) for c in range(layout.ci.layout.columnCount())]
    return [p for p in items if isinstance(p, pg.PlotItem)]


def label(plot: Any, side: str) -> str:
    axis = plot.getAxis(side)
    return re.sub(r"<[^>]+>", "", axis.labelString()).strip()


def tick_values(plot: Any, side: str) -> list[float]:
    axis = plot.getAxis(side)
    lo, hi = axis.range
    size = axis.geometry().width() if side in ("bottom", "top") else axis.geometry().height()
    return [v for _, values in axis.tickValues(lo, hi, size) for v in values]


def drawn_points(plot: Any) -> Iterator[tuple[float, float]]:
    """Every data point of ``plot`` and 20 points along each line segment, in scene pixels."""
    from pyqtgraph.Qt import QtCore

    view = plot.getViewBox()
    for item in plot.listDataItems():
        x, y = item.getData()
        pts = [(a, b) for a, b in zip(x, y, strict=True) if np.isfinite(a) and np.isfinite(b)]
        dense = list(pts)
        if item.opts.get("pen") is not None:
            for (x0, y0), (x1, y1) in itertools.pairwise(pts):
                dense += [(x0 + f * (x1 - x0), y0 + f * (y1 - y0)) for f in np.linspace(0, 1, 20)]
        for a, b in dense:
            p = view.mapViewToScene(QtCore.QPointF(float(a), float(b)))
            yield p.x(), p.y()


def assert_legend_free(plot: Any) -> None:
    legend = plot.legend
    assert legend is not None
    rect = legend.sceneBoundingRect()
    inside = [(x, y) for x, y in drawn_points(plot) if rect.contains(x, y)]
    assert not inside, f"the legend ({rect}) covers {len(inside)} drawn points, e.g. {inside[:3]}"
    assert plot.getViewBox().sceneBoundingRect().contains(rect), "the legend left its plot"


# ---------------------------------------------------------------------------- labels
def test_an_axis_names_the_quantity_with_a_prefixed_unit_and_no_multiplier() -> None:
    field_T = np.linspace(-0.08, 0.08, 161)
    v_V = 1e-4 * np.tanh(field_T / 0.01)
    p_switch = np.linspace(0, 2e-4, 161)  # unitless and tiny: no "(x1e-06)"
    layout = build_figure(
        [
            Panel("loop", "µ0H", "V_xy", [Series(field_T, v_V)], xunit="T", yunit="V"),
            Panel("rare flips", "µ0H", "P(switch)", [Series(field_T, p_switch)], xunit="T"),
        ]
    )
    loop, rare = plots_of(layout)
    assert label(loop, "bottom") == "µ0H (mT)"
    assert label(loop, "left") in {f"V_xy ({m}V)" for m in MU}
    assert label(rare, "left") == "P(switch)"
    for plot in (loop, rare):
        for side in ("bottom", "left"):
            assert "(x" not in label(plot, side), label(plot, side)
    layout.close()


def test_non_si_units_and_log_axes_are_written_as_given() -> None:
    hold_s = np.logspace(1, 4, 8)
    layout = build_figure(
        [
            Panel(
                "drift",
                "hold",
                "change",
                [Series(hold_s, hold_s * 0)],
                xunit="s",
                yunit="%",
                xlog=True,
            )
        ]
    )
    (plot,) = plots_of(layout)
    assert label(plot, "bottom") == "hold (s)"
    assert label(plot, "left") == "change (%)"
    layout.close()


def test_every_protocol_column_on_an_axis_has_a_physicists_label() -> None:
    """No raw column name (``hc_T``, ``v_hall_V``) on any protocol's live, watch or replay
    axis: each is declared, and its unit comes from the declared columns."""
    for name, spec in available_protocols().items():
        for x, y in spec.axes:
            for column in (x, y):
                quantity, unit = spec.axis_label(column)
                assert column in spec.labels, f"{name}: {column} has no declared label"
                assert not re.search(r"_(T|V|s|A|pct|ohm|per_\w+)$", quantity), (name, quantity)
                assert unit == spec.columns.get(column, unit)
    assert axis_label("field_T", {"field_T": "T"}, {"field_T": "µ0H"}) == ("µ0H", "T")
    assert axis_label("hold_s") == ("hold", "s")  # a protocol not installed: from the name
    assert axis_label("t_s") == ("t", "s")


def test_live_window_labels_columns_as_the_protocol_declares_them() -> None:
    spec = available_protocols()["gate-program"]
    window = LiveWindow(spec.axes, "test", spec.axis_label)
    for step in range(4):
        window.push({"step": float(step), "hc_T": 0.024 + 0.001 * step})
    for f in np.linspace(0.04, -0.04, 41):
        window.push({"field_T": f, "v_hall_V": 1e-4 * np.sign(f)})
    window.drain()
    window.show()
    from pyqtgraph.Qt import QtWidgets

    QtWidgets.QApplication.processEvents()
    steps, loop = (window.widget.ci.getItem(0, c) for c in range(2))
    assert label(steps, "bottom") == "verification step"
    assert label(steps, "left") == "µ0Hc (mT)"
    assert label(loop, "bottom") == "µ0H (mT)"
    assert label(loop, "left") in {f"V_xy ({m}V)" for m in MU}
    assert all(v == round(v) for v in tick_values(steps, "bottom"))
    assert any(v != round(v) for v in tick_values(loop, "bottom"))  # µ0H in mT: not forced
    window.close()


# ---------------------------------------------------------------------------- integer ticks
def test_whole_number_axes_tick_at_whole_numbers_only() -> None:
    steps = np.arange(3.0)  # pyqtgraph alone put ticks at 0.5 and 1.5 here
    layout = build_figure([Panel("trajectory", "verification step", "µ0Hc",
                                 [Series(steps, [0.024, 0.025, 0.027])], yunit="T")])  # fmt: skip
    (plot,) = plots_of(layout)
    ticks = tick_values(plot, "bottom")
    assert ticks and all(v == round(v) for v in ticks), ticks
    layout.close()


# ---------------------------------------------------------------------------- legends
@pytest.mark.parametrize(
    "series",
    [
        # a curve through the top left (where pyqtgraph's legend sits by default)
        [Series([0, 1, 2, 3], [3, 2, 1, 0], "falling"), Series([0, 3], [0.5, 0.5], "flat")],
        # lines through every corner: no free corner, the plot must make room
        [
            Series([0, 1, 1, 0, 0], [0, 0, 1, 1, 0], "frame"),
            Series([0, 1], [0, 1], "diagonal"),
            Series([0, 1], [1, 0], "anti-diagonal"),
        ],
        # five curves filling the plot (the train figure's accuracy curves)
        [
            Series(np.arange(100), 50 + 45 * np.sin(np.arange(100) / 7 + k), f"pdigits-{k + 1}")
            for k in range(5)
        ],
    ],
    ids=["top-left-taken", "every-corner-taken", "five-curves"],
)
def test_a_legend_covers_no_data(series: list[Series]) -> None:
    layout = build_figure([Panel("legend", "x", "y", series)], 600, 400)
    (plot,) = plots_of(layout)
    assert_legend_free(plot)
    layout.close()


# ---------------------------------------------------------------------------- protocol figures
def test_gate_program_figure_one_unit_per_axis_whole_steps_and_a_free_legend() -> None:
    from protocols.gate_program import gate_program_panels

    points = pd.DataFrame(
        {
            "step": [0.0, 1.0, 2.0, 3.0],
            "hc_T": [0.0240, 0.0252, 0.0265, 0.0275],
            "hc_err_T": [2.9e-4] * 4,
            "pulse_V": [0.0, 2.0, 2.0, 2.2],
            "pulse_width_s": [0.0, 0.05, 0.08, 0.2],
        }
    )
    result = {"target_hc_T": 0.028, "tolerance_T": 0.001, "stop_reason": "within tolerance",
              "pulses": 3}  # fmt: skip
    panels = gate_program_panels(result, points)
    assert [(p.ylabel, p.yunit) for p in panels] == [("µ0Hc", "T"), ("V_g", "V"),
                                                      ("pulse width", "s")]  # fmt: skip
    layout = build_figure(panels, 1500, 600)
    hc, amplitude, width = plots_of(layout)
    assert label(hc, "left") == "µ0Hc (mT)"
    assert label(amplitude, "left") == "V_g (V)"
    assert label(width, "left") == "pulse width (s)"
    for plot in (hc, amplitude, width):
        assert label(plot, "bottom") == "verification step"
        assert all(v == round(v) for v in tick_values(plot, "bottom"))
    assert_legend_free(hc)
    layout.close()


def test_train_figure_names_tasks_as_the_result_prints_them() -> None:
    from protocols.train import train_panels

    names = [f"pdigits-{k}" for k in range(1, 4)]
    points = pd.DataFrame(
        [
            {"task": t, "step": 10.0 * (t * 5 + e), "eval_task": j, "test_acc_pct": 50.0 + j}
            for t in range(3)
            for e in range(5)
            for j in range(3)
        ]
    )
    R = np.tril(np.full((3, 3), 90.0)) + 5.0
    heat, curves = train_panels({"task_names": names, "accuracy_matrix_pct": R}, points)
    assert [s.label for s in curves.series] == names
    assert [t for _, t in heat.xticks or []] == names
    assert [t for _, t in heat.yticks or []] == names
    layout = build_figure([heat, curves], 1200, 520)
    heat_plot, curve_plot = plots_of(layout)
    shown = [t for _, t in heat_plot.getAxis("bottom")._tickLevels[0]]
    assert shown == names
    assert label(curve_plot, "left") == "test accuracy (%)"
    assert_legend_free(curve_plot)
    layout.close()


def test_replay_comparison_labels_from_the_protocol() -> None:
    from labctl.recording.twin import comparison_panels

    spec = available_protocols()["hall-loop"]
    field = np.linspace(0.05, -0.05, 21)
    frame = pd.DataFrame({"field_T": field, "v_hall_V": 1e-4 * np.sign(field)})
    (panel,) = comparison_panels(spec, frame, frame)
    assert (panel.xlabel, panel.xunit, panel.ylabel, panel.yunit) == ("µ0H", "T", "V_xy", "V")
    layout = build_figure([panel])
    (plot,) = plots_of(layout)
    assert label(plot, "bottom") == "µ0H (mT)" and "(x" not in label(plot, "left")
    layout.close()


def test_plus_minus_rounds_at_the_uncertainty() -> None:
    assert plus_minus(0.02499, 2.9e-4, "mT", 1e3) == "25.0 ± 0.3 mT"
    assert plus_minus(62.4, 6.3) == "62 ± 6"
    assert plus_minus(0.0255, 1.2e-4, "mT", 1e3) == "25.50 ± 0.12 mT"  # a leading 1: two digits
    assert plus_minus(1.0, float("nan"), "V") == "1 V"


def test_calibration_figure_draws_the_data_and_the_fit_with_named_axes() -> None:
    from protocols.calibration.figure import calibration_panels
    from protocols.calibration.fits import Estimate, RatePoint, SwitchingCurve

    rates = [RatePoint(t, 1e-3, hc, 3e-4) for t, hc in ((1.4, 0.025), (10, 0.023), (100, 0.021))]
    field = np.linspace(0.005, 0.045, 12)
    curve = SwitchingCurve(field, np.round(20 / (1 + np.exp(-(field - 0.026) / 0.001))),
                           np.full(12, 20.0), 1.0)  # fmt: skip
    h0 = Estimate("H0", 0.065, 0.002, "T", "fitted")
    delta = Estimate("delta", 57.0, 2.0, "", "fitted")
    sharrock, switching = calibration_panels(rates, [curve], h0, delta, 1e-9, 2.0)
    assert (sharrock.xlabel, sharrock.xunit, sharrock.xlog) == ("time per field step", "s", True)
    assert (sharrock.ylabel, sharrock.yunit) == ("µ0Hc", "T")
    assert (switching.xlabel, switching.xunit) == ("µ0H pulse", "T")
    assert any("µ0H0 = 65 ± 2 mT" in s.label for s in sharrock.series)
    layout = build_figure([sharrock, switching], 1300, 600)
    for plot in plots_of(layout):
        assert "(x" not in label(plot, "bottom") + label(plot, "left")
        assert_legend_free(plot)
    layout.close()


def test_times_take_ms_and_us_but_never_ks() -> None:
    hour = np.linspace(0, 3600, 10)
    layout = build_figure(
        [
            Panel("long", "gate time", "µ0Hc", [Series(hour, hour * 1e-6)], xunit="s", yunit="T"),
            Panel("short", "pulse width", "n", [Series(hour * 1e-5, hour)], xunit="s"),
        ]
    )
    long, short = plots_of(layout)
    assert label(long, "bottom") == "gate time (s)"
    assert label(short, "bottom") == "pulse width (ms)"
    layout.close()
