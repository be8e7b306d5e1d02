"""``hall-loop``: sweep the field down and back up, recording the Hall voltage."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from labctl.api import (
    Panel,
    Result,
    Run,
    Series,
    param,
    plus_minus,
    protocol,
    quantity,
    save_figure,
)
from protocols.loops import (
    LOOP_COLUMNS,
    LOOP_LABELS,
    LoopMeasurement,
    field_max_param,
    loop_setpoints,
    measure_loop,
)


@dataclass(frozen=True)
class HallLoopParams:
    field_max_T: float = field_max_param(0.08, help="sweep from +max to -max and back")
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
        """Setpoints (T) and branch labels (0 descending, 1 ascending) of the loop."""
        return loop_setpoints(self.field_max_T, self.step_T)


@dataclass(frozen=True, kw_only=True)
class HallLoopRunResult(Result):
    hc_down_T: float = quantity("T", "descending branch crosses the loop centre (< 0)")
    hc_up_T: float = quantity("T", "ascending branch crosses the loop centre (> 0)")
    coercive_field_T: float = quantity("T", "µ0Hc = (hc_up − hc_down) / 2")
    loop_shift_T: float = quantity("T", "(hc_up + hc_down) / 2: exchange bias or a field offset")
    hc_down_err_T: float = quantity("T", "standard uncertainty of hc_down (the field step)")
    hc_up_err_T: float = quantity("T", "standard uncertainty of hc_up (the field step)")
    coercive_field_err_T: float = quantity("T", "standard uncertainty of µ0Hc")
    loop_shift_err_T: float = quantity("T", "standard uncertainty of the loop shift")
    amplitude_V: float = quantity("V", "AHE amplitude: half the jump between saturated branches")
    offset_V: float = quantity("V", "loop centre")
    r_ahe_ohm: float = quantity("Ω", "AHE resistance (amplitude / excitation current)")
    r_offset_ohm: float = quantity("Ω", "offset resistance")
    squareness: float = quantity("", "remanent / saturated amplitude, 1 for a square loop")
    points: int = quantity("", "points in the loop")
    t_step_s: float = quantity("s", "station time per field point (sets the thermal Hc)")

    @classmethod
    def from_loop(cls, m: LoopMeasurement) -> HallLoopRunResult:
        return cls.from_dict(m.as_dict())


def hall_loop_figure(result: dict[str, Any], points: pd.DataFrame, path: Path) -> None:
    branches = [
        Series(
            g["field_T"].to_numpy(dtype=float),
            g["v_hall_V"].to_numpy(dtype=float),
            "descending" if b == 0 else "ascending",
        )
        for b, g in points.groupby("branch")
    ]
    vlines = [result[k] for k in ("hc_down_T", "hc_up_T") if np.isfinite(result.get(k, np.nan))]
    hc = plus_minus(result.get("coercive_field_T", np.nan),
                    result.get("coercive_field_err_T", np.nan), "mT", 1e3)  # fmt: skip
    title = f"Hall loop: µ0Hc = {hc}"
    save_figure(path, [Panel(title, "µ0H", "V_xy", branches, vlines, xunit="T", yunit="V")])


@protocol(
    "hall-loop",
    columns=LOOP_COLUMNS,
    labels=LOOP_LABELS,
    setpoints=("field_set_T",),
    axes=(("field_T", "v_hall_V"),),
    figure=hall_loop_figure,
    needs=("field", "hall"),
)
def hall_loop(run: Run, params: HallLoopParams) -> HallLoopRunResult:
    """Sweep the field from +max to -max and back, recording the Hall voltage at each point."""
    m = measure_loop(
        run,
        params.field_max_T,
        params.step_T,
        dwell_s=params.dwell_s,
        saturate_s=params.saturate_s,
        on_point=lambda done, total: run.progress(done, total, "field sweep"),
    )
    return HallLoopRunResult.from_loop(m)
