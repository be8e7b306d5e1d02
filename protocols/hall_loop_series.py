"""``hall-loop-series``: coercive field versus sweep rate, fitted to Sharrock's law (Δ, H0)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import numpy as np
import pandas as pd

from labctl.api import Panel, Result, Run, Series, param, protocol, quantity, save_figure
from protocols.analysis.sharrock import fit_sharrock, stepwise_hc_T
from protocols.loops import LOOP_COLUMNS, LOOP_LABELS, field_max_param, measure_loop


@dataclass(frozen=True)
class HallLoopSeriesParams:
    field_max_T: float = field_max_param(0.045)
    step_T: float = param(0.001, unit="T", low=1e-6, high=0.1, help="field step of every loop")
    dwells_s: list[float] = param(
        [0.0, 1.0, 10.0, 100.0, 1000.0],
        unit="s",
        low=0,
        high=1e5,
        help="extra wait per field point, one loop set per value (log-spaced sweep rates)",
    )
    loops_per_dwell: int = param(3, low=1, high=100, help="loops averaged at each sweep rate")
    tau0_s: float = param(1e-9, unit="s", low=1e-15, high=1e-3, help="attempt time (held fixed)")
    n_exponent: float = param(2.0, low=0.5, high=4, help="barrier exponent n (held fixed)")

    def __post_init__(self) -> None:
        if self.step_T >= self.field_max_T:
            raise ValueError(
                f"step_T ({self.step_T} T) must be below field_max_T ({self.field_max_T} T)"
            )
        if len(set(self.dwells_s)) < 2:
            raise ValueError("dwells_s needs two or more different values for a Sharrock fit")


SERIES_UNITS = {"dwell_s": "s", "t_step_s": "s", "hc_T": "T", "hc_sem_T": "T", "samples": ""}


@dataclass(frozen=True, kw_only=True)
class HallLoopSeriesResult(Result):
    delta: float = quantity("", "thermal stability Δ = E_b / kT fitted")
    delta_err: float = quantity("", "standard error of Δ")
    H0_T: float = quantity("T", "intrinsic switching field µ0H0 fitted")
    H0_err_T: float = quantity("T", "standard error of µ0H0")
    tau0_s: float = quantity("s", "attempt time (held fixed)")
    n_exponent: float = quantity("", "barrier exponent n (held fixed)")
    step_T: float = quantity("T", "field step of every loop")
    chi2_reduced: float = quantity("", "reduced χ² of the fit")
    points: int = quantity("", "sweep rates fitted")
    model: str = quantity("", "the Sharrock form fitted")
    series: dict[str, list[float]] = quantity(
        "", "mean |Hc| per sweep rate", default={}, parts=SERIES_UNITS
    )


def summarize_series(rows: list[dict[str, float]]) -> pd.DataFrame:
    """Per sweep rate: time per step, mean |Hc| of every branch and its standard error."""
    frame = pd.DataFrame(rows)
    out = []
    for dwell, g in frame.groupby("dwell_s"):
        hc = np.concatenate([-g["hc_down_T"].to_numpy(), g["hc_up_T"].to_numpy()])
        hc = hc[np.isfinite(hc)]
        sem = float(np.std(hc, ddof=1) / np.sqrt(hc.size)) if hc.size > 1 else float("nan")
        out.append(
            {
                "dwell_s": float(cast(float, dwell)),  # a key of the numeric dwell_s column
                "t_step_s": float(cast(pd.Series, g["t_step_s"]).median()),
                "hc_T": float(np.mean(hc)) if hc.size else float("nan"),
                "hc_sem_T": sem,
                "samples": int(hc.size),
            }
        )
    return pd.DataFrame(out)


def analyze_series(
    rows: list[dict[str, float]], step_T: float, tau0_s: float, n: float
) -> dict[str, Any]:
    """Sharrock fit of the per-rate mean coercive fields (errors floored at a tenth of a step)."""
    table = summarize_series(rows)
    floor = step_T / 10 if step_T > 0 else 1e-5
    err = np.fmax(np.nan_to_num(table["hc_sem_T"].to_numpy(), nan=step_T / 2), floor)
    fit = fit_sharrock(
        table["t_step_s"].to_numpy(),
        table["hc_T"].to_numpy(),
        err,
        step_T=step_T,
        tau0_s=tau0_s,
        n=n,
    )
    return {**fit.as_dict(), "series": table.to_dict(orient="list")}


def series_figure(result: dict[str, Any], points: pd.DataFrame, path: Path) -> None:
    series = result.get("series", {})
    t = np.asarray(series.get("t_step_s", []), dtype=float)
    hc = np.asarray(series.get("hc_T", []), dtype=float)
    sem = np.asarray(series.get("hc_sem_T", np.full(hc.size, np.nan)), dtype=float)
    panels = []
    measured = [Series(t, hc, "measured (± s.e.m.)", line=False, symbol="o", yerr=sem)]
    if t.size and np.isfinite(result.get("delta", np.nan)):
        grid = np.logspace(np.log10(t.min()) - 0.3, np.log10(t.max()) + 0.3, 60)
        model = stepwise_hc_T(
            grid, result["step_T"], result["H0_T"], result["delta"], result["tau0_s"],
            result["n_exponent"],
        )  # fmt: skip
        measured.append(Series(grid, model, "Sharrock fit"))
    title = (
        f"Δ = {result.get('delta', np.nan):.1f} ± {result.get('delta_err', np.nan):.1f}, "
        f"µ0H0 = {result.get('H0_T', np.nan) * 1e3:.1f} mT"
    )
    panels.append(
        Panel(title, "time per field step", "µ0Hc", measured, xunit="s", yunit="T", xlog=True)
    )
    loops = []
    for dwell, g in points.groupby("dwell_s"):
        first = g[g["loop"] == g["loop"].min()]
        field = np.asarray(first["field_T"], dtype=float)
        v = np.asarray(first["v_hall_V"], dtype=float)
        loops.append(Series(field, v, f"dwell {dwell:g} s"))
    panels.append(Panel("first loop at each rate", "µ0H", "V_xy", loops, xunit="T", yunit="V"))
    save_figure(path, panels, width_px=1200)


@protocol(
    "hall-loop-series",
    columns={**LOOP_COLUMNS, "dwell_s": "s", "loop": ""},
    labels={**LOOP_LABELS, "dwell_s": "dwell", "loop": "loop"},
    setpoints=("dwell_s", "loop", "field_set_T"),
    axes=(("field_T", "v_hall_V"),),
    figure=series_figure,
    needs=("field", "hall"),
)
def hall_loop_series(run: Run, params: HallLoopSeriesParams) -> HallLoopSeriesResult:
    """Hall loops at several sweep rates; Sharrock's law fitted to Hc versus time per step."""
    rows: list[dict[str, float]] = []
    total = len(params.dwells_s) * params.loops_per_dwell
    loop = 0
    for dwell_s in params.dwells_s:
        for _ in range(params.loops_per_dwell):
            m = measure_loop(
                run,
                params.field_max_T,
                params.step_T,
                dwell_s=dwell_s,
                extra={"dwell_s": dwell_s, "loop": float(loop)},
            )
            rows.append({"dwell_s": dwell_s, **m.as_dict()})
            loop += 1
            run.progress(loop, total, f"loop {loop}/{total} (dwell {dwell_s:g} s)")
    fitted = analyze_series(rows, params.step_T, params.tau0_s, params.n_exponent)
    return HallLoopSeriesResult.from_dict(fitted)
