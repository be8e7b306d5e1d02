"""The calibration fits, plain numpy/scipy on data already extracted from runs.

The models fitted are the device model's laws (``labctl.physics``): Sharrock's law for a
stepwise sweep and the Néel–Arrhenius switching probability for H0 and Δ, the anisotropy law
inverted for the hidden state, the ion-hopping kinetics for the gate pulses — the functions
the simulator integrates, never a copy.

Every fit returns :class:`Estimate` objects: value, 1σ uncertainty, and a status —
``fitted``; ``unconstrained`` (the data do not pin it down: its uncertainty is not finite or
exceeds half its value, or the data lack what it needs, e.g. one gate amplitude for V0);
``fixed`` (held at an assumed value); ``not measured`` (no run of the kind that measures it).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from scipy.optimize import least_squares

from labctl.physics.kinetics import (
    boltzmann_factor,
    hopping_rate_per_s,
    ramped_pulse_exposure_s,
    x_after_gate,
)
from labctl.physics.params import ChipParams
from labctl.physics.sharrock import stepwise_hc_T
from labctl.physics.switching import p_switch
from protocols.calibration.states import k_of_hc, x_of_k

UNCONSTRAINED_REL = 0.5  # relative 1σ above which a parameter counts as unconstrained
BOOTSTRAP_RUNS = 24  # simulated data sets behind the kinetics' uncertainties


@dataclass
class Estimate:
    name: str
    value: float
    error: float
    unit: str
    status: str  # fitted | unconstrained | fixed | not measured
    source: str = ""
    at_V: float | None = None  # the gate voltage magnitude a rate refers to

    def as_dict(self) -> dict[str, object]:
        return asdict(self)

    @property
    def usable(self) -> bool:
        return self.status == "fitted" and math.isfinite(self.value)


def _status(value: float, error: float) -> str:
    ok = (
        math.isfinite(value)
        and math.isfinite(error)
        and abs(error) <= UNCONSTRAINED_REL * abs(value)
    )
    return "fitted" if ok else "unconstrained"


def _covariance(result: object, n_params: int) -> np.ndarray:
    """1σ covariance from a least-squares result, scaled by the reduced χ² when above 1."""
    jac = np.asarray(result.jac)  # type: ignore[attr-defined]
    res = np.asarray(result.fun)  # type: ignore[attr-defined]
    dof = max(1, res.size - n_params)
    chi2 = float(res @ res) / dof
    try:
        cov = np.linalg.inv(jac.T @ jac)
    except np.linalg.LinAlgError:
        return np.full((n_params, n_params), np.inf)
    if not np.all(np.isfinite(cov)) or np.any(np.diag(cov) < 0):
        return np.full((n_params, n_params), np.inf)
    return cov * max(1.0, chi2)


# ------------------------------------------------------------------------ H0 and Δ
@dataclass(frozen=True)
class RatePoint:
    """A mean coercive field measured with ``t_step_s`` per point of a ``step_T`` sweep."""

    t_step_s: float
    step_T: float
    hc_T: float
    hc_err_T: float


@dataclass(frozen=True)
class SwitchingCurve:
    """Flips out of trials versus |field| for field pulses of ``width_s``."""

    field_T: np.ndarray
    flips: np.ndarray
    trials: np.ndarray
    width_s: float


def fit_h0_delta(
    rates: Sequence[RatePoint],
    curves: Sequence[SwitchingCurve],
    tau0_s: float,
    n: float,
    source: str,
) -> tuple[Estimate, Estimate]:
    """Joint fit of H0 and Δ to coercive fields at several sweep rates (Sharrock, stepwise)
    and to switching-probability counts (binomial, Wilson-adjusted weights)."""
    rates = [r for r in rates if math.isfinite(r.hc_T) and r.hc_T > 0 and r.t_step_s > 0]
    curves = [c for c in curves if np.sum(c.trials) > 0]
    if not rates and not curves:
        return (
            Estimate("H0", math.nan, math.nan, "T", "not measured", source),
            Estimate("delta", math.nan, math.nan, "", "not measured", source),
        )

    def residuals(theta: np.ndarray) -> np.ndarray:
        H0, delta = math.exp(theta[0]), math.exp(theta[1])
        out = []
        for r in rates:
            model = stepwise_hc_T(r.t_step_s, r.step_T, H0, delta, tau0_s, n)[0]
            out.append((model - r.hc_T) / max(r.hc_err_T, 1e-7))
        for c in curves:
            ok = c.trials > 0
            k, m = c.flips[ok], c.trials[ok]
            p_model = p_switch(
                c.field_T[ok], "field", scale=H0, delta=delta, width_s=c.width_s, tau0_s=tau0_s, n=n
            )
            p_tilde = (k + 1) / (m + 2)
            sigma = np.sqrt(p_tilde * (1 - p_tilde) / m)
            out.extend((p_model - k / m) / sigma)
        return np.asarray(out, dtype=float)

    hc_max = max([r.hc_T for r in rates], default=0.0)
    field_max = max([float(np.max(c.field_T)) for c in curves], default=0.0)
    guesses = [
        (max(hc_max, field_max) * f, d) for f in (1.3, 1.8, 2.5) for d in (30.0, 60.0, 120.0)
    ]
    # H0 above every field seen, Δ within physical reason: keeps trial steps finite
    h_floor = max(hc_max, field_max * 0.5, 1e-6)
    bounds = ([math.log(h_floor), math.log(2.0)], [math.log(h_floor * 50.0), math.log(1e4)])
    best = None
    for h_guess, d_guess in guesses:
        start = [math.log(h_guess), math.log(d_guess)]
        fit = least_squares(residuals, start, method="trf", bounds=bounds)
        if best is None or fit.cost < best.cost:
            best = fit
    assert best is not None
    cov = _covariance(best, 2) if best.fun.size > 2 else np.full((2, 2), np.inf)
    H0, delta = math.exp(best.x[0]), math.exp(best.x[1])
    H0_err, delta_err = H0 * math.sqrt(cov[0, 0]), delta * math.sqrt(cov[1, 1])
    return (
        Estimate("H0", H0, H0_err, "T", _status(H0, H0_err), source),
        Estimate("delta", delta, delta_err, "", _status(delta, delta_err), source),
    )


# ------------------------------------------------------------------------ readout
def fit_readout(
    r_ahe_ohm: Sequence[float], r_offset_ohm: Sequence[float], source: str
) -> tuple[Estimate, Estimate]:
    """R_AHE and the Hall offset: means over loops, standard errors from their scatter."""
    out = []
    for name, values in (("R_AHE", r_ahe_ohm), ("offset", r_offset_ohm)):
        v = np.asarray([x for x in values if math.isfinite(x)], dtype=float)
        if v.size == 0:
            out.append(Estimate(name, math.nan, math.nan, "ohm", "not measured", source))
            continue
        err = float(np.std(v, ddof=1) / math.sqrt(v.size)) if v.size > 1 else math.nan
        mean = float(np.mean(v))
        status = "fitted" if name == "offset" or _status(mean, err) == "fitted" else "unconstrained"
        if v.size == 1:
            status = "fitted"  # one loop: a value without a scatter-based uncertainty
        out.append(Estimate(name, mean, err, "ohm", status, source))
    return out[0], out[1]


# ------------------------------------------------------------------------ ion kinetics
@dataclass(frozen=True)
class Trajectory:
    """A gate-program run: Hc before any pulse, then after each (voltage, width) pulse."""

    pulse_V: np.ndarray  # pulse_V[0] = 0 (the initial verification)
    width_s: np.ndarray
    hc_T: np.ndarray
    t_step_s: float  # time per field point of the verification loops
    step_T: float
    ramp_V_per_s: float  # the gate's ramp rate (ramps in and out add exposure)


def states_of(
    t: Trajectory, h0_T: float, delta0: float, chip: ChipParams, tau0_s: float, n: float
) -> np.ndarray:
    """The hidden state x at each verification, from its coercive field (``chip``: the
    anisotropy law's parameters and x_init)."""
    xs = []
    for hc in t.hc_T:
        k = k_of_hc(float(hc), t.t_step_s, t.step_T, h0_T, delta0, tau0_s, n)
        xs.append(x_of_k(chip, k) if math.isfinite(k) else math.nan)
    return np.asarray(xs)


def fit_kinetics(
    trajectories: Sequence[Trajectory],
    h0: Estimate,
    delta: Estimate,
    chip: ChipParams,
    *,
    V0_guess_V: float,
    asymmetry: float,
    polarity: int,
    temperature_K: float,
    E_a_eV: float,
    tau0_s: float,
    n: float,
    source: str,
    cycle_noise_rel: float = 0.0,
) -> tuple[Estimate, Estimate, Estimate, Estimate]:
    """The ion-hopping rate prefactor r0 = A·exp(−E_a/k_B T), A itself, V0, and the rate
    r0·sinh(|V|/V0) at the largest amplitude measured (what the pulses pin down best).

    The coercive field of every verification gives x (through H0, Δ and the anisotropy
    model); the pulses then move x as the rate equation says, which is fitted open-loop from
    each run's first state. With a single gate amplitude only r0·sinh(V/V0) is measured: V0
    is reported unconstrained and held at ``V0_guess_V``.
    """
    boltz = boltzmann_factor(E_a_eV, temperature_K)
    missing = [
        Estimate("r0", math.nan, math.nan, "1/s", "not measured", source),
        Estimate("A", math.nan, math.nan, "1/s", "not measured", source),
        Estimate("V0", math.nan, math.nan, "V", "not measured", source),
        Estimate("rate", math.nan, math.nan, "1/s", "not measured", source),
    ]
    if not trajectories:
        return missing[0], missing[1], missing[2], missing[3]
    if not (h0.usable and delta.usable):
        why = "needs H0 and Δ (a hall-loop-series or switching-probability run)"
        return tuple(  # type: ignore[return-value]
            Estimate(e.name, math.nan, math.nan, e.unit, "unconstrained", f"{source}; {why}")
            for e in missing
        )
    data = []
    for t in trajectories:
        x = states_of(t, h0.value, delta.value, chip, tau0_s, n)
        if np.isfinite(x[0]) and np.isfinite(x[1:]).sum() >= 1:
            data.append((t, x))
    amplitudes = {round(abs(float(v)), 6) for t, _ in data for v in t.pulse_V[1:] if v != 0}
    fit_v0 = len(amplitudes) >= 2

    def predict(
        t: Trajectory, x0: float, r0: float, V0: float, scatter: np.ndarray | None = None
    ) -> np.ndarray:
        xs, x = [x0], x0
        for i, (v, w) in enumerate(zip(t.pulse_V[1:], t.width_s[1:], strict=True)):
            r = hopping_rate_per_s(r0, v, V0)
            r *= 1.0 if scatter is None else float(scatter[i])
            s = v * polarity
            if s != 0:
                rate = r if s > 0 else r / asymmetry
                exposure = ramped_pulse_exposure_s(v, w, V0, t.ramp_V_per_s)
                x = float(x_after_gate(x, rate, exposure, oxidising=s > 0))
            xs.append(x)
        return np.asarray(xs)

    n_kin = 2 if fit_v0 else 1  # theta: ln r0, [ln V0,] then each run's first state x0

    def residuals(theta: np.ndarray, runs: list[tuple[Trajectory, np.ndarray]]) -> np.ndarray:
        r0 = math.exp(theta[0])
        V0 = math.exp(theta[1]) if fit_v0 else V0_guess_V
        out = []
        for (t, x), x0 in zip(runs, theta[n_kin:], strict=True):
            pred = predict(t, float(x0), r0, V0)
            ok = np.isfinite(x)  # the first state is fitted too: it is measured as noisily
            out.extend((pred[ok] - x[ok]) / 1e-3)
        return np.asarray(out, dtype=float)

    if not data or not amplitudes:
        return missing[0], missing[1], missing[2], missing[3]
    # r0 and V0 within physical reason (10 mV to 5 V): keeps the search off runaway minima
    lower, upper = [math.log(1e-40), math.log(0.01)], [math.log(1e6), math.log(5.0)]

    def solve(runs: list[tuple[Trajectory, np.ndarray]], starts: list[list[float]]) -> Any:
        best = None
        bounds = (lower[:n_kin] + [0.0] * len(runs), upper[:n_kin] + [1.0] * len(runs))
        for start in starts:
            fit = least_squares(residuals, start, method="trf", bounds=bounds, args=(runs,))
            if best is None or fit.cost < best.cost:
                best = fit
        return best

    x0s = [float(np.clip(x[0], 1e-3, 1 - 1e-3)) for _, x in data]
    guesses = (1e-6, 1e-4, 1e-2, 1.0)
    best = solve(data, [[math.log(r), math.log(V0_guess_V)][:n_kin] + x0s for r in guesses])
    p = len(best.x)
    cov = _covariance(best, p) if best.fun.size > p else np.full((p, p), np.inf)
    if fit_v0 and cycle_noise_rel > 0 and np.all(np.isfinite(cov)):
        # Each pulse's rate scatters (cycle to cycle), so the open-loop state carries every
        # earlier pulse's error: one run's residuals are correlated, which the least-squares
        # covariance does not know. A parametric bootstrap does: runs simulated with the fitted
        # parameters, that scatter and the measured residual noise, fitted again.
        rng = np.random.default_rng(0)
        sigma_x = 1e-3 * math.sqrt(2 * best.cost / max(1, best.fun.size - p))
        r0_b, V0_b = math.exp(best.x[0]), math.exp(best.x[1])
        thetas = []
        for _ in range(BOOTSTRAP_RUNS):
            fake = []
            for (t, x), x0 in zip(data, best.x[n_kin:], strict=True):
                scatter = np.maximum(1 + cycle_noise_rel * rng.standard_normal(len(t.pulse_V)), 0)
                xs = predict(t, float(x0), r0_b, V0_b, scatter)
                fake.append((t, np.where(np.isfinite(x), xs, np.nan)
                             + sigma_x * rng.standard_normal(xs.size)))  # fmt: skip
            thetas.append(solve(fake, [list(best.x)]).x[:n_kin])
        cov_boot = np.cov(np.asarray(thetas).T)
        if np.trace(cov_boot) > np.trace(cov[:n_kin, :n_kin]):
            cov[:n_kin, :n_kin] = cov_boot
    r0 = math.exp(best.x[0])
    r0_err = r0 * math.sqrt(cov[0, 0])
    if fit_v0:
        V0 = math.exp(best.x[1])
        V0_err = V0 * math.sqrt(cov[1, 1])
        V0_est = Estimate("V0", V0, V0_err, "V", _status(V0, V0_err), source)
        r0_status = _status(r0, r0_err)
    else:
        V0_est = Estimate(
            "V0",
            V0_guess_V,
            math.nan,
            "V",
            "unconstrained",
            f"{source}; one gate amplitude only: held at {V0_guess_V:g} V",
        )
        r0_status = "unconstrained"  # only r0·sinh(V/V0) is measured
    # What the pulses measure directly: the rate r0·sinh(|V|/V0) at a measured amplitude (A
    # alone is an extrapolation to V = 0, exponentially sensitive to V0). Reported at the
    # amplitude where it is best determined (with one amplitude: that one).
    best_rate = None
    for amplitude_V in sorted(amplitudes):
        a = amplitude_V / V0_est.value
        rate = r0 * math.sinh(a)
        grad = np.array([1.0, -a / math.tanh(a)] if fit_v0 else [1.0])
        rel = math.sqrt(max(float(grad @ cov[:n_kin, :n_kin] @ grad), 0.0))
        if best_rate is None or rel < best_rate[2]:
            best_rate = (amplitude_V, rate, rel)
    assert best_rate is not None
    amplitude_V, rate, rel = best_rate
    rate_err = rate * rel
    return (
        Estimate("r0", r0, r0_err, "1/s", r0_status, source),
        Estimate(
            "A",
            r0 / boltz,
            r0_err / boltz,
            "1/s",
            r0_status,
            f"{source}; A = r0·exp(E_a/k_B T) with E_a = {E_a_eV:g} eV (not fitted)",
        ),
        V0_est,
        Estimate(
            "rate",
            rate,
            rate_err,
            "1/s",
            _status(rate, rate_err),
            f"{source}; r0·sinh(|V|/V0) at |V| = {amplitude_V:g} V, the amplitude where "
            "it is best determined",
            at_V=amplitude_V,
        ),
    )
