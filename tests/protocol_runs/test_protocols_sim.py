"""Each protocol against the virtual chip through the full stack, asserting on physics.

Expected values come from the chip's own parameters (device 0 of the default lab), never from
constants: the model coercive field of a stepwise sweep (``sim_backend.chip.predict``), the
device's Δ and H0 now, its hidden state before and after.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sim_backend.chip.predict import coercive_field_stepwise_T

from .conftest import run_protocol


def model_hc_T(chip, t_step_s: float, step_T: float, field_max_T: float = 0.045) -> float:
    """Model coercive field of device 0 for a loop with ``t_step_s`` per point (the analysis
    interpolates the crossing half a step before the first switched point)."""
    sw = chip.params.switching
    fields = -np.arange(0.0, field_max_T + step_T / 2, step_T)
    hc = coercive_field_stepwise_T(
        fields, t_step_s, chip.H0_T(0)[0], chip.delta(0)[0], 1, sw.tau0_s, sw.n_exponent
    )
    return abs(hc) - step_T / 2


def test_hall_loop_series_sharrock_fit_recovers_delta(tmp_path: Path) -> None:
    ran = run_protocol(
        "hall-loop-series",
        {"dwells_s": [0, 10, 100, 1000, 10000], "loops_per_dwell": 2},
        tmp_path,
    )
    chip, r = ran.lab.chip, ran.result
    series = r["series"]
    for t_step, hc in zip(series["t_step_s"], series["hc_T"], strict=True):
        assert hc == pytest.approx(model_hc_T(chip, t_step, 0.001), rel=0.10)
    assert r["delta"] == pytest.approx(chip.delta(0)[0], rel=0.20)
    assert r["H0_T"] == pytest.approx(chip.H0_T(0)[0], rel=0.20)
    assert r["delta_err"] > 0 and r["H0_err_T"] > 0
    # slower sweeps switch at lower fields (thermal activation)
    assert series["hc_T"][0] > series["hc_T"][-1]


@pytest.mark.parametrize("target_hc_T", [0.029, pytest.param(0.021, marks=pytest.mark.slow)])
def test_gate_program_reaches_target(tmp_path: Path, target_hc_T: float) -> None:
    ran = run_protocol("gate-program", {"target_hc_T": target_hc_T, "tolerance_T": 0.001}, tmp_path)
    r, chip = ran.result, ran.lab.chip
    assert r["stop_reason"] == "within tolerance" and r["within_tolerance"]
    assert abs(r["achieved_hc_T"] - target_hc_T) <= r["tolerance_T"]
    # the physics agrees: the device's model coercive field is near the target too
    # (at the station time per field point the verification loops took)
    assert model_hc_T(chip, r["verify_t_step_s"], 0.001) == pytest.approx(target_hc_T, abs=0.002)
    assert r["pulses"] >= 1 and r["gate_time_s"] > 0
    assert r["elapsed_s"] > 60  # minutes of virtual time
    raised = target_hc_T > r["initial_hc_T"]
    assert (np.sign(r["trajectory"]["pulse_V"][1]) > 0) == raised


def test_gate_program_stops_at_pulse_budget(tmp_path: Path) -> None:
    ran = run_protocol("gate-program", {"target_hc_T": 0.040, "max_pulses": 2}, tmp_path)
    assert ran.result["stop_reason"] == "pulse budget"
    assert ran.result["pulses"] == 2 and not ran.result["within_tolerance"]


def test_switching_probability_field_fit_recovers_delta(tmp_path: Path) -> None:
    ran = run_protocol("switching-probability", {"trials": 60, "points": 12}, tmp_path)
    r, chip = ran.result, ran.lab.chip
    # binomial ML fit: σ(Δ) ≈ 5 % at 60 × 12, so 20 % is a 4σ bound (test_switching_analysis)
    assert r["delta"] == pytest.approx(chip.delta(0)[0], rel=0.20)
    assert r["H0_T"] == pytest.approx(chip.H0_T(0)[0], rel=0.20)
    assert r["delta_err"] < 0.1 * r["delta"]
    curve = r["curves"][0]
    assert curve["hold_s"] > 1.0  # the pulse width plus the magnet's settling
    p = np.asarray(curve["flips"]) / np.asarray(curve["trials"])
    order = np.argsort(curve["drive"])
    # the probability rises with the field: compare the low and high thirds
    third = len(order) // 3
    assert p[order[:third]].mean() < p[order[-third:]].mean()


def test_switching_probability_curves_shift_with_level(tmp_path: Path) -> None:
    ran = run_protocol(
        "switching-probability",
        {
            "levels_hc_T": [0.023, 0.030],
            "trials": 6,
            "points": 5,
            "coarse_trials": 3,
            "coarse_points": 8,
        },
        tmp_path,
    )
    r = ran.result
    (lo_hc, lo_x50), (hi_hc, hi_x50) = r["x50_by_level"]
    assert hi_hc > lo_hc
    assert hi_x50 > lo_x50  # a more consolidated device needs a larger field to flip
    assert r["x50_shift_with_level"] == 1.0


def test_retention_is_nonvolatile_at_zero_bias(tmp_path: Path) -> None:
    ran = run_protocol("retention", {"last_s": 8 * 3600.0, "points": 6}, tmp_path)
    r = ran.result
    assert r["hold_span_s"] == pytest.approx(8 * 3600.0, rel=1e-6)
    assert r["nonvolatile"] and r["hc"]["nonvolatile"]
    # the AHE amplitude resolves a drift of 1 %; one loop's Hc scatters (thermal activation),
    # six of them still resolve 10 %
    assert r["amplitude"]["span_drift_rel_err"] < 0.01 and r["hc"]["span_drift_rel_err"] < 0.10
    # the drift is within two standard errors of zero, and the hidden state did not move
    assert abs(r["hc"]["drift_per_decade"]) < 2 * r["hc"]["drift_per_decade_err"] + 1e-4
    chip = ran.lab.chip
    assert chip.x[0] == pytest.approx(chip.spread.x_init[0], abs=1e-9)


def test_retention_under_bias_sees_the_state_move(tmp_path: Path) -> None:
    ran = run_protocol(
        "retention", {"bias_V": 1.0, "first_s": 10, "last_s": 20000, "points": 5}, tmp_path
    )
    assert not ran.result["hc"]["nonvolatile"]
    assert ran.result["bias_time_s"] > 0


def test_neuromodulation_single_device_levels(tmp_path: Path) -> None:
    ran = run_protocol(
        "neuromodulation",
        {"levels_hc_T": [0.023, 0.030], "trials": 6, "fine_points": 5},
        tmp_path,
    )
    r = ran.result
    assert not r["parallel"]
    (lo, h_lo), (hi, h_hi) = r["h50_by_level"]
    assert hi > lo and h_hi > h_lo
