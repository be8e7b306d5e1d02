"""``switching-probability``: flip probability vs field, write amplitude or write width.

Each trial resets the device with the field, checks the reset, applies one drive (a global
field pulse, or a write pulse of the pulse source) and reads the state at zero field. With
``start = stop = 0`` the drive range is found by a coarse scan first. The Néel–Arrhenius
pulse law (docs/physics.md §3) is fitted to the counts (Δ and H0, or Δ and Vc0 → Jc0, or the
barrier for a width scan). With ``levels_hc_T`` the device is gate-programmed to each coercive
field in turn and the curve repeated: a family showing metaplasticity (a higher level needs a
larger drive).
"""

from __future__ import annotations

import dataclasses
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
from protocols.analysis.switching import (
    empirical_x50,
    fit_switching,
    transition_window,
    x50_shift,
)
from protocols.gate_program import GateProgramParams, program_to
from protocols.loops import field_max_param
from protocols.trials import StateReference, calibrate_states, field_pulse, reset

UNITS = {"field": "T", "amplitude": "V", "width": "s"}


@dataclass(frozen=True)
class SwitchingParams:
    mode: str = param("field", choices=("field", "amplitude", "width"), help="what is scanned")
    start: float = param(0.0, low=0, high=1e3, help="first drive (T, V or s); 0 and 0: auto")
    stop: float = param(0.0, low=0, high=1e3, help="last drive (T, V or s)")
    points: int = param(12, low=3, high=1000, help="drive values of the fine scan")
    trials: int = param(40, low=1, high=100_000, help="trials per drive value")
    coarse_points: int = param(10, low=3, high=100, help="auto range: coarse drive values")
    coarse_trials: int = param(6, low=1, high=1000, help="auto range: trials per coarse value")
    width_s: float = param(1.0, unit="s", low=1e-10, high=3600, help="field pulse (field mode)")
    # no station limit declared: it would refuse the other modes, which send no write pulse
    # of this width, on a bench whose pulse widths stop short of 1 ms (the pulse source refuses
    # it at the first pulse of an amplitude scan, in one line)
    write_width_s: float = param(
        1e-3, unit="s", low=1e-10, high=3600, help="write pulse (amplitude)"
    )
    amplitude_V: float = param(
        3.0, limit="pulse.amplitude_V", unit="V", low=0, high=100, help="write amplitude (width)"
    )
    max_amplitude_V: float = param(
        5.0, limit="pulse.amplitude_V", unit="V", low=0, high=100, help="auto range: top"
    )
    min_width_s: float = param(1e-8, unit="s", low=1e-10, high=1, help="auto range (width)")
    max_width_s: float = param(1e-2, unit="s", low=1e-10, high=3600, help="auto range (width)")
    field_max_T: float = field_max_param(0.045, help="auto range: top field")
    reset_field_T: float = param(
        -0.045, limit="field.field_T", unit="T", low=-10, high=10, help="reset (sign: state)"
    )
    levels_hc_T: list[float] = param(
        [], unit="T", low=0, high=10, help="gate-program to each Hc first (metaplasticity)"
    )
    level_tolerance_T: float = param(0.001, unit="T", low=1e-6, high=1, help="level tolerance")
    current_density_per_V: float = param(
        0.0, unit="A/m^2/V", low=0, high=1e20, help="J per write volt (0: report Vc0 only)"
    )
    tau0_s: float = param(1e-9, unit="s", low=1e-15, high=1e-3, help="attempt time (fixed)")
    n_exponent: float = param(2.0, low=0.5, high=4, help="field barrier exponent n (fixed)")

    def __post_init__(self) -> None:
        if self.reset_field_T == 0:
            raise ValueError("reset_field_T must be non-zero (its sign is the reset state)")
        if self.stop < self.start:
            raise ValueError("stop must not be below start")

    @property
    def auto(self) -> bool:
        return self.start == 0 and self.stop == 0

    @property
    def drive_width_s(self) -> float:
        """The width of one drive: the field pulse, or the write pulse of an amplitude scan
        (a width scan's fit takes its widths from the drive)."""
        return self.write_width_s if self.mode == "amplitude" else self.width_s

    def width_range_s(self, shortest_s: float, longest_s: float) -> tuple[float, float]:
        """The auto range of a width scan within what the pulse source may give (its station
        limit, narrowed to the instrument's rating): ``min_width_s`` … ``max_width_s``."""
        low, high = max(self.min_width_s, shortest_s), min(self.max_width_s, longest_s)
        if low >= high:
            raise ValueError(
                f"auto range (width): min_width_s … max_width_s = {self.min_width_s:g} … "
                f"{self.max_width_s:g} s lies outside the pulse source's widths "
                f"{shortest_s:g} … {longest_s:g} s"
            )
        return low, high

    def coarse(self, widths_s: tuple[float, float] | None = None) -> np.ndarray:
        if self.mode == "width":
            low, high = widths_s or (self.min_width_s, self.max_width_s)
            return np.logspace(np.log10(low), np.log10(high), self.coarse_points)
        top = self.field_max_T if self.mode == "field" else self.max_amplitude_V
        return np.linspace(top / self.coarse_points, top, self.coarse_points)

    def fine(self, lo: float, hi: float) -> np.ndarray:
        if self.mode == "width":
            return np.logspace(np.log10(lo), np.log10(hi), self.points)
        return np.linspace(lo, hi, self.points)


NAN = float("nan")
# a curve's drive and what is measured in it share the result's drive unit (T, V or s)
CURVE_UNITS = {k: "@drive_unit" for k in ("drive", "x50_data", "x50", "scale", "scale_err")}


@dataclass(frozen=True, kw_only=True)
class SwitchingResult(Result):
    mode: str = quantity("", "what was scanned: field, amplitude or width")
    drive_unit: str = quantity("", "unit of the drive: T, V or s")
    delta: float = quantity(
        "", "Δ (field, amplitude) or the barrier (width) of the first curve", default=NAN
    )
    delta_err: float = quantity("", "standard error of delta", default=NAN)
    scale: float = quantity(
        "",
        "H0 (T, field) or Vc0 (V, amplitude) of the first curve",
        default=NAN,
        unit_from="drive_unit",
    )
    scale_err: float = quantity("", "standard error of scale", default=NAN, unit_from="drive_unit")
    x50: float = quantity("", "fitted drive at P = 1/2", default=NAN, unit_from="drive_unit")
    H0_T: float = quantity("T", "intrinsic switching field (field mode)", default=NAN)
    H0_err_T: float = quantity("T", "standard error of H0", default=NAN)
    Vc0_V: float = quantity("V", "intrinsic switching voltage (amplitude mode)", default=NAN)
    Vc0_err_V: float = quantity("V", "standard error of Vc0", default=NAN)
    Jc0_A_per_m2: float = quantity("A/m²", "Vc0 as a current density", default=NAN)
    x50_by_level: list[list[float]] = quantity(
        "", "model-free P = 1/2 drive of each level", default=[],
        parts={"level_hc_T": "T", "x50": "@drive_unit"},
    )  # fmt: skip
    x50_shift_with_level: float = quantity(
        "", "+1: the half-switching drive rises with the level (metaplasticity)", default=NAN
    )
    curves: list[dict[str, Any]] = quantity(
        "", "one switching curve per level", default=[], parts=CURVE_UNITS
    )


def trial(
    run: Run, p: SwitchingParams, ref: StateReference, drive: float, holds_s: list[float]
) -> bool | None:
    """One reset–drive–read trial: True if the device left the reset state (None: bad reset).
    A field pulse appends its actual hold time to ``holds_s``."""
    hall = run.station.hall
    start = 1 if p.reset_field_T > 0 else -1
    reset(run, p.reset_field_T)
    if ref.state(hall.read_voltage()) != start:
        return None
    if p.mode == "field":
        holds_s.append(field_pulse(run, -start * drive, p.width_s))
    elif p.mode == "amplitude":
        run.station.pulse.pulse(drive, p.write_width_s, 1)
    else:
        run.station.pulse.pulse(p.amplitude_V, drive, 1)
    return ref.state(hall.read_voltage()) != start


def scan(
    run: Run,
    p: SwitchingParams,
    ref: StateReference,
    drives: np.ndarray,
    n: int,
    tags: dict,
    holds_s: list[float],
) -> list[tuple[float, int, int]]:
    out = []
    for drive in drives:
        results = [trial(run, p, ref, float(drive), holds_s) for _ in range(n)]
        valid = [r for r in results if r is not None]
        flips = sum(valid)
        run.record(drive=float(drive), flips=flips, trials=len(valid),
                   p_switch=flips / len(valid) if valid else float("nan"), **tags)  # fmt: skip
        out.append((float(drive), flips, len(valid)))
    return out


def measure_curve(run: Run, p: SwitchingParams, tags: dict[str, float]) -> dict[str, Any]:
    """Calibrate, (auto-)range, scan and fit one curve at the present hidden state."""
    ref = calibrate_states(run, p.field_max_T)
    data: list[tuple[float, int, int]] = []
    holds_s: list[float] = []
    if p.auto:
        widths_s = None
        if p.mode == "width":
            window = run.station.pulse.limits.width_s
            widths_s = p.width_range_s(window.low, window.high)
            if widths_s != (p.min_width_s, p.max_width_s):
                run.log.info(
                    "auto range (width): %g … %g s, within the pulse source's widths %s",
                    *widths_s,
                    window,
                )
        coarse = scan(
            run, p, ref, p.coarse(widths_s), p.coarse_trials, {**tags, "pass": 0.0}, holds_s
        )
        data += coarse
        drive = np.array([d for d, _, _ in coarse])
        prob = np.array([k / n if n else np.nan for _, k, n in coarse])
        lo, hi = transition_window(drive, prob)
    else:
        lo, hi = p.start, p.stop
    data += scan(run, p, ref, p.fine(lo, hi), p.trials, {**tags, "pass": 1.0}, holds_s)
    x, k, n = (np.array(v, dtype=float) for v in zip(*data, strict=True))
    curve: dict[str, Any] = {"drive": x.tolist(), "flips": k.tolist(), "trials": n.tolist()}
    curve["readout_contrast_V"] = ref.contrast_V
    curve["x50_data"] = empirical_x50(x, k, n)  # model-free: the level comparison uses it
    # a field pulse lasts its width plus the magnet's settling: fit with the measured hold
    width = float(np.median(holds_s)) if holds_s else p.drive_width_s
    curve["hold_s"] = width
    try:
        fit = fit_switching(x, k, n, p.mode, width_s=width, tau0_s=p.tau0_s, n=p.n_exponent)
        curve.update(fit.as_dict())
        if p.mode == "amplitude" and p.current_density_per_V > 0:
            curve["Jc0_A_per_m2"] = fit.scale * p.current_density_per_V
            curve["Jc0_err_A_per_m2"] = fit.scale_err * p.current_density_per_V
    except (ValueError, RuntimeError) as exc:
        curve["fit_error"] = str(exc)
    return curve


# the drive on a figure axis, by its unit (the mode: field, amplitude or width of the pulse)
DRIVE_LABELS = {"T": "µ0H pulse", "V": "pulse amplitude", "s": "pulse width"}


def switching_figure(result: dict[str, Any], points: pd.DataFrame, path: Path) -> None:
    from protocols.analysis.switching import p_switch

    unit = result.get("drive_unit", "")
    series = []
    for i, curve in enumerate(result.get("curves", [])):
        color = COLORS[i % len(COLORS)]
        x = np.asarray(curve["drive"], dtype=float)
        pk = np.asarray(curve["flips"]) / np.maximum(np.asarray(curve["trials"]), 1)
        label = curve.get("label", f"curve {i}")
        series.append(Series(x, pk, label, line=False, symbol="o", color=color))
        if np.isfinite(curve.get("delta", np.nan)):
            grid = np.linspace(x.min(), x.max(), 200)
            if unit == "s":
                grid = np.logspace(np.log10(x.min()), np.log10(x.max()), 200)
            model = p_switch(grid, result["mode"], scale=curve["scale"], delta=curve["delta"],
                             width_s=curve["width_s"], tau0_s=curve["tau0_s"],
                             n=curve["n_exponent"])  # fmt: skip
            fit = f"Néel–Arrhenius fit Δ = {plus_minus(curve['delta'], curve['delta_err'])}"
            series.append(Series(grid, model, fit, color=color))
    xlabel = DRIVE_LABELS.get(unit, "drive")
    title = f"switching probability vs {result.get('mode', 'drive')}"
    if unit == "T" and len(series) == 2 and np.isfinite(result.get("H0_T", np.nan)):
        title += f": µ0H0 = {result['H0_T'] * 1e3:.1f} ± {result['H0_err_T'] * 1e3:.1f} mT"
    panel = Panel(title, xlabel, "P(switch)", series, xunit=unit, xlog=unit == "s")
    save_figure(path, [panel])


def switching_needs(p: SwitchingParams) -> dict[str, str]:
    """The roles a run uses: field and readout, a pulse source to scan amplitude or width, a
    gate to program levels."""
    needs = {"field": "", "hall": ""}
    if p.mode != "field":
        needs["pulse"] = f"mode = {p.mode}"
    if p.levels_hc_T:
        needs["gate"] = "levels_hc_T"
    return needs


@protocol(
    "switching-probability",
    columns={
        "drive": "",
        "flips": "",
        "trials": "",
        "p_switch": "",
        "level": "",
        "level_hc_T": "T",
        "pass": "",
    },
    labels={
        "drive": "drive",
        "flips": "flips",
        "trials": "trials",
        "p_switch": "P(switch)",
        "level": "level",
        "level_hc_T": "µ0Hc of the level",
        "pass": "pass",
    },
    setpoints=("level", "drive"),
    axes=(("drive", "p_switch"),),
    figure=switching_figure,
    needs=switching_needs,
)
def switching_probability(run: Run, params: SwitchingParams) -> SwitchingResult:
    """Flip probability versus drive, N reset–drive–read trials per point, Néel–Arrhenius fit."""
    curves = []
    levels = params.levels_hc_T or [float("nan")]
    program = dataclasses.replace(
        GateProgramParams(),
        field_max_T=params.field_max_T,
        tolerance_T=params.level_tolerance_T,
        loops_per_verify=1,
    )
    for i, level_hc in enumerate(levels):
        curve: dict[str, Any] = {"label": "as found"}
        if np.isfinite(level_hc):
            prog = program_to(run, program, level_hc, record=False)
            curve["programming"] = {k: v for k, v in prog.items() if k != "trajectory"}
            hc = plus_minus(prog["achieved_hc_T"], prog["achieved_hc_err_T"], "mT", 1e3)
            curve["label"] = f"µ0Hc {hc}"
            level_hc = prog["achieved_hc_T"]
        curve.update(measure_curve(run, params, {"level": float(i), "level_hc_T": level_hc}))
        curve["level_hc_T"] = level_hc
        curves.append(curve)
        run.progress(i + 1, len(levels), curve["label"])
    result: dict[str, Any] = {"mode": params.mode, "drive_unit": UNITS[params.mode]}
    first = curves[0]
    for key in ("delta", "delta_err", "scale", "scale_err", "x50", "Jc0_A_per_m2"):
        if key in first:
            result[key] = first[key]
    if params.mode == "field" and "scale" in first:
        result["H0_T"], result["H0_err_T"] = first["scale"], first["scale_err"]
    if params.mode == "amplitude" and "scale" in first:
        result["Vc0_V"], result["Vc0_err_V"] = first["scale"], first["scale_err"]
    if len(curves) > 1:
        x50 = {c["level_hc_T"]: c["x50_data"] for c in curves}
        result["x50_by_level"] = [[k, v] for k, v in sorted(x50.items())]
        result["x50_shift_with_level"] = x50_shift(x50)
    result["curves"] = curves
    return SwitchingResult.from_dict(result)
