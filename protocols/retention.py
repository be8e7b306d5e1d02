"""``retention``: hold the gate at 0 V (or a bias) and track Hc and the AHE amplitude over time.

Measurements are log-spaced in hold time (hours of station time cost nothing on the virtual
clock). Each one is a Hall loop at 0 V gate; with a bias the gate is ramped back to it between
loops, so ``bias_time_s`` counts only the time under bias.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from labctl.api import COLORS, Panel, Result, Run, Series, param, protocol, quantity, save_figure
from protocols.analysis.retention import analyze_retention
from protocols.loops import LOOP_COLUMNS, LOOP_LABELS, field_max_param, try_loop


@dataclass(frozen=True)
class RetentionParams:
    bias_V: float = param(
        0.0, limit="gate.voltage_V", unit="V", low=-100, high=100, help="gate voltage while holding"
    )
    first_s: float = param(10.0, unit="s", low=1e-3, high=1e8, help="first hold time")
    last_s: float = param(4 * 3600.0, unit="s", low=1e-3, high=1e9, help="last hold time")
    points: int = param(8, low=3, high=200, help="log-spaced measurements")
    field_max_T: float = field_max_param(0.045)
    step_T: float = param(0.001, unit="T", low=1e-6, high=0.1, help="loop field step")
    threshold_rel: float = param(
        0.05, low=0, high=1, help="non-volatile: relative change below this over the span"
    )

    def __post_init__(self) -> None:
        if self.last_s <= self.first_s:
            raise ValueError("last_s must be above first_s")

    def schedule(self) -> np.ndarray:
        return np.logspace(np.log10(self.first_s), np.log10(self.last_s), self.points)


def drift_units(unit: str) -> dict[str, str]:
    """Units of the drift analysis (:func:`~protocols.analysis.retention.analyze_retention`)
    of a quantity in ``unit``."""
    per_decade = f"{unit}/decade" if unit else "1/decade"
    return {"initial": unit, "final": unit, "drift_per_decade": per_decade,
            "drift_per_decade_err": per_decade, "relative_drift_per_decade": "1/decade",
            "decades": "", "relative_change": "", "span_drift_rel": "",
            "span_drift_rel_err": "", "nonvolatile": "", "points": ""}  # fmt: skip


@dataclass(frozen=True, kw_only=True)
class RetentionRunResult(Result):
    bias_V: float = quantity("V", "gate voltage while holding")
    threshold_rel: float = quantity("", "non-volatile: relative change below this over the span")
    nonvolatile: bool = quantity("", "neither Hc nor the AHE amplitude drifted past the threshold")
    hold_span_s: float = quantity("s", "last hold time")
    bias_time_s: float = quantity("s", "time under bias")
    hc: dict[str, Any] = quantity("T", "drift of Hc", default={}, parts=drift_units("T"))
    amplitude: dict[str, Any] = quantity(
        "V", "drift of the AHE amplitude", default={}, parts=drift_units("V")
    )
    hold_s: list[float] = quantity("s", "hold time of each loop", default=[])
    hc_T: list[float] = quantity("T", "coercive field of each loop", default=[])
    amplitude_V: list[float] = quantity("V", "AHE amplitude of each loop", default=[])


def _change_panel(
    title: str, hold_s: np.ndarray, values: np.ndarray, threshold_rel: float
) -> Panel:
    """Relative change (%) from the mean vs hold time (log axis), the fitted drift (linear in
    log10 of the hold), the ± threshold."""
    lt = np.log10(hold_s)
    ok = np.isfinite(values)
    mean = float(np.mean(values[ok])) if ok.any() else float("nan")
    change = (values / mean - 1.0) * 100.0
    series = [Series(hold_s, change, "measured", line=False, symbol="o", color=COLORS[0])]
    if ok.sum() >= 2:
        slope, intercept = np.polyfit(lt[ok], change[ok], 1)
        ends = np.array([lt[ok].min(), lt[ok].max()])
        fit = intercept + slope * ends
        series.append(Series(10**ends, fit, "fitted drift", color=COLORS[1]))
    if lt.size:
        ends = np.array([hold_s.min(), hold_s.max()])
        band = np.array([threshold_rel * 100] * 2 + [np.nan] + [-threshold_rel * 100] * 2)
        series.append(
            Series(np.r_[ends, np.nan, ends], band, f"± {threshold_rel:.0%}", color="#888888")
        )
    for s in series:
        s.x = np.asarray(s.x, dtype=float)
    return Panel(title, "hold", "change from the mean", series, xunit="s", yunit="%", xlog=True)


def _mean(values: np.ndarray) -> float:
    """Mean of the finite values; NaN (no warning) for a run that ended before any."""
    finite = values[np.isfinite(values)]
    return float(finite.mean()) if finite.size else float("nan")


def retention_figure(result: dict[str, Any], points: pd.DataFrame, path: Path) -> None:
    rows = points.dropna(subset=["hold_s"]) if "hold_s" in points else points.iloc[:0]
    rows = rows[rows["hold_s"] > 0]
    hold = np.asarray(rows["hold_s"], dtype=float)
    hc = result.get("hc", {})
    threshold = float(result.get("threshold_rel", 0.05))
    verdict = "non-volatile" if result.get("nonvolatile") else "volatile"
    bias = f"{result.get('bias_V', 0):g} V"
    hc_T = np.asarray(rows["hc_T"], dtype=float)
    hc_title = f"µ0Hc at {bias}: {verdict} (mean {_mean(hc_T) * 1e3:.1f} mT" + (
        f", drift {hc.get('span_drift_rel', np.nan):+.1%}"
        f" ± {hc.get('span_drift_rel_err', np.nan):.1%} over the span)"
    )
    amp = np.asarray(rows["amplitude_V"], dtype=float)
    amp_title = f"AHE amplitude (mean {_mean(amp) * 1e6:.1f} µV)"
    panels = [
        _change_panel(hc_title, hold, hc_T, threshold),
        _change_panel(amp_title, hold, amp, threshold),
    ]
    save_figure(path, panels, width_px=1200)


@protocol(
    "retention",
    columns={
        **LOOP_COLUMNS,
        "loop": "",
        "hold_s": "s",
        "bias_time_s": "s",
        "hc_T": "T",
        "amplitude_V": "V",
    },
    labels={
        **LOOP_LABELS,
        "loop": "loop",
        "hold_s": "hold",
        "bias_time_s": "time under bias",
        "hc_T": "µ0Hc",
        "amplitude_V": "AHE amplitude",
    },
    setpoints=("loop",),
    axes=(("hold_s", "hc_T"), ("field_T", "v_hall_V")),
    figure=retention_figure,
    needs=("gate", "field", "hall"),
)
def retention(run: Run, params: RetentionParams) -> RetentionRunResult:
    """Hold at the bias; Hall loops at log-spaced hold times; drift per decade of Hc, amplitude."""
    gate = run.station.gate
    t0 = run.now()
    bias_time = 0.0
    hold, hcs, amps = [], [], []
    schedule = params.schedule()
    for i, t_target in enumerate(schedule):
        wait = t0 + t_target - run.now()
        if wait > 0:
            if params.bias_V:
                gate.ramp_to(params.bias_V)
            run.sleep(wait)
            if params.bias_V:
                bias_time += wait
                gate.ramp_to(0.0)
        t_hold = run.now() - t0
        m = try_loop(run, params.field_max_T, params.step_T, extra={"loop": float(i)})
        hc = m.result.coercive_field_T if m else float("nan")
        amp = m.result.amplitude_V if m else float("nan")
        run.record(loop=float(i), hold_s=t_hold, bias_time_s=bias_time, hc_T=hc, amplitude_V=amp)
        hold.append(t_hold)
        hcs.append(hc)
        amps.append(amp)
        run.progress(i + 1, schedule.size, f"hold {t_hold:.3g} s: Hc {hc * 1e3:.2f} mT")
    hc_result = analyze_retention(np.array(hold), np.array(hcs), params.threshold_rel)
    amp_result = analyze_retention(np.array(hold), np.array(amps), params.threshold_rel)
    return RetentionRunResult(
        bias_V=params.bias_V,
        threshold_rel=params.threshold_rel,
        nonvolatile=hc_result.nonvolatile and amp_result.nonvolatile,
        hold_span_s=float(hold[-1]),
        bias_time_s=bias_time,
        hc=hc_result.as_dict(),
        amplitude=amp_result.as_dict(),
        hold_s=hold,
        hc_T=hcs,
        amplitude_V=amps,
    )
