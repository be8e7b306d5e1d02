"""Chip parameters: presets hit their documented targets; bad files are named precisely."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np
import pytest
import yaml

from labctl.physics import anisotropy as an
from labctl.physics.params import KineticsParams, preset_names
from sim_backend.chip import ChipParams, ChipParamsError, load_chip_params, load_preset
from sim_backend.chip.predict import sharrock_hc_T


def test_both_presets_load_and_start_in_the_pma_branch() -> None:
    assert {"ptco_gdox_hall", "cofeb_mgo_mtj"} <= set(preset_names())
    for name in ("ptco_gdox_hall", "cofeb_mgo_mtj"):
        p = load_preset(name)
        assert an.K_eff_J_per_m3(p.anisotropy, np.float64(p.x_init)) > 0
    assert load_preset("cofeb_mgo_mtj").device_type == "mtj"


def test_hall_preset_gives_the_documented_loop(hall: ChipParams) -> None:
    ap, sw = hall.anisotropy, hall.switching
    assert an.H0_T(hall, np.float64(hall.x_init)) == pytest.approx(0.060, rel=1e-9)
    assert an.delta(hall, np.float64(hall.x_init)) == pytest.approx(50.0, rel=1e-9)
    assert hall.readout.R_AHE_ohm == pytest.approx(1.0)
    for dwell_s in (0.1, 1.0):
        hc = sharrock_hc_T(dwell_s, ap.h0_T, ap.delta0, sw.tau0_s, sw.n_exponent)
        assert 0.015 <= hc <= 0.030


def test_unknown_key_names_file_and_key_path(tmp_path: Path) -> None:
    f = tmp_path / "chip.yaml"
    f.write_text("kinetics:\n  V_0: 0.1\n")
    with pytest.raises(ChipParamsError) as err:
        load_chip_params(f)
    msg = str(err.value)
    assert str(f) in msg and "kinetics.V_0" in msg and "unknown key" in msg and "V0_V" in msg


@pytest.mark.parametrize(
    ("text", "key", "expected"),
    [
        ("kinetics:\n  V0_V: -0.1\n", "kinetics.V0_V", "> 0"),
        ("anisotropy:\n  x_opt: 1.5\n", "anisotropy.x_opt", "<= 1"),
        ("switching:\n  tau0_s: fast\n", "switching.tau0_s", "a number"),
        ("device_type: squid\n", "device_type", "one of"),
        ("kinetics:\n  oxidising_polarity: 2\n", "kinetics.oxidising_polarity", "one of"),
        ("readout: 3\n", "readout", "a mapping"),
        ("temperature_K: true\n", "temperature_K", "a number"),
    ],
)
def test_bad_values_are_named(tmp_path: Path, text: str, key: str, expected: str) -> None:
    f = tmp_path / "bad.yaml"
    f.write_text(text)
    with pytest.raises(ChipParamsError) as err:
        load_chip_params(f)
    msg = str(err.value)
    assert msg.startswith(str(f)) and key in msg and expected in msg
    assert err.value.__cause__ is None and err.value.__suppress_context__


def test_missing_file_and_bad_yaml_are_chip_params_errors(tmp_path: Path) -> None:
    with pytest.raises(ChipParamsError, match="cannot read"):
        load_chip_params(tmp_path / "nope.yaml")
    f = tmp_path / "broken.yaml"
    f.write_text("kinetics: [1,\n")
    with pytest.raises(ChipParamsError, match="not valid YAML"):
        load_chip_params(f)
    with pytest.raises(ChipParamsError, match="unknown chip preset"):
        load_preset("nope")


def test_yaml_12_floats_are_numbers(tmp_path: Path) -> None:
    # PyYAML alone reads 1e6 as a string; a physicist writes it anyway.
    f = tmp_path / "chip.yaml"
    f.write_text("anisotropy:\n  M_s0_A_per_m: 1.2e6\nswitching:\n  Jc0_A_per_m2: 1e11\n")
    p = load_chip_params(f)
    assert p.anisotropy.M_s0_A_per_m == 1.2e6 and p.switching.Jc0_A_per_m2 == 1e11


def test_preset_round_trips_through_yaml(tmp_path: Path, hall: ChipParams) -> None:
    f = tmp_path / "copy.yaml"
    f.write_text(yaml.safe_dump(dataclasses.asdict(hall)))
    assert load_chip_params(f) == hall


def test_code_built_params_are_validated_too() -> None:
    with pytest.raises(ChipParamsError, match=r"kinetics\.asymmetry.*> 0"):
        KineticsParams(asymmetry=-5.0)
    with pytest.raises(ChipParamsError, match="temperature_K"):
        ChipParams(temperature_K=0.0)


def test_x_init_in_plane_is_refused_when_it_is_the_reference() -> None:
    from sim_backend.chip import VirtualChip

    with pytest.raises(ChipParamsError, match="x_init"):
        VirtualChip(ChipParams(x_init=0.0))


def test_without_variability_zeroes_every_spread(hall: ChipParams) -> None:
    p = hall.without_variability()
    assert all(v == 0 for v in dataclasses.asdict(p.variability).values())
    assert p.kinetics.cycle_noise_rel == 0 and p.switching.Jc_c2c_rel == 0
    assert math.isclose(p.anisotropy.h0_T, hall.anisotropy.h0_T)
