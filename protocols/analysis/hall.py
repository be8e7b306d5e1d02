"""Hall-loop analysis: coercive fields, AHE amplitude and offset from a recorded loop.

A coercive field is where a branch crosses the loop centre, interpolated linearly between the
two points that bracket the crossing. A loop sampled every ``step`` only says that the switch
happened between them: each crossing carries the standard uncertainty of a value known to lie
in that interval, ``|f1 − f0| / (2√3)`` (uniform over it; GUM 4.3.7), and the coercive field
and the loop shift, half a sum or difference of two crossings, ``√(u_down² + u_up²) / 2``.
For an abrupt switch (one step from one level to the other) the interpolated crossing is the
middle of the interval: the step, not the interpolation, sets what the loop can tell.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np


@dataclass(frozen=True)
class HallLoopResult:
    hc_down_T: float  # field where the descending branch crosses the loop centre (< 0)
    hc_up_T: float  # field where the ascending branch crosses it (> 0)
    coercive_field_T: float  # (hc_up - hc_down) / 2
    loop_shift_T: float  # (hc_up + hc_down) / 2 (exchange bias or a remanent-field offset)
    hc_down_err_T: float  # standard uncertainty of hc_down from the bracketing field step
    hc_up_err_T: float
    coercive_field_err_T: float
    loop_shift_err_T: float
    amplitude_V: float  # half the jump between the saturated branches (AHE amplitude)
    offset_V: float  # loop centre (R_offset * I)
    r_ahe_ohm: float  # amplitude / excitation current (nan when the excitation is unknown)
    r_offset_ohm: float
    squareness: float  # remanent / saturated amplitude, 1 for a square loop
    points: int

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


UNIFORM_SD = 1 / (2 * np.sqrt(3))  # standard deviation of a uniform unit interval


def crossing(field_T: np.ndarray, v: np.ndarray, level: float) -> tuple[float, float]:
    """Field of the first crossing of ``level`` along the branch, interpolated linearly
    between the two points that bracket it, and its standard uncertainty from their field
    step (see the module); (nan, nan) when the branch never crosses."""
    s = np.sign(v - level)
    idx = np.flatnonzero(s[:-1] * s[1:] < 0)
    if idx.size == 0:
        return float("nan"), float("nan")
    i = idx[0]
    f0, f1, v0, v1 = field_T[i], field_T[i + 1], v[i], v[i + 1]
    return float(f0 + (level - v0) * (f1 - f0) / (v1 - v0)), float(abs(f1 - f0) * UNIFORM_SD)


def analyze_hall_loop(
    field_T: np.ndarray,
    v_hall_V: np.ndarray,
    branch: np.ndarray,
    excitation_A: float = float("nan"),
    saturation_fraction: float = 0.2,
) -> HallLoopResult:
    """Coercive fields, amplitude and offset of a loop.

    ``branch`` is 0 on the descending sweep and 1 on the ascending one. The saturated levels
    are the medians of the points within ``saturation_fraction`` of the largest |field|.
    """
    field_T = np.asarray(field_T, dtype=float)
    v = np.asarray(v_hall_V, dtype=float)
    branch = np.asarray(branch)
    if field_T.size < 8 or not np.any(branch == 0) or not np.any(branch == 1):
        raise ValueError("a Hall loop needs both branches with at least 8 points in all")
    top = np.max(np.abs(field_T))
    high = field_T >= (1 - saturation_fraction) * top
    low = field_T <= -(1 - saturation_fraction) * top
    if not high.any() or not low.any():
        raise ValueError("the loop does not reach saturation on both sides")
    v_high, v_low = float(np.median(v[high])), float(np.median(v[low]))
    offset = (v_high + v_low) / 2
    amplitude = (v_high - v_low) / 2
    down, up = branch == 0, branch == 1
    hc_down, hc_down_err = crossing(field_T[down], v[down], offset)
    hc_up, hc_up_err = crossing(field_T[up], v[up], offset)
    pair_err = float(np.hypot(hc_down_err, hc_up_err) / 2)
    near_zero = np.abs(field_T) <= 0.05 * top
    remanent = (
        float(np.median(v[down & near_zero]) - np.median(v[up & near_zero])) / 2
        if (down & near_zero).any() and (up & near_zero).any()
        else float("nan")
    )
    return HallLoopResult(
        hc_down_T=hc_down,
        hc_up_T=hc_up,
        coercive_field_T=(hc_up - hc_down) / 2,
        loop_shift_T=(hc_up + hc_down) / 2,
        hc_down_err_T=hc_down_err,
        hc_up_err_T=hc_up_err,
        coercive_field_err_T=pair_err,
        loop_shift_err_T=pair_err,
        amplitude_V=amplitude,
        offset_V=offset,
        r_ahe_ohm=amplitude / excitation_A if excitation_A else float("nan"),
        r_offset_ohm=offset / excitation_A if excitation_A else float("nan"),
        squareness=remanent / amplitude if amplitude else float("nan"),
        points=int(field_T.size),
    )
