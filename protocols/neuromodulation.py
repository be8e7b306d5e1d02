"""``neuromodulation``: flip probability vs a global field pulse, for devices at several levels.

The global field acts on every device at once, so it is a global learning rate whose effect
depends on each device's hidden level (docs/physics.md §7): devices programmed to a higher coercive
field (more consolidated) flip less for the same pulse. With a router and one device per level
the devices are programmed through the router and every field pulse is one trial for all of
them; without a router the connected device is programmed to each level in turn.
"""

from __future__ import annotations

import dataclasses
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
from protocols.analysis.switching import empirical_x50, fit_switching, p_switch, x50_shift
from protocols.gate_program import GateProgramParams, program_to
from protocols.loops import field_max_param
from protocols.switching_probability import SwitchingParams, measure_curve
from protocols.trials import StateReference, calibrate_states, field_pulse, reset


@dataclass(frozen=True)
class NeuromodulationParams:
    levels_hc_T: list[float] = param(
        [0.022, 0.027, 0.032], unit="T", low=0, high=10, help="coercive field of each level"
    )
    devices: list[float] = param([], help="one device per level (router); empty: 0, 1, 2 ...")
    field_start_T: float = param(
        0.014, limit="field.field_T", unit="T", low=0, high=10, help="weakest field pulse"
    )
    field_stop_T: float = param(
        0.040, limit="field.field_T", unit="T", low=0, high=10, help="strongest field pulse"
    )
    points: int = param(14, low=3, high=1000, help="field pulse amplitudes (router mode)")
    fine_points: int = param(10, low=3, high=1000, help="one device at a time: auto range")
    trials: int = param(20, low=1, high=100_000, help="trials per amplitude")
    width_s: float = param(1.0, unit="s", low=1e-6, high=3600, help="field pulse duration")
    reset_field_T: float = param(
        -0.045, limit="field.field_T", unit="T", low=-10, high=10, help="reset (sign: state)"
    )
    field_max_T: float = field_max_param(0.045, help="verification loops")
    level_tolerance_T: float = param(0.001, unit="T", low=1e-6, high=1, help="level tolerance")
    tau0_s: float = param(1e-9, unit="s", low=1e-15, high=1e-3, help="attempt time (fixed)")
    n_exponent: float = param(2.0, low=0.5, high=4, help="field barrier exponent n (fixed)")

    def __post_init__(self) -> None:
        if not self.levels_hc_T:
            raise ValueError("levels_hc_T needs at least one level")
        if self.field_stop_T <= self.field_start_T:
            raise ValueError("field_stop_T must be above field_start_T")
        if self.reset_field_T == 0:
            raise ValueError("reset_field_T must be non-zero (its sign is the reset state)")

    def fields(self) -> np.ndarray:
        """Shared field grid of the parallel (router) mode."""
        return np.linspace(self.field_start_T, self.field_stop_T, self.points)

    def switching(self) -> SwitchingParams:
        """One device at a time: a field-mode switching curve with the automatic range."""
        return SwitchingParams(
            mode="field",
            trials=self.trials,
            points=self.fine_points,
            width_s=self.width_s,
            field_max_T=self.field_max_T,
            reset_field_T=self.reset_field_T,
            tau0_s=self.tau0_s,
            n_exponent=self.n_exponent,
        )


@dataclass(frozen=True, kw_only=True)
class NeuromodulationResult(Result):
    parallel: bool = quantity("", "devices measured in parallel through the router")
    width_s: float = quantity("s", "field pulse duration")
    tau0_s: float = quantity("s", "attempt time (fixed)")
    n_exponent: float = quantity("", "field barrier exponent n (fixed)")
    h50_by_level: list[list[float]] = quantity(
        "", "model-free P = 1/2 field of each level", default=[],
        parts={"level_hc_T": "T", "h50_T": "T"},
    )  # fmt: skip
    h50_shift_with_level: float = quantity(
        "", "+1: the half-switching field rises with the level (metaplasticity)"
    )
    levels: list[dict[str, Any]] = quantity("", "one flip-probability curve per level", default=[])


def _router_hook(run: Run, device: int) -> Callable[[str], None]:
    router = run.station.router

    def route(terminal: str) -> None:
        router.connect(terminal, device)

    return route


def _hall_router(run: Run) -> Callable[[int], None]:
    router = run.station.router

    def route(device: int) -> None:
        router.connect("hall", device)

    return route


def _scan(
    run: Run,
    p: NeuromodulationParams,
    refs: dict[int, StateReference],
    route: Callable[[int], None],
    level_of: dict[int, int],
    holds_s: list[float],
) -> dict[int, np.ndarray]:
    """Flips per device for every field: reset all, one global pulse, read each device.
    Each pulse's actual hold time goes to ``holds_s``."""
    hall = run.station.hall
    start = 1 if p.reset_field_T > 0 else -1
    flips = {d: np.zeros(p.points) for d in refs}
    valid = {d: np.zeros(p.points) for d in refs}
    for j, field_T in enumerate(p.fields()):
        for _ in range(p.trials):
            reset(run, p.reset_field_T)
            holds_s.append(field_pulse(run, -start * float(field_T), p.width_s))
            for device, ref in refs.items():
                route(device)
                flipped = ref.state(hall.read_voltage()) != start
                flips[device][j] += flipped
                valid[device][j] += 1
        for device in refs:
            n = valid[device][j]
            run.record(device=float(device), level=float(level_of[device]),
                       field_T=float(field_T), flips=flips[device][j], trials=n,
                       p_switch=flips[device][j] / n if n else np.nan)  # fmt: skip
        run.progress(j + 1, p.points, f"field pulse {field_T * 1e3:.1f} mT")
    return {d: np.stack([flips[d], valid[d]]) for d in refs}


def neuromodulation_figure(result: dict[str, Any], points: pd.DataFrame, path: Path) -> None:

    series = []
    for i, level in enumerate(result.get("levels", [])):
        color = COLORS[i % len(COLORS)]
        h = np.asarray(level["field_T"], dtype=float)
        p = np.asarray(level["p_switch"], dtype=float)
        hc = plus_minus(level["achieved_hc_T"], level.get("achieved_hc_err_T", np.nan), "mT", 1e3)
        label = f"µ0Hc {hc}: µ0H50 {level['h50_T'] * 1e3:.1f} mT"
        series.append(Series(h, p, label, line=False, symbol="o", color=color))
        if np.isfinite(level.get("delta", np.nan)):
            grid = np.linspace(h.min(), h.max(), 200)
            model = p_switch(grid, "field", scale=level["H0_T"], delta=level["delta"],
                             width_s=level.get("hold_s", result["width_s"]),
                             tau0_s=result["tau0_s"],
                             n=result["n_exponent"])  # fmt: skip
            series.append(Series(grid, model, "", color=color))
    mode = "devices in parallel" if result.get("parallel") else "one device, level by level"
    title = f"flip probability vs global field pulse ({mode})"
    save_figure(path, [Panel(title, "µ0H pulse", "P(flip)", series, xunit="T")])


@protocol(
    "neuromodulation",
    columns={
        "device": "",
        "level": "",
        "field_T": "T",
        "flips": "",
        "trials": "",
        "p_switch": "",
        "drive": "",
        "level_hc_T": "T",
        "pass": "",
    },
    labels={
        "drive": "drive",
        "flips": "flips",
        "trials": "trials",
        "p_switch": "P(flip)",
        "level": "level",
        "device": "device",
        "field_T": "µ0H pulse",
        "level_hc_T": "µ0Hc of the level",
        "pass": "pass",
    },
    setpoints=("level", "field_T"),
    axes=(("field_T", "p_switch"), ("drive", "p_switch")),
    figure=neuromodulation_figure,
    needs=("gate", "field", "hall"),
)
def neuromodulation(run: Run, params: NeuromodulationParams) -> NeuromodulationResult:
    """Program devices to several levels; P(flip) vs global field pulse for each level."""
    program = dataclasses.replace(
        GateProgramParams(),
        field_max_T=params.field_max_T,
        tolerance_T=params.level_tolerance_T,
        loops_per_verify=1,
    )
    n_levels = len(params.levels_hc_T)
    parallel = run.station.has("router")
    devices = [int(d) for d in params.devices] or list(range(n_levels if parallel else 1))
    if parallel and len(devices) < n_levels:
        raise ValueError(f"{n_levels} levels need {n_levels} devices, got {devices}")
    levels_out: list[dict[str, Any]] = []
    batches = (
        [list(range(n_levels))] if parallel else [[i] for i in range(n_levels)]
    )  # which levels are measured together
    for batch in batches:
        refs: dict[int, StateReference] = {}
        level_of: dict[int, int] = {}
        programmed: dict[int, dict[str, Any]] = {}
        for i in batch:
            device = devices[i] if parallel else devices[0]
            hook = _router_hook(run, device) if parallel else None
            prog = program_to(run, program, params.levels_hc_T[i], record=False, route=hook)
            programmed[i] = {k: v for k, v in prog.items() if k != "trajectory"}
            if hook is not None:
                hook("hall")
            refs[device] = calibrate_states(run, params.field_max_T)
            level_of[device] = i
        if parallel:
            holds_s: list[float] = []
            counts = _scan(run, params, refs, _hall_router(run), level_of, holds_s)
            hold_s = float(np.median(holds_s))
            fields = params.fields()  # the shared grid
        else:
            i = batch[0]
            curve = measure_curve(
                run, params.switching(), {"level": float(i), "level_hc_T": params.levels_hc_T[i]}
            )
            counts = {devices[0]: np.array([curve["flips"], curve["trials"]])}
            hold_s = curve["hold_s"]
            fields = np.asarray(curve["drive"])
        for device, i in level_of.items():
            k, n = counts[device]
            entry: dict[str, Any] = {
                "level": i,
                "device": device,
                "target_hc_T": params.levels_hc_T[i],
                "achieved_hc_T": programmed[i]["achieved_hc_T"],
                "achieved_hc_err_T": programmed[i]["achieved_hc_err_T"],
                "programming": programmed[i],
                "field_T": fields.tolist(),
                "flips": k.tolist(),
                "trials": n.tolist(),
                "p_switch": (k / np.maximum(n, 1)).tolist(),
                "hold_s": hold_s,
                "h50_T": empirical_x50(fields, k, n),  # model-free, for the level comparison
            }
            try:
                fit = fit_switching(fields, k, n, "field", width_s=hold_s,
                                    tau0_s=params.tau0_s, n=params.n_exponent)  # fmt: skip
                entry.update(delta=fit.delta, delta_err=fit.delta_err, H0_T=fit.scale,
                             H0_err_T=fit.scale_err, h50_fit_T=fit.x50)  # fmt: skip
            except (ValueError, RuntimeError) as exc:
                entry["fit_error"] = str(exc)
            levels_out.append(entry)
    levels_out.sort(key=lambda e: e["level"])
    h50 = {e["achieved_hc_T"]: e.get("h50_T", np.nan) for e in levels_out}
    return NeuromodulationResult(
        parallel=parallel,
        width_s=params.width_s,
        tau0_s=params.tau0_s,
        n_exponent=params.n_exponent,
        h50_by_level=[[k, v] for k, v in sorted(h50.items())],
        h50_shift_with_level=x50_shift(h50),
        levels=levels_out,
    )
