"""Training runs: small versions of the reference studies (fast), full versions (slow).

Full study (docs/learning/README.md §6 sizing): permuted digits × 5, 64-256-10, 20 epochs per
task, batch 100, lr 0.005. Small version: 3 tasks, 64-128-10, 8 epochs per task, two seeds.
"""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest

from protocols.learning import make_tasks, train_sequence

from .fake_array import FakeSynapseArray

SMALL = {"hidden": (128,), "epochs": 8}
FULL = {"hidden": (256,), "epochs": 20}


def _n_devices(hidden: tuple[int, ...]) -> int:
    sizes = [64, *hidden, 10]
    return sum(a * b for a, b in itertools.pairwise(sizes))


def _chip_like(n: int, seed: int) -> FakeSynapseArray:
    """The fake array with the chip's scales (device-rule defaults are tuned for the chip):
    τ(2 V) ≈ 8 s, and P_sw falls ≈ 100× over the Δx ≈ 0.15 that ``max_level`` allows."""
    return FakeSynapseArray(n, k=30.0, rate_at_2V_per_s=0.125, seed=seed)


def _runs(n_tasks: int, kw: dict, seeds: tuple[int, ...]) -> dict[str, list]:
    """none, meta-adam (m_meta 10), none on the fake array, device on the fake array."""
    out: dict[str, list] = {"none": [], "meta": [], "none@array": [], "device@array": []}
    for seed in seeds:
        tasks = make_tasks(f"permuted-digits:{n_tasks}", seed)
        n = _n_devices(kw["hidden"])
        common = dict(seed=seed, curves=False, **kw)
        out["none"].append(train_sequence(tasks, "none", **common))
        out["meta"].append(
            train_sequence(tasks, "meta-adam", rule_settings={"m_meta": 10.0}, **common)
        )
        out["none@array"].append(train_sequence(tasks, "none", array=_chip_like(n, seed), **common))
        out["device@array"].append(
            train_sequence(tasks, "device", array=_chip_like(n, seed), **common)
        )
    return out


def _mean(results: list, attr: str) -> float:
    return float(np.mean([getattr(r, attr) for r in results]))


def _writes(results: list) -> float:
    return float(np.mean([r.device_cost.get("write_pulses", np.nan) for r in results]))


def test_result_is_complete_and_json_serialisable() -> None:
    tasks = make_tasks("permuted-digits:2", 0)
    rows: list[dict] = []
    r = train_sequence(tasks, "meta-adam", hidden=(32,), epochs=2, seed=0, log=rows.append)
    assert r.accuracy_matrix_pct.shape == (2, 2) and r.sizes == [64, 32, 10]
    assert len(r.curves) == len(rows) == 4 and rows[0]["task_name"] == "pdigits-1"
    d = json.loads(json.dumps(r.as_dict()))
    assert d["rule_params"]["m_meta"] == 10.0 and d["steps"] == r.steps > 0
    again = train_sequence(tasks, "meta-adam", hidden=(32,), epochs=2, seed=0)
    np.testing.assert_array_equal(r.accuracy_matrix_pct, again.accuracy_matrix_pct)


def test_device_cost_comes_from_the_array_counts() -> None:
    tasks = make_tasks("permuted-digits:2", 0)
    array = FakeSynapseArray(_n_devices((32,)), seed=0)
    r = train_sequence(tasks, "device", hidden=(32,), epochs=2, seed=0, array=array)
    assert r.on_chip and r.device_cost["write_pulses"] == array.counts.write_pulses > 0
    assert r.device_cost["reads"] == array.counts.reads
    assert r.device_cost["consolidation_pulses"] == array.counts.consolidation_pulses > 0
    # reads: one full read at start, one per written device, one full re-read per task
    n = _n_devices((32,))
    assert array.counts.reads == n + array.counts.write_pulses + 2 * n


@pytest.mark.slow  # the default run has the same study on the virtual chip (chip_study)
def test_small_permuted_digits_metaplasticity_reduces_forgetting() -> None:
    """Fake chip-like array: the rule mechanics, independent of the chip model."""
    runs = _runs(3, SMALL, seeds=(0, 1))
    for results in runs.values():
        assert _mean(results, "plasticity_pct") > 85.0  # every rule learns each task
    assert _mean(runs["meta"], "bwt_pct") > _mean(runs["none"], "bwt_pct") + 3.0
    assert _mean(runs["meta"], "average_accuracy_pct") > _mean(runs["none"], "average_accuracy_pct")
    dev, base = runs["device@array"], runs["none@array"]
    assert _mean(dev, "average_accuracy_pct") > _mean(base, "average_accuracy_pct") + 3.0
    assert _mean(dev, "bwt_pct") > _mean(base, "bwt_pct") + 5.0
