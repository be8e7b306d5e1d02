"""Benchmark of the virtual chip: device-updates per second and an hour of gate programming.

Prints ratios against anchors measured in the same run (a bare numpy ``a*b + c`` over 1e6
floats; a bare 1-element numpy op), so that numbers from different machines compare. Never an
assertion: run it, read it.

    python scripts/bench_chip.py [--devices 1000000] [--steps 20]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np

from sim_backend.chip import VirtualChip


def _best_of(fn: Callable[[], None], repeats: int) -> float:
    """Shortest wall time (s) of ``repeats`` calls: the least disturbed by the rest of the OS."""
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def anchor_axpy_s(n: int) -> float:
    """Wall time (s) of ``a*b + c`` over ``n`` float64 (into a preallocated output)."""
    a, b, c = (np.random.default_rng(0).random(n) for _ in range(3))
    buf = np.empty(n)

    def axpy() -> None:
        np.multiply(a, b, out=buf)
        np.add(buf, c, out=buf)

    return _best_of(axpy, 20)


def chip_step_s(n: int, steps: int) -> float:
    """Wall time (s) of one chip step on ``n`` devices: a kinetics step (every gate on) and a
    switching step (field near the coercive field, so no device is skipped)."""
    chip = VirtualChip.from_preset("ptco_gdox_hall", n_devices=n, seed=0)
    chip.set_gate(None, 1.0, 0.0)
    chip.set_field(-0.02, 0.0)
    clock = [0.0]

    def step() -> None:
        clock[0] += 1e-3
        chip.advance_to(clock[0])

    step()  # warm up
    return _best_of(step, steps)


def gate_hour_s(step_s: float = 1.0, hours: float = 1.0) -> float:
    """Wall time (s) to program one device for ``hours`` with a new gate voltage every
    ``step_s`` (a 0.5–1.5 V staircase) and a Hall read after each step."""
    chip = VirtualChip.from_preset("ptco_gdox_hall", n_devices=1, seed=0)
    n = round(hours * 3600.0 / step_s)
    volts = 0.5 + (np.arange(n) % 11) / 10.0
    t0 = time.perf_counter()
    for k in range(n):
        t = k * step_s
        chip.set_gate(0, volts[k], t)
        chip.hall_voltage_V(0, 1e-4, 1.0, t + 0.5 * step_s, dc_coupled=False)
    chip.set_gate(0, 0.0, n * step_s)
    return time.perf_counter() - t0


def anchor_tiny_op_s() -> float:
    """Wall time (s) of one bare numpy op on a 1-element array (the per-call overhead)."""
    a = np.ones(1)
    reps = 10000

    def ops() -> None:
        for _ in range(reps):
            np.add(a, a)

    return _best_of(ops, 5) / reps


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--devices", type=int, default=1_000_000)
    ap.add_argument("--steps", type=int, default=20)
    args = ap.parse_args()
    n = args.devices

    axpy = anchor_axpy_s(n)
    step = chip_step_s(n, args.steps)
    print(f"anchor  a*b+c over {n:.0e} float64: {axpy * 1e3:8.2f} ms  ({n / axpy:.3g} elem/s)")
    print(f"chip    one switching + one kinetics step on {n:.0e} devices: {step * 1e3:8.2f} ms")
    print(f"        device-updates/s: {n / step:.3g}   (goal >= 2e7)")
    print(f"        cost ratio chip step / anchor: {step / axpy:.1f}")

    tiny = anchor_tiny_op_s()
    hour = gate_hour_s()
    calls = 3600 * 2
    print(f"anchor  one 1-element numpy op: {tiny * 1e6:.2f} µs")
    print(f"gate    1 h of programming one device (3600 gate steps + 3600 reads): {hour:.3f} s")
    print(f"        (goal < 1 s); faster than real time by {3600.0 / hour:.3g}x;")
    print(f"        per chip call = {hour / calls / tiny:.0f} bare numpy ops")


if __name__ == "__main__":
    main()
