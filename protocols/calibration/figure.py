"""The calibration's figure: the measured points the H0/Δ fit used, and the fitted model.

One panel per kind of data that constrained H0 and Δ: µ0Hc versus the time per field step
(each sweep rate, with its uncertainty) under Sharrock's stepwise law, and P(switch) versus
the field pulse under the pulse law, both at the fitted H0 and Δ. Written next to the chip
parameter file, so the fit can be judged before the file is used.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from labctl.api import COLORS, Panel, Series, plus_minus, save_figure
from labctl.physics.sharrock import stepwise_hc_T
from labctl.physics.switching import p_switch
from protocols.calibration.fits import Estimate, RatePoint, SwitchingCurve


def calibration_panels(
    rates: Sequence[RatePoint],
    curves: Sequence[SwitchingCurve],
    h0: Estimate,
    delta: Estimate,
    tau0_s: float,
    n: float,
) -> list[Panel]:
    """The panels (none when neither rates nor curves were measured)."""
    fitted = h0.usable and delta.usable
    fit_label = (
        f"fit: µ0H0 = {plus_minus(h0.value, h0.error, 'mT', 1e3)}, "
        f"Δ = {plus_minus(delta.value, delta.error)}"
    )
    panels = []
    rates = [r for r in rates if math.isfinite(r.hc_T) and r.t_step_s > 0]
    if rates:
        t = np.array([r.t_step_s for r in rates])
        series = [
            Series(t, [r.hc_T for r in rates], "measured", line=False, symbol="o",
                   yerr=[r.hc_err_T for r in rates]),
        ]  # fmt: skip
        if fitted:
            for i, step_T in enumerate(sorted({r.step_T for r in rates})):
                grid = np.logspace(np.log10(t.min()) - 0.3, np.log10(t.max()) + 0.3, 60)
                model = stepwise_hc_T(grid, step_T, h0.value, delta.value, tau0_s, n)
                label = fit_label + (f" (step {step_T * 1e3:g} mT)" if i else "")
                series.append(Series(grid, model, label, color=COLORS[1 + i % 6]))
        panels.append(
            Panel("coercive field vs sweep rate", "time per field step", "µ0Hc", series,
                  xunit="s", yunit="T", xlog=True)
        )  # fmt: skip
    if curves:
        series = []
        for i, c in enumerate(curves):
            color = COLORS[i % len(COLORS)]
            ok = c.trials > 0
            p = c.flips[ok] / c.trials[ok]
            label = f"measured, {c.width_s:g} s pulses"
            series.append(Series(c.field_T[ok], p, label, line=False, symbol="o", color=color))
            if fitted and ok.any():
                grid = np.linspace(float(c.field_T[ok].min()), float(c.field_T[ok].max()), 200)
                model = p_switch(grid, "field", scale=h0.value, delta=delta.value,
                                 width_s=c.width_s, tau0_s=tau0_s, n=n)  # fmt: skip
                series.append(Series(grid, model, fit_label if i == 0 else "", color=color))
        panels.append(
            Panel("switching probability vs field pulse", "µ0H pulse", "P(switch)", series,
                  xunit="T")
        )  # fmt: skip
    return panels


def calibration_figure(
    path: Path,
    rates: Sequence[RatePoint],
    curves: Sequence[SwitchingCurve],
    h0: Estimate,
    delta: Estimate,
    tau0_s: float,
    n: float,
) -> Path | None:
    """Write the figure to ``path`` (PNG); None when there is nothing to draw."""
    panels = calibration_panels(rates, curves, h0, delta, tau0_s, n)
    if not panels:
        return None
    return save_figure(path, panels, width_px=600 * len(panels) + 100)
