"""MESU, Metaplasticity from Synaptic Uncertainty (Bonnet, Cottart, …, Querlioz; arXiv 2312.10153,
2504.13569), on binary weights.

Each synapse is a Gaussian (µ, σ); σ² is its own learning rate (metaplasticity) and N a memory
window pulling (µ, σ) back toward the prior (µ_p, σ_p)::

    Δµ = −σ²·∂C/∂µ + σ²/(N·σ_p²)·(µ_p − µ)
    Δσ = −(σ²/2)·∂C/∂σ + σ/(2N·σ_p²)·(σ_p² − σ²)

``C`` is the summed loss of the batch (``batch × mean loss``) and the prior terms are weighted by
``batch/N`` per update, so N counts samples as in the paper. With ``sample=True`` (default) the
binary weights of a step are ``sign(µ + σ·ε)`` with one ε ~ N(0, 1) per synapse and step, and
the reparameterisation gives ``∂C/∂µ = g``, ``∂C/∂σ = g·ε`` (g: gradient w.r.t. the binary
weight, straight-through). With ``sample=False`` the binary weights are ``sign(µ)`` and σ obeys
the prior term only. ``lr`` is accepted for a uniform interface and unused: σ² is the rate.
Evaluation uses whatever the store holds (the last sample, or sign(µ)); set
``eval_mean=True`` to write sign(µ) back at every epoch end.
"""

from __future__ import annotations

import numpy as np

from .rule import Rule
from .rule_settings import MESU, MesuConfig


class Mesu(Rule, declaration=MESU):
    """Bayesian metaplasticity: per-synapse σ² as learning rate, binary weights sign(µ [+σε])."""

    cfg: MesuConfig

    def __init__(self, **settings: float | bool) -> None:
        super().__init__(**settings)
        self.mu = np.zeros(0, dtype=np.float32)
        self.sigma = np.zeros(0, dtype=np.float32)
        self.eps = np.zeros(0, dtype=np.float32)

    def _init_state(self) -> None:
        c, b = self.cfg, self.store.flat
        self.mu = b * self.rng.uniform(0.0, c.mu_init_width / 2, b.shape).astype(b.dtype)
        self.sigma = np.full_like(b, c.sigma_init)
        self.eps = np.zeros_like(b)
        self._draw()

    def _draw(self) -> None:
        """Choose the binary weights of the next step and write them."""
        c = self.cfg
        if c.sample:
            self.eps = self.rng.standard_normal(self.mu.shape).astype(self.mu.dtype)
            self.sync_signs(self.mu + self.sigma * self.eps, c.write_amplitude_V, c.write_width_s)
        else:
            self.sync_signs(self.mu, c.write_amplitude_V, c.write_width_s)

    def step_flat(self, grad: np.ndarray) -> None:
        c, mu, sigma = self.cfg, self.mu, self.sigma
        var = sigma * sigma
        inv_prior = c.batch / (c.memory_window * c.sigma_prior**2)
        d_mu = -var * (c.batch * grad) + var * inv_prior * (c.mu_prior - mu)
        d_sigma = sigma * (0.5 * inv_prior) * (c.sigma_prior**2 - var)
        if c.sample:
            d_sigma -= 0.5 * var * (c.batch * grad * self.eps)
        mu += d_mu
        np.maximum(sigma + d_sigma, 1e-6, out=sigma)
        self._draw()

    def epoch_end(self) -> None:
        if self.cfg.eval_mean:
            c = self.cfg
            self.eps[...] = 0.0
            self.sync_signs(self.mu, c.write_amplitude_V, c.write_width_s)
        super().epoch_end()
