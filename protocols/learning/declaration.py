"""What the command line needs to know about a learning rule, without its implementation.

``labctl --help`` builds ``train``'s options from every rule's parameters (units, bounds,
defaults). A rule's class imports numpy (0.4-0.6 s, more than the whole start-up budget of
``labctl --help``, issue 13), so a rule is declared apart from its class: a
:class:`RuleDeclaration` names the rule, its parameter dataclass (declared in a module that
imports no numpy) and where its class is (``"package.module:Class"``), imported only when a rule
is made for training. The class takes its name, parameters and pinned values from the
declaration (``class MyRule(Rule, declaration=MY_RULE)``), so they are written once.

This module imports nothing of the learning package (the class is found by its path): the
registry and the rule base class both use it without an import cycle.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class RuleDeclaration:
    """A rule by name: its parameters (``config_type``, a dataclass of
    :func:`labctl.params.param` fields), the parameters a variant pins (``fixed``: ``none`` is
    ``meta-adam`` with ``m_meta = 0``), a one-line description for ``--help`` and the path of
    its implementation, a :class:`~.rule.Rule` subclass."""

    name: str
    config_type: type
    implementation: str  # "package.module:Class"
    doc: str = ""
    fixed: Mapping[str, Any] = field(default_factory=dict)

    def load(self) -> Any:
        """The implementing class (imports its module: numpy and the training code)."""
        module, _, attr = self.implementation.partition(":")
        return getattr(importlib.import_module(module), attr)
