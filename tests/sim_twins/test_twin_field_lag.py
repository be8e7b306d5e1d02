"""The magnet's lag in closed form: hazard-bounded field steps give the switching fields that
fine uniform steps (main's τ_L/10 stepping) give, with far fewer ``chip.set_field`` calls.

Same seed, same devices (the variability is drawn first), but not the same draws: the two
integrations call the chip at different times, so each switching is drawn from a different
stretch of the random stream. Each device's switching field therefore differs between the two
runs by its thermal scatter (about one field step); what must not change is the statistics: the
mean difference over 200 devices is zero within its standard error, and the loop's Hc (the
median switching field) moves by less than one field step.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

import sim_backend.lab as lab_module
from labctl.clock import VirtualClock, use_clock
from sim_backend.lab import Lab
from sim_backend.magnets import Electromagnet

N_DEVICES = 200
STEP_A = 0.05  # 1.5 mT
DWELL_S = 0.5
TAU_L_S = 0.05


def _lab(tmp_path: Path) -> Lab:
    lab_file = tmp_path / "lag.yaml"
    lab_file.write_text(
        "name: lag\n"
        f"chip: {{preset: ptco_gdox_hall, n_devices: {N_DEVICES}, seed: 3}}\n"
        "magnets:\n"
        "  electromagnet:\n"
        "    kind: electromagnet\n"
        f"    params: {{k_coil_T_per_A: 0.03, B_rem_T: 0.002, tau_L_s: {TAU_L_S}, "
        "B_sat_T: 0.05, I_max_A: 70.0}\n"
        "instruments: {}\n"
    )
    return Lab.from_file(lab_file)


def _uniform_steps(
    chip: object, magnets: list, t0_s: float, t1_s: float, b0_T: float, b1_T: float
) -> list[float]:
    """main's stepping: ≤ 1 mT and τ_L/10 over the first 8 τ_L, uniform in time."""
    n = max(
        math.ceil(abs(b1_T - b0_T) / 1e-3), math.ceil(min(t1_s - t0_s, 8 * TAU_L_S) * 10 / TAU_L_S)
    )
    return [t0_s + k * (t1_s - t0_s) / n for k in range(n + 1)]


def _switching_fields(lab: Lab) -> tuple[np.ndarray, np.ndarray, int]:
    """Per device: the first field of the up sweep where m = +1 and of the down sweep where
    m = -1 (after saturating down); and the number of set_field calls."""
    chip, magnet = lab.chip, lab.magnets["electromagnet"]
    assert isinstance(magnet, Electromagnet)
    calls = [0]
    original = chip.set_field

    def counting(field_T: float, t_s: float) -> None:
        calls[0] += 1
        original(field_T, t_s)

    chip.set_field = counting  # type: ignore[method-assign]
    up = np.arange(-2.0, 2.0 + 1e-9, STEP_A)
    sweep = np.concatenate([up, up[::-1]])
    fields = np.empty(sweep.size)
    m = np.empty((sweep.size, chip.n_devices))
    with use_clock(VirtualClock()) as clock:
        lab.sync()
        for k, current_A in enumerate(np.concatenate([[up[0]], sweep])):
            lab.catch_up()  # the magnet keeps no history: bring field and chip to now first
            magnet.set_current(float(current_A), lab.t_s)
            clock.sleep(3.0 if k == 0 else DWELL_S)
            lab.sync()
            lab.catch_up()
            if k:
                fields[k - 1] = lab.field_T
                m[k - 1] = chip.m
    n = up.size
    first_up = np.argmax(m[:n] > 0, axis=0)
    first_down = n + np.argmax(m[n:] < 0, axis=0)
    assert np.all(m[n - 1] > 0) and np.all(m[-1] < 0), "every device switches both ways"
    return fields[first_up], fields[first_down], calls[0]


@pytest.fixture(scope="module")
def both(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple]:
    tmp = tmp_path_factory.mktemp("lag")
    out = {"closed form": _switching_fields(_lab(tmp))}
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(lab_module, "field_steps", _uniform_steps)
        out["uniform"] = _switching_fields(_lab(tmp))
    return out


def test_the_switching_fields_are_statistically_those_of_fine_uniform_steps(both) -> None:
    step_T = 0.03 * STEP_A
    (up_new, down_new, _), (up_ref, down_ref, _) = both["closed form"], both["uniform"]
    for new, ref in ((up_new, up_ref), (down_new, down_ref)):
        diff = new - ref
        se = diff.std(ddof=1) / math.sqrt(diff.size)
        assert abs(diff.mean()) <= 3 * se + 0.02 * step_T, (diff.mean(), se)
        assert abs(np.median(new) - np.median(ref)) < step_T  # the loop's Hc
        # the same spread of switching fields (device variability + thermal scatter)
        assert new.std() == pytest.approx(ref.std(), rel=0.15)
    assert np.median(up_new) > 0 > np.median(down_new)


def test_far_fewer_set_field_calls(both) -> None:
    calls_new, calls_ref = both["closed form"][2], both["uniform"][2]
    assert calls_new * 5 < calls_ref, (calls_new, calls_ref)
