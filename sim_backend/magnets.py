"""Field magnets of the virtual lab (docs/physics.md §6): what field the chip sees at a given time.

- :class:`Electromagnet`: ``B = k_coil·I + B_rem·s_hist``; the coil current follows its
  setpoint with a first-order lag τ_L = L/R (exact exponential), and the remanence sign
  ``s_hist`` flips when the core is driven past ``B_sat_T`` the other way (hysteresis).
- :class:`SuperconductingMagnet`: an AMI 430-style controller: target, ramp rate, the AMI state
  codes, and a quench when the magnet's own field or ramp-rate limit is exceeded.

Both are lazily evaluated: commands record a segment, ``field_at(t_s)`` evaluates it. Times are
seconds on the caller's axis; queries before the last command are refused (no history kept).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import IntEnum


def _check_time(t_s: float, t_last_s: float, what: str) -> None:
    if t_s < t_last_s - 1e-12:
        raise ValueError(f"{what}: time {t_s} s is before the last magnet command at {t_last_s} s")


@dataclass(frozen=True)
class ElectromagnetParams:
    """An iron-core electromagnet on a bipolar current supply."""

    k_coil_T_per_A: float = 0.030  # field per coil current (T/A)
    B_rem_T: float = 0.002  # remanent field of the pole pieces (T)
    tau_L_s: float = 0.3  # L/R time constant of the coil current (s)
    B_sat_T: float = 0.05  # |k·I| beyond which the remanence takes the sign of I (T)
    I_max_A: float = 20.0  # supply limit (A)


class Electromagnet:
    """Coil current with a first-order lag and a remanence with hysteresis sign."""

    def __init__(self, params: ElectromagnetParams | None = None, t0_s: float = 0.0) -> None:
        self.params = params or ElectromagnetParams()
        self._t0 = float(t0_s)
        self._I0 = 0.0  # coil current at t0 (A)
        self._I_set = 0.0  # setpoint (A)
        self._s0 = 0.0  # remanence sign at t0 (0: demagnetised)

    @property
    def setpoint_A(self) -> float:
        """Current setpoint (A)."""
        return self._I_set

    def current_at(self, t_s: float) -> float:
        """Coil current (A) at ``t_s``: I_set + (I0 − I_set)·exp(−(t − t0)/τ_L)."""
        _check_time(t_s, self._t0, "current_at")
        decay = math.exp(-(t_s - self._t0) / self.params.tau_L_s)
        return self._I_set + (self._I0 - self._I_set) * decay

    def _sign_at(self, I_A: float) -> float:
        # The current moves monotonically from I0 to I_set, so the remanence has flipped iff
        # it has got past the saturation current on the setpoint's side.
        I_sat = self.params.B_sat_T / self.params.k_coil_T_per_A
        if I_A >= I_sat and self._I_set >= I_sat:
            return 1.0
        if I_A <= -I_sat and self._I_set <= -I_sat:
            return -1.0
        return self._s0

    def field_at(self, t_s: float) -> float:
        """Field µ0·H (T) at ``t_s`` = k_coil·I(t) + B_rem·s_hist(t)."""
        current_A = self.current_at(t_s)
        k, B_rem = self.params.k_coil_T_per_A, self.params.B_rem_T
        return k * current_A + B_rem * self._sign_at(current_A)

    def set_current(self, I_A: float, t_s: float) -> None:
        """Change the current setpoint (A) at ``t_s``; refuses |I| beyond the supply limit."""
        if abs(I_A) > self.params.I_max_A:
            raise ValueError(
                f"current setpoint {I_A} A exceeds the supply limit ±{self.params.I_max_A} A"
            )
        I_now = self.current_at(t_s)
        self._s0 = self._sign_at(I_now)
        self._t0, self._I0, self._I_set = float(t_s), I_now, float(I_A)

    def field_step_times(
        self, t0_s: float, t1_s: float, step_T: float, max_steps: int
    ) -> list[float]:
        """Times in (t0, t1) at which the field has moved by whole ``step_T`` from its value
        at t0 (at most ``max_steps``, coarser steps otherwise), plus the instant the
        remanence flips if it does: the exact exponential lag, inverted in closed form."""
        _check_time(t0_s, self._t0, "field_step_times")
        I_a, I_b, I_set = self.current_at(t0_s), self.current_at(t1_s), self._I_set
        tau = self.params.tau_L_s
        if I_a == I_set:
            return []

        def time_at(I_A: float) -> float:  # I(t) = I_set + (I_a − I_set)·exp(−(t − t0)/τ)
            return t0_s + tau * math.log((I_a - I_set) / (I_A - I_set))

        span_A = abs(I_b - I_a)
        step_A = max(step_T / abs(self.params.k_coil_T_per_A), span_A / max_steps)
        n = int(span_A / step_A)
        direction = math.copysign(1.0, I_set - I_a)
        times = [time_at(I_a + direction * k * step_A) for k in range(1, n + 1)]
        I_sat = self.params.B_sat_T / self.params.k_coil_T_per_A
        for edge_A in (I_sat, -I_sat):
            if min(I_a, I_b) < edge_A < max(I_a, I_b):
                times.append(time_at(edge_A))
        return [t for t in times if t0_s < t < t1_s]

    def settle_time_s(self, tolerance_T: float, t_s: float) -> float:
        """Time (s) after ``t_s`` until k·|I − I_set| < ``tolerance_T`` (0 if already)."""
        err = self.params.k_coil_T_per_A * abs(self.current_at(t_s) - self._I_set)
        return 0.0 if err <= tolerance_T else self.params.tau_L_s * math.log(err / tolerance_T)


class AMIState(IntEnum):
    """AMI 430 ``STATE?`` codes."""

    RAMPING = 1
    HOLDING = 2
    PAUSED = 3
    MANUAL_UP = 4
    MANUAL_DOWN = 5
    ZEROING = 6
    QUENCH = 7
    AT_ZERO = 8
    HEATING_SWITCH = 9
    COOLING_SWITCH = 10


@dataclass(frozen=True)
class SuperconductingMagnetParams:
    """Controller limits (refused commands) and the magnet's own limits (quench)."""

    field_limit_T: float = 9.0  # controller: largest target accepted (T)
    rate_limit_T_per_s: float = 0.02  # controller: largest ramp rate accepted (T/s)
    quench_field_T: float = 9.2  # magnet: |B| at which it quenches (T)
    quench_rate_T_per_s: float = 0.015  # magnet: ramp rate above which it quenches (T/s)
    quench_onset_T: float = 0.1  # field ramped at an excessive rate before it quenches (T)
    dump_tau_s: float = 2.0  # decay time of the field after a quench (s)


class SuperconductingMagnet:
    """An AMI 430-style ramped magnet: field and state are piecewise-linear in time.

    Starts PAUSED at 0 T (as the AMI 430 powers up). ``ramp`` moves the field to the target at
    the ramp rate (RAMPING → HOLDING); ``pause`` freezes it; ``zero`` ramps to 0 (ZEROING →
    AT_ZERO). Ramping faster than the magnet's quench rate quenches after ``quench_onset_T`` of
    field change; reaching ``quench_field_T`` quenches there. A quench dumps the field with time
    constant ``dump_tau_s``; ``reset_quench`` returns to PAUSED.
    """

    def __init__(
        self, params: SuperconductingMagnetParams | None = None, t0_s: float = 0.0
    ) -> None:
        self.params = params or SuperconductingMagnetParams()
        self.target_T = 0.0
        self.ramp_rate_T_per_s = min(0.01, self.params.rate_limit_T_per_s)
        self._t0 = float(t0_s)
        self._B0 = 0.0
        self._mode = AMIState.PAUSED  # mode commanded at t0
        self._goal = 0.0  # field the present segment moves to
        self._t_quench: float | None = None  # time the present segment quenches, if it does
        self._B_quench = 0.0

    # --- commands (refuse what the controller would refuse) ---------------------------------
    def set_target(self, field_T: float, t_s: float) -> None:
        """Target field (T); applies at the next ``ramp``."""
        if abs(field_T) > self.params.field_limit_T:
            raise ValueError(
                f"target {field_T} T exceeds the field limit ±{self.params.field_limit_T} T"
            )
        self._rebase(t_s)
        self.target_T = float(field_T)

    def set_ramp_rate(self, rate_T_per_s: float, t_s: float) -> None:
        """Ramp rate (T/s) for subsequent ramps (controller limit enforced)."""
        if not 0 < rate_T_per_s <= self.params.rate_limit_T_per_s:
            raise ValueError(
                f"ramp rate {rate_T_per_s} T/s outside (0, {self.params.rate_limit_T_per_s}] T/s"
            )
        self._rebase(t_s)
        self.ramp_rate_T_per_s = float(rate_T_per_s)
        if self._mode in (AMIState.RAMPING, AMIState.ZEROING):
            self._start(self._mode, self._goal)

    def ramp(self, t_s: float) -> None:
        """Start ramping to the target."""
        self._rebase(t_s)
        self._refuse_if_quenched("RAMP")
        self._start(AMIState.RAMPING, self.target_T)

    def zero(self, t_s: float) -> None:
        """Ramp to zero field."""
        self._rebase(t_s)
        self._refuse_if_quenched("ZERO")
        self._start(AMIState.ZEROING, 0.0)

    def pause(self, t_s: float) -> None:
        """Hold the field where it is now."""
        self._rebase(t_s)
        if self._mode != AMIState.QUENCH:
            self._mode = AMIState.PAUSED

    def reset_quench(self, t_s: float) -> None:
        """Clear a quench; the controller comes back PAUSED at the (dumped) field."""
        self._rebase(t_s)
        if self._mode == AMIState.QUENCH:
            self._mode = AMIState.PAUSED

    # --- evaluation ------------------------------------------------------------------------
    def _refuse_if_quenched(self, what: str) -> None:
        if self._mode == AMIState.QUENCH:
            raise RuntimeError(f"{what} refused: quench detected, reset the quench first")

    def _start(self, mode: AMIState, goal_T: float) -> None:
        p = self.params
        self._mode, self._goal, self._t_quench = mode, float(goal_T), None
        dist = abs(goal_T - self._B0)
        rate = self.ramp_rate_T_per_s
        candidates = []
        if rate > p.quench_rate_T_per_s and dist > p.quench_onset_T:
            candidates.append(p.quench_onset_T / rate)
        if abs(goal_T) >= p.quench_field_T > abs(self._B0):
            candidates.append((p.quench_field_T - abs(self._B0)) / rate)
        if candidates:
            self._t_quench = self._t0 + min(candidates)
            self._B_quench = self._linear(self._t_quench)

    def _linear(self, t_s: float) -> float:
        step = self.ramp_rate_T_per_s * (t_s - self._t0)
        gap = self._goal - self._B0
        return self._goal if abs(gap) <= step else self._B0 + math.copysign(step, gap)

    def _rebase(self, t_s: float) -> None:
        """Fold the segment up to ``t_s`` into the state at t_s."""
        _check_time(t_s, self._t0, "magnet command")
        B, state = self.field_at(t_s), self.state_at(t_s)
        if state == AMIState.QUENCH:
            self._mode, self._t_quench = AMIState.QUENCH, None
        elif state in (AMIState.HOLDING, AMIState.AT_ZERO):
            self._mode = state
        self._t0, self._B0 = float(t_s), B
        if self._mode in (AMIState.RAMPING, AMIState.ZEROING):
            self._start(self._mode, self._goal)

    def field_at(self, t_s: float) -> float:
        """Magnet field (T) at ``t_s``."""
        _check_time(t_s, self._t0, "field_at")
        if self._mode == AMIState.QUENCH:
            return self._B0 * math.exp(-(t_s - self._t0) / self.params.dump_tau_s)
        if self._t_quench is not None and t_s >= self._t_quench:
            dt = t_s - self._t_quench
            return self._B_quench * math.exp(-dt / self.params.dump_tau_s)
        if self._mode in (AMIState.RAMPING, AMIState.ZEROING):
            return self._linear(t_s)
        return self._B0

    def state_at(self, t_s: float) -> AMIState:
        """AMI state code at ``t_s``."""
        _check_time(t_s, self._t0, "state_at")
        if self._mode == AMIState.QUENCH or (self._t_quench is not None and t_s >= self._t_quench):
            return AMIState.QUENCH
        if self._mode in (AMIState.RAMPING, AMIState.ZEROING):
            if self._linear(t_s) == self._goal:
                return AMIState.HOLDING if self._mode == AMIState.RAMPING else AMIState.AT_ZERO
            return self._mode
        return self._mode
