"""Each law of the device model is written once (labctl/physics) and called by all.

The simulator, the protocols' analysis and the calibration are run under a profiler; the law
functions each of them calls are the same code objects of ``labctl.physics``. A static scan
then checks that no module outside the device model binds a law's name to anything else, and
that none defines a function by a law's name or writes the Néel–Arrhenius probability out.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import re
import sys
from collections.abc import Callable
from pathlib import Path
from types import CodeType, ModuleType

import numpy as np
import pytest

from labctl.physics import anisotropy, kinetics, readout, sharrock, switching
from labctl.physics.params import ChipParams, load_preset

ROOT = Path(__file__).resolve().parents[2]
LAW_MODULES: tuple[ModuleType, ...] = (anisotropy, kinetics, readout, sharrock, switching)


def _laws() -> dict[str, Callable]:
    """Every public function (and class) the law modules define, by name."""
    out: dict[str, Callable] = {}
    for module in LAW_MODULES:
        for name, obj in vars(module).items():
            if (
                not name.startswith("_")
                and (inspect.isfunction(obj) or inspect.isclass(obj))
                and obj.__module__ == module.__name__
            ):
                out[name] = obj
    return out


LAWS = _laws()
LAW_CODES = {
    f.__code__: f"{f.__module__}.{f.__qualname__}" for f in LAWS.values() if inspect.isfunction(f)
}
LAW_CODES.update(
    {
        m.__code__: f"{m.__module__}.{m.__qualname__}"
        for cls in LAWS.values()
        if inspect.isclass(cls)
        for m in vars(cls).values()
        if inspect.isfunction(m)
    }
)


def laws_called(work: Callable[[], object]) -> set[str]:
    """The device-model law functions that ``work`` calls (by the code objects run)."""
    seen: set[CodeType] = set()

    def profile(frame, event, arg):
        if event == "call":
            seen.add(frame.f_code)

    sys.setprofile(profile)
    try:
        work()
    finally:
        sys.setprofile(None)
    return {LAW_CODES[c] for c in seen if c in LAW_CODES}


def run_simulator() -> None:
    from sim_backend.chip import VirtualChip

    chip = VirtualChip(load_preset("ptco_gdox_hall"), n_devices=64, seed=1)
    t = 0.0
    for field_T in np.linspace(-0.08, 0.08, 41):
        t += 0.1
        chip.set_field(float(field_T), t)
    chip.gate_pulse(None, 2.5, 0.01, t + 0.1)
    chip.sot_pulse([0, 1, 2], 4.0, 1e-8, t + 0.2)
    chip.switching_probability_field(0.02, 1.0)
    chip.hall_voltage_V(0, 1e-4, 10.0, t + 0.3)


def run_analysis() -> None:
    from protocols.analysis.sharrock import fit_sharrock
    from protocols.analysis.switching import fit_switching

    t_step = np.array([0.01, 0.1, 1.0, 10.0])
    hc = sharrock.stepwise_hc_T(t_step, 0.002, 0.06, 50.0)
    fit_sharrock(t_step, hc, step_T=0.002)
    drive = np.linspace(0.018, 0.026, 9)
    p = switching.p_switch(drive, "field", scale=0.06, delta=50.0, width_s=1.0)
    fit_switching(drive, np.round(p * 60), np.full(drive.size, 60.0), "field", width_s=1.0)


def run_calibration() -> None:
    from protocols.calibration.fits import (
        Estimate,
        RatePoint,
        SwitchingCurve,
        Trajectory,
        fit_h0_delta,
        fit_kinetics,
    )

    chip = ChipParams()
    rates = [RatePoint(t, 0.002, float(sharrock.stepwise_hc_T(t, 0.002, 0.06, 50.0)[0]), 2e-4)
             for t in (0.01, 0.1, 1.0)]  # fmt: skip
    field_T = np.linspace(0.018, 0.026, 7)
    p = switching.p_switch(field_T, "field", scale=0.06, delta=50.0, width_s=1.0)
    curve = SwitchingCurve(field_T, np.round(p * 40), np.full(7, 40.0), 1.0)
    fit_h0_delta(rates, [curve], 1e-9, 2.0, "test")
    pulse_V = np.array([0.0, 2.0, 2.0, 2.0])
    hc = np.array([0.021, 0.022, 0.023, 0.024])
    trajectory = Trajectory(pulse_V, np.array([0.0, 0.01, 0.01, 0.01]), hc, 0.1, 0.002, 10.0)
    fit_kinetics([trajectory], Estimate("H0", 0.06, 0.001, "T", "fitted"),
                 Estimate("delta", 50.0, 1.0, "", "fitted"), chip, V0_guess_V=0.15,
                 asymmetry=5.0, polarity=1, temperature_K=300.0, E_a_eV=0.9, tau0_s=1e-9,
                 n=2.0, source="test")  # fmt: skip


@pytest.fixture(scope="module")
def called() -> dict[str, set[str]]:
    for name in ("sim_backend.chip", "protocols.analysis.switching", "protocols.calibration.fits"):
        importlib.import_module(name)  # imported before the profiler watches: faster
    return {
        "simulator": laws_called(run_simulator),
        "analysis": laws_called(run_analysis),
        "calibration": laws_called(run_calibration),
    }


P = "labctl.physics."


@pytest.mark.parametrize(
    ("law", "users"),
    [
        # Néel–Arrhenius: the probability the simulator draws with is the one both fits use
        (P + "switching.p_arrhenius", ("simulator", "analysis", "calibration")),
        (P + "switching.escape_hazard", ("simulator", "analysis", "calibration")),
        (P + "switching.field_barrier_factor", ("simulator", "analysis", "calibration")),
        (P + "switching.p_switch", ("analysis", "calibration")),
        # Sharrock, stepwise sweeps, step_T <= 0 handled in the one copy
        (P + "sharrock.stepwise_hc_T", ("analysis", "calibration")),
        (P + "sharrock.sharrock_hc_T", ("analysis",)),
        # anisotropy from x and ion kinetics
        (P + "anisotropy.M_s_rel", ("simulator", "calibration")),
        (P + "anisotropy.K_eff_ref_J_per_m3", ("simulator", "calibration")),
        (P + "kinetics.boltzmann_factor", ("simulator", "calibration")),
        (P + "kinetics.prefactor_A_per_s", ("simulator",)),
        (P + "kinetics.x_after_gate", ("calibration",)),
        # readout
        (P + "readout.hall_resistance_ohm", ("simulator",)),
        (P + "readout.johnson_rms_V", ("simulator",)),
    ],
)
def test_simulator_analysis_and_calibration_run_the_same_law(
    called: dict[str, set[str]], law: str, users: tuple[str, ...]
) -> None:
    for user in users:
        assert law in called[user], f"the {user} does not run {law}: {sorted(called[user])}"


def test_the_simulator_draws_the_switching_the_analysis_fits() -> None:
    """Same inputs, same numbers: the chip's switching probability is the fit model's."""
    from protocols.analysis.switching import p_switch as analysis_p_switch
    from sim_backend.chip import VirtualChip

    chip = VirtualChip(load_preset("ptco_gdox_hall").without_variability(), 1, seed=0)
    H0, delta = float(chip.H0_T(0)[0]), float(chip.delta(0)[0])
    for field_T in (0.01, 0.02, 0.03):
        sim = float(chip.switching_probability_field(field_T, 0.5)[0])
        fit = float(analysis_p_switch(field_T, "field", scale=H0, delta=delta, width_s=0.5))
        assert sim == fit


CALL_SITES = (
    "sim_backend.chip.chip",
    "sim_backend.chip.predict",
    "sim_backend.chip.readout",
    "sim_backend.chip.readout_mixin",
    "sim_backend.chip.variability",
    "protocols.analysis.sharrock",
    "protocols.analysis.switching",
    "protocols.calibration.calibrate",
    "protocols.calibration.fits",
    "protocols.calibration.states",
    "protocols.hall_loop_series",
    "protocols.neuromodulation",
)


@pytest.mark.parametrize("name", CALL_SITES)
def test_call_sites_bind_the_device_models_objects(name: str) -> None:
    module = importlib.import_module(name)
    for attr, obj in vars(module).items():
        if attr in LAWS:
            assert obj is LAWS[attr], f"{name}.{attr} is not labctl.physics' {attr}"
        if isinstance(obj, ModuleType) and obj.__name__.rsplit(".", 1)[-1] in {
            m.__name__.rsplit(".", 1)[-1] for m in LAW_MODULES
        }:
            assert obj in LAW_MODULES, f"{name}.{attr} is {obj.__name__}, not the device model's"


def _sources() -> list[Path]:
    out = []
    for top in ("labctl", "protocols", "sim_backend", "instruments"):
        out += [p for p in (ROOT / top).rglob("*.py") if "physics" not in p.relative_to(ROOT).parts]
    return out


def test_no_copy_of_a_law_outside_the_device_model() -> None:
    law_names = {n for n, f in LAWS.items() if inspect.isfunction(f)}
    arrhenius = re.compile(r"expm1\(\s*-.*tau0")  # 1 − exp(−(t/τ0)·e^{−B}) written out
    copies = []
    for path in _sources():
        text = path.read_text(encoding="utf-8")
        for node in ast.parse(text).body:  # module-level functions (a chip's methods call laws)
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name in law_names:
                copies.append(f"{path.relative_to(ROOT)}:{node.lineno} defines {node.name}")
        for i, line in enumerate(text.splitlines(), 1):
            if arrhenius.search(line):
                copies.append(f"{path.relative_to(ROOT)}:{i} writes the switching law out")
    assert not copies, copies
