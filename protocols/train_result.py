"""What a ``train`` run returns: the accuracy matrix, the continual-learning scores and the
device cost, with their units (a module of its own: the rule settings of ``train`` change
independently of what a run reports)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from labctl.api import Result, quantity

NAN = float("nan")


@dataclass(frozen=True, kw_only=True)
class TrainRunResult(Result):
    rule: str = quantity("", "learning rule")
    rule_params: dict[str, Any] = quantity("", "the rule's settings", default={})
    task_names: list[str] = quantity("", "tasks in training order", default=[])
    sizes: list[int] = quantity("", "layer widths, input to output", default=[])
    epochs: int = quantity("", "epochs per task")
    batch: int = quantity("", "batch size")
    lr: float = quantity("", "learning rate")
    seed: int = quantity("", "seed of tasks, batches and rule")
    on_chip: bool = quantity("", "weights on the station's synapse array")
    accuracy_matrix_pct: list[list[float]] = quantity(
        "%", "test accuracy on task j (column) after training task i (row)", default=[]
    )
    average_accuracy_pct: float = quantity("%", "ACC: mean of the last row", default=NAN)
    bwt_pct: float = quantity("%", "backward transfer (negative: forgetting)", default=NAN)
    forgetting_pct: float = quantity("%", "mean drop from each task's best accuracy", default=NAN)
    plasticity_pct: float = quantity("%", "mean accuracy on each task just after it", default=NAN)
    device_cost: dict[str, Any] = quantity(
        "", "pulses, reads, router operations, transactions and energy", default={}
    )
    steps: int = quantity("", "training steps", default=0)
    wall_time_s: float = quantity("s", "wall-clock time of the training", default=0.0)
    cpu_time_s: float = quantity(
        "s", "CPU time of the training's thread (moves less with the machine's load)", default=0.0
    )
