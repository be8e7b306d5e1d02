"""The one study table: runs as rows, mean ± std over seeds per configuration, CSV and markdown.

Every comparison of training runs goes through here: ``labctl study`` (runs through the engine),
:func:`.study.run_study` / :func:`.study.run_arms` (plain functions) and the must-show comparison
of :mod:`.comparison` (``scripts/study_metaplasticity.py``). A row is one run
(:func:`result_row`); :func:`aggregate` groups the rows by configuration (the rule and its
settings, or the comparison's arm label) and :func:`format_table` prints the markdown.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

METRICS = ("average_accuracy_pct", "bwt_pct", "forgetting_pct", "plasticity_pct")
COSTS = ("write_pulses", "consolidation_pulses", "reads", "transactions", "energy_J")
# (row column, aggregated name, table heading, number format): what the table shows
COLUMNS = (
    ("average_accuracy_pct", "acc_pct", "ACC %", ".1f"),
    ("bwt_pct", "bwt_pct", "BWT", ".1f"),
    ("plasticity_pct", "plasticity_pct", "plasticity %", ".1f"),
    ("write_pulses", "write_pulses", "write pulses", ".0f"),
    ("consolidation_pulses", "consolidation_pulses", "consolidation pulses", ".0f"),
    ("reads", "reads", "reads", ".0f"),
    ("transactions", "transactions", "transactions", ".0f"),
    ("energy_J", "energy_J", "energy J", ".2e"),
    ("wall_time_s", "wall_time_s", "wall s", ".1f"),
)
BY_RULE = ("rule", "settings")


def result_row(result: Mapping[str, Any], settings: Mapping[str, Any], on_array: bool) -> dict:
    """One run (a ``TrainResult.as_dict()`` or the ``train`` protocol's result) as a flat row.
    ``write_pulses``: the pulses sent on a chip; in software, the sign changes the rule asked
    for (what the same rule would have written)."""
    cost = result.get("device_cost", {})
    row: dict[str, Any] = {
        "rule": result["rule"],
        "settings": json.dumps(dict(settings), sort_keys=True),
        "seed": result["seed"],
        "on_array": on_array,
        **{m: result[m] for m in METRICS},
        "steps": result.get("steps", math.nan),
        "wall_time_s": result.get("wall_time_s", math.nan),
    }
    for c in COSTS:
        row[c] = cost.get(c, math.nan)
    if not on_array:
        row["write_pulses"] = cost.get("rule_write_requests", math.nan)
    last_row = result["accuracy_matrix_pct"][-1]
    row["final_row_pct"] = json.dumps([round(float(a), 2) for a in last_row])
    return row


def aggregate(df: pd.DataFrame, by: Sequence[str] = BY_RULE) -> pd.DataFrame:
    """Mean and std over seeds per configuration (``by``: the rule and its settings, or
    ``("arm",)``), configurations in the order they first appear; columns ``n_seeds`` and
    ``<name>_mean``/``<name>_std`` for every column of :data:`COLUMNS` that holds a number."""
    keys = list(by)
    present = [
        (src, name) for src, name, _, _ in COLUMNS if src in df and bool(df[src].notna().any())
    ]
    g = df.rename(columns=dict(present)).groupby(keys, sort=False, dropna=False)
    out = g[[name for _, name in present]].agg(["mean", "std"])
    assert isinstance(out, pd.DataFrame)  # a list of functions: one column per (name, function)
    out.columns = [f"{a}_{b}" for a, b in out.columns]
    out.insert(0, "n_seeds", g.size())
    return out


def _key_cell(name: str, value: Any) -> str:
    if name == "settings" and isinstance(value, str) and value.startswith("{"):
        settings = json.loads(value)
        return " ".join(f"{k}={_value(v)}" for k, v in settings.items())
    return str(value).replace("|", "\\|")


def _value(v: Any) -> str:
    if isinstance(v, list | tuple):
        return ",".join(_value(x) for x in v)
    return f"{v:g}" if isinstance(v, float) else str(v)


def format_table(agg: pd.DataFrame) -> str:
    """Markdown: one line per configuration, mean ± std over seeds (– where a run has no such
    number, e.g. device costs in software)."""
    names = list(agg.index.names)
    shown = [(name, head, f) for _, name, head, f in COLUMNS if f"{name}_mean" in agg]
    heads = [*names, "seeds", *(head for _, head, _ in shown)]
    lines = ["| " + " | ".join(heads) + " |", "|" + "---|" * len(heads)]
    for key, row in agg.iterrows():
        key = key if isinstance(key, tuple) else (key,)
        cells = [_key_cell(n, k) for n, k in zip(names, key, strict=True)]
        cells.append(str(int(row.at["n_seeds"])))
        for name, _, f in shown:
            mean, std = row.at[f"{name}_mean"], row.at[f"{name}_std"]
            std = 0.0 if math.isnan(std) else std  # one seed: no spread
            cells.append("–" if math.isnan(mean) else f"{mean:{f}} ± {std:{f}}")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def write_study(
    df: pd.DataFrame, stem: str | Path, by: Sequence[str] = BY_RULE
) -> tuple[Path, Path]:
    """Write ``<stem>.csv`` (one row per run) and ``<stem>.md`` (:func:`format_table`)."""
    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    csv, md = stem.with_suffix(".csv"), stem.with_suffix(".md")
    df.to_csv(csv, index=False)
    md.write_text(format_table(aggregate(df, by)))
    return csv, md
