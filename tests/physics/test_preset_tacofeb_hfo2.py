"""The Ta/CoFeB/HfO2 preset, added as one file (``labctl/physics/presets/tacofeb_hfo2_hall.yaml``):
it loads, says what its comments promise, and a Hall-loop series measured through the whole
stack (engine, station, pyvisa, the @labsim twins) shows its Sharrock physics."""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from labctl.engine import execute
from labctl.params import build_params
from labctl.physics import anisotropy, load_preset, preset_names
from labctl.physics.params import PRESET_DIR
from labctl.physics.sharrock import sharrock_hc_T, stepwise_hc_T
from labctl.protocol import find_protocol
from labctl.station import load_station
from sim_backend.open_labs import forget_labs, get_lab

NAME = "tacofeb_hfo2_hall"
STEP_T = 0.002


@pytest.fixture(autouse=True)
def fresh_lab() -> Iterator[None]:
    forget_labs()
    yield
    from qcodes.instrument import Instrument

    Instrument.close_all()
    forget_labs()


def test_the_preset_loads_with_the_physics_its_comments_state() -> None:
    assert NAME in preset_names()
    p = load_preset(NAME)
    assert p.device_type == "hall" and p.name == "Ta/CoFeB/HfO2 Hall crosses"
    x0, x_opt = np.float64(p.x_init), np.float64(p.anisotropy.x_opt)
    assert anisotropy.K_eff_J_per_m3(p.anisotropy, x0) == pytest.approx(2.0e5, rel=0.05)
    assert anisotropy.K_eff_J_per_m3(p.anisotropy, np.float64(0.26)) < 0  # in-plane below 0.27
    assert anisotropy.H0_T(p, x_opt) == pytest.approx(0.100, rel=0.02)  # consolidation
    ap, sw = p.anisotropy, p.switching
    hc_T = [float(sharrock_hc_T(t, ap.h0_T, ap.delta0, sw.tau0_s, sw.n_exponent)) for t in (0.1, 1)]
    assert 0.017 <= hc_T[0] <= 0.018 and 0.015 <= hc_T[1] <= 0.016


def test_a_hall_loop_series_on_the_preset_chip_shows_its_sharrock_law(tmp_path: Path) -> None:
    preset_file = PRESET_DIR / f"{NAME}.yaml"
    # the preset file is a chip file: @labsim opens the built-in lab with that chip
    station = dataclasses.replace(load_station(None), visa_library=f"{preset_file}@labsim")
    spec = find_protocol("hall-loop-series")
    values = {"dwells_s": [0.0, 100.0, 10000.0], "loops_per_dwell": 2, "step_T": STEP_T}
    params = build_params(spec.params_type, values, spec.name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        outcome = execute(spec, params, station, tmp_path / "runs.db", handle_signals=False)
    assert outcome.status == "completed", outcome.error
    chip = get_lab(preset_file).chip
    assert chip.params == load_preset(NAME)
    H0_T, delta = chip.H0_T(0)[0], chip.delta(0)[0]  # device 0, its variability drawn
    assert H0_T == pytest.approx(0.050, rel=0.25) and delta == pytest.approx(45.0, rel=0.25)
    sw, r = chip.params.switching, outcome.result
    for t_step_s, hc_T in zip(r["series"]["t_step_s"], r["series"]["hc_T"], strict=True):
        # the expected crossing of a stepwise sweep (Sharrock), what the loops average
        expected_T = float(
            stepwise_hc_T(t_step_s, STEP_T, H0_T, delta, sw.tau0_s, sw.n_exponent)[0]
        )
        print(f"t_step {t_step_s:.3g} s: Hc {hc_T * 1e3:.2f} mT, model {expected_T * 1e3:.2f} mT")
        assert hc_T == pytest.approx(expected_T, rel=0.10)
    print(f"fit: H0 {r['H0_T']:.4g} T (device {H0_T:.4g}), delta {r['delta']:.3g} ({delta:.3g})")
    assert r["H0_T"] == pytest.approx(H0_T, rel=0.20)
    assert r["delta"] == pytest.approx(delta, rel=0.20)
