"""The chip's fast paths give what its step-by-step path gives: same draws, same results.

A big chip at a field steps in one fused pass (``VirtualChip._fused_step``) with a speculative
draw; a 1-device chip steps on Python floats. Both are checked against the general array path
of the same chip (forced by switching the fast path off on an identical chip), state for state
and draw for draw. The compiled kernels' early "no flip" bound is checked against the exact
probability on draws placed a hair either side of it.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from labctl.physics import arrays, jit
from sim_backend.chip import ChipParams, VirtualChip


def _same_state(a: VirtualChip, b: VirtualChip) -> None:
    np.testing.assert_array_equal(a.x, b.x)
    np.testing.assert_array_equal(a.m, b.m)
    np.testing.assert_array_equal(a.valid(), b.valid())
    np.testing.assert_array_equal(a.H0_T(), b.H0_T())
    np.testing.assert_array_equal(a.delta(), b.delta())
    assert a.rng.bit_generator.state == b.rng.bit_generator.state


def _general(chip: VirtualChip) -> VirtualChip:
    """The chip with its fast paths off: every step through the general array path."""
    chip._one = False
    chip._u = np.zeros(0)  # no buffer for the fused step's draws: the fused step is off
    return chip


def _field_walk(chip: VirtualChip) -> list[float]:
    """Gate on, a field sweep through the switching fields and back, zero-field dwells.

    The first step runs at a weak field with no bounds known (the gate was just set): the
    fused step draws speculatively, then finds the step quiet and puts the draws back.
    """
    flips = []
    t = 0.0
    chip.set_field(-0.002, t)
    chip.set_gate(None, 1.5, t)
    for field_T in [*np.linspace(-0.01, -0.05, 9), 0.0, *np.linspace(0.01, 0.05, 9), 0.0]:
        t += 0.05
        before = chip.m.copy()
        chip.set_field(float(field_T), t)
        flips.append(float(np.count_nonzero(chip.m != before)))
    chip.set_gate(None, 0.0, t + 0.1)
    chip.advance_to(t + 0.2)
    return flips


@pytest.mark.parametrize("preset", ["hall", "uniform_hall"])
def test_fused_big_chip_step_equals_the_step_by_step_path(
    preset: str, request: pytest.FixtureRequest
) -> None:
    hall: ChipParams = request.getfixturevalue(preset)  # uniform: quiet weak-field steps
    n = 5000  # above the fused step's threshold
    fused = VirtualChip(hall, n_devices=n, seed=3)
    general = _general(VirtualChip(hall, n_devices=n, seed=3))
    assert fused._u.size == n
    flips = _field_walk(fused)
    assert flips == _field_walk(general)
    assert sum(flips) > n / 10  # the walk does switch devices
    _same_state(fused, general)


def test_one_device_chip_on_floats_equals_the_array_path(hall: ChipParams) -> None:
    one = VirtualChip(hall, n_devices=1, seed=11)
    general = _general(VirtualChip(hall, n_devices=1, seed=11))
    reads = {id(one): [], id(general): []}
    for chip in (one, general):
        t = 0.0
        for k in range(300):
            t = k * 1.0
            chip.set_gate(0, 0.5 + (k % 11) / 10.0, t)
            chip.set_field(0.03 * math.sin(k / 7.0), t + 0.25)
            reads[id(chip)].append(chip.hall_voltage_V(0, 1e-4, 1.0, t + 0.5))
        chip.set_gate(0, 0.0, t + 1.0)
    assert reads[id(one)] == reads[id(general)]
    _same_state(one, general)
    assert len(set(np.sign(reads[id(one)]))) == 2  # the device switched both ways


def test_no_flip_bound_never_changes_a_decision() -> None:
    rng = np.random.default_rng(0)
    n = 20000
    m = rng.choice([-1.0, 1.0], n)
    inv_H0 = 1.0 / rng.uniform(0.03, 0.09, n)
    delta = rng.uniform(5.0, 80.0, n)
    dt_s, tau0_s, field_T = 1e-3, 1e-9, -0.02
    P = arrays.flip_probability_two_state(m, field_T, inv_H0, delta, dt_s, tau0_s, 2.0)
    # draws a relative 1e-12 either side of each device's P: the bound must leave every one
    # of them to the exact comparison
    for rel in (1.0 - 1e-12, 1.0 + 1e-12):
        u = np.clip(P * rel, 0.0, np.nextafter(1.0, 0.0))
        for kernel in (arrays._flip.serial, arrays._flip.parallel):
            m_out = m.copy()
            kernel(m_out, u, np.ones(n, bool), field_T, inv_H0, delta,
                   math.log(dt_s / tau0_s), 2.0)  # fmt: skip
            np.testing.assert_array_equal(m_out != m, u < P)


@pytest.mark.parametrize("threads", [1, 2])
def test_parallel_kernels_give_the_serial_numbers(
    hall: ChipParams, threads: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    n = jit.PARALLEL_MIN_SIZE + 7
    default = jit.get_threads()
    try:
        jit.set_threads(min(threads, jit.max_threads()))
        parallel = VirtualChip(hall, n_devices=n, seed=5)
        _field_walk(parallel)
    finally:
        jit.set_threads(default)
    monkeypatch.setattr(jit, "PARALLEL_MIN_SIZE", 10**12)  # every kernel serial
    monkeypatch.setattr(jit, "_threads", 2)  # (however many threads are set)
    serial = VirtualChip(hall, n_devices=n, seed=5)
    _field_walk(serial)
    _same_state(parallel, serial)
