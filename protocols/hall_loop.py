"""``hall-loop``: sweep the field down and back up, recording the Hall voltage."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from labctl.api import Panel, Run, Series, param, protocol, save_figure
from protocols.analysis.hall import analyze_hall_loop


@dataclass(frozen=True)
class HallLoopParams:
    field_max_T: float = param(
        0.08,
        limit="field.field_T",
        sign="±",
        unit="T",
        low=1e-4,
        high=10,
        help="sweep from +max to -max and back",
    )
    step_T: float = param(0.001, unit="T", low=1e-6, high=1, help="field step")
    dwell_s: float = param(
        0.1, unit="s", low=0, high=3600, help="wait at each field point before reading"
    )
    saturate_s: float = param(1.0, unit="s", low=0, high=3600, help="hold at +max before the sweep")

    def __post_init__(self) -> None:
        if self.step_T >= self.field_max_T:
            raise ValueError(
                f"step_T ({self.step_T} T) must be below field_max_T ({self.field_max_T} T)"
            )

    def sweep(self) -> tuple[np.ndarray, np.ndarray]:
        """Setpoints (T) and branch labels (0 descending, 1 ascending)."""
        n = round(self.field_max_T / self.step_T)
        down = np.linspace(self.field_max_T, -self.field_max_T, 2 * n + 1)
        up = down[::-1][1:]
        return np.concatenate([down, up]), np.concatenate([np.zeros(down.size), np.ones(up.size)])


def hall_loop_figure(result: dict[str, Any], points: pd.DataFrame, path: Path) -> None:
    branches = [
        Series(g["field_T"] * 1e3, g["v_hall_V"] * 1e6, "descending" if b == 0 else "ascending")
        for b, g in points.groupby("branch")
    ]
    vlines = [
        result[k] * 1e3 for k in ("hc_down_T", "hc_up_T") if np.isfinite(result.get(k, np.nan))
    ]
    title = f"Hall loop: µ0Hc = {result.get('coercive_field_T', np.nan) * 1e3:.2f} mT"
    save_figure(path, [Panel(title, "µ0H (mT)", "V_xy (µV)", branches, vlines)])


@protocol(
    "hall-loop",
    columns={"field_set_T": "T", "field_T": "T", "v_hall_V": "V", "branch": ""},
    setpoints=("field_set_T",),
    axes=(("field_T", "v_hall_V"),),
    figure=hall_loop_figure,
)
def hall_loop(run: Run, params: HallLoopParams) -> dict[str, Any]:
    """Sweep the field from +max to -max and back, recording the Hall voltage at each point."""
    magnet, hall = run.station.field, run.station.hall
    setpoints, branches = params.sweep()
    magnet.set_field(float(setpoints[0]))
    run.sleep(params.saturate_s)
    for i, (field_set_T, branch) in enumerate(zip(setpoints, branches, strict=True)):
        field_T = magnet.set_field(float(field_set_T))
        run.sleep(params.dwell_s)
        run.record(
            field_set_T=field_set_T, field_T=field_T, v_hall_V=hall.read_voltage(), branch=branch
        )
        run.progress(i + 1, setpoints.size, "field sweep")
    magnet.set_field(0.0)
    points = run.points()
    result = analyze_hall_loop(
        points["field_T"].to_numpy(),
        points["v_hall_V"].to_numpy(),
        points["branch"].to_numpy(),
        excitation_A=hall.excitation_A,
    )
    # station time per field point (settling + reading): what sets the thermally activated Hc
    t_step_s = float(np.median(np.diff(points["t_s"].to_numpy())))
    return {**result.as_dict(), "t_step_s": t_step_s}
