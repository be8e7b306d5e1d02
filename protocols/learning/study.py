"""A grid of training runs (rules × settings × seeds) collected into a pandas DataFrame.

One row per run: the rule, its settings, the seed, the continual-learning metrics and the device
cost. :func:`aggregate` gives mean ± std over seeds; :func:`write_study` saves CSV and markdown.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from instruments.roles import SynapseArray

from .tasks import make_tasks, n_synapses
from .train import TrainResult, train_sequence

ArrayFactory = Callable[..., SynapseArray]  # factory(n_devices, seed=seed) -> a fresh array

METRICS = ("average_accuracy_pct", "bwt_pct", "forgetting_pct", "plasticity_pct")
COSTS = ("write_pulses", "consolidation_pulses", "reads", "transactions", "energy_J")


def settings_grid(grid: Mapping[str, Sequence[Any]] | None) -> list[dict[str, Any]]:
    """All combinations of a ``{setting: [values]}`` grid (one empty combination if none)."""
    if not grid:
        return [{}]
    keys = list(grid)
    return [dict(zip(keys, values, strict=True)) for values in itertools.product(*grid.values())]


def _row(result: TrainResult, settings: dict[str, Any], on_array: bool) -> dict[str, Any]:
    row: dict[str, Any] = {
        "rule": result.rule,
        "settings": json.dumps(settings, sort_keys=True),
        "seed": result.seed,
        "on_array": on_array,
        **{m: getattr(result, m) for m in METRICS},
        "steps": result.steps,
        "wall_time_s": result.wall_time_s,
    }
    for c in COSTS:
        row[c] = result.device_cost.get(c, np.nan)
    row["final_row_pct"] = json.dumps([round(float(a), 2) for a in result.accuracy_matrix_pct[-1]])
    return row


def run_study(
    tasks: str,
    rules: Mapping[str, Mapping[str, Sequence[Any]] | None] | Iterable[str],
    seeds: Sequence[int] = (0,),
    array_factory: ArrayFactory | None = None,
    log: Callable[[dict[str, Any]], None] | None = None,
    **train_kwargs: Any,
) -> pd.DataFrame:
    """Train every rule × settings combination × seed; one DataFrame row per run.

    ``rules`` maps a rule name to a settings grid (``{"meta-adam": {"m_meta": [5, 10]}}``) or is
    a list of names. ``array_factory(n_devices, seed=seed)`` gives a fresh array per run (``None``:
    software). ``train_kwargs`` go to :func:`train_sequence` (``hidden``, ``epochs``, ...).
    """
    grids = dict(rules) if isinstance(rules, Mapping) else {r: None for r in rules}
    rows = []
    for seed in seeds:
        task_list = make_tasks(tasks, seed)
        for name, grid in grids.items():
            for settings in settings_grid(grid):
                array = None
                if array_factory is not None:
                    n = n_synapses(task_list, train_kwargs.get("hidden", (256,)))
                    array = array_factory(n, seed=seed)
                result = train_sequence(
                    task_list,
                    name,
                    seed=seed,
                    array=array,
                    rule_settings=settings,
                    curves=False,
                    **train_kwargs,
                )
                row = _row(result, settings, array is not None)
                rows.append(row)
                if log is not None:
                    log(row)
    return pd.DataFrame(rows)


def aggregate(df: pd.DataFrame) -> pd.DataFrame:
    """Mean and std over seeds for every (rule, settings, on_array)."""
    cols = [c for c in (*METRICS, *COSTS) if c in df and df[c].notna().any()]
    agg = df.groupby(["rule", "settings", "on_array"], sort=False)[cols].agg(["mean", "std"])
    agg.columns = [f"{a}_{b}" for a, b in agg.columns]
    agg.insert(0, "n_seeds", df.groupby(["rule", "settings", "on_array"], sort=False).size())
    return agg.reset_index()


def to_markdown(df: pd.DataFrame, digits: int = 2) -> str:
    """A GitHub markdown table (no extra dependency)."""

    def fmt(v: Any) -> str:
        if isinstance(v, float | np.floating):
            return "" if np.isnan(v) else f"{v:.{digits}f}"
        return str(v).replace("|", "\\|")

    lines = [
        "| " + " | ".join(map(str, df.columns)) + " |",
        "|" + "|".join("---" for _ in df.columns) + "|",
    ]
    lines += ["| " + " | ".join(fmt(v) for v in row) + " |" for row in df.itertuples(index=False)]
    return "\n".join(lines) + "\n"


def write_study(df: pd.DataFrame, stem: str | Path) -> tuple[Path, Path]:
    """Write ``<stem>.csv`` (all runs) and ``<stem>.md`` (aggregated over seeds)."""
    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    csv, md = stem.with_suffix(".csv"), stem.with_suffix(".md")
    df.to_csv(csv, index=False)
    md.write_text(to_markdown(aggregate(df)))
    return csv, md
