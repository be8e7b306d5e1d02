"""Replay on the twin: re-run a recorded run's protocol against the virtual chip and compare.

``labctl replay RUN --sim [--chip FILE]`` runs the recorded protocol, with the recorded
parameters and station, on ``@labsim``: the built-in lab, or the built-in lab with the chip of
a chip parameter file (what ``labctl calibrate`` writes), or a whole lab file. It writes the
comparison measured vs simulated: an overlaid figure, a table of the analysis results, and the
residuals point by point.

labctl reaches the simulator through the station's VISA library string only (``FILE@labsim``):
it neither imports the simulator nor reads or writes its files. Like any @labsim bench, the
twin of a file keeps its state for the file's path (across processes unless
``LABSIM_PERSIST=0``).
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from labctl.data import load_run
from labctl.engine import execute
from labctl.errors import LabctlError
from labctl.figures import Panel, Series, save_figure
from labctl.params import build_params
from labctl.protocol import ProtocolSpec, find_protocol
from labctl.recording.replay import mark_replay, station_of
from labctl.recording.store import load_recording
from labctl.results import fmt_number, table, unit_of_name

SIM_BACKEND = "labsim"


def twin_library(chip: Path | None) -> str:
    """The VISA library string of the twin: the built-in lab (``@labsim``), or the lab that
    ``chip`` names — a chip parameter file (the built-in lab with that chip) or a lab file;
    the @labsim backend reads either, labctl only passes the path."""
    if chip is None:
        return f"@{SIM_BACKEND}"
    path = Path(chip)
    if not path.is_file():
        raise LabctlError(f"{path}: no such chip parameter file (or lab file)")
    return f"{path.resolve()}@{SIM_BACKEND}"


@dataclass
class TwinComparison:
    db: Path
    measured_run: int
    simulated_run: int
    status: str
    lab: str
    results: pd.DataFrame  # key, measured, simulated, difference, relative
    residuals: pd.DataFrame  # per point: the dependent columns, simulated - measured
    rms: dict[str, float]
    files: dict[str, str] = field(default_factory=dict)
    outcome: Any = None

    @property
    def error(self) -> str:
        return str(getattr(self.outcome, "error", "") or "")

    def result(self, key: str) -> tuple[float, float]:
        row = self.results.set_index("key").loc[key]
        return float(row["measured"]), float(row["simulated"])

    def as_dict(self) -> dict[str, Any]:
        return {
            "db": str(self.db),
            "measured_run": self.measured_run,
            "simulated_run": self.simulated_run,
            "status": self.status,
            "lab": self.lab,
            "results": self.results.to_dict(orient="records"),
            "rms_residuals": self.rms,
            "files": self.files,
            "error": self.error,
        }

    def text(self) -> str:
        lines = [
            f"run {self.measured_run} re-run on the twin as run {self.simulated_run} "
            f"({self.status}, lab {self.lab})",
            *(
                [f"  the twin run {self.status}: {self.error}"]
                if self.status != "completed"
                else []
            ),
        ]
        rows = []
        for r in self.results.to_dict(orient="records"):
            relative = float(r["relative"])
            rows.append(
                [
                    str(r["key"]),
                    fmt_number(float(r["measured"])),
                    fmt_number(float(r["simulated"])),
                    f"{relative:+.2%}" if math.isfinite(relative) else "-",
                    unit_of_name(str(r["key"])),
                ]
            )
        lines += table(["result", "measured", "simulated", "rel. diff", "unit"], rows)
        rms = [[k, fmt_number(float(v)), unit_of_name(k)] for k, v in self.rms.items()]
        if rms:
            lines.append("  rms residual point by point (simulated - measured):")
            lines += table(["column", "rms", "unit"], rms, "    ")
        lines += [f"  {k}: {v}" for k, v in self.files.items()]
        return "\n".join(lines)


def _numbers(result: dict[str, Any]) -> dict[str, float]:
    return {
        k: float(v)
        for k, v in result.items()
        if isinstance(v, int | float) and not isinstance(v, bool)
    }


def compare_results(measured: dict[str, Any], simulated: dict[str, Any]) -> pd.DataFrame:
    a, b = _numbers(measured), _numbers(simulated)
    rows = []
    for key in [k for k in a if k in b]:
        diff = b[key] - a[key]
        rel = diff / abs(a[key]) if a[key] not in (0.0,) and math.isfinite(a[key]) else math.nan
        rows.append(
            {
                "key": key,
                "measured": a[key],
                "simulated": b[key],
                "difference": diff,
                "relative": rel,
            }
        )
    return pd.DataFrame(rows, columns=["key", "measured", "simulated", "difference", "relative"])


def residuals(
    measured: pd.DataFrame, simulated: pd.DataFrame, setpoints: tuple[str, ...]
) -> pd.DataFrame:
    """Point by point (up to the shorter run): setpoints as recorded, then for each measured
    numeric column ``<col>_measured``, ``<col>_simulated`` and ``<col>_residual``."""
    n = min(len(measured), len(simulated))
    out = pd.DataFrame({c: measured[c].to_numpy()[:n] for c in setpoints if c in measured})
    for column in measured.columns:
        if column in setpoints or column == "t_s" or column not in simulated:
            continue
        m = pd.to_numeric(measured[column], errors="coerce").to_numpy(float)[:n]
        s = pd.to_numeric(simulated[column], errors="coerce").to_numpy(float)[:n]
        out[f"{column}_measured"], out[f"{column}_simulated"] = m, s
        out[f"{column}_residual"] = s - m
    return out


def _figure(
    path: Path, spec: ProtocolSpec, measured: pd.DataFrame, simulated: pd.DataFrame
) -> Path:
    return save_figure(path, comparison_panels(spec, measured, simulated))


def comparison_panels(
    spec: ProtocolSpec, measured: pd.DataFrame, simulated: pd.DataFrame
) -> list[Panel]:
    """Measured and twin overlaid, one panel per live-view axes pair of the protocol (each
    axis named as the protocol declares the column: µ0H (mT), V_xy (µV))."""
    pairs = [p for p in spec.axes if all(c in measured and c in simulated for c in p)]
    if not pairs:
        numeric = [c for c in measured.columns if c != "t_s" and c in simulated]
        pairs = [("t_s", c) for c in numeric[:2]]
    panels = []
    for x, y in pairs:
        # the rows that hold both columns (a trajectory between loop points: its own rows)
        m, s = measured[[x, y]].dropna(), simulated[[x, y]].dropna()
        mx, my = np.asarray(m[x], dtype=float), np.asarray(m[y], dtype=float)
        sx, sy = np.asarray(s[x], dtype=float), np.asarray(s[y], dtype=float)
        series = [
            Series(mx, my, "measured", line=False, symbol="o"),
            Series(sx, sy, "simulated (twin)"),
        ]
        (xq, xu), (yq, yu) = spec.axis_label(x), spec.axis_label(y)
        panels.append(Panel(f"{yq} vs {xq}: measured and twin", xq, yq, series, xunit=xu, yunit=yu))
    return panels


def replay_on_twin(
    db: Path,
    run_id: int,
    *,
    chip: Path | None = None,
    out_db: Path | None = None,
    out_dir: Path | None = None,
    **execute_kw: Any,
) -> TwinComparison:
    """Re-run run ``run_id`` of ``db`` on the twin and write the comparison into ``out_dir``
    (default: ``figures/`` next to the database)."""
    db, out_db = Path(db), Path(out_db or db)
    out_dir = Path(out_dir or db.parent / "figures")
    info, measured = load_run(db, run_id)
    spec = find_protocol(info.protocol)
    params = build_params(spec.params_type, info.params, spec.name)
    station = station_of(load_recording(db, run_id), info.metadata.get("station_file"))
    library = twin_library(chip)
    twin = dataclasses.replace(station, visa_library=library, clock="virtual")
    execute_kw.setdefault("handle_signals", False)
    outcome = execute(spec, params, twin, out_db, figures_dir=out_dir, **execute_kw)
    _, simulated = load_run(out_db, outcome.run_id)
    table = compare_results(info.result, outcome.result)
    res = residuals(measured, simulated, tuple(spec.setpoints))
    rms = {
        c[: -len("_residual")]: float(np.sqrt(np.nanmean(res[c].to_numpy(float) ** 2)))
        for c in res.columns
        if c.endswith("_residual") and np.isfinite(res[c].to_numpy(float)).any()
    }
    stem = out_dir / f"run{run_id}_vs_twin_run{outcome.run_id}"
    out_dir.mkdir(parents=True, exist_ok=True)
    files = {
        "results": str(stem.with_suffix(".results.csv")),
        "residuals": str(stem.with_suffix(".residuals.csv")),
    }
    table.to_csv(files["results"], index=False)
    res.to_csv(files["residuals"], index=False)
    if len(measured) and len(simulated):
        try:
            files["figure"] = str(_figure(stem.with_suffix(".png"), spec, measured, simulated))
        except Exception as exc:  # a figure must never lose the comparison
            files["figure_error"] = str(exc)
    comparison = TwinComparison(
        db,
        run_id,
        outcome.run_id,
        outcome.status,
        library.removesuffix(f"@{SIM_BACKEND}") or "built-in",
        table,
        res,
        rms,
        files,
        outcome,
    )
    stem.with_suffix(".json").write_text(json.dumps(comparison.as_dict(), indent=2, default=str))
    files["comparison"] = str(stem.with_suffix(".json"))
    mark_replay(
        out_db,
        outcome.run_id,
        "twin_replay_of",
        {"db": str(db), "run_id": run_id, "chip": str(chip or "")},
    )
    return comparison
