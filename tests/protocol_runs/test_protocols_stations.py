"""The same protocols on stations of other instrument models, and array-map on a 16-device array.

``labctl/stations/simulated_gs200_dc.yaml``: GS200 gate, 6221/2182A delta readout, Lake Shore
643 + 475 magnet. ``labctl/stations/simulated_array.yaml``: 2450 gate, SR860 lock-in, 33500B
pulses and a 3706A matrix in front of the default lab's 16 devices. Expected values come from
the chip (``ran.lab.chip``), never from constants.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from labctl.clock import VirtualClock, use_clock
from labctl.station import load_station
from sim_backend.chip.predict import coercive_field_stepwise_T, survival_stepwise
from sim_backend.open_labs import get_lab

from .conftest import STATIONS, run_protocol
from .test_protocols_sim import model_hc_T

ALT_STATIONS = ("simulated.yaml", "simulated_gs200_dc.yaml", "simulated_array.yaml")


def model_hc_spread_T(
    chip, device: int, t_step_s: float, step_T: float, field_max_T: float = 0.045
) -> tuple[float, float]:
    """Median coercive field of one device in a stepwise loop (as the analysis reads it, half a
    step before the switched point) and the σ of a one-loop value (mean of the two branches)
    from the switching-field (docs/physics.md §3) distribution: (H(S=16 %) − H(S=84 %)) / 2 / √2."""
    sw = chip.params.switching
    fields = np.arange(0.0, field_max_T + step_T / 2, step_T)
    S = survival_stepwise(
        -fields, t_step_s, chip.H0_T(device)[0], chip.delta(device)[0], 1, sw.tau0_s,
        sw.n_exponent,
    )  # fmt: skip
    h84, h16 = (float(np.interp(-q, -S, fields)) for q in (0.84, 0.16))  # S falls with |H|
    median = coercive_field_stepwise_T(
        -fields, t_step_s, chip.H0_T(device)[0], chip.delta(device)[0], 1, sw.tau0_s,
        sw.n_exponent,
    )  # fmt: skip
    return abs(median) - step_T / 2, (h16 - h84) / 2 / np.sqrt(2)


@pytest.mark.parametrize("station_file", ALT_STATIONS)
def test_hall_loop_hc_matches_the_model_on_every_station(tmp_path: Path, station_file: str) -> None:
    station = load_station(STATIONS / station_file)
    values = {"field_max_T": 0.045, "step_T": 0.001}
    ran = run_protocol("hall-loop", values, tmp_path, station)
    r = ran.result
    expected = model_hc_T(ran.lab.chip, r["t_step_s"], 0.001)
    assert r["coercive_field_T"] == pytest.approx(expected, rel=0.10)
    # the AHE amplitude is the device's own R_AHE, whatever reads it (AC lock-in or DC delta)
    chip = ran.lab.chip
    r_ahe = abs(chip.hall_resistance_ohm(0)[0] - chip.spread.R_offset_ohm[0])
    assert r["r_ahe_ohm"] == pytest.approx(r_ahe, rel=0.03)
    assert r["r_offset_ohm"] == pytest.approx(chip.spread.R_offset_ohm[0], abs=0.03 * r_ahe)


def test_gate_program_switching_and_retention_on_gs200_dc_station(tmp_path: Path) -> None:
    station = load_station(STATIONS / "simulated_gs200_dc.yaml")
    target_T = 0.029
    ran = run_protocol("gate-program", {"target_hc_T": target_T}, tmp_path, station)
    r, chip = ran.result, ran.lab.chip
    assert r["stop_reason"] == "within tolerance"
    assert abs(r["achieved_hc_T"] - target_T) <= r["tolerance_T"]
    assert model_hc_T(chip, r["verify_t_step_s"], 0.001) == pytest.approx(target_T, abs=0.002)
    # then, on the same programmed device and the same station: P(flip) rises with the field
    ran = run_protocol(
        "switching-probability",
        {"trials": 8, "points": 6, "coarse_trials": 3, "coarse_points": 8},
        tmp_path / "sp",
        station,
    )
    curve = ran.result["curves"][0]
    p = np.asarray(curve["flips"]) / np.asarray(curve["trials"])
    order = np.argsort(curve["drive"])
    assert p[order[:2]].mean() < 0.5 < p[order[-2:]].mean()
    # x50 of the data is where the device's own switching probability is one half (within 5 %)
    chip = ran.lab.chip
    grid_T = np.linspace(0.0, chip.H0_T(0)[0], 2000)
    p_model = [chip.switching_probability_field(h, curve["hold_s"], 0)[0] for h in grid_T]
    assert curve["x50_data"] == pytest.approx(np.interp(0.5, p_model, grid_T), rel=0.05)


def test_retention_on_gs200_dc_station(tmp_path: Path) -> None:
    station = load_station(STATIONS / "simulated_gs200_dc.yaml")
    ran = run_protocol("retention", {"last_s": 3600.0, "points": 4}, tmp_path, station)
    assert ran.result["nonvolatile"]
    assert ran.lab.chip.x[0] == pytest.approx(ran.lab.chip.spread.x_init[0], abs=1e-9)


def test_array_map_statistics_match_the_variability_model(tmp_path: Path) -> None:
    devices = list(range(8))
    in_plane = 5
    with use_clock(VirtualClock()):  # the lab is created on a virtual clock, as in a run
        chip = get_lab(None).chip
        state = chip.state_dict()
        state["x"] = np.array(state["x"])
        state["x"][in_plane] = 0.9  # over-oxidised: K_eff < 0, in-plane
        chip.load_state(state)
    assert not chip.valid()[in_plane]
    station = load_station(STATIONS / "simulated_array.yaml")
    ran = run_protocol("array-map", {"devices": devices, "step_T": 0.001}, tmp_path, station)
    r = ran.result
    m = r["map"]
    assert r["devices"] == len(devices) and r["invalid_devices"] == [in_plane]
    assert m["valid"] == [float(d != in_plane) for d in devices]
    good = [d for d in devices if d != in_plane]
    # each device: Hc within 10 % of its own model coercive field — or, for a soft device whose
    # single-loop switching field scatters more than that, within 3 σ of its switching-field
    # distribution
    model_hc = []
    for d in good:
        hc, sigma = model_hc_spread_T(chip, d, m["t_step_s"][d], 0.001)
        model_hc.append(hc)
        assert abs(m["hc_T"][d] - hc) <= max(0.10 * hc, 3 * sigma + 0.0005), d
    r_ahe = np.abs(chip.hall_resistance_ohm(good) - chip.spread.R_offset_ohm[good])
    np.testing.assert_allclose(np.asarray(m["r_ahe_ohm"])[good], r_ahe, rtol=0.03)
    # the statistics are those of the devices' own parameters (docs/physics.md §5 spreads)
    hc_stats = r["hc_T"]
    assert hc_stats["n"] == len(good)
    assert hc_stats["mean"] == pytest.approx(np.mean(model_hc), rel=0.05)  # 3 σ of 7 loops
    assert hc_stats["std"] == pytest.approx(np.std(model_hc, ddof=1), rel=0.25)
    assert r["r_ahe_ohm"]["cv"] == pytest.approx(np.std(r_ahe, ddof=1) / np.mean(r_ahe), rel=0.25)
    # offsets are uniform within ±R_offset_rel·R_AHE
    bound = chip.params.readout.R_offset_rel * r_ahe
    assert np.all(np.abs(np.asarray(m["r_offset_ohm"])[good]) <= 1.05 * bound)
    assert np.sign(m["state"][in_plane]) == 0
    assert all(abs(s) == 1 for d, s in enumerate(m["state"]) if d != in_plane)
    assert ran.lab.chip is chip
