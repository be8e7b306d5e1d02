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

from dataclasses import dataclass

import numpy as np

from labctl.params import param

from .rule import Rule


@dataclass
class MesuConfig:
    lr: float = param(0.0, low=0, high=1.0, help="unused: σ² is the learning rate")
    sigma_prior: float = param(0.2, low=1e-6, high=10.0, help="prior width σ_p")
    sigma_init: float = param(0.2, low=1e-6, high=10.0, help="initial width σ of every synapse")
    mu_prior: float = param(0.0, low=-10.0, high=10.0, help="prior mean µ_p")
    # µ starts uniform in [−w/2, w/2], signs those of the store
    mu_init_width: float = param(0.2, low=0, high=10.0, help="width of the initial means")
    memory_window: float = param(3e5, low=1.0, high=1e30, help="memory window N, in samples")
    # sets the scale of C and of the prior terms
    batch: int = param(100, low=1, high=100_000, help="samples per update")
    sample: bool = param(True, help="binary weights sign(µ + σε) (false: sign(µ))")
    eval_mean: bool = param(True, help="write sign(µ) back at every epoch end")
    write_amplitude_V: float = param(4.0, unit="V", low=0, high=10.0, help="write pulse amplitude")
    write_width_s: float = param(2e-8, unit="s", low=1e-10, high=1e-3, help="write pulse width")


class Mesu(Rule):
    """Bayesian metaplasticity: per-synapse σ² as learning rate, binary weights sign(µ [+σε])."""

    name = "mesu"
    config_type = MesuConfig
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
