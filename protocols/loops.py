"""One Hall loop inside a larger protocol: sweep, record, analyse (a building block).

Protocols that verify a state (gate-program, retention, array-map, the sweep-rate series) run
many loops; each loop's points are recorded with the caller's extra columns so the run keeps
the raw data, and the loop's :class:`~protocols.analysis.hall.HallLoopResult` comes back with
the time per field point (what Sharrock's law needs).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from labctl.api import Run, param
from protocols.analysis.hall import HallLoopResult, analyze_hall_loop

LOOP_COLUMNS = {"field_set_T": "T", "field_T": "T", "v_hall_V": "V", "branch": ""}
# how the loop's columns are written on figure axes (the unit is LOOP_COLUMNS')
LOOP_LABELS = {"field_set_T": "µ0H set", "field_T": "µ0H", "v_hall_V": "V_xy", "branch": "branch"}


def field_max_param(default_T: float, help: str = "loop amplitude") -> Any:
    """The ``field_max_T`` parameter of every protocol that sweeps loops: a magnitude applied
    with both signs, bounded by the station's field limit."""
    return param(default_T, limit="field.field_T", sign="±", unit="T", low=1e-4, high=10, help=help)


def loop_setpoints(field_max_T: float, step_T: float) -> tuple[np.ndarray, np.ndarray]:
    """Setpoints from +max to −max and back on the grid k·step (branch 0 down, 1 up)."""
    n = max(2, round(field_max_T / step_T))
    down = np.linspace(n * step_T, -n * step_T, 2 * n + 1)
    up = down[::-1][1:]
    return np.concatenate([down, up]), np.concatenate([np.zeros(down.size), np.ones(up.size)])


@dataclass(frozen=True)
class LoopMeasurement:
    result: HallLoopResult
    t_step_s: float  # median station time per field point
    field_T: np.ndarray
    v_hall_V: np.ndarray
    branch: np.ndarray

    def as_dict(self) -> dict[str, Any]:
        return {**self.result.as_dict(), "t_step_s": self.t_step_s}


def measure_loop(
    run: Run,
    field_max_T: float,
    step_T: float,
    dwell_s: float = 0.0,
    saturate_s: float = 0.0,
    extra: dict[str, Any] | None = None,
    record: bool = True,
    on_point: Callable[[int, int], None] | None = None,
) -> LoopMeasurement:
    """Sweep one loop on ``run.station.field``/``hall``; record points with ``extra`` columns.

    Holds ``saturate_s`` at +max first and ``dwell_s`` at each point before reading;
    ``on_point(done, total)`` after each point (progress). Leaves the field at 0 T. Raises
    ``ValueError`` (from the analysis) when the loop does not saturate or has too few points.
    """
    magnet, hall = run.station.field, run.station.hall
    setpoints, branches = loop_setpoints(field_max_T, step_T)
    magnet.set_field(float(setpoints[0]))
    if saturate_s:
        run.sleep(saturate_s)
    fields, volts, times = np.empty(setpoints.size), np.empty(setpoints.size), []
    for i, (field_set_T, branch) in enumerate(zip(setpoints, branches, strict=True)):
        field_T = magnet.set_field(float(field_set_T))
        if dwell_s:
            run.sleep(dwell_s)
        v = hall.read_voltage()
        times.append(run.now())
        fields[i], volts[i] = field_T, v
        if record:
            run.record(
                field_set_T=float(field_set_T),
                field_T=field_T,
                v_hall_V=v,
                branch=float(branch),
                **(extra or {}),
            )
        if on_point is not None:
            on_point(i + 1, setpoints.size)
    magnet.set_field(0.0)
    result = analyze_hall_loop(fields, volts, branches, excitation_A=hall.excitation_A)
    t_step = float(np.median(np.diff(times))) if len(times) > 1 else float("nan")
    return LoopMeasurement(result, t_step, fields, volts, branches)


def try_loop(run: Run, *args: Any, **kwargs: Any) -> LoopMeasurement | None:
    """:func:`measure_loop`, or None when the loop cannot be analysed (no switching seen)."""
    try:
        return measure_loop(run, *args, **kwargs)
    except ValueError as exc:
        run.log.warning("loop not analysable: %s", exc)
        return None
