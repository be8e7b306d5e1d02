"""The interface every learning rule implements (rules are found by name in :mod:`.registry`).

A rule receives, at each step, the gradient of the batch loss w.r.t. the binary weights the
network used (the ones on the chip when a chip is attached) and decides which devices to write
or consolidate, through the :class:`~.weights.WeightStore` only. The same rule code therefore runs
in pure software, on the fast virtual chip and on the instrument path.

A rule declares its parameters as ``config_type``, a dataclass of :func:`labctl.params.param`
fields with units and bounds; the instance's settings are ``self.cfg``. A rule whose declaration
is kept apart from its class (so that the command line builds its options without importing
numpy, see :mod:`.declaration`) takes them from it: ``class MyRule(Rule, declaration=MY_RULE)``.

Life cycle, driven by :func:`~.train.train_sequence`::

    rule.init(net, store, rng)      # once: start-up weights in the store
    rule.begin_task()               # before every task's first batch
    rule.step(grads)                # every batch
    rule.epoch_end()                # after every epoch
    rule.task_boundary()            # after every task (Adam-like state is reset here)
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import asdict
from typing import Any, ClassVar

import numpy as np

from .declaration import RuleDeclaration
from .network import BinaryMLP
from .weights import WeightStore


class Rule(ABC):
    """Base class of the learning rules (see the module docstring for the life cycle)."""

    name: ClassVar[str] = ""
    # the rule's parameters: a dataclass of labctl.params.param fields (unit, bounds, help)
    config_type: ClassVar[type]
    # parameters a variant pins (``none`` is ``meta-adam`` with m_meta = 0): not settable
    fixed: ClassVar[dict[str, Any]] = {}

    def __init_subclass__(cls, declaration: RuleDeclaration | None = None, **kwargs: Any) -> None:
        """``declaration``: name, parameters and pinned values from a :class:`RuleDeclaration`."""
        super().__init_subclass__(**kwargs)
        if declaration is not None:
            cls.name = declaration.name
            cls.config_type = declaration.config_type
            cls.fixed = dict(declaration.fixed)

    def __init__(self, **settings: Any) -> None:
        self.cfg = self.config_type(**{**settings, **self.fixed})
        self.net: BinaryMLP | None = None
        self._store: WeightStore | None = None
        self.rng = np.random.default_rng(0)
        self.steps = 0

    @property
    def store(self) -> WeightStore:
        if self._store is None:
            raise RuntimeError(f"rule {self.name!r} used before init()")
        return self._store

    def init(self, net: BinaryMLP, store: WeightStore, rng: np.random.Generator) -> None:
        """Bind to a network and a weight store; put the start-up weights in the store."""
        self.net, self._store, self.rng = net, store, rng
        store.initialise(rng)
        net.weights = store.binary  # the forward pass reads the store's (chip's) weights
        self._init_state()

    @abstractmethod
    def _init_state(self) -> None:
        """Create the per-synapse state (vectors in device order) from ``self.store.flat``."""

    def step(self, grads: list[np.ndarray]) -> None:
        """Apply one batch's gradients (w.r.t. the binary weights, one per layer)."""
        self.steps += 1
        self._grad = self.store.layout.join(grads, getattr(self, "_grad", None))
        self.step_flat(self._grad)

    @abstractmethod
    def step_flat(self, grad: np.ndarray) -> None:
        """Apply one batch's gradient, a vector in device order (see :class:`~.weights.Layout`)."""

    def begin_task(self) -> None:  # noqa: B027 - optional hook
        """Called before every task's first batch (a no-op unless a rule needs it)."""

    def epoch_end(self) -> None:
        """Called after every epoch (subclasses extend it and call ``super()``)."""
        if self.store.refresh_at == "epoch":
            self.store.refresh()

    def task_boundary(self) -> None:
        """Called after every task (subclasses extend it and call ``super()``)."""
        if self.store.refresh_at == "task":
            self.store.refresh()

    def params(self) -> dict[str, Any]:
        """The rule's settings, JSON-serialisable."""
        return {"rule": self.name, **asdict(self.cfg)}

    def counts(self) -> dict[str, int]:
        """Rule-side counters (device-side counts come from the array)."""
        return {"steps": self.steps, **self.store.counts.as_dict()}

    # ------------------------------------------------------------------ helpers
    def sync_signs(self, hidden: np.ndarray, amplitude_V: float, width_s: float) -> None:
        """Write every device whose sign differs from ``sign(hidden)`` (retries failed writes),
        all in one write call."""
        want_up = hidden >= 0
        devices = np.flatnonzero(want_up != (self.store.flat > 0))
        if devices.size:
            target = np.where(want_up[devices], 1.0, -1.0)
            self.store.write(devices, target, amplitude_V, width_s)
