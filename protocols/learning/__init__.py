"""Hardware-in-the-loop metaplastic training of binarized networks (host side).

Public API: :func:`train_sequence` / :class:`TrainResult`, the rules (:func:`make_rule`; the
built-in ``meta-adam``, ``none``, ``mesu`` and ``device`` and any package's own are found through
the ``labctl.rules`` entry points, see :mod:`.registry`), the tasks (:func:`make_tasks`) and
the metrics. The chip is reached only through an ``instruments.roles.SynapseArray`` passed in.
"""

from .network import BinaryMLP
from .registry import RuleSpec, available_rules, find_rule, make_rule, register, rule_names
from .rule import Rule
from .tasks import Task, TaskUnavailable, make_tasks
from .train import TrainResult, train_sequence
from .weights import ArrayWeights, Layout, WeightStore

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
