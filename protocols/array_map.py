"""``array-map``: every device of an array through the router — state, AHE, Hc, validity.

For each device the router connects the readout, the as-found state is read at zero field, and
a Hall loop gives the coercive field, the AHE amplitude and the offset. Devices without a
perpendicular loop (in-plane, or no moment left) are flagged invalid. The result is a map of
each quantity and the variability statistics over the valid devices.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from labctl.api import Panel, Result, Run, Series, param, protocol, quantity, save_figure
from protocols.analysis.array_map import array_statistics, as_grid, classify_devices
from protocols.loops import LOOP_COLUMNS, LOOP_LABELS, field_max_param, try_loop

SUMMARY_COLUMNS = {
    "state": "",
    "hc_T": "T",
    "hc_err_T": "T",
    "amplitude_V": "V",
    "r_ahe_ohm": "Ohm",
    "r_offset_ohm": "Ohm",
    "squareness": "",
    "valid": "",
    "t_step_s": "s",
}


def spread_units(unit: str) -> dict[str, str]:
    """Units of :func:`~protocols.analysis.array_map.spread` for a quantity in ``unit``."""
    return {"mean": unit, "std": unit, "min": unit, "max": unit, "cv": "", "n": ""}


@dataclass(frozen=True, kw_only=True)
class ArrayMapResult(Result):
    devices: int = quantity("", "devices measured")
    valid: int = quantity("", "devices with a perpendicular loop")
    invalid_devices: list[int] = quantity("", "in-plane or dead devices", default=[])
    hc_T: dict[str, float] = quantity(
        "T", "coercive field over the valid devices", default={}, parts=spread_units("T")
    )
    r_ahe_ohm: dict[str, float] = quantity(
        "Ω", "AHE resistance over the valid devices", default={}, parts=spread_units("Ω")
    )
    r_offset_ohm: dict[str, float] = quantity(
        "Ω", "offset resistance over the valid devices", default={}, parts=spread_units("Ω")
    )
    map_columns: int = quantity("", "columns of the map (0: near-square)")
    map: dict[str, list[float]] = quantity(
        "", "each device", default={},
        parts={"device": "", "state": "", "hc_T": "T", "hc_err_T": "T", "r_ahe_ohm": "Ω",
               "r_offset_ohm": "Ω", "valid": "", "t_step_s": "s"},
    )  # fmt: skip


@dataclass(frozen=True)
class ArrayMapParams:
    devices: list[float] = param([], help="device indices (empty: every device of the station)")
    readout_terminal: str = param("hall", help="router terminal of the Hall readout")
    field_max_T: float = field_max_param(0.045)
    step_T: float = param(0.001, unit="T", low=1e-6, high=0.1, help="loop field step")
    min_amplitude_rel: float = param(
        0.3, low=0, high=1, help="valid: AHE amplitude above this fraction of the median"
    )
    map_columns: int = param(0, low=0, high=10_000, help="columns of the map (0: near-square)")

    def device_list(self, run: Run) -> list[int]:
        if self.devices:
            return [int(d) for d in self.devices]
        station = getattr(run.station, "station", None)
        chip = getattr(station, "chip", {}) or {}
        return list(range(int(chip.get("devices", 1))))


def array_figure(result: dict[str, Any], points: pd.DataFrame, path: Path) -> None:
    maps = result.get("map", {})
    if not maps.get("device"):  # the run ended before the map: the loops measured so far
        loops = [
            Series(
                g["field_T"].to_numpy(dtype=float),
                g["v_hall_V"].to_numpy(dtype=float),
                f"device {device:g}",
            )
            for device, g in points.dropna(subset=["field_T"]).groupby("device")
        ]
        title = f"Hall loops of the {len(loops)} devices measured before the run ended"
        save_figure(path, [Panel(title, "µ0H", "V_xy", loops, xunit="T", yunit="V")])
        return
    cols = int(result.get("map_columns", 0))

    def grid(key: str, scale: float = 1.0) -> np.ndarray:
        return as_grid(np.asarray(maps.get(key, []), float) * scale, cols)

    where = "column (device = row × columns + column)"
    err = np.asarray(maps.get("hc_err_T", []), dtype=float)
    u = f", ± {np.nanmedian(err) * 1e3:.1f} from the field step" if np.isfinite(err).any() else ""
    panels = [
        Panel(f"µ0Hc (mT{u})", where, "row", image=grid("hc_T", 1e3), cell_format="{:.1f}"),
        Panel("R_AHE (Ω)", where, "row", image=grid("r_ahe_ohm"), cell_format="{:.3f}"),
        Panel("valid synapse (1) / in-plane or dead (0)", where, "row", image=grid("valid"),
              levels=(0.0, 1.0), cell_format="{:.0f}"),
    ]  # fmt: skip
    save_figure(path, panels, width_px=1400, height_px=500)


@protocol(
    "array-map",
    columns={"device": "", **LOOP_COLUMNS, **SUMMARY_COLUMNS},
    labels={
        **LOOP_LABELS,
        "device": "device",
        "hc_T": "µ0Hc",
        "hc_err_T": "u(µ0Hc)",
        "r_ahe_ohm": "R_AHE",
    },
    setpoints=("device",),
    axes=(("device", "hc_T"), ("field_T", "v_hall_V")),
    figure=array_figure,
    needs=("field", "hall"),
)
def array_map(run: Run, params: ArrayMapParams) -> ArrayMapResult:
    """Route to each device; as-found state and one Hall loop; map and variability."""
    hall = run.station.hall
    router = run.station.router if run.station.has("router") else None
    devices = params.device_list(run)
    rows: list[dict[str, float]] = []
    for i, device in enumerate(devices):
        if router is not None:
            router.disconnect_all()
            router.connect(params.readout_terminal, device)
        v_found = hall.read_voltage()
        m = try_loop(run, params.field_max_T, params.step_T, extra={"device": float(device)})
        row = {"device": float(device), "state": 0.0, "hc_T": np.nan, "hc_err_T": np.nan,
               "amplitude_V": np.nan,
               "r_ahe_ohm": np.nan, "r_offset_ohm": np.nan, "squareness": np.nan,
               "t_step_s": np.nan}  # fmt: skip
        if m is not None:
            r = m.result
            row.update(hc_T=r.coercive_field_T, hc_err_T=r.coercive_field_err_T,
                       amplitude_V=r.amplitude_V, r_ahe_ohm=r.r_ahe_ohm,
                       r_offset_ohm=r.r_offset_ohm, squareness=r.squareness,
                       t_step_s=m.t_step_s)  # fmt: skip
            deviation = (v_found - r.offset_V) / r.amplitude_V if r.amplitude_V else 0.0
            row["state"] = float(np.sign(deviation)) if abs(deviation) > 0.5 else 0.0
        rows.append(row)
        run.progress(i + 1, len(devices), f"device {device}")
    if router is not None:
        router.disconnect_all()
    table = pd.DataFrame(rows)
    valid = classify_devices(
        table["amplitude_V"], table["hc_T"], table["squareness"], params.min_amplitude_rel
    )
    table["valid"] = valid.astype(float)
    table.loc[~valid, "state"] = 0.0
    for row in table.to_dict(orient="records"):
        run.record(**row)
    stats = array_statistics(
        table["device"].to_numpy(), table["hc_T"], table["r_ahe_ohm"], table["r_offset_ohm"], valid
    )
    return ArrayMapResult.from_dict({
        **stats,
        "map_columns": params.map_columns,
        "map": {k: table[k].tolist() for k in ("device", "state", "hc_T", "hc_err_T",
                                               "r_ahe_ohm", "r_offset_ohm", "valid", "t_step_s")},
    })  # fmt: skip
