"""Hardware-in-the-loop metaplastic training of binarized networks (host side).

Public API: :func:`train_sequence` / :class:`TrainResult`, the rules (:func:`make_rule`; the
built-in ``meta-adam``, ``none``, ``mesu`` and ``device`` and any package's own are found through
the ``labctl.rules`` entry points, see :mod:`.registry`), the tasks (:func:`make_tasks`) and
the metrics. The chip is reached only through an ``instruments.roles.SynapseArray`` passed in.

The names are imported on first use (PEP 562): ``labctl`` loads :mod:`.cli` at every start to
register ``labctl train``, and importing it runs this file, which must not import numpy and the
training code then.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .network import BinaryMLP
    from .registry import RuleSpec, available_rules, find_rule, make_rule, register, rule_names
    from .rule import Rule
    from .tasks import Task, TaskUnavailable, make_tasks
    from .train import TrainResult, train_sequence
    from .weights import ArrayWeights, Layout, WeightStore

_WHERE = {
    "BinaryMLP": "network",
    "RuleSpec": "registry",
    "available_rules": "registry",
    "find_rule": "registry",
    "make_rule": "registry",
    "register": "registry",
    "rule_names": "registry",
    "Rule": "rule",
    "Task": "tasks",
    "TaskUnavailable": "tasks",
    "make_tasks": "tasks",
    "TrainResult": "train",
    "train_sequence": "train",
    "ArrayWeights": "weights",
    "Layout": "weights",
    "WeightStore": "weights",
}


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_WHERE[name]}", __name__), name)
    globals()[name] = value  # once: later lookups do not come here
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_WHERE])


__all__ = [
    "ArrayWeights",
    "BinaryMLP",
    "Layout",
    "Rule",
    "RuleSpec",
    "Task",
    "TaskUnavailable",
    "TrainResult",
    "WeightStore",
    "available_rules",
    "find_rule",
    "make_rule",
    "make_tasks",
    "register",
    "rule_names",
    "train_sequence",
]
