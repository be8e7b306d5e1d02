"""``labctl train`` and ``labctl study``: hardware-in-the-loop training from the command line.

Both run the ``train`` protocol through the engine (every run is stored in the database with
its points, result and figures; the safe state is reached on every exit)::

    labctl train --rule device --tasks permuted-digits:5 --hidden 256 --epochs 20 --seed 0 \\
        [--path fast|instrument|software] [--station FILE] [--json]
    labctl study --rules none meta-adam device --seeds 0 1 2 --m-meta 5 10 --out study

``--path fast`` (default) trains on the vectorised virtual chip (``virtual_chip_fast.yaml``),
``instrument`` on the routed synapse array over the twins (``simulated_synapse_array.yaml``,
16 devices: use a tiny network such as ``--tasks permuted-iris:2 --hidden 2``), ``software``
keeps the weights on the host (the reference). ``--station`` replaces the built-in station.
``study`` writes ``<out>.csv`` (one row per run) and ``<out>.md`` (mean ± std over seeds).
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

STATIONS = Path(__file__).resolve().parent / "stations"
PATH_STATIONS = {
    "fast": STATIONS / "virtual_chip_fast.yaml",
    "instrument": STATIONS / "simulated_synapse_array.yaml",
    "software": STATIONS / "virtual_chip_fast.yaml",  # opened but unused: weights on the host
}
SUMMARY = ("average_accuracy_pct", "bwt_pct", "plasticity_pct")
COSTS = ("write_pulses", "consolidation_pulses", "reads", "transactions", "energy_J")


def _training_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--tasks", default="permuted-digits:5", help="task sequence family[:n]")
    p.add_argument("--hidden", type=int, nargs="+", default=[256], help="hidden layer widths")
    p.add_argument("--epochs", type=int, default=20, help="epochs per task")
    p.add_argument("--batch", type=int, default=100)
    p.add_argument("--lr", type=float, default=0.005)
    p.add_argument("--path", choices=tuple(PATH_STATIONS), default="fast")
    p.add_argument("--station", default=None, help="station file (replaces --path's station)")


def register(
    subparsers: Any, common: argparse.ArgumentParser
) -> dict[str, Callable[[argparse.Namespace], int]]:
    """Add ``train`` and ``study`` to the ``labctl`` sub-commands; returns their handlers."""
    p = subparsers.add_parser("train", parents=[common], help="train a network on the chip")
    p.add_argument("--rule", default="device", help="none, meta-adam, mesu or device")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--m-meta", type=float, default=10.0, help="meta-adam strength")
    _training_options(p)
    p = subparsers.add_parser("study", parents=[common], help="rules × seeds comparison table")
    p.add_argument("--rules", nargs="+", default=["none", "meta-adam", "device"])
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--m-meta", type=float, nargs="+", default=[10.0], help="meta-adam grid")
    p.add_argument("--out", default="study", help="output stem for .csv and .md")
    _training_options(p)
    return {"train": cmd_train, "study": cmd_study}


def _raw_params(args: argparse.Namespace, rule: str, seed: int, m_meta: float) -> dict[str, Any]:
    return {
        "rule": rule,
        "tasks": args.tasks,
        "hidden": [float(h) for h in args.hidden],
        "epochs": args.epochs,
        "batch": args.batch,
        "lr": args.lr,
        "seed": seed,
        "m_meta": m_meta,
        "on_chip": args.path != "software",
    }


def _run(args: argparse.Namespace, raw: dict[str, Any]) -> Any:
    from labctl.cli import run_protocol  # late: labctl.cli imports this module
    from labctl.protocol import find_protocol

    args.station = args.station or str(PATH_STATIONS[args.path])
    return run_protocol(args, find_protocol("train"), raw)


def cmd_train(args: argparse.Namespace) -> int:
    from labctl.cli import report

    raw = _raw_params(args, args.rule, args.seed, args.m_meta)
    return report(args, _run(args, raw))


def cmd_study(args: argparse.Namespace) -> int:
    from labctl.cli import EXIT_FAILED, EXIT_OK
    from labctl.cli_output import emit

    rows = []
    for rule, seed in itertools.product(args.rules, args.seeds):
        for m_meta in args.m_meta if rule == "meta-adam" else [math.nan]:
            raw = _raw_params(args, rule, seed, 10.0 if math.isnan(m_meta) else m_meta)
            outcome = _run(args, raw)
            if outcome.status != "completed":
                print(
                    f"labctl: study: {rule} seed {seed}: run {outcome.status}: {outcome.error}",
                    file=sys.stderr,
                )
                return EXIT_FAILED
            res = outcome.result
            row = {"rule": rule, "m_meta": m_meta, "seed": seed, "run_id": outcome.run_id}
            row.update({k: res[k] for k in SUMMARY})
            row.update({k: res["device_cost"].get(k, math.nan) for k in COSTS})
            rows.append(row)
    df = pd.DataFrame(rows)
    stem = Path(args.out)
    stem.parent.mkdir(parents=True, exist_ok=True)
    df.to_csv(stem.with_suffix(".csv"), index=False)
    cols = [*SUMMARY, *COSTS]
    agg = df.groupby(["rule", "m_meta"], dropna=False, sort=False)[cols].agg(["mean", "std"])
    table = _markdown(agg)
    stem.with_suffix(".md").write_text(table)
    payload = {
        "runs": json.loads(df.to_json(orient="records")),
        "csv": str(stem.with_suffix(".csv")),
        "md": str(stem.with_suffix(".md")),
    }
    emit(args, payload, lambda: table)
    return EXIT_OK


def _markdown(agg: pd.DataFrame) -> str:
    names = sorted({c for c, _ in agg.columns}, key=[c for c, _ in agg.columns].index)
    lines = ["| rule | m_meta | " + " | ".join(names) + " |", "|---|---|" + "---|" * len(names)]
    for (rule, m_meta), row in agg.iterrows():
        cells = [f"{row[(c, 'mean')]:.4g} ± {row[(c, 'std')]:.2g}" for c in names]
        meta = "" if isinstance(m_meta, float) and math.isnan(m_meta) else f"{m_meta:g}"
        lines.append(f"| {rule} | {meta} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
