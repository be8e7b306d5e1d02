"""The rules, step by step: meta-Adam against the reference formula, the device rule's pulses,
MESU's prior terms."""

from __future__ import annotations

import math

import numpy as np
import pytest

from protocols.learning import make_rule, rule_names
from protocols.learning.network import BinaryMLP
from protocols.learning.weights import ArrayWeights, WeightStore

from .fake_array import FakeSynapseArray


def _bind(rule_name: str, array: FakeSynapseArray | None = None, **settings: object):
    net = BinaryMLP([2, 2])
    store = WeightStore(net.shapes) if array is None else ArrayWeights(net.shapes, array)
    rule = make_rule(rule_name, **settings)
    rule.init(net, store, np.random.default_rng(0))
    return rule, net, store


def test_all_rules_are_registered() -> None:
    assert set(rule_names()) >= {"meta-adam", "none", "mesu", "device"}
    with pytest.raises(ValueError, match="known"):
        make_rule("sgd")


def test_meta_adam_first_step_follows_the_reference_formula() -> None:
    lr, meta = 0.005, 10.0
    rule, _, store = _bind("meta-adam", lr=lr, m_meta=meta, weight_decay=0.0)
    rule.hidden[:] = [0.1, 0.1, -0.1, -0.1]
    g = np.array([0.2, -0.2, 0.2, -0.2], dtype=np.float32)
    rule.step([g.reshape(2, 2)])
    # t = 1: m = 0.1 g, v = 0.001 g², step = lr·√0.001/0.1, m/√v = sign(g)
    step = lr * math.sqrt(1 - 0.999) / (1 - 0.9)
    f = 1 - math.tanh(meta * 0.1) ** 2
    unit = 0.1 / math.sqrt(0.001)  # |m| / √v for |g| = 0.2 (eps negligible)
    # sign(W_h)·m > 0 (toward a flip) → attenuated by f; otherwise the plain Adam step
    expected = [
        0.1 - step * f * unit,
        0.1 + step * unit,
        -0.1 - step * unit,
        -0.1 + step * f * unit,
    ]
    np.testing.assert_allclose(rule.hidden, expected, rtol=1e-4)
    np.testing.assert_array_equal(store.flat, np.sign(rule.hidden))
    rule.task_boundary()
    assert rule.t == 0 and not rule.m.any()


def test_none_is_meta_adam_without_metaplasticity() -> None:
    rule, _, _ = _bind("none", m_meta=7.0)
    assert rule.cfg.m_meta == 0.0 and rule.name == "none"


def test_software_rules_on_a_chip_retry_failed_writes() -> None:
    array = FakeSynapseArray(4, p0=0.0, seed=0)
    rule, _, store = _bind("none", array=array)
    rule.hidden[:] = -store.flat  # every sign asks for a flip
    g = np.zeros((2, 2), dtype=np.float32)
    rule.step([g])
    rule.step([g])
    assert array.counts.write_pulses == 8  # nothing switched: asked again at every step


def test_device_rule_writes_only_when_the_accumulated_update_asks_for_a_flip() -> None:
    array = FakeSynapseArray(4, p0=1.0, seed=0)
    rule, _, store = _bind(
        "device", array=array, lr=0.005, flip_threshold=0.018, consolidation_threshold=0.025
    )
    assert not hasattr(rule, "hidden")  # the host keeps no hidden weight
    b0 = store.flat.copy()
    g = (b0 * np.array([1.0, 1.0, -1.0, -1.0])).reshape(2, 2)  # devices 0, 1 pushed to flip
    rule.step([g])
    assert array.counts.write_pulses == 0  # one Adam step (≈ lr) is below the threshold
    for _ in range(5):
        rule.step([g])
    assert array.counts.write_pulses == 2
    np.testing.assert_array_equal(store.flat[:2], -b0[:2])
    np.testing.assert_array_equal(store.flat[2:], b0[2:])
    assert array.counts.reads == 4 + 2  # the start-up read, then only the written devices
    assert array.counts.consolidation_pulses == 0
    # a constant gradient moves the accumulator by exactly lr per step: devices 2, 3 agreed
    # with their sign for 6 steps (0.03 ≥ 0.025), devices 0, 1 for 2 steps since their flip
    rule.epoch_end()
    assert array.counts.consolidation_pulses == 2
    assert np.all(array.x[2:] > 0.0) and np.all(array.x[:2] == 0.0)


def test_device_rule_backs_off_and_erodes_after_a_failed_write() -> None:
    array = FakeSynapseArray(4, p0=0.0, seed=0)
    rule, _, store = _bind("device", array=array, flip_threshold=0.01, failure_backoff=2.0)
    array.x[:] = 0.5
    rule.level[:] = 2  # the controller's log: two consolidation pulses already sent
    g = store.flat.reshape(2, 2).copy()  # every device pushed toward a flip
    for _ in range(4):
        rule.step([g])
    assert rule.counts()["failed_writes"] == rule.counts()["write_attempts"] > 0
    assert np.all(rule.fails >= 1)
    rule.epoch_end()
    assert np.all(array.x < 0.5)  # erosion: gate pulses at −V lowered x


def test_device_rule_sends_no_write_to_a_frozen_device() -> None:
    array = FakeSynapseArray(4, p0=1.0, seed=0)
    rule, _, store = _bind("device", array=array, flip_threshold=0.01, frozen_level=2)
    rule.level[:] = [2, 3, 1, 0]  # devices 0, 1 hold ≥ frozen_level gate pulses
    b0 = store.flat.copy()
    for _ in range(4):
        rule.step([b0.reshape(2, 2)])  # every device pushed toward a flip
    assert array.counts.write_pulses == 2
    np.testing.assert_array_equal(store.flat, [b0[0], b0[1], -b0[2], -b0[3]])


def test_device_rule_books_a_write_at_the_peak_level_as_failed_without_a_pulse() -> None:
    array = FakeSynapseArray(4, p0=1.0, seed=0)
    rule, _, store = _bind("device", array=array, flip_threshold=0.01, booked_failure_level=4)
    rule.level[:] = [4, 4, 1, 0]
    b0 = store.flat.copy()
    for _ in range(3):
        rule.step([b0.reshape(2, 2)])
    assert array.counts.write_pulses == 2 and rule.counts()["booked_failures"] == 2
    np.testing.assert_array_equal(store.flat, [b0[0], b0[1], -b0[2], -b0[3]])
    assert list(rule.fails) == [1, 1, 0, 0] and list(rule.credit[:2]) == [-1, -1]  # erosion
    rule.epoch_end()
    assert list(rule.level) == [3, 3, 1, 0]


@pytest.mark.parametrize("moments", ["reset", "keep", "keep_v"])
def test_device_rule_moments_at_a_task_boundary(moments: str) -> None:
    rule, _, store = _bind("device", task_moments=moments)
    for _ in range(3):
        rule.step([store.flat.reshape(2, 2) * 0.1])
    m, v, t = rule.m.copy(), rule.v.copy(), rule.t
    rule.task_boundary()
    assert rule.t == (0 if moments == "reset" else t)
    np.testing.assert_array_equal(rule.m, 0.0 if moments != "keep" else m)
    np.testing.assert_array_equal(rule.v, 0.0 if moments == "reset" else v)
    assert not rule.acc.any()


class _AmplitudeLog(FakeSynapseArray):
    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.pulses: list[tuple[tuple[int, ...], float]] = []

    def write(self, indices, polarity, amplitude_V, width_s) -> None:  # type: ignore[no-untyped-def]
        self.pulses.append((tuple(int(i) for i in indices), float(amplitude_V)))
        super().write(indices, polarity, amplitude_V, width_s)


def test_device_rule_writes_at_the_amplitude_of_each_level() -> None:
    array = _AmplitudeLog(4, p0=1.0, seed=0)
    rule, _, store = _bind("device", array=array, flip_threshold=0.01, level_write_V=(3.0, 3.5))
    rule.level[:] = [0, 1, 2, 0]  # levels beyond the list use its last amplitude
    g = store.flat.reshape(2, 2).copy()
    for _ in range(3):
        rule.step([g])
    assert sorted(array.pulses) == [((0, 3), 3.0), ((1, 2), 3.5)]


def test_device_rule_erodes_a_flipped_device_back_to_level_zero() -> None:
    array = FakeSynapseArray(4, p0=1.0, k=0.0, seed=0)  # k = 0: x does not hinder the flip
    rule, _, store = _bind("device", array=array, flip_threshold=0.01, reset_level_on_flip=True)
    array.x[:] = 0.5
    rule.level[:] = 2
    g = store.flat.reshape(2, 2).copy()
    for _ in range(3):
        rule.step([g])
    assert rule.counts()["failed_writes"] == 0 and array.counts.write_pulses == 4
    rule.epoch_end()
    assert np.all(rule.level == 0) and np.all(array.x < 0.5)
    assert array.counts.consolidation_pulses == 8  # two erosion pulses per device


def test_device_rule_in_software_flips_deterministically() -> None:
    rule, _, store = _bind("device", flip_threshold=0.01)
    b0 = store.flat.copy()
    for _ in range(10):
        rule.step([b0.reshape(2, 2)])
    np.testing.assert_array_equal(store.flat, -b0)


def test_mesu_without_gradient_relaxes_to_the_prior() -> None:
    rule, _, _ = _bind(
        "mesu", sigma_prior=0.2, sigma_init=0.05, memory_window=1000.0, batch=100, sample=False
    )
    mu0 = np.abs(rule.mu).copy()
    for _ in range(200):
        rule.step([np.zeros((2, 2), dtype=np.float32)])
    np.testing.assert_allclose(rule.sigma, 0.2, rtol=0.05)
    assert np.all(np.abs(rule.mu) < mu0)


def test_mesu_step_uses_sigma_squared_as_learning_rate() -> None:
    rule, _, _ = _bind("mesu", sample=False, memory_window=1e30, batch=10)
    rule.sigma[:] = [0.1, 0.2, 0.1, 0.2]
    mu0 = rule.mu.copy()
    rule.step([np.ones((2, 2), dtype=np.float32)])
    np.testing.assert_allclose(mu0 - rule.mu, 10 * np.array([0.01, 0.04, 0.01, 0.04]), rtol=1e-5)


def test_device_rule_write_budget_per_task_caps_the_pulses_per_device() -> None:
    """``max_writes_per_task``: a device that keeps asking for a flip (every write fails) gets at
    most that many write pulses per task; the budget starts again at the next task."""
    budget = 2

    def pulses_per_device(**settings: object) -> list[int]:
        array = _AmplitudeLog(4, p0=0.0, seed=0)  # no write ever succeeds
        rule, _, store = _bind(
            "device", array=array, flip_threshold=0.004, failure_backoff=1.0,
            booked_failure_level=0, erode_on_failed_write=False, **settings,
        )  # fmt: skip
        g = store.flat.reshape(2, 2).copy()  # every device pushed toward a flip, every step
        for _ in range(8):
            rule.step([g])
        rule.task_boundary()
        for _ in range(8):
            rule.step([g])
        return [sum(d in devices for devices, _ in array.pulses) for d in range(4)]

    unlimited = pulses_per_device()
    assert min(unlimited) > 2 * budget  # without a budget the retries go on
    assert pulses_per_device(max_writes_per_task=budget) == [2 * budget] * 4  # two tasks
    with pytest.raises(Exception, match=r"--max-writes-per-task = -1: expected a value >= 0"):
        make_rule("device", max_writes_per_task=-1)
