"""The must-show comparison: every rule, in software and on a chip, side by side.

Seven arms on the same network, tasks, seeds and epochs:

- ``baseline``: the non-metaplastic rule ``none`` in software;
- ``reference``: ``meta-adam`` (m_meta = 10 by default) in software, the ideal digital twin;
- ``mesu``: the Bayesian rule (:mod:`.mesu`) in software;
- ``baseline@chip``: ``none`` on a chip array (its write pulses are the cost to beat);
- ``device@chip``: the physical ``device`` rule on a chip array (the issue's goals apply to it);
- ``device+field@chip``: the same with global-field neuromodulation in two phases;
- ``mesu@chip``: MESU on a chip (a fresh sample of every weight at every step: many writes).

:func:`.study.run_arms` runs them with a chip from ``array_factory(n_devices, seed=seed)`` (one
fresh chip per run), so this module never imports a simulator; :func:`aggregate` takes the mean
± std over seeds, :func:`goals` checks the issue's targets and :func:`format_table` prints them.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .study import Arm

# MESU at this scale (sweep on permuted digits × 5, seeds 0-2, σ_p = σ_init): σ_p 0.05/0.1/0.2/0.3
# with N = 1e6 → ACC 62.9/59.4/56.4/54.0 %; N 3e4/1e5/1e6/1e7 at σ_p 0.1 → 40.9/51.5/59.4/61.1 %.
# N = 1e6 samples is ≈ 7× the whole sequence (5 × 1437 × 20), σ_p 0.05 gives σ² = 2.5e-3 per
# summed-loss gradient. The same setting gives 82.0 % on the medical sequence (σ_p 0.05-0.4 and
# N 1e5-1e6 all give 81-83 %), so it is not tuned per sequence.
MESU_SETTINGS: dict[str, Any] = {"sigma_prior": 0.05, "sigma_init": 0.05, "memory_window": 1e6}


def default_arms(
    m_meta: float = 10.0,
    device_settings: dict[str, Any] | None = None,
    field_settings: dict[str, Any] | None = None,
    mesu_settings: dict[str, Any] | None = None,
) -> list[Arm]:
    device = dict(PERMUTED_DEVICE if device_settings is None else device_settings)
    field = field_settings or {"field_T": 0.02, "field_at": "epoch"}
    mesu = dict(MESU_SETTINGS if mesu_settings is None else mesu_settings)
    return [
        Arm("baseline", "none"),
        Arm("reference", "meta-adam", {"m_meta": float(m_meta)}),
        Arm("mesu", "mesu", mesu),
        Arm("baseline@chip", "none", on_chip=True),
        Arm("device@chip", "device", device, on_chip=True),
        Arm("device+field@chip", "device", {**device, **field}, on_chip=True),
        Arm("mesu@chip", "mesu", mesu, on_chip=True),
    ]


# Per-sequence settings, tuned to the number of steps per task (LEARNING.md: "m_meta must be tuned
# to the network and the number of steps"). The medical sequence has ≈ 100 steps per task (455
# samples, batch 100, 20 epochs), 15× fewer than permuted digits: the reference needs a larger
# m_meta (sweep 10/20/50/100 → ACC 60/68/78/83 %, seeds 0-4). The device rule must consolidate
# after fewer agreeing steps and harder: one 1.4 s gate pulse (≈ 2 levels of the default) per
# 0.04 of agreeing update (now per layer, below), no write to a device holding 2 such pulses
# (it would fail), no erosion, back-off ×4. Tuned on seeds 5-9 (grid: consolidation_threshold
# 0.005-0.04, gate 0.7/1.4 s, flip_threshold 0.02-0.05, back-off 2/4/8, erosion on/off,
# max_level 2/4, frozen_level 0/2/3), then checked on seeds 0-9: ACC 76.3 ± 5.5 % with 5603
# write pulses against 72.6 ± 8.0 % and 9990 for the previous preset (consolidation_threshold
# 0.01 alone).
# Then (H6b; seeds 5-19, ACC of device@chip; reference 81.1 %): that preset, 74.2 ± 11.8, lost
# the diagnosis task on 1 seed in 4 because the 512 output synapses flipped (66-89 of them vs
# 25-45 on good seeds; only ≈ 110 had consolidated). One threshold per layer fixed it: hidden ×
# output thresholds 0.04 × (1, 0.5) → 79.4 ± 4.1; (0.05, 0.016)/(0.06, 0.016)/(0.07, 0.02)/
# (0.08, 0.02)/(0.12, 0.02) → 82.3/82.4/81.6/80.5/76.8; 0.06 with output 0.015/0.012/0.009/0.006/
# 0.003/0.0012/0.0003 → 82.1/82.6/82.7/82.9/83.5/83.4/83.0; (0.05, 0.003)/(0.07, 0.003) →
# 83.3/83.1. The output layer consolidates after about one step of agreeing update. At (0.06,
# 0.016): consolidating every step, task_moments reset, frozen_level 3, gate 1.0 s, flip 0.03/
# 0.04, erosion on: all within ±0.5 (noise). Not kept: frozen_level 1 (76.1),
# consolidation_threshold 0.02 (69.0, diabetes not learnt), consolidating at a task's end every
# synapse with ≥ 20/40/60 net agreeing steps of the task (74.6/74.8/74.4). With the preset,
# max_level 2/3 → 83.1/83.5 % (6110/6990 gate pulses instead of 7610): an option to save pulses.
# Permuted digits: the device rule's recommended settings (sweeps in the device_rule docstring):
# moments kept across tasks, writes at the anisotropy peak booked as failed without a pulse.
# Field arm: 0.02 T every epoch on permuted digits (0.03-0.05 T at task starts: no better);
# the same on medical (seeds 5-19 with the per-layer preset: 0.04 T at task starts, the previous
# choice, 75.9 %; 0.01-0.03 T at task starts 83.5 %; 0.01/0.02 T every epoch 83.8/83.7 %).
PERMUTED_DEVICE: dict[str, Any] = {}  # the rule's defaults are these settings
SEQUENCE_SETTINGS: dict[str, dict[str, Any]] = {
    "permuted-digits": {
        "m_meta": 10.0,
        "device": PERMUTED_DEVICE,
        "field": {"field_T": 0.02, "field_at": "epoch"},
    },
    "medical": {
        "m_meta": 100.0,
        "device": {
            "consolidation_threshold": 0.06,
            "layer_consolidation_scale": (1.0, 0.05),  # output layer: 0.003
            "gate_duration_s": 1.4,
            "flip_threshold": 0.035,
            "failure_backoff": 4.0,
            "erode_on_failed_write": False,
            "frozen_level": 2,
        },
        "field": {"field_T": 0.02, "field_at": "epoch"},
    },
}


def arms_for(tasks: str, m_meta: float | None = None, chip_mesu: bool = True) -> list[Arm]:
    """The default arms with the settings of ``tasks``' family (``m_meta`` overrides);
    ``chip_mesu=False`` leaves out the (write-hungry) ``mesu@chip`` arm."""
    preset = SEQUENCE_SETTINGS.get(tasks.split(":", 1)[0], SEQUENCE_SETTINGS["permuted-digits"])
    mm = preset["m_meta"] if m_meta is None else m_meta
    arms = default_arms(mm, preset["device"], preset["field"])
    return arms if chip_mesu else [a for a in arms if a.label != "mesu@chip"]


def aggregate(df: pd.DataFrame) -> pd.DataFrame:
    """Mean and std over seeds per arm (arms in their original order), from the rows of
    :func:`.study.run_arms`."""
    cols = ["acc_pct", "bwt_pct", "plasticity_pct", "write_pulses", "consolidation_pulses"]
    cols += ["energy_J", "wall_time_s"]
    g = df.rename(columns={"average_accuracy_pct": "acc_pct"}).groupby("arm", sort=False)
    out = g[cols].agg(["mean", "std"])
    out.columns = [f"{a}_{b}" for a, b in out.columns]
    out.insert(0, "n_seeds", g.size())
    return out


GOAL_GAP = "device − reference ACC (points, goal ≥ −3)"
GOAL_RATIO = "device / baseline ACC (goal ≥ 1.5×)"
GOAL_WRITES = "device / baseline@chip write pulses (goal < 1)"


def goals(agg: pd.DataFrame, arm: str = "device@chip") -> dict[str, tuple[float, bool]]:
    """The issue's targets for ``arm`` (default ``device@chip``): (measured value, met?)."""
    acc = agg["acc_pct_mean"]
    writes = agg["write_pulses_mean"]
    gap = float(acc[arm] - acc["reference"])
    ratio = float(acc[arm] / acc["baseline"])
    write_ratio = float(writes[arm] / writes["baseline@chip"])
    return {
        GOAL_GAP: (gap, gap >= -3.0),
        GOAL_RATIO: (ratio, ratio >= 1.5),
        GOAL_WRITES: (write_ratio, write_ratio < 1.0),
    }


_TABLE_COLUMNS = (
    ("acc_pct", ".1f"),
    ("bwt_pct", ".1f"),
    ("plasticity_pct", ".1f"),
    ("write_pulses", ".0f"),
    ("consolidation_pulses", ".0f"),
    ("energy_J", ".2e"),
    ("wall_time_s", ".1f"),
)


def format_table(agg: pd.DataFrame) -> str:
    """Markdown: one line per arm, mean ± std over seeds."""

    def pm(row: pd.Series, key: str, fmt: str) -> str:
        mean, std = row[f"{key}_mean"], row[f"{key}_std"]
        if np.isnan(mean):
            return "–"
        return f"{mean:{fmt}} ± {0.0 if np.isnan(std) else std:{fmt}}"

    head = "| arm | seeds | ACC % | BWT | plasticity % | write pulses | consolidation pulses |"
    head += " energy J | wall s |\n|---|---|---|---|---|---|---|---|---|\n"
    lines = []
    for arm, row in agg.iterrows():
        cells = [str(arm), str(int(row["n_seeds"]))]
        cells += [pm(row, key, fmt) for key, fmt in _TABLE_COLUMNS]
        lines.append("| " + " | ".join(cells) + " |")
    return head + "\n".join(lines) + "\n"


def format_goals(agg: pd.DataFrame, arm: str = "device@chip") -> str:
    return "\n".join(
        f"- {name.replace('device', arm, 1)}: {value:.2f} → {'met' if ok else 'NOT met'}"
        for name, (value, ok) in goals(agg, arm).items()
    )
