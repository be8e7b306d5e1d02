"""Calibration recovers known parameters: the test draws a chip at random (seeded), records
runs on a virtual lab with that chip, calibrates from those recorded runs alone, and checks the
fitted H0, Δ, R_AHE, V0, the ion-hopping rate and A against the drawn values; then ``replay
--sim`` on the calibrated chip reproduces the recorded coercive fields. Every miss is listed at
once; the per-seed numbers are printed (``pytest -s``)."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pytest
import yaml
from recording.conftest import default_lab_file, isolated_station, record

from labctl.data import load_run
from labctl.physics.params import ChipParams, VariabilityParams, load_preset, write_chip_params
from labctl.recording.twin import replay_on_twin
from protocols.calibration.calibrate import calibrate_runs

K_B_EV_PER_K = 8.617333262e-5


# The gate-program runs, designed as an experimenter would on an unknown chip (from recorded
# data only, never from the drawn values):
# 1. a probe run at PROBE_V with a short first pulse (the controller lengthens it ×8 per pulse
#    until Hc moves), calibrated at once (V0 held at its guess) for the rate at PROBE_V;
# 2. three runs at amplitudes spanning SPAN_V, the top one where the probed rate extrapolates
#    to TOP_RATE_PER_S: fast enough for short pulses, slow enough that the gate's own 10 V/s
#    ramps (~2·V0/10 s of exposure per pulse) do not move x past the anisotropy optimum, where
#    Hc no longer tells x apart. Each first pulse aims at Δx ≈ 0.005.
# Every run raises Hc a step further (LEVELS × the series' fastest Hc): the state climbs the
# rising side of the optimum, oxidising pulses do most of the work.
PROBE_V = 2.0
SPAN_V = 0.8
TOP_RATE_PER_S = 0.2
V0_GUESS_V = 0.15
LEVELS = (1.15, 1.3, 1.45, 1.6)


@dataclass(frozen=True)
class Size:
    """How much is measured: the default run's version, or the slow study's."""

    dwells_s: tuple[float, ...]  # hall-loop-series: extra wait per point, one loop set each
    loops_per_dwell: int
    long_loops_per_dwell: int  # a second series at LONG_DWELLS_S
    gate_pulses: int  # per gate-program run
    loops_per_verify: int


# Loops: ±36 mT in 2 mT steps (the stepwise Sharrock model takes the step into account). The
# spread of one branch's switching field is ~1 mT thermal plus the step's ±1 mT: 6–9 % of Hc
# up to 100 s dwells. With n loops (2n branches) per sweep rate the recorded mean and the
# twin's mean each scatter by ~8 %/sqrt(2n); their difference by ~8 %/sqrt(n): 1.3 % at
# n = 36, so the 5 % check of the twin is a ≥ 3σ check. H0 is the extrapolation of Hc to zero
# thermal activation: its lever is the spread of ln(time per step), which a second series at
# LONG_DWELLS_S extends. There Hc is low (≈ 0.15·H0 for Δ ≈ 45 at 1e5 s) and its relative
# spread too large for a 5 % comparison with a few loops: that series calibrates; the first
# one is what the twin must reproduce.
DEFAULT = Size((0.0, 100.0), 36, 10, 5, 3)
LARGE = Size((0.0, 10.0, 100.0), 48, 20, 8, 6)
LONG_DWELLS_S = (1e3, 1e4, 1e5)
STEP_T = 0.002  # field step of every loop
FIELD_MAX_T = 0.036
# Verification loops: the loop analysis takes the points beyond 0.8 of the loop amplitude as
# saturated, so Hc must stay well below that (targets are capped at 0.65 of it).
VERIFY_FIELD_MAX_T = 0.056
LAB_SEED = 12345  # the recording chip's seed: the twin (built-in lab) draws differently


def draw_chip(rng: np.random.Generator) -> tuple[ChipParams, dict[str, float]]:
    """A chip (the Pt/Co/GdOx preset with drawn parameters, one device's worth: no
    device-to-device spread) and the drawn values."""
    preset = load_preset("ptco_gdox_hall")
    truth = {
        "H0": rng.uniform(0.045, 0.065),
        "delta": rng.uniform(40.0, 65.0),
        "R_AHE": rng.uniform(0.6, 1.6),
        "V0": rng.uniform(0.12, 0.20),
    }
    # A from the time constant at 3 V (drawn log-uniform), as the preset defines it
    tau_3V_s = 10 ** rng.uniform(-2.5, -1.5)
    boltzmann = math.exp(-preset.kinetics.E_a_eV / (K_B_EV_PER_K * preset.temperature_K))
    truth["A"] = 1.0 / (tau_3V_s * boltzmann * math.sinh(3.0 / truth["V0"]))
    truth["r0"] = truth["A"] * boltzmann  # the rate is r0·sinh(|V|/V0)
    chip = preset.replace(
        name="drawn by the calibration test",
        anisotropy=replace(preset.anisotropy, h0_T=truth["H0"], delta0=truth["delta"]),
        readout=replace(preset.readout, R_AHE_ohm=truth["R_AHE"]),
        kinetics=replace(preset.kinetics, A_per_s=truth["A"], V0_V=truth["V0"]),
        variability=VariabilityParams(**dict.fromkeys(VariabilityParams.__dataclass_fields__, 0.0)),
    )
    return chip, truth


def record_runs(tmp_path: Path, seed: int, size: Size) -> tuple[Path, dict[str, int], dict]:
    """Record the calibration runs on a lab with a drawn chip; return the db, the run ids by
    kind, and the drawn values."""
    chip, truth = draw_chip(np.random.default_rng(seed))
    chip_file = write_chip_params(tmp_path / "drawn_chip.yaml", chip)
    # the built-in lab with the drawn chip and its own seed (a lab file's documented options)
    lab = yaml.safe_load(default_lab_file().read_text())
    lab["chip"] = {
        **{k: v for k, v in lab["chip"].items() if k != "preset"},
        "params": str(chip_file),
        "seed": LAB_SEED,
    }
    station = isolated_station(tmp_path / "bench", yaml.safe_dump(lab, sort_keys=False))
    db = tmp_path / "bench.db"
    series = record(
        "hall-loop-series",
        station,
        db,
        dwells_s=list(size.dwells_s),
        loops_per_dwell=size.loops_per_dwell,
        field_max_T=FIELD_MAX_T,
        step_T=STEP_T,
    )
    runs = {"series": series.run_id}
    runs["series_long"] = record(
        "hall-loop-series",
        station,
        db,
        dwells_s=list(LONG_DWELLS_S),
        loops_per_dwell=size.long_loops_per_dwell,
        field_max_T=FIELD_MAX_T,
        step_T=STEP_T,
    ).run_id
    hc_initial_T = series.result["series"]["hc_T"][0]  # the fastest sweep, as the gate verifies

    def gate_run(amplitude_V: float, width_s: float, level: float) -> int:
        return record(
            "gate-program",
            station,
            db,
            amplitude_V=amplitude_V,
            max_amplitude_V=amplitude_V,
            initial_width_s=width_s,
            target_hc_T=round(min(level * hc_initial_T, 0.65 * VERIFY_FIELD_MAX_T), 4),
            tolerance_T=1e-5,  # never "there": every pulse of the budget is given
            max_pulses=size.gate_pulses,
            loops_per_verify=size.loops_per_verify,
            field_max_T=VERIFY_FIELD_MAX_T,
            step_T=STEP_T,
            max_width_s=600.0,
        ).run_id

    runs["probe"] = gate_run(PROBE_V, 0.005, LEVELS[0])
    probe = calibrate_runs(db, list(runs.values())).estimates["rate"]
    # an order of magnitude is all the design needs: a slow chip's probe moves Hc little,
    # and its rate may come out "unconstrained" (±70 %), which still places the amplitudes
    assert math.isfinite(probe.value) and probe.value > 0 and probe.at_V == PROBE_V, probe
    top_V = PROBE_V + V0_GUESS_V * math.log(TOP_RATE_PER_S / probe.value)
    top_V = min(max(top_V, 1.0 + SPAN_V), 2.8)
    for i, amplitude_V in enumerate((top_V - SPAN_V, top_V - SPAN_V / 2, top_V)):
        amplitude_V = round(amplitude_V, 3)
        rate = probe.value * math.exp((amplitude_V - PROBE_V) / V0_GUESS_V)
        width_s = min(max(0.005 / (0.6 * rate), 1e-3), 600.0)
        runs[f"gate{i}"] = gate_run(amplitude_V, width_s, LEVELS[i + 1])
    return db, runs, truth


def check_calibration(tmp_path: Path, seed: int, size: Size) -> list[str]:
    """Calibrate from recorded runs; return every miss against the must-show tolerances (H0,
    the kinetics within 10 %, Δ within 20 %, the twin's coercive fields within 5 %)."""
    db, runs, truth = record_runs(tmp_path, seed, size)
    chip_out = tmp_path / "calibrated.yaml"
    calibration = calibrate_runs(db, list(runs.values()), out=chip_out)
    est = calibration.estimates
    written = yaml.safe_load(chip_out.read_text())
    assert written["anisotropy"]["h0_T"] == est["H0"].value
    assert calibration.figure is not None and calibration.figure.exists()  # the fit, drawn
    rate = est["rate"]
    assert rate.at_V is not None
    truth["rate"] = truth["r0"] * math.sinh(rate.at_V / truth["V0"])
    tolerances = {"H0": 0.10, "delta": 0.20, "R_AHE": 0.10, "rate": 0.10, "V0": 0.10}
    misses, lines = [], [f"seed {seed}:"]
    for name in (*tolerances, "A"):
        e = est[name]
        lines.append(
            f"  {name:<6} drawn {truth[name]:.5g}  fitted {e.value:.5g} ± {e.error:.2g} "
            f"({e.status})  {e.value / truth[name] - 1:+.1%}"
        )
        if name in tolerances and (
            e.status != "fitted" or abs(e.value / truth[name] - 1) > tolerances[name]
        ):
            misses.append(f"{name} {e.value:.4g} ({e.status}) vs drawn {truth[name]:.4g}")
    # A is r0·sinh(V/V0) extrapolated to V = 0: d(ln A) ≈ (V/V0)·dV0/V0, ~12× the relative
    # error of V0. Within 10 % or not, it must come with an uncertainty that covers the truth
    # (2σ), or be reported unconstrained. The fit's parameter is ln r0 and the error is
    # multiplicative, so the coverage is checked in ln A.
    a = est["A"]
    if not (
        a.status == "unconstrained" or abs(math.log(a.value / truth["A"])) <= 2 * a.error / a.value
    ):
        misses.append(f"A {a.value:.4g} ± {a.error:.2g} does not cover drawn {truth['A']:.4g}")

    # replay --sim on the calibrated chip: the recorded coercive fields, sweep rate by rate
    twin = replay_on_twin(db, runs["series"], chip=chip_out, out_dir=tmp_path / "twin")
    assert twin.status == "completed", twin.text()
    measured = calibration_series(db, runs["series"])
    simulated = twin.outcome.result["series"]
    assert len(simulated["hc_T"]) == len(measured["hc_T"]) == len(size.dwells_s)
    assert Path(twin.files["results"]).exists() and Path(twin.files["figure"]).exists()
    for i, dwell_s in enumerate(size.dwells_s):
        hc_m, hc_s = measured["hc_T"][i], simulated["hc_T"][i]
        sem = math.hypot(measured["hc_sem_T"][i], simulated["hc_sem_T"][i]) / hc_m
        lines.append(
            f"  Hc at dwell {dwell_s:g} s: recorded {hc_m * 1e3:.2f} mT, twin {hc_s * 1e3:.2f} "
            f"mT ({hc_s / hc_m - 1:+.1%}; 1σ of the difference {sem:.1%})"
        )
        if abs(hc_s / hc_m - 1) > 0.05:
            misses.append(f"Hc at dwell {dwell_s:g} s: {hc_s / hc_m - 1:+.1%}")
    print("\n".join(lines))
    return misses


def calibration_series(db: Path, run_id: int) -> dict[str, list[float]]:
    info, _ = load_run(db, run_id)
    return dict(info.result["series"])


def test_calibration_recovers_drawn_parameters(tmp_path: Path) -> None:
    misses = check_calibration(tmp_path, seed=20261123, size=DEFAULT)
    assert not misses, misses


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_calibration_recovers_drawn_parameters_study(tmp_path: Path, seed: int) -> None:
    """The same checks on more seeds, with more loops and pulses. (At the default size the
    rate's 1σ is 6–12 %: seeds 3 and 8 miss its 10 % there.)"""
    misses = check_calibration(tmp_path, seed=seed, size=LARGE)
    assert not misses, misses
