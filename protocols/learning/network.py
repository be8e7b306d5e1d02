"""A binarized fully connected network in numpy (the host side of hardware-in-the-loop training).

Layers: binary linear (no bias) → BatchNorm without running statistics (batch statistics at train
*and* test, learned affine γ/β) → sign activation with a straight-through gradient clipped at
|x| > 1; the last layer's BatchNorm output goes to a softmax cross-entropy. The first layer sees the
real-valued input (as in Laborieux et al.), the others the ±1 activations.

The binary weights are not owned here: :attr:`BinaryMLP.weights` is the list of ±1 matrices the
forward pass uses, and the weight store (software or chip, see :mod:`.weights`) keeps them up to
date. The gradient returned by :meth:`BinaryMLP.backward` is taken w.r.t. those binary weights,
which is what every rule consumes. The BatchNorm affine parameters stay in software and are trained
here with plain Adam (the reference trains them with the same Adam, reset at each task).

Weight matrices have shape ``(n_in, n_out)`` (a crossbar: rows are inputs, columns are neurons).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

BN_EPS = 1e-5  # torch.nn.BatchNorm1d default


@dataclass
class ForwardCache:
    """What the backward pass needs from the forward pass."""

    inputs: list[np.ndarray] = field(default_factory=list)  # input of each linear layer
    x_hat: list[np.ndarray] = field(default_factory=list)  # normalised pre-activations
    inv_std: list[np.ndarray] = field(default_factory=list)
    bn_out: list[np.ndarray] = field(default_factory=list)  # γ·x̂ + β (pre-sign)


@dataclass
class Gradients:
    """Gradients of the mean cross-entropy of one batch."""

    weights: list[np.ndarray]  # w.r.t. the binary weights, shape (n_in, n_out) per layer
    gamma: list[np.ndarray]
    beta: list[np.ndarray]
    loss: float


class AffineAdam:
    """Plain Adam (with L2 weight decay, as torch's Adam) for the BatchNorm γ/β, in software."""

    def __init__(
        self,
        params: list[np.ndarray],
        lr: float,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-7,
    ) -> None:
        self.params, self.lr, self.betas, self.eps, self.wd = params, lr, betas, eps, weight_decay
        self.reset()

    def reset(self) -> None:
        self.t = 0
        self.m = [np.zeros_like(p) for p in self.params]
        self.v = [np.zeros_like(p) for p in self.params]

    def step(self, grads: list[np.ndarray]) -> None:
        b1, b2 = self.betas
        self.t += 1
        step_size = self.lr * np.sqrt(1.0 - b2**self.t) / (1.0 - b1**self.t)
        for p, g, m, v in zip(self.params, grads, self.m, self.v, strict=True):
            g = g + self.wd * p
            m *= b1
            m += (1.0 - b1) * g
            v *= b2
            v += (1.0 - b2) * g * g
            p -= step_size * m / (np.sqrt(v) + self.eps)


class BinaryMLP:
    """Binarized MLP ``sizes[0] → … → sizes[-1]`` with BatchNorm and sign activations.

    ``weights`` must be set (±1 float32 matrices) before the first forward pass; the weight store
    does it. ``gamma``/``beta`` are the BatchNorm affine parameters (γ = 1, β = 0 at start).
    """

    def __init__(self, sizes: tuple[int, ...] | list[int], dtype: type = np.float32) -> None:
        if len(sizes) < 2:
            raise ValueError(f"need at least an input and an output size, got {sizes}")
        self.sizes = tuple(int(s) for s in sizes)
        self.dtype = dtype
        self.shapes = [(a, b) for a, b in zip(self.sizes[:-1], self.sizes[1:], strict=True)]
        self.weights: list[np.ndarray] = [np.ones(s, dtype=dtype) for s in self.shapes]
        self.gamma = [np.ones(b, dtype=dtype) for _, b in self.shapes]
        self.beta = [np.zeros(b, dtype=dtype) for _, b in self.shapes]

    @property
    def n_layers(self) -> int:
        return len(self.shapes)

    @property
    def n_weights(self) -> int:
        return sum(a * b for a, b in self.shapes)

    def affine_params(self) -> list[np.ndarray]:
        return [*self.gamma, *self.beta]

    def get_bn_state(self) -> list[np.ndarray]:
        return [p.copy() for p in self.affine_params()]

    def set_bn_state(self, state: list[np.ndarray]) -> None:
        for p, s in zip(self.affine_params(), state, strict=True):
            p[...] = s

    # ------------------------------------------------------------------ passes
    def forward(self, x: np.ndarray, cache: ForwardCache | None = None) -> np.ndarray:
        """Logits for a batch ``x`` of shape ``(n, sizes[0])`` (BatchNorm on this batch)."""
        a = np.asarray(x, dtype=self.dtype)
        last = self.n_layers - 1
        for i, w in enumerate(self.weights):
            z = a @ w
            mean = z.mean(axis=0)
            zc = z - mean
            inv_std = 1.0 / np.sqrt((zc * zc).mean(axis=0) + BN_EPS)
            x_hat = zc * inv_std
            y = x_hat * self.gamma[i] + self.beta[i]
            if cache is not None:
                cache.inputs.append(a)
                cache.x_hat.append(x_hat)
                cache.inv_std.append(inv_std)
                cache.bn_out.append(y)
            a = y if i == last else np.where(y >= 0, 1.0, -1.0).astype(self.dtype)
        return a

    def loss_and_gradients(self, x: np.ndarray, labels: np.ndarray) -> Gradients:
        """Mean softmax cross-entropy of the batch and its gradients (straight-through sign)."""
        cache = ForwardCache()
        logits = self.forward(x, cache)
        n = logits.shape[0]
        shifted = logits - logits.max(axis=1, keepdims=True)
        exp = np.exp(shifted)
        prob = exp / exp.sum(axis=1, keepdims=True)
        rows = np.arange(n)
        loss = float(-np.mean(np.log(prob[rows, labels] + 1e-12)))
        dy = prob
        dy[rows, labels] -= 1.0
        dy /= n
        gw: list[np.ndarray] = [np.empty(0)] * self.n_layers
        gg: list[np.ndarray] = [np.empty(0)] * self.n_layers
        gb: list[np.ndarray] = [np.empty(0)] * self.n_layers
        for i in reversed(range(self.n_layers)):
            x_hat, inv_std = cache.x_hat[i], cache.inv_std[i]
            gg[i] = (dy * x_hat).sum(axis=0)
            gb[i] = dy.sum(axis=0)
            dx_hat = dy * self.gamma[i]
            dz = inv_std * (dx_hat - dx_hat.mean(axis=0) - x_hat * (dx_hat * x_hat).mean(axis=0))
            gw[i] = cache.inputs[i].T @ dz
            if i > 0:
                da = dz @ self.weights[i].T
                # straight-through estimator of sign, clipped at |x| > 1 (reference SignActivation)
                da[np.abs(cache.bn_out[i - 1]) > 1.0] = 0.0
                dy = da
        return Gradients(weights=gw, gamma=gg, beta=gb, loss=loss)

    def predict(self, x: np.ndarray, batch: int | None = None) -> np.ndarray:
        """Class predictions; BatchNorm uses the statistics of each evaluation batch."""
        if batch is None or batch >= len(x):
            return self.forward(x).argmax(axis=1)
        return np.concatenate(
            [self.forward(x[i : i + batch]).argmax(axis=1) for i in range(0, len(x), batch)]
        )

    def accuracy_pct(self, x: np.ndarray, labels: np.ndarray, batch: int | None = None) -> float:
        return float(100.0 * np.mean(self.predict(x, batch) == labels))
