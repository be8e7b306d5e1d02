"""The device model's laws over device arrays, fused: one pass over memory per chip step.

The simulator's chip step on up to 1e6 devices was a chain of numpy operations, each a full
pass over memory (48 % of a step in the anisotropy update, 30 % in the switching probability).
These kernels apply the one-device laws of :mod:`~labctl.physics.kinetics`
(:func:`~labctl.physics.kinetics.step_x_one`), :mod:`~labctl.physics.anisotropy`
(:func:`~labctl.physics.anisotropy.k_ms_one`) and :mod:`~labctl.physics.switching`
(:func:`~labctl.physics.switching.p_two_state_one`) device by device in one compiled loop,
writing in place. They are THE array implementation of those laws: no numpy copy is kept.
Each kernel comes serial and parallel (:class:`~labctl.physics.jit.Kernel`); the numbers are
the same either way.
"""

from __future__ import annotations

import math

import numpy as np
from numba import prange

from labctl.physics.anisotropy import step_refresh_one
from labctl.physics.jit import kernel, njit
from labctl.physics.kinetics import drive_constants, drive_one
from labctl.physics.params import KineticsParams
from labctl.physics.switching import (
    flips_one,
    log_hazard_out_one,
    may_flip_one,
    p_two_state_one,
)

__all__ = [
    "bounds",
    "drive_coefficients",
    "drive_loop",
    "flip_probability_two_state",
    "flip_two_state",
    "p_two_state_loop",
    "refresh",
    "step_refresh",
    "step_switch",
]


@njit
def p_two_state_loop(m, field_T, inv_H0_per_T, delta, log_dt_tau0, n, out):
    """:func:`~labctl.physics.switching.p_two_state_one` of each device into ``out``."""
    for i in range(out.size):
        out[i] = p_two_state_one(m[i], field_T, inv_H0_per_T[i], delta[i], log_dt_tau0, n)


@njit
def drive_loop(s_V, A_per_s, A_scale, V0_V, asymmetry, ret_per_s, x_eq, a, b):
    """:func:`~labctl.physics.kinetics.drive_one` of each device into ``a`` and ``b``."""
    for i in range(s_V.size):
        a[i], b[i] = drive_one(s_V[i], A_per_s, A_scale[i], V0_V, asymmetry, ret_per_s, x_eq)


def drive_coefficients(
    kp: KineticsParams,
    gate_V: np.ndarray,
    temperature_K: float,
    A_scale: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Coefficients (a, b) (1/s) of ``dx/dt = a − b·x`` per device
    (:func:`~labctl.physics.kinetics.drive_one`).

    ``A_scale`` folds in the device-to-device lognormal factor and the cycle-to-cycle factor
    of the current gate pulse.
    """
    s = np.ascontiguousarray(np.asarray(gate_V, dtype=float) * kp.oxidising_polarity)
    A_scale = np.ascontiguousarray(np.broadcast_to(np.asarray(A_scale, dtype=float), s.shape))
    A, ret, x_eq = drive_constants(kp, temperature_K)
    a = np.empty(s.shape)
    b = np.empty(s.shape)
    drive_loop(s.ravel(), A, A_scale.ravel(), float(kp.V0_V), float(kp.asymmetry), ret, x_eq,
                a.ravel(), b.ravel())  # fmt: skip
    return a, b


def flip_probability_two_state(
    m: np.ndarray,
    field_T: float,
    inv_H0_per_T: np.ndarray,
    delta: np.ndarray,
    dt_s: float,
    tau0_s: float,
    n: float,
) -> np.ndarray:
    """:func:`~labctl.physics.switching.p_two_state_one` of each device over ``dt_s`` (new
    array)."""
    m = np.ascontiguousarray(m, dtype=float)
    out = np.empty(m.shape)
    p_two_state_loop(
        m.ravel(), float(field_T), np.ascontiguousarray(inv_H0_per_T, dtype=float).ravel(),
        np.ascontiguousarray(delta, dtype=float).ravel(), math.log(dt_s / tau0_s), float(n),
        out.ravel(),
    )  # fmt: skip
    return out


@kernel
def _step_refresh(every, idx, step, x, x_inf, decay, gate, any_gate, c, h0_dev,
                  d0_dev, t_factor, k, ms, valid, H0, inv_H0, delta, changed):  # fmt: skip
    n_changed = 0
    n_valid = 0
    d_min = np.inf
    h_min = np.inf
    count = x.size if every else idx.size
    for j in prange(count):
        i = np.intp(j) if every else np.intp(idx[j])  # one integer type for both
        xi, kk, mm, v, h, ih, d = step_refresh_one(
            step, x[i], x_inf[i] if step else 0.0, decay[j] if step else 0.0,
            gate[i] if any_gate else 0.0, c, h0_dev[i], d0_dev[i], t_factor,
        )  # fmt: skip
        x[i] = xi
        if v != valid[i]:
            changed[i] = True
            n_changed += 1
        else:
            changed[i] = False
        k[i] = kk
        ms[i] = mm
        valid[i] = v
        H0[i] = h
        inv_H0[i] = ih
        delta[i] = d
        if v:
            n_valid += 1
            d_min = min(d_min, d)
            h_min = min(h_min, h)
    return n_changed, d_min, h_min, n_valid


_EMPTY = np.zeros(0)
_NO_INDEX = np.zeros(0, dtype=np.intp)


def step_refresh(
    idx: np.ndarray | None,
    x: np.ndarray,
    x_inf: np.ndarray | None,
    decay: np.ndarray | None,
    gate: np.ndarray | None,
    consts: tuple,
    h0_dev: np.ndarray,
    d0_dev: np.ndarray,
    t_factor: float,
    out: tuple[np.ndarray, ...],
) -> tuple[int, tuple[float, float, int] | None]:
    """Step x exactly (when ``decay`` is given) and update the anisotropy-derived arrays.

    On the devices ``idx`` (None: all): x ← :func:`step_x_one` (``decay`` aligned with
    ``idx``), then (k, M_s/M_s0, valid, H0, 1/H0, Δ) ← :func:`k_ms_one` with H0 = k·h0_dev,
    Δ = k·d0_dev·t_factor, written into ``out`` = (k, ms, valid, H0, inv_H0, delta, changed)
    in place; ``changed`` flags the devices whose validity flipped. Returns the number of
    such devices and, for all devices, the bounds (min Δ, min H0 over valid devices, number
    valid) of the switching skip test (None for a subset).
    """
    step = decay is not None
    any_gate = gate is not None
    xi = x_inf if x_inf is not None else _EMPTY
    dc = decay if decay is not None else _EMPTY
    g = gate if gate is not None else _EMPTY
    every = idx is None
    ix = _NO_INDEX if every else idx
    fn = _step_refresh.pick(x.size if every else ix.size)
    n_changed, d_min, h_min, n_valid = fn(every, ix, step, x, xi, dc, g, any_gate, consts,
                                          h0_dev, d0_dev, t_factor, *out)  # fmt: skip
    if not every:
        return int(n_changed), None
    if n_valid == 0:
        d_min = h_min = 0.0
    return int(n_changed), (float(d_min), float(h_min), int(n_valid))


def refresh(
    idx: np.ndarray | None,
    x: np.ndarray,
    gate: np.ndarray | None,
    consts: tuple,
    h0_dev: np.ndarray,
    d0_dev: np.ndarray,
    t_factor: float,
    out: tuple[np.ndarray, ...],
) -> tuple[int, tuple[float, float, int] | None]:
    """:func:`step_refresh` without the step of x."""
    return step_refresh(idx, x, None, None, gate, consts, h0_dev, d0_dev, t_factor, out)


@kernel
def _bounds(delta, H0, valid):
    n_valid = 0
    d_min = np.inf
    h_min = np.inf
    for i in prange(delta.size):
        if valid[i]:
            n_valid += 1
            d_min = min(d_min, delta[i])
            h_min = min(h_min, H0[i])
    return d_min, h_min, n_valid


def bounds(delta: np.ndarray, H0: np.ndarray, valid: np.ndarray) -> tuple[float, float, int]:
    """(min Δ, min H0) over the valid devices (0, 0 if none) and the number valid."""
    d_min, h_min, n_valid = _bounds.pick(delta.size)(delta, H0, valid)
    if n_valid == 0:
        return 0.0, 0.0, 0
    return float(d_min), float(h_min), int(n_valid)


@kernel
def _flip(m, u, valid, field_T, inv_H0, delta, log_dt_tau0, n):
    n_flipped = 0
    for i in prange(m.size):
        if valid[i] and flips_one(u[i], m[i], field_T, inv_H0[i], delta[i], log_dt_tau0, n):
            m[i] = -m[i]
            n_flipped += 1
    return n_flipped


def flip_two_state(
    m: np.ndarray,
    u: np.ndarray,
    valid: np.ndarray,
    field_T: float,
    inv_H0_per_T: np.ndarray,
    delta: np.ndarray,
    dt_s: float,
    tau0_s: float,
    n: float,
) -> int:
    """Flip (in place) each valid device whose uniform draw ``u`` is below its
    :func:`~labctl.physics.switching.p_two_state_one` over ``dt_s``; returns how many
    flipped."""
    fn = _flip.pick(m.size)
    return int(fn(m, u, valid, float(field_T), inv_H0_per_T, delta,
                  math.log(dt_s / tau0_s), float(n)))  # fmt: skip


# Devices per block of the fused step: the block's cheap pass is vectorised (no exponentials,
# no branches); the few devices whose draw may be below P get the exact P in a second pass.
_BLOCK = 4096


@kernel
def _step_switch(step, test, x, x_inf, decay, gate, any_gate, c, h0_dev, d0_dev,
                 t_factor, m, valid, u, field_T, log_dt_tau0, n, flipped):  # fmt: skip
    size = x.size
    n_blocks = (size + _BLOCK - 1) // _BLOCK
    out = np.zeros((n_blocks, 6))  # per block: changed, Δ min, H0 min, valid, flipped, u min
    for b in prange(n_blocks):
        lo = b * _BLOCK
        hi = min(lo + _BLOCK, size)
        n_changed = 0
        n_valid = 0
        d_min = np.inf
        h_min = np.inf
        u_min = np.inf
        m_new = 1.0 if field_T > 0 else -1.0
        any_maybe = False
        for i in range(lo, hi):
            xi, _, _, v, h, ih, d = step_refresh_one(
                step, x[i], x_inf[i] if step else 0.0, decay[i] if step else 0.0,
                gate[i] if any_gate else 0.0, c, h0_dev[i], d0_dev[i], t_factor,
            )  # fmt: skip
            if step:
                x[i] = xi
            was = valid[i]
            valid[i] = v
            # newly perpendicular devices nucleate along the field; in-plane ones have no m_z
            mi = (m_new if v else 0.0) if v != was else m[i]
            m[i] = mi
            n_changed += v != was
            n_valid += v
            d_min = min(d_min, d if v else np.inf)
            h_min = min(h_min, h if v else np.inf)
            if test:
                ui = u[i]
                u_min = min(u_min, ui)
                # "&", not "and": no branch, so the loop vectorises
                may = v & may_flip_one(ui, log_hazard_out_one(mi, field_T, ih, d, log_dt_tau0, n))
                flipped[i] = may  # a candidate until the exact test below
                any_maybe |= may
        n_flipped = 0
        if any_maybe:
            for i in range(lo, hi):
                if flipped[i]:
                    _, _, _, _, _, ih, d = step_refresh_one(
                        False, x[i], 0.0, 0.0, gate[i] if any_gate else 0.0, c, h0_dev[i],
                        d0_dev[i], t_factor,
                    )  # fmt: skip
                    p = p_two_state_one(m[i], field_T, ih, d, log_dt_tau0, n)
                    if u[i] < p:
                        m[i] = -m[i]
                        n_flipped += 1
                    else:
                        flipped[i] = False
        out[b, 0] = n_changed
        out[b, 1] = d_min
        out[b, 2] = h_min
        out[b, 3] = n_valid
        out[b, 4] = n_flipped
        out[b, 5] = u_min
    return out


def step_switch(
    x: np.ndarray,
    x_inf: np.ndarray | None,
    decay: np.ndarray | None,
    gate: np.ndarray | None,
    consts: tuple,
    h0_dev: np.ndarray,
    d0_dev: np.ndarray,
    t_factor: float,
    m: np.ndarray,
    valid: np.ndarray,
    u: np.ndarray | None,
    field_T: float,
    dt_s: float,
    tau0_s: float,
    n: float,
    flipped: np.ndarray,
) -> tuple[int, tuple[float, float, int], int, float]:
    """One whole chip step at a non-zero field, in one pass: the kinetics step of x (when
    ``decay`` is given), the anisotropy of :func:`step_refresh` (validity changes set m along
    the field, or 0) and, with draws ``u``, the two-state flips of :func:`flip_two_state`
    (``flipped`` marks them). The derived arrays (k, M_s, H0, Δ) are not written.

    Returns (devices whose validity changed, (min Δ, min H0, n valid), flips, min u).
    """
    if field_T == 0.0:
        raise ValueError("step_switch: got field_T = 0, expected a non-zero field")
    test = u is not None
    fn = _step_switch.pick(x.size)
    out = fn(
        decay is not None, test, x, _EMPTY if x_inf is None else x_inf,
        _EMPTY if decay is None else decay, _EMPTY if gate is None else gate, gate is not None,
        consts, h0_dev, d0_dev, t_factor, m, valid, _EMPTY if u is None else u, float(field_T),
        math.log(dt_s / tau0_s), float(n), flipped,
    )  # fmt: skip
    n_changed, n_valid, n_flipped = (int(v) for v in out[:, [0, 3, 4]].sum(axis=0))
    d_min, h_min, u_min = (float(v) for v in out[:, [1, 2, 5]].min(axis=0))
    if n_valid == 0:
        d_min = h_min = 0.0
    return n_changed, (d_min, h_min, n_valid), n_flipped, u_min
