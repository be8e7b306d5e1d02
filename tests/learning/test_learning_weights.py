"""Weight stores: the device layout, cached read-back, minimal reads, stale-device refresh."""

from __future__ import annotations

import numpy as np
import pytest

from protocols.learning.weights import ArrayWeights, Layout, WeightStore

from .fake_array import FakeSynapseArray


def test_layers_map_to_contiguous_row_major_device_indices() -> None:
    layout = Layout(((3, 4), (4, 2)))
    assert layout.offsets == (0, 12) and layout.n_devices == 20
    np.testing.assert_array_equal(layout.device_indices(1, np.array([0, 7])), [12, 19])
    v = np.arange(20.0)
    w0, w1 = layout.split(v)
    assert w0[1, 2] == 1 * 4 + 2 and w1[3, 1] == 12 + 3 * 2 + 1
    np.testing.assert_array_equal(layout.join([w0, w1]), v)


def test_store_layers_are_views_of_the_flat_vector() -> None:
    store = WeightStore([(3, 4), (4, 2)])
    store.initialise(np.random.default_rng(0))
    store.write(np.array([13]), np.array([-store.flat[13]]))
    assert store.binary[1][0, 1] == store.flat[13]


def test_chip_store_reads_once_then_only_what_it_wrote() -> None:
    array = FakeSynapseArray(25, p0=1.0, seed=1)
    store = ArrayWeights([(3, 4), (4, 2)], array)
    store.initialise(np.random.default_rng(0))
    np.testing.assert_array_equal(store.flat, array.m[:20])
    assert array.counts.reads == 20
    devices = np.array([2, 15])
    flipped = store.write(devices, -store.flat[devices], 1.0, 1e-8)
    assert flipped.all() and array.counts.reads == 22 and array.counts.write_pulses == 2
    np.testing.assert_array_equal(store.flat, array.m[:20])
    assert array.counts.transactions == 3  # full read, one write, one read-back


def test_failed_writes_are_seen_in_the_read_back() -> None:
    array = FakeSynapseArray(20, p0=0.0, seed=1)  # nothing ever switches
    store = ArrayWeights([(4, 5)], array)
    store.initialise(np.random.default_rng(0))
    before = store.flat.copy()
    assert not store.write(np.arange(20), -before).any()
    np.testing.assert_array_equal(store.flat, before)


def test_refresh_finds_disturbed_devices() -> None:
    array = FakeSynapseArray(20, seed=1)
    store = ArrayWeights([(4, 5)], array)
    store.initialise(np.random.default_rng(0))
    array.m[[3, 4]] *= -1  # disturbed behind the cache's back
    assert store.refresh() == 2 and store.counts.stale_devices == 2
    np.testing.assert_array_equal(store.flat, array.m)


def test_an_array_too_small_for_the_network_is_refused() -> None:
    with pytest.raises(ValueError, match="synapses"):
        ArrayWeights([(4, 5)], FakeSynapseArray(19))
