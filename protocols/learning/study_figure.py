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
    records = df.to_dict("records")
    labels = [configuration(str(r["rule"]), str(r["settings"])) for r in records]
    presets_of = [str(r.get("preset") or "") for r in records]
    configs = list(dict.fromkeys(labels))
    presets = list(dict.fromkeys(presets_of))
    ticks = [(float(i), c) for i, c in enumerate(configs)]
    width = 0.5 / max(len(presets), 1)  # presets side by side within a configuration
    panels = []
    for column, title, ylabel in METRIC_PANELS:
        panel = Panel(title, "learning rule", ylabel, xticks=ticks)
        for k, preset in enumerate(presets):
            color = COLORS[k % len(COLORS)]
            offset = (k - (len(presets) - 1) / 2) * width
            by_config: dict[str, list[float]] = {}
            for r, label, p in zip(records, labels, presets_of, strict=True):
                if p == preset:
                    by_config.setdefault(label, []).append(float(r[column]))
            x = np.array([configs.index(c) for c in by_config], dtype=float) + offset
            mean = np.array([np.mean(v) for v in by_config.values()])
            std = np.array([np.std(v, ddof=1) if len(v) > 1 else 0.0 for v in by_config.values()])
            name = preset or "mean ± std"
            panel.series.append(
                Series(x, mean, name, line=False, symbol="s", color=color, yerr=std)
            )
            seeds_x = [
                configs.index(c) + offset + width / 4 for c, v in by_config.items() for _ in v
            ]
            seeds_y = [a for v in by_config.values() for a in v]
            panel.series.append(Series(seeds_x, seeds_y, "", line=False, symbol="o", color=color))
        panels.append(panel)
    return save_figure(path, panels, width_px=1100, height_px=500)
