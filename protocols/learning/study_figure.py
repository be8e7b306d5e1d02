"""The study figure: ACC and BWT against the rule (with its settings) and the chip preset.

One panel per metric; the configurations (rule and settings) along x, one colour per preset:
the mean over seeds with ± one standard deviation as error bars, and every seed's run as a dot
beside it (the spread as it is).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from labctl.api import COLORS, Panel, Series, save_figure

METRIC_PANELS = (
    ("average_accuracy_pct", "ACC: mean accuracy after the last task", "ACC (%)"),
    ("bwt_pct", "BWT: backward transfer", "BWT (%)"),
)


def configuration(rule: str, settings: str) -> str:
    """``rule`` followed by its settings as ``name=value`` (none: the rule alone)."""
    values = json.loads(settings) if settings.startswith("{") else {}
    return " ".join([rule, *(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}"
                             for k, v in values.items())])  # fmt: skip


def study_figure(df: pd.DataFrame, path: Path) -> Path:
    """ACC and BWT of the study's runs (one row each: rule, settings, preset, the metrics)."""
    labels = [configuration(r, s) for r, s in zip(df["rule"], df["settings"], strict=True)]
    df = df.assign(configuration=labels)
    if "preset" not in df:
        df = df.assign(preset="")
    configs = list(dict.fromkeys(labels))
    presets = list(dict.fromkeys(df["preset"].fillna("").astype(str)))
    ticks = [(float(i), c) for i, c in enumerate(configs)]
    width = 0.5 / max(len(presets), 1)  # presets side by side within a configuration
    panels = []
    for column, title, ylabel in METRIC_PANELS:
        panel = Panel(title, "learning rule", ylabel, xticks=ticks)
        for k, preset in enumerate(presets):
            color = COLORS[k % len(COLORS)]
            offset = (k - (len(presets) - 1) / 2) * width
            mine = df[df["preset"].fillna("").astype(str) == preset]
            group = mine.groupby("configuration", sort=False)[column]
            mean, std = group.mean(), group.std().fillna(0.0)
            x = np.array([configs.index(c) for c in mean.index], dtype=float) + offset
            name = preset or "mean ± std"
            panel.series.append(Series(x, mean.to_numpy(float), name, line=False, symbol="s",
                                       color=color, yerr=std.to_numpy(float)))  # fmt: skip
            seeds_x = np.array([configs.index(c) for c in mine["configuration"]], dtype=float)
            panel.series.append(Series(seeds_x + offset + width / 4,
                                       mine[column].to_numpy(float), "", line=False,
                                       symbol="o", color=color))  # fmt: skip
        panels.append(panel)
    return save_figure(path, panels, width_px=1100, height_px=500)
