"""Hardware-in-the-loop metaplastic training of binarized networks (host side).

Public API: :func:`train_sequence` / :class:`TrainResult`, the rules (:func:`make_rule`,
``meta-adam``, ``none``, ``mesu``, ``device``), the tasks (:func:`make_tasks`) and the metrics.
The chip is reached only through an ``instruments.roles.SynapseArray`` passed in.
"""

from . import device_rule as _device_rule  # noqa: F401  (registers device)
from . import mesu as _mesu  # noqa: F401  (registers mesu)
from . import meta_adam as _meta_adam  # noqa: F401  (registers meta-adam, none)
from .network import BinaryMLP
from .rule import Rule, make_rule, rule_names
from .tasks import Task, TaskUnavailable, make_tasks
from .train import TrainResult, train_sequence
from .weights import ArrayWeights, Layout, WeightStore

__all__ = [
    "ArrayWeights",
    "BinaryMLP",
    "Layout",
    "Rule",
    "Task",
    "TaskUnavailable",
    "TrainResult",
    "WeightStore",
    "make_rule",
    "make_tasks",
    "rule_names",
    "train_sequence",
]
