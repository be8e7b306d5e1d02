"""``gate-program``: program-and-verify a device's hidden state to a target coercive field.

The hidden magneto-ionic state is seen through the coercive field. The protocol alternates gate
pulses chosen by :class:`~protocols.gate_controller.GateController` with verification Hall
loops, and stops when the measured coercive field is within tolerance of the target, or when
the pulse, gate-time or voltage budget is spent — the result says which.

A target *level* is mapped to a coercive field by the calibration
``Hc = level_hc0_T + level·(level_hc1_T − level_hc0_T)`` (e.g. from an earlier array-map).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from labctl.api import (
    COLORS,
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
from protocols.gate_controller import GateController
from protocols.loops import LOOP_COLUMNS, LOOP_LABELS, field_max_param, measure_loop

TRAJECTORY_COLUMNS = {
    "step": "",
    "pulse_V": "V",
    "pulse_width_s": "s",
    "gate_time_s": "s",
    "hc_T": "T",
    "hc_err_T": "T",
    "hc_target_T": "T",
}
TRAJECTORY_LABELS = {
    "step": "verification step",
    "pulse_V": "V_g",
    "pulse_width_s": "pulse width",
    "gate_time_s": "gate time",
    "hc_T": "µ0Hc",
    "hc_err_T": "u(µ0Hc)",
    "hc_target_T": "µ0Hc target",
}


@dataclass(frozen=True)
class GateProgramParams:
    target: str = param("hc", choices=("hc", "level"), help="target given as Hc or as a level")
    target_hc_T: float = param(0.028, unit="T", low=0, high=10, help="target coercive field")
    target_level: float = param(0.5, low=0, high=1, help="target level (with --target level)")
    level_hc0_T: float = param(0.020, unit="T", low=0, high=10, help="Hc of level 0")
    level_hc1_T: float = param(0.035, unit="T", low=0, high=10, help="Hc of level 1")
    tolerance_T: float = param(0.001, unit="T", low=1e-6, high=1, help="stop within ± this")
    amplitude_V: float = param(
        2.0,
        limit="gate.voltage_V",
        sign="raise_polarity",
        unit="V",
        low=0.01,
        high=100,
        help="first gate amplitude",
    )
    max_amplitude_V: float = param(
        2.5,
        limit="gate.voltage_V",
        sign="raise_polarity",
        unit="V",
        low=0.01,
        high=100,
        help="voltage budget",
    )
    raise_polarity: int = param(1, choices=(1, -1), help="sign of the gate voltage raising Hc")
    initial_width_s: float = param(
        0.05, limit="gate.pulse_duration_s", unit="s", low=1e-3, high=3600, help="first pulse"
    )
    min_width_s: float = param(
        1e-3, limit="gate.pulse_duration_s", unit="s", low=1e-6, high=3600, help="shortest pulse"
    )
    max_width_s: float = param(
        60.0, limit="gate.pulse_duration_s", unit="s", low=1e-3, high=3600, help="longest pulse"
    )
    v0_V: float = param(0.15, unit="V", low=1e-3, high=10, help="kinetics voltage scale V0")
    max_pulses: int = param(40, low=1, high=10_000, help="pulse budget")
    max_gate_time_s: float = param(3600.0, unit="s", low=0, high=1e7, help="gate-time budget")
    field_max_T: float = field_max_param(0.045, help="verification loops")
    step_T: float = param(0.001, unit="T", low=1e-6, high=0.1, help="verification loop step")
    loops_per_verify: int = param(2, low=1, high=20, help="loops averaged per verification")

    def __post_init__(self) -> None:
        if self.max_amplitude_V < self.amplitude_V:
            raise ValueError("max_amplitude_V must be at least amplitude_V")
        if not self.min_width_s <= self.initial_width_s <= self.max_width_s:
            raise ValueError("initial_width_s must lie within [min_width_s, max_width_s]")

    def target_T(self) -> float:
        if self.target == "hc":
            return self.target_hc_T
        return self.level_hc0_T + self.target_level * (self.level_hc1_T - self.level_hc0_T)

    def level_of(self, hc_T: float) -> float:
        return (hc_T - self.level_hc0_T) / (self.level_hc1_T - self.level_hc0_T)


@dataclass(frozen=True, kw_only=True)
class GateProgramResult(Result):
    stop_reason: str = quantity("", "why the protocol stopped")
    within_tolerance: bool = quantity("", "the achieved Hc is within tolerance of the target")
    target_hc_T: float = quantity("T", "target coercive field")
    tolerance_T: float = quantity("T", "stop within ± this")
    initial_hc_T: float = quantity("T", "coercive field before the first pulse")
    achieved_hc_T: float = quantity("T", "coercive field after the last verification")
    achieved_hc_err_T: float = quantity("T", "its standard uncertainty (the loops' field step)")
    achieved_level: float = quantity("", "achieved Hc as a level (0: level_hc0_T, 1: level_hc1_T)")
    target_level: float = quantity("", "target Hc as a level")
    pulses: int = quantity("", "gate pulses applied")
    gate_time_s: float = quantity("s", "total time under gate pulses")
    max_voltage_V: float = quantity("V", "largest |gate amplitude| applied")
    verify_t_step_s: float = quantity("s", "median station time per verification field point")
    trajectory: dict[str, list[float]] = quantity(
        "", "pulse before each verification and the Hc it gave", default={},
        parts={k: u for k, u in TRAJECTORY_COLUMNS.items() if k != "step"},
    )  # fmt: skip
    elapsed_s: float = quantity("s", "station time of the whole run")


def verify(
    run: Run, p: GateProgramParams, step: int, record: bool = True, t_steps: list | None = None
) -> tuple[float, float]:
    """Mean coercive field (T) of ``loops_per_verify`` loops and its standard uncertainty,
    (NaN, NaN) when none could be analysed. The loops share one field grid, so their step
    uncertainties do not average down: the mean's is their mean. ``t_steps`` collects each
    loop's station time per field point (s)."""
    values, errors = [], []
    for _ in range(p.loops_per_verify):
        try:
            m = measure_loop(
                run, p.field_max_T, p.step_T, extra={"step": float(step)}, record=record
            )
        except ValueError as exc:
            run.log.warning("verification loop not analysable: %s", exc)
            continue
        values.append(m.result.coercive_field_T)
        errors.append(m.result.coercive_field_err_T)
        if t_steps is not None:
            t_steps.append(m.t_step_s)
    if not values:
        return float("nan"), float("nan")
    return float(np.nanmean(values)), float(np.nanmean(errors))


def gate_program_figure(result: dict[str, Any], points: pd.DataFrame, path: Path) -> None:
    panels = gate_program_panels(result, points)
    save_figure(path, panels, width_px=1500 if len(panels) > 1 else 900)


def gate_program_panels(result: dict[str, Any], points: pd.DataFrame) -> list[Panel]:
    """µ0Hc at each verification with its uncertainty, the target and the tolerance band;
    beside it the pulse before each verification: amplitude (V) and width (s, log axis),
    one panel each (one unit per axis)."""
    columns = ("hc_T", "hc_err_T", "pulse_V", "pulse_width_s")  # absent: no verification
    traj = points.reindex(columns=[*points.columns, *(c for c in columns if c not in points)])
    traj = traj.dropna(subset=["hc_T"])
    target = result.get("target_hc_T", np.nan)
    tol = result.get("tolerance_T", np.nan)
    x = np.arange(len(traj), dtype=float)
    ends = np.array([x[0], x[-1]]) if x.size else np.array([0.0, 1.0])
    band_x = np.concatenate([ends, [np.nan], ends])  # both tolerance lines, one colour
    band_y = np.array([target + tol] * 2 + [np.nan] + [target - tol] * 2)
    hc = traj["hc_T"].to_numpy(dtype=float)
    series = [
        Series(x, hc, "measured µ0Hc", symbol="o", yerr=traj["hc_err_T"].to_numpy(dtype=float)),
        Series(ends, np.full(2, target), f"target {target * 1e3:.1f} mT"),
        Series(band_x, band_y, f"± {tol * 1e3:.1f} mT"),
    ]
    reason, pulses = result.get("stop_reason", "?"), result.get("pulses", "?")
    title = f"gate-program: {reason} after {pulses} pulses"
    step = TRAJECTORY_LABELS["step"]
    panels = [Panel(title, step, "µ0Hc", series, yunit="T", xinteger=True)]
    pulsed = traj[traj["pulse_width_s"] > 0] if len(traj) else traj
    if len(pulsed):  # step 0 is the initial verification: no pulse before it
        steps = np.arange(len(traj))[(traj["pulse_width_s"] > 0).to_numpy()]
        amplitude = np.asarray(pulsed["pulse_V"], dtype=float)
        width = np.asarray(pulsed["pulse_width_s"], dtype=float)
        panels += [
            Panel("gate pulse amplitude", step, TRAJECTORY_LABELS["pulse_V"],
                  [Series(steps, amplitude, line=False, symbol="o")], yunit="V", xinteger=True),
            Panel("gate pulse width", step, TRAJECTORY_LABELS["pulse_width_s"],
                  [Series(steps, width, line=False, symbol="s", color=COLORS[1])],
                  yunit="s", ylog=True, xinteger=True),
        ]  # fmt: skip
    return panels


def program_to(
    run: Run,
    params: GateProgramParams,
    target_T: float,
    record: bool = True,
    step0: int = 0,
    route: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Pulse and verify until the coercive field is within tolerance of ``target_T`` or a
    budget is spent. ``record``: store loop points and trajectory rows (gate-program columns).
    ``route(terminal)`` is called with ``"gate"`` before each pulse and ``"hall"`` before each
    verification (a device behind a router).
    """
    gate = run.station.gate
    route = route or (lambda terminal: None)
    ctl = GateController(
        raise_polarity=params.raise_polarity,
        amplitude_V=params.amplitude_V,
        max_amplitude_V=params.max_amplitude_V,
        min_width_s=params.min_width_s,
        max_width_s=params.max_width_s,
        initial_width_s=params.initial_width_s,
        v0_V=params.v0_V,
        noise_T=params.tolerance_T / 4,
    )
    gate_time, pulses, saturated_misses, wrong_way = 0.0, 0, 0, 0
    route("hall")
    t_steps: list[float] = []
    hc, hc_err = verify(run, params, step0, record, t_steps)
    initial = hc
    trajectory: dict[str, list[float]] = {
        k: [] for k in ("pulse_V", "pulse_width_s", "gate_time_s", "hc_T", "hc_err_T")
    }

    def log_step(pulse_V: float, width_s: float) -> None:
        if record:
            run.record(step=float(step0 + pulses), pulse_V=pulse_V, pulse_width_s=width_s,
                       gate_time_s=gate_time, hc_T=hc, hc_err_T=hc_err,
                       hc_target_T=target_T)  # fmt: skip
        values = (pulse_V, width_s, gate_time, hc, hc_err)
        for key, value in zip(trajectory, values, strict=True):
            trajectory[key].append(value)

    log_step(0.0, 0.0)
    reason = ""
    while True:
        error = target_T - hc
        if not np.isfinite(hc):
            reason = "verification failed (no coercive field: in-plane or not saturated)"
        elif abs(error) <= params.tolerance_T:
            reason = "within tolerance"
        elif pulses >= params.max_pulses:
            reason = "pulse budget"
        elif saturated_misses >= 2:
            reason = "voltage budget"
        elif wrong_way >= 2:
            reason = "no control: Hc moves against the pulse polarity"
        if reason:
            break
        pulse = ctl.propose(error)
        if gate_time + pulse.width_s > params.max_gate_time_s:
            reason = "gate-time budget"
            break
        route("gate")
        gate.pulse(pulse.voltage_V, pulse.width_s)
        route("hall")
        pulses += 1
        gate_time += pulse.width_s
        before = hc
        hc, hc_err = verify(run, params, step0 + pulses, record, t_steps)
        change = hc - before
        ctl.observe(pulse, change)
        wrong_way = wrong_way + 1 if change * np.sign(error) < -params.tolerance_T else 0
        saturated_misses = saturated_misses + 1 if pulse.saturated else 0
        log_step(pulse.voltage_V, pulse.width_s)
        run.progress(
            pulses,
            params.max_pulses,
            f"Hc {plus_minus(hc, hc_err, 'mT', 1e3)} → {target_T * 1e3:.2f} mT",
        )
    return {
        "stop_reason": reason,
        "within_tolerance": reason == "within tolerance",
        "target_hc_T": target_T,
        "tolerance_T": params.tolerance_T,
        "initial_hc_T": initial,
        "achieved_hc_T": hc,
        "achieved_hc_err_T": hc_err,
        "achieved_level": params.level_of(hc),
        "target_level": params.level_of(target_T),
        "pulses": pulses,
        "gate_time_s": gate_time,
        "max_voltage_V": float(max((abs(v) for v in trajectory["pulse_V"]), default=0.0)),
        "verify_t_step_s": float(np.median(t_steps)) if t_steps else float("nan"),
        "trajectory": trajectory,
    }


@protocol(
    "gate-program",
    columns={**LOOP_COLUMNS, **TRAJECTORY_COLUMNS},
    labels={**LOOP_LABELS, **TRAJECTORY_LABELS},
    setpoints=("step",),
    axes=(("step", "hc_T"), ("field_T", "v_hall_V")),
    figure=gate_program_figure,
    needs=("gate", "field", "hall"),
)
def gate_program(run: Run, params: GateProgramParams) -> GateProgramResult:
    """Gate pulses and verification loops until the coercive field reaches the target."""
    result = program_to(run, params, params.target_T())
    return GateProgramResult.from_dict({**result, "elapsed_s": run.now()})
