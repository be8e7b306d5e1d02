"""``VirtualChip``: an array of magneto-ionic synapse devices integrated over caller-given times.

THE API the instrument twins and the fast learning path code against. The chip holds the
state (x, m, the drives, the random stream) and integrates it in time; the laws it integrates
are the device model's (``labctl.physics``), the same functions the analysis fits. All methods are
vectorized over devices (1 to 1e6). Times are seconds on the caller's axis (the station clock);
the chip keeps no clock of its own. Every random draw comes from ``self.rng`` (seeded).

Conventions
-----------
- ``indices``: None (all devices), an int, a list of ints or an int array.
- Fields are µ0·H in tesla (``field_T``); voltages in volts; times in seconds.
- ``m`` is +1 / -1 (perpendicular up / down), 0 for devices that are not valid PMA synapses
  (K_eff <= 0: in-plane, or no moment left when over-oxidised).
- Between calls the drives (perpendicular field, in-plane field, gate voltages, temperature) are
  held constant; ``advance_to`` integrates the hidden state exactly and draws thermally activated
  switching over the elapsed interval, using the anisotropy at the end of the interval (callers
  that move x fast under a field that matters should substep).
"""

from __future__ import annotations

import math
from types import ModuleType

import numpy as np

from labctl.physics import kinetics, switching
from labctl.physics.anisotropy import AnisotropyModel, K_eff_J_per_m3, step_refresh_one
from labctl.physics.params import ChipParams, load_preset
from sim_backend.chip.readout import DriftingNoise
from sim_backend.chip.readout_mixin import Indices, ReadoutMixin
from sim_backend.chip.snapshot import SnapshotMixin
from sim_backend.chip.variability import draw_spread

__all__ = ["Indices", "VirtualChip"]

# Skip the switching draw when the chance that ANY device flips in the step is below this:
# it saves the 1e6-device work while a field is far below the switching fields.
_SKIP_LOG_HAZARD = math.log(1e-10)
# A chip this big steps at a field in one fused pass (below it the step-by-step path is cheaper
# than saving the generator's state for a speculative draw).
_FUSED_MIN_DEVICES = 4096
# ln-units below the skip bound at which the last step counts as quiet (no speculative draw)
_QUIET_MARGIN = 2.0


def _arrays() -> ModuleType:
    """The compiled array kernels, imported on first use: numba loads (about a second) only
    for a chip of more than one device."""
    from labctl.physics import arrays

    return arrays


def _nothing_flips(n_valid: int, log_bound: float, u_min: float) -> bool:
    """Every draw is above every device's bound on P: nothing flips (same draws, same outcome)."""
    return math.log(n_valid) + log_bound < 0.0 and u_min >= math.exp(log_bound)


class VirtualChip(ReadoutMixin, SnapshotMixin):
    """A seeded array of ``n_devices`` magneto-ionic synapses (Hall crosses or MTJs)."""

    def __init__(
        self, params: ChipParams, n_devices: int = 1, seed: int = 0, t0_s: float = 0.0
    ) -> None:
        """Draw the per-device parameters (variability) and initial state from ``seed``.

        Args:
            params: the chip description (see ``labctl.physics.params``).
            n_devices: number of devices in the array (1 to ~1e6).
            seed: seed of the chip's ``numpy.random.Generator`` (all draws come from it).
            t0_s: time (s) at which the state is defined.
        """
        if n_devices < 1:
            raise ValueError(f"n_devices: got {n_devices}, expected >= 1")
        self.params = params
        self.n_devices = n = int(n_devices)
        self.rng = np.random.default_rng(seed)
        self.t_s = float(t0_s)
        self.field_T = 0.0
        self.inplane_field_T = 0.0
        self.temperature_K = params.temperature_K
        self.gate_V = np.zeros(n)
        self.broken = np.zeros(n, dtype=bool)  # oxide broken down: gate no longer acts
        self.spread = draw_spread(params, n, self.rng)
        self.x = self.spread.x_init.copy()
        self.m = np.zeros(n)
        self._all = np.arange(n)
        self._model = AnisotropyModel(params)
        self._h0_dev = params.anisotropy.h0_T * self.spread.H0_scale  # T at K_eff,ref
        self._d0_dev = params.anisotropy.delta0 * self.spread.delta_scale  # at K_eff,ref, T_ref
        self._one = n == 1  # a 1-device chip steps on Python floats (``_refresh_one``)
        self._h0_one = float(self._h0_dev[0])
        self._d0_one = float(self._d0_dev[0])
        self._jc0_dev = params.switching.Jc0_A_per_m2 * self.spread.Jc0_scale
        self._c2c = np.ones(n)  # cycle-to-cycle rate factor of the gate pulse in force
        # derived from x and the gate by the anisotropy law; the fused step at a field leaves
        # them stale (``_stale``) and the properties below bring them up to date when read
        self._k_a = np.zeros(n)  # max(K_eff, 0)/K_eff,ref
        self._ms_a = np.zeros(n)  # M_s/M_s0
        self._H0_a = np.zeros(n)  # T, 0 where invalid
        self._inv_H0_a = np.zeros(n)  # 1/T, 0 where invalid
        self._delta_a = np.zeros(n)  # 0 where invalid
        self._stale = False
        self._derived_gen = 0  # counts writes of the derived arrays (keys ``_low_barrier``)
        self._low_sel: tuple[int, float, float, np.ndarray] | None = None  # _low_barrier's
        self._valid = np.zeros(n, dtype=bool)  # always up to date
        self._a = np.zeros(n)  # kinetics dx/dt = a − b·x (1/s)
        self._b = np.zeros(n)
        self._x_inf = np.zeros(n)  # a/b: where x relaxes to under the present drives
        self._decay = np.zeros(0)  # expm1(−b·Δt) of the active devices for Δt = _decay_dt
        self._decay_dt: float | None = None
        self._decay_one = 0.0  # the same for a 1-device chip, as a float
        self._drive_T = math.nan  # temperature of the cached kinetics constants
        self._drive_c = (0.0, -1.0, 0.0)
        self._active: np.ndarray | slice | None = None  # devices whose x moves
        self._any_gate = False
        self._gate_eff = np.zeros(n)  # V reaching the oxide
        self._bounds: tuple[float, float, int] | None = None  # (Δ_min, H0_min, n_valid)
        self._changed = np.zeros(n, dtype=bool)  # validity flipped in the last refresh
        # the arrays the fused refresh writes in place, in its order
        self._derived = (self._k_a, self._ms_a, self._valid, self._H0_a, self._inv_H0_a,
                         self._delta_a, self._changed)  # fmt: skip
        self._u = np.zeros(n if n >= _FUSED_MIN_DEVICES else 0)  # the fused step's draws
        self._flipped = np.zeros(self._u.size, dtype=bool)
        self._refresh(slice(None), assign_m=False)
        self._init_m()
        self._update_drive(self._all)
        self._noise = DriftingNoise(params.noise, self.rng, self.t_s)

    @classmethod
    def from_preset(
        cls, name: str, n_devices: int = 1, seed: int = 0, t0_s: float = 0.0
    ) -> VirtualChip:
        """A chip from a bundled preset (``"ptco_gdox_hall"`` or ``"cofeb_mgo_mtj"``)."""
        return cls(load_preset(name), n_devices=n_devices, seed=seed, t0_s=t0_s)

    # --- derived per-device arrays (read through these: up to date on reading) -----------
    def _fresh(self) -> None:
        if self._stale:
            self._refresh(slice(None), assign_m=False)  # validity is current: nothing changes

    @property
    def _k(self) -> np.ndarray:
        self._fresh()
        return self._k_a

    @property
    def _ms(self) -> np.ndarray:
        self._fresh()
        return self._ms_a

    @property
    def _H0(self) -> np.ndarray:
        self._fresh()
        return self._H0_a

    @property
    def _inv_H0(self) -> np.ndarray:
        self._fresh()
        return self._inv_H0_a

    @property
    def _delta(self) -> np.ndarray:
        self._fresh()
        return self._delta_a

    # --- internals -------------------------------------------------------------------------
    def _idx(self, indices: Indices) -> np.ndarray:
        if indices is None:
            return self._all
        if type(indices) is int and 0 <= indices < self.n_devices:
            return self._all[indices : indices + 1]  # a view: no array built from scratch
        idx = np.atleast_1d(np.asarray(indices))
        if idx.dtype == bool:
            raise TypeError("indices: got a bool mask, expected device numbers (np.flatnonzero)")
        if idx.size and (idx.min() < 0 or idx.max() >= self.n_devices):
            raise IndexError(
                f"indices: got {idx.min()}..{idx.max()}, expected 0..{self.n_devices - 1}"
            )
        return idx.astype(np.intp, copy=False)

    def _init_m(self) -> None:
        mode = self.params.m_init
        if mode == "random":
            m = self.rng.choice(np.array([-1.0, 1.0]), self.n_devices)
        else:
            m = np.full(self.n_devices, 1.0 if mode == "up" else -1.0)
        self.m = np.where(self._valid, m, 0.0)

    def _refresh(
        self, sel: np.ndarray | slice, assign_m: bool = True, decay: np.ndarray | None = None
    ) -> None:
        """Recompute the anisotropy-derived per-device arrays on ``sel`` from x and the gate.

        With ``decay`` (expm1(−b·Δt) aligned with ``sel``) x first takes its exact kinetics
        step, in the same pass over memory.
        """
        idx = None if isinstance(sel, slice) else sel
        t_factor = self.params.anisotropy.T_ref_K / self.temperature_K
        if self._one:
            self._refresh_one(None if decay is None else float(decay[0]), t_factor, assign_m)
            return
        self._derived_gen += 1
        n_changed, self._bounds = _arrays().step_refresh(
            idx, self.x, self._x_inf, decay, self._gate_eff if self._any_gate else None,
            self._model.consts, self._h0_dev, self._d0_dev, t_factor, self._derived,
        )  # fmt: skip
        if idx is None:
            self._stale = False
        if assign_m and n_changed:
            changed = self._changed if idx is None else self._changed[idx]
            where = np.flatnonzero(changed) if idx is None else idx[changed]
            now_valid = self._valid[where]
            if self.field_T != 0:
                new_m = np.full(where.size, math.copysign(1.0, self.field_T))
            else:
                new_m = self.rng.choice(np.array([-1.0, 1.0]), where.size)
            # Newly perpendicular devices nucleate along the field (random at zero field);
            # devices that turn in-plane have no perpendicular component.
            self.m[where] = np.where(now_valid, new_m, 0.0)

    def _refresh_one(self, decay: float | None, t_factor: float, assign_m: bool) -> None:
        """``_refresh`` of a 1-device chip: the same one-device law, called on Python floats
        (no array operations: a 1-device step costs what its arithmetic costs)."""
        x, k, ms, v, h, ih, d = step_refresh_one(
            decay is not None, float(self.x[0]), float(self._x_inf[0]),
            0.0 if decay is None else decay, float(self._gate_eff[0]), self._model.consts,
            self._h0_one, self._d0_one, t_factor,
        )  # fmt: skip
        self.x[0] = x
        self._k_a[0], self._ms_a[0], self._H0_a[0], self._inv_H0_a[0], self._delta_a[0] = (
            k,
            ms,
            h,
            ih,
            d,
        )
        self._stale = False
        self._derived_gen += 1
        self._bounds = (d, h, 1) if v else (0.0, 0.0, 0)
        was = bool(self._valid[0])
        self._valid[0] = v
        if assign_m and v != was:
            if self.field_T != 0:
                m = math.copysign(1.0, self.field_T)
            else:
                m = float(self.rng.choice(np.array([-1.0, 1.0]), 1)[0])
            self.m[0] = m if v else 0.0

    def _sync_gate(self, idx: np.ndarray | None = None) -> None:
        """Gate voltage that reaches the oxide (none through a broken-down oxide); ``idx``:
        only those devices' gate or oxide changed."""
        if idx is None:
            self._gate_eff = np.where(self.broken, 0.0, self.gate_V)
            self._any_gate = bool(np.any(self._gate_eff))
            return
        eff = np.where(self.broken[idx], 0.0, self.gate_V[idx])
        self._gate_eff[idx] = eff
        # a gate switched on needs no look at the rest of the chip
        self._any_gate = bool(np.any(eff)) or bool(np.any(self._gate_eff))

    def _update_drive(self, idx: np.ndarray) -> None:
        if self._one:
            self._update_drive_one()
            return
        kp = self.params.kinetics
        a, b = _arrays().drive_coefficients(
            kp, self._gate_eff[idx], self.temperature_K, self.spread.A_scale[idx] * self._c2c[idx]
        )
        self._a[idx] = a
        self._b[idx] = b
        self._x_inf[idx] = np.divide(a, b, out=np.zeros_like(a), where=b > 0)  # 0 <= a <= b
        self._decay_dt = None
        moving = np.flatnonzero(self._b)
        if moving.size == 0:
            self._active = None
        elif kp.tau_ret_s is not None or moving.size > self.n_devices // 4:
            self._active = slice(None)
        else:
            self._active = moving

    def _log_bound(self, dt_s: float) -> tuple[int, float]:
        """(n valid, ln of a bound on every device's flip probability over ``dt_s``)."""
        sw = self.params.switching
        if self._bounds is None:
            self._bounds = _arrays().bounds(self._delta, self._H0, self._valid)
        dmin, h0min, nv = self._bounds
        if nv == 0:
            return 0, -math.inf
        # lowest possible barrier: smallest Δ with the field reduced by the smallest H0
        q = max(0.0, 1.0 - abs(self.field_T) / h0min) ** sw.n_exponent
        return nv, math.log(dt_s / sw.tau0_s) - dmin * q

    def _low_barrier(self, max_barrier: float) -> np.ndarray:
        """``np.flatnonzero((Δ < max_barrier) & valid)``, kept while Δ and validity are
        unchanged (writes at zero field, reads) together with the range of bounds that gives
        the same devices: the next write's bound then needs no pass over the chip."""
        self._fresh()  # a stale refresh bumps the generation first
        gen = self._derived_gen
        kept = self._low_sel
        if kept is not None and kept[0] == gen and kept[1] < max_barrier <= kept[2]:
            return kept[3]
        delta, valid = self._delta_a, self._valid
        low = (delta < max_barrier) & valid
        sel = np.flatnonzero(low)
        below = float(delta[sel].max()) if sel.size else -math.inf
        np.logical_xor(low, valid, out=low)  # the valid devices at or above the bound
        above = float(np.min(delta, where=low, initial=math.inf))
        self._low_sel = (gen, below, above, sel)
        return sel

    def _thermal_switch(self, dt_s: float) -> None:
        sw = self.params.switching
        nv, log_bound = self._log_bound(dt_s)
        if nv == 0 or math.log(nv) + log_bound < _SKIP_LOG_HAZARD:
            return
        if self.field_T == 0.0:
            # only devices whose own barrier is low enough (the rest sum below the skip bound)
            max_barrier = math.log(dt_s / sw.tau0_s) + math.log(nv) - _SKIP_LOG_HAZARD
            sel = self._low_barrier(max_barrier)
            if sel.size < self.n_devices // 4:
                u = self.rng.random(sel.size)
                # only a draw below the bound on every P can flip (same draws, same outcome);
                # the margin keeps rounding of the bound on the safe side
                cand = np.flatnonzero(u < math.exp(log_bound) * (1.0 + 1e-9))
                if cand.size == 0:
                    return
                sel, u = sel[cand], u[cand]
                P = _arrays().flip_probability_two_state(
                    self.m[sel], 0.0, self._inv_H0[sel], self._delta[sel], dt_s, sw.tau0_s,
                    sw.n_exponent,
                )  # fmt: skip
                flipped = sel[u < P]
                self.m[flipped] = -self.m[flipped]
                return
        u = self.rng.random(self.n_devices)
        if _nothing_flips(nv, log_bound, float(u.min())):
            return  # every draw is above every P: nothing flips (same draws, same outcome)
        _arrays().flip_two_state(self.m, u, self._valid, self.field_T, self._inv_H0, self._delta,
                              dt_s, sw.tau0_s, sw.n_exponent)  # fmt: skip

    def _advance_one(self, dt_s: float) -> None:
        """``advance_to`` of a 1-device chip on Python floats: the same laws, the same draws
        (``rng.random()`` gives what ``rng.random(1)`` gives)."""
        if self._active is not None:
            if self._decay_dt is None or abs(dt_s - self._decay_dt) > 1e-12 * dt_s:
                self._decay_one = math.expm1(-float(self._b[0]) * dt_s)
                self._decay_dt = dt_s
            self._refresh_one(
                self._decay_one, self.params.anisotropy.T_ref_K / self.temperature_K, True
            )
        nv, log_bound = self._log_bound(dt_s)
        if nv == 0 or math.log(nv) + log_bound < _SKIP_LOG_HAZARD:
            return
        # (the zero-field subset path of _thermal_switch never applies to one device)
        u = self.rng.random()
        if _nothing_flips(nv, log_bound, u):
            return
        sw = self.params.switching
        m = float(self.m[0])
        if switching.flips_one(u, m, self.field_T, float(self._inv_H0[0]), float(self._delta[0]),
                               math.log(dt_s / sw.tau0_s), float(sw.n_exponent)):  # fmt: skip
            self.m[0] = -m

    def _fused_step(self, dt_s: float) -> None:
        """Kinetics, anisotropy and switching of a big chip at a non-zero field in one pass.

        Same draws and outcome as the step-by-step path: the uniforms are drawn before the
        pass (the switching law needs the new anisotropy, and one pass has no second look);
        when the bound then says the step path would not have drawn, the generator's state is
        put back and any flips undone.
        """
        nv, log_bound = self._log_bound(dt_s) if self._bounds is not None else (1, 0.0)
        if nv == 0 or math.log(nv) + log_bound < _SKIP_LOG_HAZARD - _QUIET_MARGIN:
            # quiet last step: step without draws, then draw only if the new bound says so
            self._fused_pass(dt_s, step=True, draw=False)
            nv, log_bound = self._log_bound(dt_s)
            if nv == 0 or math.log(nv) + log_bound < _SKIP_LOG_HAZARD:
                return
            self._fused_pass(dt_s, step=False, draw=True)
            return
        self._fused_pass(dt_s, step=True, draw=True)

    def _fused_pass(self, dt_s: float, step: bool, draw: bool) -> None:
        sw = self.params.switching
        if draw:
            state = self.rng.bit_generator.state
            self.rng.random(out=self._u)
        _, self._bounds, n_flipped, u_min = _arrays().step_switch(
            self.x, self._x_inf, self._decay if step else None,
            self._gate_eff if self._any_gate else None, self._model.consts, self._h0_dev,
            self._d0_dev, self.params.anisotropy.T_ref_K / self.temperature_K, self.m,
            self._valid, self._u if draw else None, self.field_T, dt_s, sw.tau0_s,
            sw.n_exponent, self._flipped,
        )  # fmt: skip
        self._stale = True
        self._derived_gen += 1
        if not draw:
            return
        nv, log_bound = self._log_bound(dt_s)
        drawn = nv > 0 and math.log(nv) + log_bound >= _SKIP_LOG_HAZARD
        if not drawn:
            self.rng.bit_generator.state = state
        if n_flipped and not (drawn and not _nothing_flips(nv, log_bound, u_min)):
            np.negative(self.m, out=self.m, where=self._flipped)

    # --- time and drives -------------------------------------------------------------------
    def advance_to(self, t_s: float) -> None:
        """Integrate over [self.t_s, t_s] with the drives held constant; t_s <= self.t_s: no-op.

        The hidden state takes one exact exponential step; thermally activated switching is
        drawn once for the interval (exact two-state solution at constant field).
        """
        dt = float(t_s) - self.t_s
        if not dt > 0:
            return
        if self._one:
            self._advance_one(dt)
            self.t_s = float(t_s)
            return
        if self._active is not None:
            sel = self._active
            if self._decay_dt is None or abs(dt - self._decay_dt) > 1e-12 * dt:
                # exp(−bΔt) is reused while the step length repeats (substeps, benchmarks)
                self._decay = np.expm1(-self._b[sel] * dt)
                self._decay_dt = dt
            if self.field_T != 0.0 and isinstance(sel, slice) and self._u.size:
                self._fused_step(dt)
                self.t_s = float(t_s)
                return
            self._refresh(sel, decay=self._decay)
        self._thermal_switch(dt)
        self.t_s = float(t_s)

    def set_field(self, field_T: float, t_s: float) -> None:
        """Advance to ``t_s``, then apply the global perpendicular field µ0·H_z (T)."""
        self.advance_to(t_s)
        self.field_T = float(field_T)

    def set_inplane_field(self, field_T: float, t_s: float) -> None:
        """Advance to ``t_s``, then apply the global in-plane bias field µ0·H_x (T)."""
        self.advance_to(t_s)
        self.inplane_field_T = float(field_T)

    def set_temperature(self, temperature_K: float, t_s: float) -> None:
        """Advance to ``t_s``, then change the chip temperature (K): rates, Δ and noise follow."""
        if not temperature_K > 0:
            raise ValueError(f"temperature_K: got {temperature_K}, expected > 0")
        self.advance_to(t_s)
        self.temperature_K = float(temperature_K)
        self._update_drive(self._all)
        self._refresh(slice(None))

    def set_gate(self, indices: Indices, voltage_V: float | np.ndarray, t_s: float) -> None:
        """Advance to ``t_s``, then set the gate voltage (V) on ``indices`` (others unchanged).

        Each newly applied non-zero gate voltage draws a fresh cycle-to-cycle rate factor.
        A voltage beyond a device's breakdown voltage breaks that device's oxide for good.
        """
        self.advance_to(t_s)
        if (
            self._one
            and (indices is None or (type(indices) is int and indices == 0))
            and isinstance(voltage_V, float | int)
        ):
            self._set_gate_one(float(voltage_V))
            return
        idx = self._idx(indices)
        if np.ndim(voltage_V) == 0:
            V = np.full(idx.shape, float(voltage_V))
        else:
            V = np.broadcast_to(np.asarray(voltage_V, dtype=float), idx.shape).copy()
        self.broken[idx[np.abs(V) > self.spread.breakdown_V[idx]]] = True
        new_pulse = (V != self.gate_V[idx]) & (V != 0)
        self.gate_V[idx] = V
        sigma = self.params.kinetics.cycle_noise_rel
        if sigma > 0 and new_pulse.any():
            f = 1.0 + sigma * self.rng.standard_normal(int(np.count_nonzero(new_pulse)))
            self._c2c[idx[new_pulse]] = np.maximum(f, 0.0)
        self._sync_gate(idx)
        self._update_drive(idx)
        self._refresh(idx)  # the VCMA term follows the gate at once

    def _set_gate_one(self, V: float) -> None:
        """``set_gate`` of a 1-device chip on Python floats (same laws, same draws)."""
        if abs(V) > self.spread.breakdown_V[0]:
            self.broken[0] = True
        new_pulse = V != self.gate_V[0] and V != 0
        self.gate_V[0] = V
        sigma = self.params.kinetics.cycle_noise_rel
        if sigma > 0 and new_pulse:
            # rng.standard_normal() draws what rng.standard_normal(1) draws
            self._c2c[0] = max(1.0 + sigma * self.rng.standard_normal(), 0.0)
        g = 0.0 if self.broken[0] else V
        self._gate_eff[0] = g
        self._any_gate = g != 0.0
        self._update_drive_one()
        self._refresh_one(None, self.params.anisotropy.T_ref_K / self.temperature_K, True)

    def _update_drive_one(self) -> None:
        """``_update_drive`` of a 1-device chip on Python floats."""
        kp = self.params.kinetics
        if self._drive_T != self.temperature_K:
            self._drive_c = kinetics.drive_constants(kp, self.temperature_K)
            self._drive_T = self.temperature_K
        A, ret, x_eq = self._drive_c
        s_V = float(self._gate_eff[0]) * kp.oxidising_polarity
        A_scale = float(self.spread.A_scale[0] * self._c2c[0])
        a, b = kinetics.drive_one(s_V, A, A_scale, kp.V0_V, kp.asymmetry, ret, x_eq)
        self._a[0] = a
        self._b[0] = b
        self._x_inf[0] = a / b if b > 0 else 0.0
        self._decay_dt = None
        self._active = slice(None) if b != 0 else None

    def gate_pulse(
        self, indices: Indices, voltage_V: float | np.ndarray, duration_s: float, t_s: float
    ) -> None:
        """Gate ``voltage_V`` (V) on ``indices`` from ``t_s`` for ``duration_s`` (s), then 0 V."""
        self.set_gate(indices, voltage_V, t_s)
        self.set_gate(indices, 0.0, t_s + duration_s)

    # --- writes ----------------------------------------------------------------------------
    def current_density_A_per_m2(self, amplitude_V: float | np.ndarray) -> np.ndarray:
        """J = V/(R_channel·w·t) (A/m²) of a write pulse of ``amplitude_V`` (V)."""
        sw = self.params.switching
        area = sw.channel_width_m * sw.channel_thickness_m
        return np.asarray(amplitude_V, dtype=float) / (sw.channel_R_ohm * area)

    def sot_pulse(
        self,
        indices: Indices,
        amplitude_V: float | np.ndarray,
        width_s: float,
        t_s: float,
        polarity: int | np.ndarray | None = None,
    ) -> np.ndarray:
        """A write pulse of ``amplitude_V`` (V) for ``width_s`` (s) through the SOT channel.

        J = V / (R_channel·w·t) (A/m²). The target direction is sign(J)·sign(H_x) (or the
        preset's default bias sign when H_x = 0); ``polarity`` (+1/-1) overrides it. The
        perpendicular field adds to the barrier (combined heuristic of docs/physics.md §3), and Jc0
        has the pulse-to-pulse spread ``switching.Jc_c2c_rel``. Time then advances to
        ``t_s + width_s`` for the whole chip (thermal switching of all devices included).

        Returns:
            bool array aligned with ``indices`` (length n_devices for None): True where the
            device switched during the pulse.
        """
        self.advance_to(t_s)
        sw = self.params.switching
        idx = self._idx(indices)
        J: float | np.ndarray
        target: float | np.ndarray
        if np.ndim(amplitude_V) == 0:
            # one amplitude for all (the learning path): J and, usually, the target are one
            # number that broadcasts in the arithmetic below (the same values per device)
            J = float(self.current_density_A_per_m2(amplitude_V))
            if J == 0:
                target = 0.0
            elif polarity is None:
                bias = math.copysign(1.0, self.inplane_field_T) if self.inplane_field_T else None
                target = math.copysign(1.0, J) * (
                    float(sw.default_bias_sign) if bias is None else bias
                )
            elif np.ndim(polarity) == 0:
                target = float(polarity)
            else:
                target = np.asarray(polarity, float)
                if target.shape != idx.shape:
                    target = np.broadcast_to(target, idx.shape)
        else:
            J = np.broadcast_to(self.current_density_A_per_m2(amplitude_V), idx.shape)
            bias = math.copysign(1.0, self.inplane_field_T) if self.inplane_field_T else None
            bias = float(sw.default_bias_sign) if bias is None else bias
            target = np.sign(J) * bias
            if polarity is not None:
                target = np.where(
                    J != 0, np.broadcast_to(np.asarray(polarity, float), idx.shape), 0
                )
        Jc = self._jc0_dev[idx] * self._k[idx]
        if sw.Jc_c2c_rel > 0:
            Jc = Jc * np.maximum(1.0 + sw.Jc_c2c_rel * self.rng.standard_normal(idx.size), 0.05)
        P = switching.p_sot(
            np.abs(J), width_s, Jc, self._H0[idx], self._delta[idx], sw.tau0_s,
            sw.n_exponent, field_assist_T=target * self.field_T,
        )  # fmt: skip
        switched = (self.m[idx] == -target) & self._valid[idx] & (target != 0)
        switched &= self.rng.random(idx.size) < P
        self.m[idx[switched]] = target if np.ndim(target) == 0 else target[switched]
        self.advance_to(t_s + width_s)
        return switched

    def field_pulse(self, field_T: float, width_s: float, t_s: float) -> np.ndarray:
        """A global field pulse of ``field_T`` (T) for ``width_s`` (s) on all devices.

        The previous field is restored afterwards. Returns a bool mask (n_devices,) of the
        devices that switched.
        """
        previous = self.field_T
        self.set_field(field_T, t_s)
        m_before = self.m.copy()
        self.set_field(previous, t_s + width_s)
        return self.m != m_before

    # --- per-device state ------------------------------------------------------------------
    def valid(self) -> np.ndarray:
        """bool (n_devices,): device is a valid PMA synapse (K_eff > 0 and a moment left)."""
        return self._valid.copy()

    def K_eff_J_per_m3(self, indices: Indices = None) -> np.ndarray:
        """Effective anisotropy (J/m³) now, incl. VCMA while gated (no device spread)."""
        idx = self._idx(indices)
        return K_eff_J_per_m3(self.params.anisotropy, self.x[idx], self._gate_eff[idx])

    def H0_T(self, indices: Indices = None) -> np.ndarray:
        """Zero-temperature switching field µ0·H0 (T) now (variability, VCMA; 0 if invalid)."""
        return self._H0[self._idx(indices)].copy()

    def delta(self, indices: Indices = None) -> np.ndarray:
        """Thermal stability factor Δ now (variability, VCMA, temperature; 0 if invalid)."""
        return self._delta[self._idx(indices)].copy()

    def Jc0_A_per_m2(self, indices: Indices = None) -> np.ndarray:
        """Zero-temperature SOT critical current density (A/m²) now, ∝ K_eff (0 if invalid)."""
        idx = self._idx(indices)
        return self._jc0_dev[idx] * self._k[idx] * self._valid[idx]

    def switching_probability_field(
        self, field_T: float, dwell_s: float, indices: Indices = None
    ) -> np.ndarray:
        """P of docs/physics.md §3 that a device opposing ``field_T`` switches within ``dwell_s``.

        No sampling, no state change. 0 for invalid devices.
        """
        sw = self.params.switching
        idx = self._idx(indices)
        return switching.p_field(
            abs(field_T), dwell_s, self._H0[idx], self._delta[idx], sw.tau0_s, sw.n_exponent
        )

    def switching_probability_sot(
        self,
        amplitude_V: float | np.ndarray,
        width_s: float,
        indices: Indices = None,
        field_T: float = 0.0,
    ) -> np.ndarray:
        """P that a device opposing the SOT drive switches during one pulse (no sampling).

        ``field_T`` is the perpendicular field along the target direction (assisting when > 0).
        Uses the nominal Jc0 of each device (no pulse-to-pulse spread).
        """
        sw = self.params.switching
        idx = self._idx(indices)
        J = np.abs(self.current_density_A_per_m2(amplitude_V))
        return switching.p_sot(
            J, width_s, self.Jc0_A_per_m2(idx), self._H0[idx], self._delta[idx],
            sw.tau0_s, sw.n_exponent, field_assist_T=field_T,
        )  # fmt: skip
