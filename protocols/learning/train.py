"""Train a binarized network on a sequence of tasks with one rule, in software or on a chip.

:func:`train_sequence` is a plain function; ``labctl`` wraps it as the ``train`` protocol. With
``array=None`` the binary weights live in software; with a :class:`SynapseArray` they are the
chip's devices (see :mod:`.weights` for the index layout) and the rule writes and consolidates
them through the array only.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from instruments.roles import SynapseArray

from . import metrics
from .heap import keep_heap
from .network import AffineAdam, BinaryMLP
from .registry import make_rule
from .rule import Rule
from .tasks import Task, make_tasks, pad_outputs
from .threads import with_sized_blas
from .weights import Refresh, make_store

LogCallback = Callable[[dict[str, Any]], None]


@dataclass
class TrainResult:
    """Everything a training run produced; :meth:`as_dict` is JSON-serialisable."""

    rule: str
    rule_params: dict[str, Any]
    task_names: list[str]
    sizes: list[int]
    epochs: int
    batch: int
    lr: float
    seed: int
    on_chip: bool
    accuracy_matrix_pct: np.ndarray
    average_accuracy_pct: float
    bwt_pct: float
    forgetting_pct: float
    plasticity_pct: float
    curves: list[dict[str, Any]] = field(default_factory=list)
    device_cost: dict[str, Any] = field(default_factory=dict)
    steps: int = 0
    wall_time_s: float = 0.0
    cpu_time_s: float = 0.0  # of the calling thread: less sensitive than the wall to other load

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["accuracy_matrix_pct"] = self.accuracy_matrix_pct.tolist()
        return _jsonable(d)

    def summary_line(self) -> str:
        return (
            f"{self.rule}: ACC {self.average_accuracy_pct:.1f} %  BWT {self.bwt_pct:+.1f}  "
            f"plasticity {self.plasticity_pct:.1f} %"
        )


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, np.generic):
        return obj.item()
    return obj


def _batches(n: int, batch: int, rng: np.random.Generator) -> list[np.ndarray]:
    order = rng.permutation(n)
    out = [order[i : i + batch] for i in range(0, n, batch)]
    # BatchNorm needs a few samples: fold a tiny last batch into the previous one
    if len(out) > 1 and len(out[-1]) < max(2, batch // 4):
        last = out.pop()
        out[-1] = np.concatenate([out[-1], last])
    return out


@with_sized_blas  # small matrices: BLAS threads cost more than they give (see .threads)
def train_sequence(
    tasks: Sequence[Task] | str,
    rule: Rule | str = "meta-adam",
    hidden: Sequence[int] = (256,),
    epochs: int = 20,
    batch: int = 100,
    lr: float = 0.005,
    seed: int = 0,
    array: SynapseArray | None = None,
    log: LogCallback | None = None,
    *,
    rule_settings: dict[str, Any] | None = None,
    refresh: Refresh = "task",
    bn_per_task: bool = False,
    eval_batch: int | None = None,
    curves: bool = True,
) -> TrainResult:
    """Train ``rule`` on ``tasks`` one after the other and measure the accuracy matrix.

    ``tasks`` is a list of :class:`Task` or a spec (``"permuted-digits:5"``). ``rule`` is a
    :class:`Rule` or a name; a name is built with ``lr`` and ``rule_settings``. ``lr`` also drives
    the software Adam of the BatchNorm affine parameters (reset at each task, as the reference).
    ``refresh``: when a chip store re-reads every device (to catch disturbed devices).
    ``bn_per_task``: evaluate an old task with the BatchNorm γ/β saved at its end (the
    reference's "task" scenario); off by default (one shared BatchNorm). ``eval_batch``: batch
    size for the BatchNorm statistics at test time (``None``: the whole test set at once).
    ``curves``: evaluate every task after every epoch (else only at task ends).
    ``log`` is called with a dict after every epoch.
    BLAS runs on one thread meanwhile (``$LABCTL_BLAS_THREADS`` to change it, see :mod:`.threads`),
    and the heap keeps freed memory for the next step's temporaries (see :mod:`.heap`).
    """
    keep_heap()  # before the clock starts: a fresh process then trains as a warm one does
    t0, cpu0 = time.perf_counter(), time.thread_time()
    task_list = make_tasks(tasks, seed) if isinstance(tasks, str) else list(tasks)
    if not task_list:
        raise ValueError("no tasks to train")
    n_in = task_list[0].n_features
    if any(t.n_features != n_in for t in task_list):
        raise ValueError("all tasks of a sequence must have the same number of input features")
    sizes = [n_in, *(int(h) for h in hidden), pad_outputs(task_list)]
    rng = np.random.default_rng(seed)

    if isinstance(rule, str):
        rule = make_rule(rule, lr=lr, **(rule_settings or {}))
    net = BinaryMLP(sizes)
    store = make_store(net.shapes, array, refresh)
    rule.init(net, store, np.random.default_rng([seed, 1]))
    bn_opt = AffineAdam(net.affine_params(), lr=lr)

    T = len(task_list)
    R = np.zeros((T, T))
    bn_states: list[list[np.ndarray]] = []
    curve_rows: list[dict[str, Any]] = []

    def evaluate(upto_task: int) -> list[float]:
        current = net.get_bn_state()
        accs = []
        for j, tj in enumerate(task_list):
            if bn_per_task and j < upto_task:
                net.set_bn_state(bn_states[j])
            accs.append(net.accuracy_pct(tj.x_test, tj.y_test, eval_batch))
            net.set_bn_state(current)
        return accs

    for i, task in enumerate(task_list):
        rule.begin_task()
        accs: list[float] | None = None
        for epoch in range(1, epochs + 1):
            losses = []
            for idx in _batches(len(task.y_train), batch, rng):
                g = net.loss_and_gradients(task.x_train[idx], task.y_train[idx])
                rule.step(g.weights)
                bn_opt.step([*g.gamma, *g.beta])
                losses.append(g.loss)
            rule.epoch_end()
            last = epoch == epochs
            if curves or last:
                if last:
                    rule.task_boundary()  # consolidation / refresh before the task is scored
                accs = evaluate(i)
                row = {
                    "task": i,
                    "epoch": epoch,
                    "step": rule.steps,
                    "train_loss": float(np.mean(losses)),
                    "test_acc_pct": accs,
                }
                curve_rows.append(row)
                if log is not None:
                    log(dict(row, task_name=task.name))
        assert accs is not None  # the last epoch always evaluates (epochs >= 1)
        R[i] = accs
        bn_states.append(net.get_bn_state())
        bn_opt.reset()

    summary = metrics.summary(R)
    return TrainResult(
        rule=rule.name,
        rule_params=rule.params(),
        task_names=[t.name for t in task_list],
        sizes=sizes,
        epochs=epochs,
        batch=batch,
        lr=lr,
        seed=seed,
        on_chip=store.on_chip,
        accuracy_matrix_pct=R,
        curves=curve_rows,
        device_cost=metrics.device_cost(array, rule.counts(), rule.steps),
        steps=rule.steps,
        wall_time_s=time.perf_counter() - t0,
        cpu_time_s=time.thread_time() - cpu0,
        **summary,
    )
