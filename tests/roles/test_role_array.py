"""The SynapseArray contract, on every synaptic array: the array routed over the twins and
the fast vectorised virtual chip (see implementations.py)."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from instruments.roles import (
    ArrayLimits,
    DeviceIndexError,
    OperationCounts,
    SynapseArray,
)
from labctl.clock import VirtualClock

from .helpers import outside, refused, said
from .implementations import IMPLEMENTATIONS

ARRAYS = IMPLEMENTATIONS["array"]
WRITE_V, WIDTH_S = 6.0, 1e-6  # switches a device of either bench deterministically


@pytest.fixture(scope="module", params=sorted(ARRAYS))
def array(
    request: pytest.FixtureRequest,
    suite_clock: VirtualClock,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[SynapseArray]:
    with ARRAYS[request.param].open("array", tmp_path_factory.mktemp("array"), suite_clock) as role:
        assert isinstance(role, SynapseArray)
        yield role


def _cost(array: SynapseArray) -> dict[str, float]:
    return {**array.counts.as_dict(), "role_transactions": array.transactions}


def test_plays_the_array_role_with_the_array_limits_and_counts(array: SynapseArray) -> None:
    assert array.role == "array" and type(array.limits) is ArrayLimits
    assert type(array.counts) is OperationCounts  # one counts type for every array
    assert isinstance(array.n_devices, int) and array.n_devices > 0


def test_read_returns_one_binary_weight_per_index_in_order(array: SynapseArray) -> None:
    before = array.counts.reads
    indices = [2, 0, 2]
    weights = array.read(indices)
    assert isinstance(weights, np.ndarray) and weights.shape == (3,)
    assert np.issubdtype(weights.dtype, np.integer) and set(weights.tolist()) <= {-1, 1}
    assert weights[0] == weights[2]  # the same device twice reads the same
    assert array.counts.reads == before + 3


def test_write_sets_the_read_weights_and_counts_pulses_and_energy(array: SynapseArray) -> None:
    before = array.counts.as_dict()
    sent = array.transactions
    pattern = np.array([1, -1, -1, 1])
    array.write(np.arange(4), pattern, WRITE_V, WIDTH_S)
    np.testing.assert_array_equal(array.read(np.arange(4)), pattern)
    array.write([0, 1, 2, 3], -1, WRITE_V, WIDTH_S)  # one polarity for all
    np.testing.assert_array_equal(array.read(np.arange(4)), [-1, -1, -1, -1])
    after = array.counts.as_dict()
    assert after["write_pulses"] == before["write_pulses"] + 8
    assert after["energy_J"] > before["energy_J"]
    assert array.transactions > sent and array.counts.transactions == array.transactions


def test_consolidate_counts_one_gate_pulse_per_device(array: SynapseArray) -> None:
    before = array.counts.as_dict()
    array.consolidate([1, 3], 1.5, 0.5)
    after = array.counts.as_dict()
    assert after["consolidation_pulses"] == before["consolidation_pulses"] + 2
    assert after["energy_J"] > before["energy_J"]


def test_an_empty_batch_writes_nothing_and_costs_nothing(array: SynapseArray) -> None:
    reads = array.counts.reads
    assert array.read([]).shape == (0,) and array.counts.reads == reads
    before = _cost(array)
    array.write([], 1, WRITE_V, WIDTH_S)
    array.consolidate([], 1.5, 0.5)
    assert _cost(array) == before


@pytest.mark.parametrize("which", ["above", "below", "nan"])
def test_a_write_outside_the_limits_is_refused_before_any_device(
    array: SynapseArray, which: str
) -> None:
    pick = {"above": 0, "below": 1, "nan": 2}[which]
    amplitude = outside(array.limits.write_amplitude_V)[pick]
    width = outside(array.limits.write_width_s)[pick]
    before = _cost(array)
    if which != "below":  # below the window an amplitude's magnitude is inside (sign: polarity)
        refused(
            array,
            "write amplitude",
            array.limits.write_amplitude_V,
            lambda: array.write([0, 1], 1, amplitude, WIDTH_S),
        )
    refused(
        array,
        "write pulse width",
        array.limits.write_width_s,
        lambda: array.write([0, 1], 1, WRITE_V, width),
    )
    assert _cost(array) == before


@pytest.mark.parametrize("which", ["above", "below", "nan"])
def test_a_consolidation_outside_the_limits_is_refused_before_any_device(
    array: SynapseArray, which: str
) -> None:
    pick = {"above": 0, "below": 1, "nan": 2}[which]
    before = _cost(array)
    voltage = outside(array.limits.gate_voltage_V)[pick]
    duration = outside(array.limits.gate_duration_s)[pick]
    window = array.limits.gate_voltage_V
    refused(
        array,
        "consolidation gate voltage",
        window,
        lambda: array.consolidate([0], voltage, 0.5),
    )
    refused(
        array,
        "consolidation duration",
        array.limits.gate_duration_s,
        lambda: array.consolidate([0], 1.5, duration),
    )
    assert _cost(array) == before


def test_bad_indices_and_polarities_are_refused_before_any_device(array: SynapseArray) -> None:
    before = _cost(array)
    n = array.n_devices
    for bad in ([n], [-1], [0, n + 5]):
        with pytest.raises(DeviceIndexError, match=rf"{array.name}: no device .*0\.\.{n - 1}"):
            array.read(bad)
        with pytest.raises(DeviceIndexError):
            array.write(bad, 1, WRITE_V, WIDTH_S)
        with pytest.raises(DeviceIndexError):
            array.consolidate(bad, 1.5, 0.5)
    for polarity in (0, 2, np.array([1, 0])):
        with pytest.raises(ValueError, match="polarity must be \\+1 or -1"):
            array.write([0, 1], polarity, WRITE_V, WIDTH_S)
    assert _cost(array) == before


def test_the_safe_state_reports_and_can_be_repeated(array: SynapseArray) -> None:
    said(array.safe_state())
    said(array.safe_state())
    weights = array.read([0])  # still usable after its safe state
    assert weights.shape == (1,)
    snapshot = array.snapshot()
    assert snapshot["role"] == "array" and snapshot["counts"] == array.counts.as_dict()
