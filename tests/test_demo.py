"""`labctl demo --json`: a Hall loop on the simulated bench; Hc as in docs/physics.md §3."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import pyvisa

from labctl.cli import main
from labctl.data import load_run


def predicted_hc_T(
    field_T: np.ndarray,
    dwell_s: np.ndarray,
    H0_T: float,
    delta: float,
    tau0_s: float,
    n: float,
    start_m: int,
) -> float:
    """Median switching field of a stepwise sweep (Néel–Arrhenius, docs/physics.md §3).

    At each point a device opposing the field switches with
    P = 1 - exp(-(dt/tau0) exp(-delta (1 - |H|/H0)^n)); the coercive field is where the
    survival probability of the starting state crosses 1/2.
    """
    opposing = np.sign(field_T) == -start_m
    h = np.clip(np.abs(field_T) / H0_T, 0.0, 1.0)
    rate = np.where(opposing, np.exp(-delta * (1.0 - h) ** n) / tau0_s, 0.0)
    survival = np.exp(-np.cumsum(rate * dwell_s))
    k = int(np.argmax(survival < 0.5))
    assert survival[k] < 0.5, "the sweep never switches the device"
    s0, s1 = (survival[k - 1], survival[k]) if k else (1.0, survival[0])
    f0, f1 = (field_T[k - 1], field_T[k]) if k else (field_T[0], field_T[0])
    return float(f0 + (s0 - 0.5) / (s0 - s1) * (f1 - f0))


def test_demo_json_coercive_fields_match_the_chip(tmp_path: Path, capsys) -> None:
    db = tmp_path / "demo.db"
    assert main(["demo", "--json", "--db", str(db)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["status"] == "completed" and out["protocol"] == "hall-loop"
    assert Path(out["figures"][0]).stat().st_size > 10_000
    assert any("output off" in line for line in out["safe_state"])

    # the physics of the device the readout measures (device 0 of the default lab's chip)
    chip = pyvisa.ResourceManager("@labsim").visalib.lab.chip
    H0_T, delta = float(chip.H0_T(0)[0]), float(chip.delta(0)[0])
    tau0_s, n = chip.params.switching.tau0_s, chip.params.switching.n_exponent

    _, points = load_run(db, out["run_id"])
    points = pd.DataFrame(points)
    dwell_s = np.diff(points["t_s"].to_numpy(), append=np.nan)  # time spent at each field
    for branch, key, start_m in ((0, "hc_down_T", +1), (1, "hc_up_T", -1)):
        sel = points["branch"].to_numpy() == branch
        field = points["field_T"].to_numpy()[sel]
        dt = np.nan_to_num(dwell_s[sel], nan=np.nanmedian(dwell_s))
        expected = predicted_hc_T(field, dt, H0_T, delta, tau0_s, n, start_m)
        assert out["result"][key] == pytest.approx(expected, rel=0.10), (key, expected)
    # the AHE amplitude and offset are the device's: R_xy(m = +1) = R_AHE + R_offset
    assert chip.m[0] == 1  # the loop ends at +max, then the field goes back to zero
    r_xy_up = float(chip.hall_resistance_ohm(0)[0])
    result = out["result"]
    assert result["r_ahe_ohm"] + result["r_offset_ohm"] == pytest.approx(r_xy_up, rel=0.05)
