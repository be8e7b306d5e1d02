"""Benchmark of the virtual chip: device-updates per second and an hour of gate programming.

Figures (``figures()``), each against an anchor measured in the same run:
- the 1e6-device chip step (a kinetics step with every gate on and a switching step near the
  coercive field, so no device is skipped) in device-updates/s, against a bare numpy
  ``a*b + c`` over 1e6 floats (goal >= 1e8/s); the numba thread setting is in the note;
- P4: one hour of simulated gate programming of one device (3600 gate steps + 3600 Hall
  reads) in wall seconds, against 7200 bare 1-element numpy ops (goal <= 0.2 s).

The printed detail compares the engines for the step's arithmetic on the same arrays: the
numpy chain it was, numexpr (if installed) and the numba kernel it is, on 1 and 2 threads.
The numpy and numexpr versions here are benchmark-only restatements of the law, for the
comparison; the simulator runs :mod:`labctl.physics.arrays`. Never an assertion: run it.

    python scripts/bench_chip.py [--devices 1000000] [--steps 20] [--quick]
"""

from __future__ import annotations

import argparse
import math
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from benchlib import Figure, best_of, table

from labctl.physics import arrays, jit
from sim_backend.chip import VirtualChip

N_DEVICES = 1_000_000
STEP_GOAL_PER_S = 1e8
HOUR_GOAL_S = 0.2


def anchor_axpy_s(n: int, repeats: int = 20) -> float:
    """Wall time (s) of ``a*b + c`` over ``n`` float64 (into a preallocated output)."""
    a, b, c = (np.random.default_rng(0).random(n) for _ in range(3))
    buf = np.empty(n)

    def axpy() -> None:
        np.multiply(a, b, out=buf)
        np.add(buf, c, out=buf)

    return best_of(axpy, repeats)


def _stepping_chip(n: int) -> VirtualChip:
    chip = VirtualChip.from_preset("ptco_gdox_hall", n_devices=n, seed=0)
    chip.set_gate(None, 1.0, 0.0)
    chip.set_field(-0.02, 0.0)
    return chip


def chip_step_s(n: int, steps: int) -> float:
    """Wall time (s) of one chip step on ``n`` devices: a kinetics step (every gate on) and a
    switching step (field near the coercive field, so no device is skipped)."""
    chip = _stepping_chip(n)
    clock = [0.0]

    def step() -> None:
        clock[0] += 1e-3
        chip.advance_to(clock[0])

    step()  # warm up (and compile, on a cold numba cache)
    return best_of(step, steps)


def gate_hour_s(step_s: float = 1.0, hours: float = 1.0) -> float:
    """Wall time (s) to program one device for ``hours`` with a new gate voltage every
    ``step_s`` (a 0.5–1.5 V staircase) and a Hall read after each step."""
    chip = VirtualChip.from_preset("ptco_gdox_hall", n_devices=1, seed=0)
    n = round(hours * 3600.0 / step_s)
    volts = (0.5 + (np.arange(n) % 11) / 10.0).tolist()
    chip.set_gate(0, 0.0, 0.0)  # warm up (and compile, on a cold numba cache)
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

    return best_of(ops, 5) / reps


# --- the engines compared on the step's arithmetic ---------------------------------------
def _step_inputs(n: int) -> dict:
    """The arrays and constants of one chip step at the benchmark's operating point."""
    chip = _stepping_chip(n)
    chip.advance_to(1e-3)
    sw = chip.params.switching
    dt_s = 1e-3
    c = chip._model.consts
    return {
        "x": chip.x.copy(), "x_inf": chip._x_inf.copy(),
        "decay": np.expm1(-chip._b * dt_s), "gate": chip._gate_eff.copy(), "c": c,
        "h0": chip._h0_dev, "d0": chip._d0_dev, "m": chip.m.copy(),
        "valid": chip._valid.copy(), "u": np.random.default_rng(1).random(n),
        "field_T": chip.field_T, "log_dt": math.log(dt_s / sw.tau0_s), "dt_s": dt_s,
        "tau0_s": sw.tau0_s, "n": sw.n_exponent,
    }  # fmt: skip


def _numpy_step(s: dict) -> int:
    """The step as the numpy chain it was (benchmark copy, n = 2)."""
    _parabolic, k_a, k_b, x_opt, vcma, demag, x_ox, valid_ms, inv_K = s["c"]
    x = s["x"] - (s["x_inf"] - s["x"]) * s["decay"]
    np.clip(x, 0.0, 1.0, out=x)
    d = x - x_opt
    K = d * d * k_a + k_b + s["gate"] * vcma
    ms = np.minimum(1.0, (1.0 - x) / (1.0 - x_ox))
    K -= demag * ms * ms
    valid = (K > 0) & (ms > valid_ms)
    k = K * inv_K * valid
    H0 = k * s["h0"]
    inv_H0 = np.divide(1.0, H0, out=np.zeros_like(H0), where=valid)
    delta = k * s["d0"]
    sh = s["m"] * (-s["field_T"]) * inv_H0
    lam_out = np.exp(s["log_dt"] - np.maximum(1.0 - sh, 0.0) ** 2 * delta)
    lam_back = np.exp(s["log_dt"] - np.maximum(sh + 1.0, 0.0) ** 2 * delta)
    total = lam_back + lam_out
    P = -(lam_out / total * np.expm1(-total))
    return int(np.count_nonzero((s["u"] < P) & valid))


def _numexpr_step(s: dict, ne: Any) -> int:
    """The same step as numexpr expressions (benchmark copy, n = 2)."""
    _parabolic, k_a, k_b, x_opt, vcma, demag, x_ox, valid_ms, inv_K = s["c"]
    env = {**s, "k_a": k_a, "k_b": k_b, "x_opt": x_opt, "vcma": vcma, "demag": demag,
           "x_ox": x_ox, "valid_ms": valid_ms, "inv_K": inv_K, "f": s["field_T"]}  # fmt: skip
    x = ne.evaluate("x - (x_inf - x) * decay", env)
    env["x"] = ne.evaluate("where(x < 0, 0, where(x > 1, 1, x))", {"x": x})
    env["ms"] = ne.evaluate("where((1 - x) / (1 - x_ox) < 1, (1 - x) / (1 - x_ox), 1)", env)
    env["K"] = ne.evaluate(
        "(x - x_opt) * (x - x_opt) * k_a + k_b + gate * vcma - demag * ms * ms", env
    )
    env["k"] = ne.evaluate("where((K > 0) & (ms > valid_ms), K * inv_K, 0)", env)
    env["sh"] = ne.evaluate("where(k > 0, m * (-f) / (k * h0), 0)", env)
    env["lo"] = ne.evaluate("exp(log_dt - where(1 - sh > 0, 1 - sh, 0) ** 2 * k * d0)", env)
    env["hi"] = ne.evaluate("exp(log_dt - where(1 + sh > 0, 1 + sh, 0) ** 2 * k * d0)", env)
    flips = ne.evaluate("(u < -(lo / (lo + hi) * expm1(-(lo + hi)))) & (k > 0)", env)
    return int(np.count_nonzero(flips))


def _numba_step(s: dict) -> int:
    """The simulator's fused kernel (labctl.physics.arrays.step_switch)."""
    x, m, valid = s["x"].copy(), s["m"].copy(), s["valid"].copy()
    flipped = np.zeros(x.size, dtype=bool)
    _, _, n_flipped, _ = arrays.step_switch(
        x, s["x_inf"], s["decay"], s["gate"], s["c"], s["h0"], s["d0"], 1.0, m, valid,
        s["u"], s["field_T"], s["dt_s"], s["tau0_s"], s["n"], flipped,
    )  # fmt: skip
    return n_flipped


def engine_comparison(n: int, repeats: int) -> list[tuple[str, float, int]]:
    """(engine and threads, wall s of the step's arithmetic on ``n`` devices, flips)."""
    s = _step_inputs(n)
    rows: list[tuple[str, float, int]] = []

    def timed(name: str, fn: Callable[[], int]) -> None:
        flips = fn()
        rows.append((name, best_of(fn, repeats), flips))

    timed("numpy (1 thread)", lambda: _numpy_step(s))
    try:
        import numexpr as ne
    except ImportError:
        ne = None
    if ne is not None:
        for threads in (1, 2):
            ne.set_num_threads(threads)
            timed(f"numexpr {ne.__version__} ({threads} threads)", lambda: _numexpr_step(s, ne))
    default = jit.get_threads()
    for threads in sorted({1, min(2, jit.max_threads())}):
        jit.set_threads(threads)
        timed(f"numba {_numba_version()} ({threads} threads)", lambda: _numba_step(s))
    jit.set_threads(default)
    return rows


def _numba_version() -> str:
    import numba

    return numba.__version__


def figures(quick: bool = False, n: int = N_DEVICES, steps: int | None = None) -> list[Figure]:
    """The chip's figures: 1e6-device step throughput and P4, each beside its anchor."""
    steps = steps or (5 if quick else 20)
    axpy = anchor_axpy_s(n, 5 if quick else 20)
    threads = jit.get_threads()
    other = 2 if threads == 1 else 1
    step = chip_step_s(n, steps)
    jit.set_threads(min(other, jit.max_threads()))
    step_other = chip_step_s(n, steps)
    jit.set_threads(threads)
    tiny = anchor_tiny_op_s()
    hour = min(gate_hour_s() for _ in range(1 if quick else 3))
    return [
        Figure(
            name=f"chip step, {n:.0e} devices",
            value=n / step,
            unit="updates/s",
            anchor="numpy a*b+c, same size",
            anchor_value=n / axpy,
            goal=f">= {STEP_GOAL_PER_S:.0e}/s",
            met=n / step >= STEP_GOAL_PER_S,
            note=(
                f"numba kernels on {threads} thread(s) (the default, LABCTL_KERNEL_THREADS); "
                f"{n / step_other:.3g}/s on {other}; uniforms drawn by the chip's numpy "
                "Generator (1 thread)"
            ),
        ),
        Figure(
            name="P4: 1 h gate programming, 1 device",
            value=hour,
            unit="s",
            anchor="7200 bare 1-element numpy ops",
            anchor_value=7200 * tiny,
            goal=f"<= {HOUR_GOAL_S} s",
            met=hour <= HOUR_GOAL_S,
            note="3600 set_gate + 3600 Hall reads; 1-device chip on Python floats",
        ),
    ]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--devices", type=int, default=N_DEVICES)
    ap.add_argument("--steps", type=int, default=None)
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    print(table(figures(args.quick, args.devices, args.steps)))
    print(f"\nthe step's arithmetic on {args.devices:.0e} devices, same arrays, by engine:")
    rows = engine_comparison(args.devices, 3 if args.quick else 7)
    base = rows[0][1]
    for name, wall_s, flips in rows:
        print(
            f"  {name:<28} {wall_s * 1e3:8.2f} ms  {args.devices / wall_s:9.3g} /s  "
            f"{base / wall_s:5.2f}x numpy  ({flips} flips)"
        )


if __name__ == "__main__":
    main()
