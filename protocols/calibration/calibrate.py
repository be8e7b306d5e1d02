"""``labctl calibrate RUN...``: fit chip parameters to recorded runs, write a chip file.

Runs are read back from the database (points, parameters, results, the station) — never by
importing a protocol. What each kind of run gives:

- ``hall-loop-series``: coercive field versus time per field point → H0 and Δ (Sharrock);
  the saturated branches of every loop → R_AHE and the offset.
- ``switching-probability`` (field mode, device as found) → H0 and Δ, jointly with the above.
- ``hall-loop`` → R_AHE and the offset, and one more point of coercive field versus rate.
- ``gate-program`` → the ion-kinetics prefactor and V0 (needs H0 and Δ from the runs above).

The chip parameter file is the device model's parameter set (``labctl.physics.ChipParams``),
written by its own writer: fitted values replace those of ``--base`` (or the defaults);
device-to-device spreads are set to zero, because the runs measured one device. The file is
what ``labctl replay RUN --sim --chip FILE`` and a lab file's ``chip: {params: FILE}`` load;
the calibration writes no lab file.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from labctl.data import RunInfo, load_run
from labctl.errors import LabctlError
from labctl.physics.params import (
    ChipParams,
    ChipParamsError,
    VariabilityParams,
    load_chip_params,
    params_to_dict,
    write_chip_params,
)
from labctl.recording.store import load_recording
from protocols.calibration.fits import (
    Estimate,
    RatePoint,
    SwitchingCurve,
    Trajectory,
    fit_h0_delta,
    fit_kinetics,
    fit_readout,
)


@dataclass
class RunData:
    info: RunInfo
    points: pd.DataFrame
    station: dict[str, Any]

    @property
    def label(self) -> str:
        return f"run {self.info.run_id} ({self.info.protocol})"


def load_runs(db: Path, run_ids: list[int], progress: Progress | None = None) -> list[RunData]:
    out = []
    for i, run_id in enumerate(run_ids):
        if progress is not None:
            progress(i, len(run_ids) + FIT_STEPS, f"loading run {run_id}")
        info, points = load_run(db, run_id)
        if info.status != "completed":
            raise LabctlError(f"run {run_id} is {info.status}; calibrate from completed runs")
        try:
            station = load_recording(db, run_id).station.get("content") or {}
        except LabctlError:
            station = {}
        out.append(RunData(info, points, station))
    return out


CALIBRATED_FROM = ("hall-loop-series", "hall-loop", "switching-probability", "gate-program")
MEASURES_ANISOTROPY = ("hall-loop-series", "hall-loop", "switching-probability")


def unusable(r: RunData) -> str | None:
    """Why ``r`` cannot feed any fit (None: it can)."""
    p, res, pts = r.info.params, r.info.result, r.points
    protocol = r.info.protocol
    if protocol not in CALIBRATED_FROM:
        return f"no calibration uses {protocol} runs; expected one of {', '.join(CALIBRATED_FROM)}"
    if pts.empty:
        return "it recorded no points"
    if protocol == "hall-loop-series" and not (res.get("series") or {}):
        return "its result holds no coercive-field series"
    if protocol == "hall-loop" and not math.isfinite(float(res.get("coercive_field_T", math.nan))):
        return "its result holds no coercive field"
    if protocol == "switching-probability":
        if p.get("mode") != "field" or p.get("levels_hc_T"):
            return "only field-mode curves of the device as found are used (--mode field)"
        if not {"drive", "flips", "trials"} <= set(pts.columns):
            return "its points hold no drive/flips/trials columns"
    if protocol == "gate-program" and not ((res.get("trajectory") or {}).get("hc_T")):
        return "its result holds no gate-programming trajectory"
    return None


def refuse_unusable(runs: list[RunData]) -> None:
    """One line naming the first run the fits cannot use, and why; nothing is written."""
    for r in runs:
        why = unusable(r)
        if why is not None:
            raise LabctlError(f"calibrate: {r.label} cannot be used: {why}")
    if all(r.info.protocol == "gate-program" for r in runs):
        raise LabctlError(
            f"calibrate: {runs[0].label} cannot be used alone: the ion-kinetics fit needs H0 and "
            f"delta from a run of {', '.join(MEASURES_ANISOTROPY)} among the runs"
        )


def _station_value(station: dict[str, Any], role: str, key: str) -> float | None:
    for inst in (station.get("instruments") or {}).values():
        if isinstance(inst, dict) and inst.get("role") == role:
            for section in ("settings", "limits"):
                value = (inst.get(section) or {}).get(key)
                if isinstance(value, int | float):
                    return float(value)
    return None


def _t_step_s(points: pd.DataFrame) -> float:
    """Median station time between consecutive loop points (gaps between loops drop out)."""
    loop = points.dropna(subset=["field_T"]) if "field_T" in points else points
    diffs = np.diff(loop["t_s"].to_numpy(float))
    diffs = diffs[diffs > 0]
    return float(np.median(diffs)) if diffs.size else math.nan


def _loop_readout(
    points: pd.DataFrame, excitation_A: float, group: str | None
) -> list[tuple[float, float]]:
    """(R_AHE, offset) of each loop from its saturated ends: the points within 2 % of the
    largest |field| (a wider band would take in the points of a branch that has not switched
    yet when the coercive field comes close to the loop amplitude)."""
    frame = points.dropna(subset=["field_T", "v_hall_V"])
    groups = frame.groupby(group) if group and group in frame else [(0, frame)]
    out = []
    for _, g in groups:
        f, v = g["field_T"].to_numpy(float), g["v_hall_V"].to_numpy(float)
        top = np.max(np.abs(f)) if f.size else 0.0
        up, down = v[f >= 0.98 * top], v[f <= -0.98 * top]
        if top > 0 and up.size and down.size:
            high, low = float(np.mean(up)), float(np.mean(down))
            out.append(((high - low) / 2 / excitation_A, (high + low) / 2 / excitation_A))
    return out


@dataclass
class Calibration:
    estimates: dict[str, Estimate]
    chip: ChipParams
    path: Path | None
    runs: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    figure: Path | None = None  # the H0/Δ fit against its data, next to the chip file

    def as_dict(self) -> dict[str, Any]:
        return {
            "runs": self.runs,
            "parameters": {k: e.as_dict() for k, e in self.estimates.items()},
            "chip_file": str(self.path) if self.path else None,
            "chip": params_to_dict(self.chip),
            "notes": self.notes,
            "figure": str(self.figure) if self.figure else None,
        }

    def text(self) -> str:
        from labctl.results import fmt_uncertain, table

        lines = [f"calibration from {', '.join(self.runs)}"]
        rows = []
        for e in self.estimates.values():
            value = fmt_uncertain(e.value, e.error) if math.isfinite(e.value) else "—"
            note = f"at {e.at_V:g} V" if e.at_V is not None else ""
            if e.status == "unconstrained" and not math.isfinite(e.error):
                note = (note + " (held)").strip() if math.isfinite(e.value) else note
            rows.append([e.name, value, e.unit, e.status, note])
        lines += table(["parameter", "value", "unit", "status", ""], rows)
        lines += [f"  note: {n}" for n in self.notes]
        if self.path:
            lines.append(f"chip parameter file: {self.path}")
        if self.figure:
            lines.append(f"figure: {self.figure}")
        return "\n".join(lines)


def load_base(base: Path | None) -> ChipParams:
    """The chip whose parameters the fits assume and the file keeps: ``--base`` or the
    device model's defaults."""
    if base is None:
        return ChipParams()
    if not Path(base).is_file():
        raise LabctlError(f"{base}: no such chip parameter file")
    try:
        return load_chip_params(base)
    except ChipParamsError as err:
        raise LabctlError(str(err)) from None


Progress = Callable[[float, float, str], None]  # done, total, message (labctl.progress)
FIT_STEPS = 3  # the anisotropy, readout and kinetics fits, after loading the runs


def calibrate_runs(
    db: Path,
    run_ids: list[int],
    *,
    out: Path | None = None,
    base: Path | None = None,
    progress: Progress | None = None,
) -> Calibration:
    """Fit the chip parameters to the runs and (with ``out``) write the chip parameter file.
    ``progress(done, total, message)`` is told of each run loaded and each fit."""

    def step(done: int, message: str) -> None:
        if progress is not None:
            progress(len(run_ids) + done, len(run_ids) + FIT_STEPS, message)

    runs = load_runs(Path(db), run_ids, progress)
    refuse_unusable(runs)
    base_chip = load_base(base)
    kp = base_chip.kinetics
    tau0 = base_chip.switching.tau0_s
    n = base_chip.switching.n_exponent
    rates: list[RatePoint] = []
    curves: list[SwitchingCurve] = []
    readout: list[tuple[float, float]] = []
    trajectories: list[Trajectory] = []
    used: dict[str, list[str]] = {"H0": [], "readout": [], "kinetics": []}
    notes: list[str] = []
    for r in runs:
        p, res, pts = r.info.params, r.info.result, r.points
        excitation = _station_value(r.station, "hall", "excitation_A")
        if r.info.protocol == "hall-loop-series":
            series = pd.DataFrame(res.get("series") or {})
            for row in series.to_dict(orient="records"):
                err = row["hc_sem_T"] if math.isfinite(row["hc_sem_T"]) else p["step_T"] / 2
                rates.append(
                    RatePoint(row["t_step_s"], p["step_T"], row["hc_T"], max(err, p["step_T"] / 10))
                )
            used["H0"].append(r.label)
            if excitation:
                readout += _loop_readout(pts, excitation, "loop")
                used["readout"].append(r.label)
        elif r.info.protocol == "hall-loop":
            if excitation:
                readout += _loop_readout(pts, excitation, None)
            else:
                readout.append((res.get("r_ahe_ohm", math.nan), res.get("r_offset_ohm", math.nan)))
            used["readout"].append(r.label)
            hc = res.get("coercive_field_T", math.nan)
            rates.append(RatePoint(_t_step_s(pts), p["step_T"], hc, p["step_T"] / 2))
            used["H0"].append(r.label)
        elif r.info.protocol == "switching-probability":
            sel = pts[pts["level"] == 0] if "level" in pts else pts
            curves.append(
                SwitchingCurve(
                    np.asarray(sel["drive"], dtype=float),
                    np.asarray(sel["flips"], dtype=float),
                    np.asarray(sel["trials"], dtype=float),
                    float(p["width_s"]),
                )
            )
            used["H0"].append(r.label)
        elif r.info.protocol == "gate-program":
            traj = res.get("trajectory") or {}
            ramp = _station_value(r.station, "gate", "ramp_V_per_s") or math.inf
            trajectories.append(
                Trajectory(
                    np.asarray(traj.get("pulse_V", []), float),
                    np.asarray(traj.get("pulse_width_s", []), float),
                    np.asarray(traj.get("hc_T", []), float),
                    _t_step_s(pts),
                    float(p["step_T"]),
                    ramp,
                )
            )
            used["kinetics"].append(r.label)
    step(0, "fitting H0 and Δ")
    h0, delta = fit_h0_delta(rates, curves, tau0, n, ", ".join(used["H0"]))
    step(1, "fitting the readout")
    r_ahe, offset = fit_readout(
        [a for a, _ in readout], [o for _, o in readout], ", ".join(used["readout"])
    )
    step(2, "fitting the ion kinetics")
    r0, A, V0, rate = fit_kinetics(
        trajectories,
        h0,
        delta,
        base_chip,
        V0_guess_V=kp.V0_V,
        asymmetry=kp.asymmetry,
        polarity=kp.oxidising_polarity,
        temperature_K=base_chip.temperature_K,
        E_a_eV=kp.E_a_eV,
        tau0_s=tau0,
        n=n,
        source=", ".join(used["kinetics"]),
        cycle_noise_rel=kp.cycle_noise_rel,
    )
    estimates = {e.name: e for e in (h0, delta, r_ahe, offset, r0, A, V0, rate)}
    estimates["tau0"] = Estimate("tau0", tau0, math.nan, "s", "fixed", "held at its assumed value")
    estimates["n"] = Estimate("n", n, math.nan, "", "fixed", "held at its assumed value")
    if trajectories:  # what the kinetics fit assumes and does not measure
        for key, unit in (("E_a_eV", "eV"), ("asymmetry", ""), ("cycle_noise_rel", "")):
            value = float(getattr(kp, key))
            estimates[key] = Estimate(key, value, math.nan, unit, "fixed", "held (--base)")
    calibration = Calibration(estimates, base_chip, out, [r.label for r in runs], notes)
    if not any(e.usable for e in estimates.values()):
        fits = ", ".join(f"{e.name} {e.status}" for e in estimates.values() if e.status != "fixed")
        raise LabctlError(
            f"calibrate: {', '.join(calibration.runs)} constrain no chip parameter ({fits}); "
            "no chip file written"
        )
    calibration.chip = calibrated_chip(base_chip, estimates, calibration.runs)
    if out is not None:
        write_chip_file(out, calibration)
        calibration.figure = _figure(out.with_suffix(".png"), rates, curves, h0, delta, tau0, n)
    step(FIT_STEPS, "done")
    return calibration


def _figure(path: Path, *args: Any) -> Path | None:
    """The fit's figure; a figure that fails is logged, never the calibration's failure."""
    import logging

    from protocols.calibration.figure import calibration_figure

    try:
        return calibration_figure(path, *args)
    except Exception as exc:  # a figure must never lose the chip file
        logging.getLogger("labctl").warning("calibration figure failed: %s", exc)
        return None


def calibrated_chip(base: ChipParams, est: dict[str, Estimate], runs: list[str]) -> ChipParams:
    """``base`` with every usable estimate put in and the device-to-device spreads zeroed."""
    anisotropy, readout, kinetics = base.anisotropy, base.readout, base.kinetics
    if est["H0"].usable:
        anisotropy = dataclasses.replace(anisotropy, h0_T=est["H0"].value)
    if est["delta"].usable:
        anisotropy = dataclasses.replace(anisotropy, delta0=est["delta"].value)
    if est["R_AHE"].usable:
        readout = dataclasses.replace(readout, R_AHE_ohm=est["R_AHE"].value)
    if est["offset"].usable:
        r_ahe = est["R_AHE"].value if est["R_AHE"].usable else 1.0
        readout = dataclasses.replace(
            readout, R_offset_rel=min(1.0, abs(est["offset"].value) / r_ahe)
        )
    if est["A"].usable or est["rate"].usable:
        # A and V0 as fitted (or V0 as held): together they give the measured rate
        kinetics = dataclasses.replace(
            kinetics, A_per_s=float(est["A"].value), V0_V=float(est["V0"].value)
        )
    no_spread = {f.name: 0.0 for f in dataclasses.fields(VariabilityParams)}
    try:
        return base.replace(
            name=f"calibrated from {', '.join(runs)}",
            anisotropy=anisotropy,
            readout=readout,
            kinetics=kinetics,
            variability=VariabilityParams(**no_spread),
        )
    except ChipParamsError as err:
        raise LabctlError(f"calibrate: the fitted values make no valid chip: {err}") from None


def write_chip_file(path: Path, calibration: Calibration) -> Path:
    """The chip parameter file, written by the device model's writer, the estimates and their
    status in its header."""
    header = [
        "Chip parameters calibrated by labctl on "
        + dt.datetime.now().isoformat(timespec="seconds"),
        f"from {', '.join(calibration.runs)}. Format: labctl/physics/params.py.",
        "Device-to-device spreads are zero: the runs measured one device. The Hall offset of",
        "that device sets R_offset_rel (the twin draws offsets within ±R_offset_rel·R_AHE).",
    ]
    for e in calibration.estimates.values():
        err = f" ± {e.error:.3g}" if math.isfinite(e.error) else ""
        header.append(f"  {e.name}: {e.value:.6g}{err} {e.unit} ({e.status})")
    return write_chip_params(path, calibration.chip, header)
