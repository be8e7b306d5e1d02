"""Metaplastic Adam on hidden weights (Laborieux et al., Nat. Commun. 12, 2549, 2021), exactly.

Matches ``Adam_meta.step`` of Laborieux-Axel/SynapticMetaplasticityBNN (models_utils.py) for the
weight matrices: L2 weight decay added to the gradient, Adam moments, bias-corrected step size,
and the metaplastic attenuation ``f_meta = 1 − tanh²(m_meta·|W_h|)`` applied only where
``sign(W_h)·m_t > 0`` (the update would shrink |W_h|, i.e. push toward a sign flip). The Adam
state is reset at each task (the reference builds a new optimiser per task).

``none`` is the same rule with ``m_meta = 0``: the non-metaplastic baseline. With a chip attached,
the hidden weights stay on the host and every device whose sign differs from ``sign(W_h)`` gets a
write pulse (failed writes are retried at the next step): the "flip whenever asked" baseline.
"""

from __future__ import annotations

import numpy as np

from .rule import Rule
from .rule_settings import META_ADAM, NONE, MetaAdamConfig


class MetaAdam(Rule, declaration=META_ADAM):
    """Adam_meta on host-side hidden weights; the binary weights are their signs."""

    cfg: MetaAdamConfig

    def __init__(self, **settings: float) -> None:
        super().__init__(**settings)
        self.hidden = np.zeros(0, dtype=np.float32)  # W_h in device order
        self.m = np.zeros(0, dtype=np.float32)
        self.v = np.zeros(0, dtype=np.float32)
        self.t = 0

    def _init_state(self) -> None:
        b = self.store.flat
        # magnitudes uniform in [0, w/2], signs those of the store (random, or the chip's)
        self.hidden = b * self.rng.uniform(0.0, self.cfg.init_width / 2, b.shape).astype(b.dtype)
        self._reset_adam()

    def _reset_adam(self) -> None:
        self.t = 0
        self.m = np.zeros_like(self.hidden)
        self.v = np.zeros_like(self.hidden)

    def step_flat(self, grad: np.ndarray) -> None:
        c, h, m, v = self.cfg, self.hidden, self.m, self.v
        self.t += 1
        step_size = float(c.lr * np.sqrt(1.0 - c.beta2**self.t) / (1.0 - c.beta1**self.t))
        g = grad + c.weight_decay * h if c.weight_decay else grad
        m *= c.beta1
        m += (1.0 - c.beta1) * g
        v *= c.beta2
        v += (1.0 - c.beta2) * (g * g)
        update = m
        if c.m_meta:
            toward_flip = np.sign(h) * m > 0.0
            f_meta = 1.0 - np.tanh(c.m_meta * np.abs(h)) ** 2
            update = np.where(toward_flip, f_meta * m, m)
        h -= step_size * update / (np.sqrt(v) + c.eps)
        self.sync_signs(h, c.write_amplitude_V, c.write_width_s)

    def task_boundary(self) -> None:
        self._reset_adam()
        super().task_boundary()


class NoMeta(MetaAdam, declaration=NONE):
    """The non-metaplastic baseline: Adam_meta with ``m_meta = 0``."""
