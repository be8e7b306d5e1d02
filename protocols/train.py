"""``train``: hardware-in-the-loop training of a binarized network on a sequence of tasks.

The binary weights live on the station's ``array`` role (a ``SynapseArray``: the routed array
over the twins or a real bench, or the fast virtual chip given by class path); with
``--on-chip false`` they live in software (the reference). One point per (trained task, epoch,
evaluated task): the test accuracy, the training loss and the cumulative device cost, so the
dataset holds the per-task learning curves. The result holds the accuracy matrix, ACC, BWT,
plasticity and the device cost (write and consolidation pulses, reads, router operations,
transactions, energy: the array documents its energy formula). Figures: the accuracy-matrix
heat map and the per-task curves.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import numpy as np
import pandas as pd

from labctl.api import Panel, Run, Series, param, protocol, save_figure
from protocols.learning import make_tasks, rule_names, train_sequence
from protocols.learning.registry import DEFAULT_RULE, check_settings, parse_settings_text
from protocols.learning.tasks import TASK_FAMILIES
from protocols.train_result import TrainRunResult

# why a run with on_chip = true needs the 'array' role (said when the station has none)
ON_CHIP_NEEDS = (
    "for on_chip = true: a synapse_array, or sim_backend.fast_array:VirtualSynapseArray; "
    "--on-chip false trains in software"
)
_COST_COLUMNS = ("write_pulses", "consolidation_pulses", "reads", "transactions")


@dataclass(frozen=True)
class TrainParams:
    rule: str = param(DEFAULT_RULE, help="learning rule", choices=tuple(rule_names()))
    tasks: str = param("permuted-digits:5", help=f"family[:n], family in {TASK_FAMILIES}")
    hidden: list[float] = param([256], low=1, high=4096, help="hidden layer widths")
    epochs: int = param(20, low=1, high=1000, help="epochs per task")
    batch: int = param(100, low=2, high=100_000, help="batch size")
    lr: float = param(0.005, low=1e-6, high=1.0, help="learning rate (Adam step)")
    seed: int = param(0, low=0, high=2**31 - 1, help="seed (tasks, batches, rule)")
    settings: str = param(
        "",
        help="the rule's parameters as name=value pairs separated by spaces (lists: a,b), "
        "e.g. 'm_meta=5'; `labctl train --help` lists them with units and bounds",
    )
    on_chip: bool = param(True, help="weights on the station's array (false: software)")
    refresh: str = param(
        "task", help="full re-read of the chip", choices=("never", "epoch", "task")
    )

    def __post_init__(self) -> None:
        if any(h != int(h) for h in self.hidden):
            raise ValueError(f"hidden widths must be integers, got {self.hidden}")
        family = self.tasks.split(":", 1)[0]
        if family not in TASK_FAMILIES:
            raise ValueError(
                f"tasks = {self.tasks!r}: unknown family {family!r}; "
                f"expected one of {', '.join(TASK_FAMILIES)}"
            )
        self.rule_settings()  # refuse a bad rule parameter before the bench opens

    def rule_settings(self) -> dict[str, Any]:
        """The rule's settings, converted and checked against the rule's declared bounds."""
        where = f"train: rule {self.rule}: settings"
        raw = parse_settings_text(self.settings, where)
        return check_settings(self.rule, raw, where, settable_only=True)


def task_name(result: dict[str, Any], index: int) -> str:
    """A task's name as the result prints it (``pdigits-1``), else its index."""
    names = result.get("task_names") or []
    return str(names[index]) if 0 <= index < len(names) else f"task {index}"


def train_figure(result: dict[str, Any], points: pd.DataFrame, path: Path) -> None:
    panels = train_panels(result, points)
    save_figure(path, panels, width_px=1200 if len(panels) > 1 else 900, height_px=520)


def train_panels(result: dict[str, Any], points: pd.DataFrame) -> list[Panel]:
    """Accuracy-matrix heat map (row: after training task i; column: evaluated task j) and
    per-task test curves, tasks named as the result names them."""
    curves = Panel("test accuracy per task", "training step", "test accuracy", yunit="%")
    if not points.empty:
        for j, group in points.groupby("eval_task"):
            step = group["step"].to_numpy(dtype=float)
            acc = group["test_acc_pct"].to_numpy(dtype=float)
            task = int(cast(float, j))  # a key of the numeric eval_task column
            curves.series.append(Series(step, acc, task_name(result, task)))
        curves.vlines = sorted(np.asarray(points.groupby("task")["step"].max()).tolist())[:-1]
    if "accuracy_matrix_pct" not in result:  # the run ended before its first task did
        return [curves]
    R = np.atleast_2d(np.asarray(result["accuracy_matrix_pct"], dtype=float))
    rows, cols = R.shape
    heat = Panel(
        "test accuracy (%) after training each task",
        "evaluated task",
        "after training",
        image=R,
        cell_format="{:.0f}",
        xticks=[(j + 0.5, task_name(result, j)) for j in range(cols)],
        yticks=[(i + 0.5, task_name(result, i)) for i in range(rows)],
    )
    return [heat, curves]


@protocol(
    "train",
    columns={
        "task": "",
        "epoch": "",
        "step": "",
        "eval_task": "",
        "test_acc_pct": "%",
        "train_loss": "",
        **{c: "" for c in _COST_COLUMNS},
    },
    labels={
        "task": "training task",
        "epoch": "epoch",
        "step": "training step",
        "eval_task": "evaluated task",
        "test_acc_pct": "test accuracy",
        "train_loss": "training loss",
    },
    setpoints=("task", "epoch", "eval_task"),
    axes=(("step", "test_acc_pct"),),
    figure=train_figure,
    needs=lambda p: {"array": ON_CHIP_NEEDS} if p.on_chip else {},
)
def train(run: Run, params: TrainParams) -> TrainRunResult:
    """Train a binarized network on a task sequence with one rule, weights on the chip."""
    array = run.station.array if params.on_chip else None  # its presence: `needs` above
    tasks = make_tasks(params.tasks, params.seed)
    hidden = tuple(int(h) for h in params.hidden)
    total = len(tasks) * params.epochs

    def log(row: dict[str, Any]) -> None:
        cost = array.counts.as_dict() if array is not None else {}
        for j, acc in enumerate(row["test_acc_pct"]):
            run.record(
                task=row["task"], epoch=row["epoch"], step=row["step"], eval_task=j,
                test_acc_pct=acc, train_loss=row["train_loss"],
                **{c: cost.get(c, np.nan) for c in _COST_COLUMNS},
            )  # fmt: skip
        done = row["task"] * params.epochs + row["epoch"]
        run.progress(done, total, f"{row['task_name']} epoch {row['epoch']}")

    result = train_sequence(
        tasks, params.rule, hidden=hidden, epochs=params.epochs, batch=params.batch,
        lr=params.lr, seed=params.seed, array=array, log=log,
        rule_settings=params.rule_settings(), refresh=params.refresh,  # type: ignore[arg-type]
    )  # fmt: skip
    out = result.as_dict()
    out.pop("curves")  # they are the run's points
    # k/n·100 of a test set: 4 decimals hold it exactly, without 56.99999999999999
    out["accuracy_matrix_pct"] = np.round(result.accuracy_matrix_pct, 4).tolist()
    return TrainRunResult.from_dict(out)
