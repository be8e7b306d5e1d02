"""The binarized network: exact gradients where the network is smooth, STE where it is not."""

from __future__ import annotations

import numpy as np

from protocols.learning.network import AffineAdam, BinaryMLP


def _net(sizes: list[int], seed: int = 0) -> BinaryMLP:
    net = BinaryMLP(sizes, dtype=np.float64)
    rng = np.random.default_rng(seed)
    net.weights = [rng.standard_normal(s) for s in net.shapes]
    net.gamma = [rng.uniform(0.5, 1.5, b) for _, b in net.shapes]
    net.beta = [rng.normal(0, 0.1, b) for _, b in net.shapes]
    return net


def _fd(net: BinaryMLP, param: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    out = np.zeros_like(param)
    h = 1e-6
    for i in np.ndindex(param.shape):
        old = param[i]
        param[i] = old + h
        up = net.loss_and_gradients(x, y).loss
        param[i] = old - h
        down = net.loss_and_gradients(x, y).loss
        param[i] = old
        out[i] = (up - down) / (2 * h)
    return out


def test_last_layer_and_batchnorm_gradients_match_finite_differences() -> None:
    rng = np.random.default_rng(1)
    x, y = rng.standard_normal((16, 5)), rng.integers(0, 3, 16)
    net = _net([5, 7, 3])
    g = net.loss_and_gradients(x, y)
    np.testing.assert_allclose(g.weights[1], _fd(net, net.weights[1], x, y), atol=1e-6)
    np.testing.assert_allclose(g.gamma[1], _fd(net, net.gamma[1], x, y), atol=1e-6)
    np.testing.assert_allclose(g.beta[1], _fd(net, net.beta[1], x, y), atol=1e-6)
    single = _net([5, 3])
    gs = single.loss_and_gradients(x, y)
    np.testing.assert_allclose(gs.weights[0], _fd(single, single.weights[0], x, y), atol=1e-6)


def test_straight_through_gradient_is_cut_where_the_preactivation_exceeds_one() -> None:
    rng = np.random.default_rng(2)
    x, y = rng.standard_normal((32, 4)), rng.integers(0, 2, 32)
    net = _net([4, 6, 2])
    net.gamma[0][:3] = 100.0  # these hidden units saturate: |BN output| > 1
    net.beta[0][:3] = 1000.0
    g = net.loss_and_gradients(x, y)
    assert np.all(g.weights[0][:, :3] == 0.0)
    assert np.any(g.weights[0][:, 3:] != 0.0)


def test_sign_activations_and_batch_statistics_at_test_time() -> None:
    net = _net([4, 6, 2])
    x = np.random.default_rng(3).standard_normal((10, 4))
    # batch statistics at test time: shifting and scaling the whole batch changes nothing
    np.testing.assert_allclose(net.forward(x), net.forward(3.0 * x + 0.0), atol=1e-9)
    assert net.predict(x).shape == (10,)
    assert net.predict(x, batch=5).shape == (10,)


def test_affine_adam_moves_against_the_gradient_and_resets() -> None:
    p = [np.ones(3)]
    opt = AffineAdam(p, lr=0.01)
    opt.step([np.array([1.0, -1.0, 0.0])])
    assert p[0][0] < 1.0 < p[0][1]
    opt.reset()
    assert opt.t == 0 and not np.any(opt.m[0])
