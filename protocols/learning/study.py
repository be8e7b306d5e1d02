"""Training runs side by side, collected into a pandas DataFrame.

An :class:`Arm` is one rule with its settings, in software or on a chip; :func:`run_arms` trains
every arm × seed (on Dask workers with ``jobs > 1`` or a ``scheduler``: :mod:`labctl.cluster`,
the engine of ``labctl study`` too), one fresh chip per run. One row per
run (:func:`.table.result_row`): the arm, rule, settings, seed, the continual-learning metrics
and the device cost. :func:`run_study` runs a grid (rules × settings × seeds); the table
(:func:`aggregate`: mean ± std over seeds, :func:`write_study`: CSV and markdown) is built by
:mod:`.table`, the one study table.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from instruments.roles import SynapseArray

from .table import aggregate, format_table, result_row, write_study
from .tasks import make_tasks, n_synapses
from .train import train_sequence

ArrayFactory = Callable[..., SynapseArray]  # factory(n_devices, seed=seed) -> a fresh array

__all__ = [
    "Arm",
    "aggregate",
    "format_table",
    "run_arms",
    "run_one",
    "run_study",
    "settings_grid",
    "write_study",
]


def settings_grid(grid: Mapping[str, Sequence[Any]] | None) -> list[dict[str, Any]]:
    """All combinations of a ``{setting: [values]}`` grid (one empty combination if none)."""
    if not grid:
        return [{}]
    keys = list(grid)
    return [dict(zip(keys, values, strict=True)) for values in itertools.product(*grid.values())]


@dataclass(frozen=True)
class Arm:
    """One rule with its settings, in software or on a fresh chip per run."""

    label: str
    rule: str
    settings: dict[str, Any] = field(default_factory=dict)
    on_chip: bool = False


def run_one(
    arm: Arm,
    tasks: str,
    seed: int,
    array_factory: ArrayFactory | None,
    train_kwargs: dict[str, Any],
) -> dict[str, Any]:
    """One training run of one arm: its row (see :func:`result_row`) with the arm's label."""
    task_list = make_tasks(tasks, seed)
    array = None
    if arm.on_chip:
        if array_factory is None:
            raise ValueError(f"arm {arm.label!r} runs on a chip: an array_factory is required")
        array = array_factory(n_synapses(task_list, train_kwargs.get("hidden", (256,))), seed=seed)
    result = train_sequence(
        task_list, arm.rule, seed=seed, array=array, rule_settings=arm.settings, curves=False,
        **train_kwargs,
    )  # fmt: skip
    return {"arm": arm.label, **result_row(result.as_dict(), arm.settings, array is not None)}


def _run_work(work: tuple[Arm, str, int, ArrayFactory | None, dict[str, Any]]) -> dict[str, Any]:
    return run_one(*work)


def run_arms(
    tasks: str,
    seeds: Sequence[int],
    array_factory: ArrayFactory | None,
    arms: Sequence[Arm],
    jobs: int = 1,
    log: Callable[[dict[str, Any]], None] | None = None,
    scheduler: str | None = None,
    **train_kwargs: Any,
) -> pd.DataFrame:
    """Every arm × seed, one row each in that order (seed by seed) whatever order they finish
    in. ``jobs > 1`` runs them on a local Dask cluster of ``jobs`` workers, ``scheduler``
    (``tcp://HOST:PORT``) on a running one (the factory must then pickle); else here, one after
    the other. ``log(row)`` as each run ends. ``train_kwargs`` go to :func:`train_sequence`
    (``hidden``, ``epochs`` …)."""
    work = [(arm, tasks, int(s), array_factory, train_kwargs) for s in seeds for arm in arms]
    rows: list[dict[str, Any] | None] = [None] * len(work)

    def done(i: int, row: dict[str, Any]) -> None:
        rows[i] = row
        if log is not None:
            log(row)

    if jobs > 1 or scheduler is not None:
        from labctl.cluster import map_jobs, open_client

        with open_client(scheduler, n_workers=jobs) as client:
            map_jobs(client, _run_work, work, done, label="study")
    else:
        for i, item in enumerate(work):
            done(i, _run_work(item))
    return pd.DataFrame([r for r in rows if r is not None])


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
    arms = [
        Arm(name, name, settings, on_chip=array_factory is not None)
        for name, grid in grids.items()
        for settings in settings_grid(grid)
    ]
    return run_arms(tasks, seeds, array_factory, arms, log=log, **train_kwargs)
