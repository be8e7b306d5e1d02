"""The must-show comparison on the fast path: the real vectorised virtual chip (ptco_gdox_hall).

Default run: permuted digits × 3 (64-128-10, 8 epochs per task) and the medical sequence
(30-256-2, 20 epochs per task), seeds 0 and 1, every arm. Slow: both sequences at full size on
5 seeds (``scripts/study_metaplasticity.py`` prints the same tables). The issue's goals on
``device@chip`` are asserted, except the medical 1.5× goal, which is shown to be out of reach of
*any* rule by its single-task ceiling.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from threadpoolctl import threadpool_limits

from instruments.roles import LimitError
from protocols.learning import make_rule
from protocols.learning.comparison import (
    GOAL_GAP,
    GOAL_RATIO,
    GOAL_WRITES,
    aggregate,
    arms_for,
    format_table,
    goals,
)
from protocols.learning.network import BinaryMLP
from protocols.learning.study import Arm, run_arms
from protocols.learning.tasks import Task, make_tasks
from protocols.learning.train import train_sequence
from protocols.learning.weights import WeightStore
from sim_backend.fast_array import VirtualSynapseArray, make_fast_array

SEEDS5 = (0, 1, 2, 3, 4)


def _study(tasks: str, seeds: tuple[int, ...], arms: list[Arm], **kw: object) -> pd.DataFrame:
    with threadpool_limits(limits=1):
        df = run_arms(tasks, seeds, make_fast_array, arms, **kw)
    agg = aggregate(df)
    print(format_table(agg))
    return agg


def test_the_chip_arms_really_run_on_the_virtual_chip() -> None:
    array = make_fast_array(64 * 8 + 8 * 10, seed=3)
    assert isinstance(array, VirtualSynapseArray)
    x_before = array.hidden_state(range(array.n_devices))
    array.consolidate([0, 1], 2.0, 0.7)
    x_after = array.hidden_state(range(array.n_devices))
    assert (x_after[:2] > x_before[:2] + 0.03).all() and (x_after[2:] == x_before[2:]).all()
    assert array.counts.consolidation_pulses == 2 and array.counts.energy_J > 0


def test_small_chip_study_device_rule_tracks_the_reference() -> None:
    agg = _study("permuted-digits:3", (0, 1), arms_for("permuted-digits"), hidden=(128,), epochs=8)
    acc, bwt = agg["acc_pct_mean"], agg["bwt_pct_mean"]
    assert len(agg) == 7 and (agg["plasticity_pct_mean"] > 85.0).all()  # every arm learns
    assert bwt["reference"] > bwt["baseline"] + 5.0  # metaplasticity reduces forgetting
    assert bwt["mesu"] > bwt["baseline"] + 5.0 and bwt["mesu@chip"] > bwt["baseline@chip"] + 5.0
    # the device rule on the chip: close to the reference, better than the chip baseline,
    # and not more write pulses than the flip-when-asked baseline on the same chip
    for arm in ("device@chip", "device+field@chip"):
        assert acc[arm] > acc["reference"] - 5.0
        assert acc[arm] > acc["baseline@chip"] + 3.0
        assert bwt[arm] > bwt["baseline@chip"] + 5.0
        assert (
            agg.loc[arm, "write_pulses_mean"] < 1.05 * agg.loc["baseline@chip", "write_pulses_mean"]
        )
        assert agg.loc[arm, "consolidation_pulses_mean"] > 0
    # MESU samples every weight at every step: its chip arm pays for it in write pulses
    assert (
        agg.loc["mesu@chip", "write_pulses_mean"]
        > 10 * agg.loc["baseline@chip", "write_pulses_mean"]
    )


def test_small_medical_study_device_rule_keeps_the_diagnosis_task() -> None:
    agg = _study("medical", (0, 1), arms_for("medical"), hidden=(256,), epochs=20)
    acc, bwt = agg["acc_pct_mean"], agg["bwt_pct_mean"]
    assert (agg["plasticity_pct_mean"] > 75.0).all()  # both tasks are learnt by every arm
    assert bwt["baseline"] < -30.0 and bwt["baseline@chip"] < -30.0  # diagnosis forgotten
    assert acc["reference"] > acc["baseline"] + 15.0 and acc["mesu"] > acc["baseline"] + 15.0
    assert acc["device@chip"] > acc["baseline@chip"] + 5.0
    assert (
        agg.loc["device@chip", "write_pulses_mean"] < agg.loc["baseline@chip", "write_pulses_mean"]
    )


# ----------------------------------------------------------------------------- full studies
@pytest.fixture(scope="module")
def permuted_study() -> pd.DataFrame:
    return _study("permuted-digits:5", SEEDS5, arms_for("permuted-digits"), hidden=(256,),
                  epochs=20, jobs=2)  # fmt: skip


@pytest.fixture(scope="module")
def medical_study() -> pd.DataFrame:
    return _study("medical", SEEDS5, arms_for("medical"), hidden=(256,), epochs=20, jobs=2)


@pytest.mark.slow
def test_full_permuted_digits_study_meets_the_issue_goals(permuted_study: pd.DataFrame) -> None:
    agg = permuted_study
    acc, bwt = agg["acc_pct_mean"], agg["bwt_pct_mean"]
    met = goals(agg)
    print(met)
    assert bwt["baseline"] < -65.0  # forgetting reproduced (task 1 falls to chance)
    assert acc["reference"] > 52.0  # docs/learning/README.md §6: ≈ 55 % at m_meta = 10
    assert acc["mesu"] > acc["reference"] - 3.0
    # the issue's goals on device@chip (measured 2026-11-23: +1.0 points, 1.52×, 0.85×)
    assert met[GOAL_GAP][1], met[GOAL_GAP]
    assert met[GOAL_RATIO][1], met[GOAL_RATIO]
    assert met[GOAL_WRITES][1], met[GOAL_WRITES]
    assert acc["device+field@chip"] > acc["baseline@chip"] + 15.0


@pytest.mark.slow
def test_full_medical_study(medical_study: pd.DataFrame) -> None:
    agg = medical_study
    acc = agg["acc_pct_mean"]
    met = goals(agg)
    print(met)
    assert (agg["plasticity_pct_mean"] > 75.0).all()
    assert agg.loc["baseline", "bwt_pct_mean"] < -40.0  # the diagnosis task is forgotten
    assert acc["reference"] > acc["baseline"] + 15.0 and acc["mesu"] > acc["baseline"] + 15.0
    assert met[GOAL_WRITES][1]  # goal (c)
    assert acc["device@chip"] > acc["baseline@chip"] + 15.0


@pytest.mark.slow
def test_full_medical_goal_close_to_reference(medical_study: pd.DataFrame) -> None:
    # measured 2026-11-23 (per-layer consolidation thresholds): device@chip 82.8 % vs reference
    # 83.0 % (−0.1 points; seeds 5-9: +3.1), 0.91× baseline@chip's write pulses
    assert goals(medical_study)[GOAL_GAP][1], goals(medical_study)[GOAL_GAP]


def _alone(task: Task, seed: int) -> float:
    return float(train_sequence([task], "none", seed=seed, curves=False).accuracy_matrix_pct[0, 0])


def test_device_rule_consolidation_threshold_per_layer() -> None:
    """The medical preset's ``layer_consolidation_scale``: output synapses earn credits sooner."""
    net = BinaryMLP([2, 2, 2])  # two layers of 4 synapses
    rule = make_rule("device", consolidation_threshold=0.06, layer_consolidation_scale=(1.0, 0.1))
    rule.init(net, WeightStore(net.shapes), np.random.default_rng(0))
    rule.acc[:] = -0.03  # agreeing update: half the hidden threshold, 5× the output one
    rule._earn_credit()
    assert list(rule.credit) == [0] * 4 + [5] * 4
    np.testing.assert_allclose(rule.acc, [-0.03] * 4 + [0.0] * 4, atol=1e-6)
    with pytest.raises(ValueError, match="1 values for 2 layers"):
        bad = make_rule("device", layer_consolidation_scale=(1.0,))
        bad.init(net, WeightStore(net.shapes), np.random.default_rng(0))


def test_medical_one_and_a_half_times_the_baseline_is_out_of_reach() -> None:
    """ACC ≤ (best accuracy on task 1 + best on task 2)/2: each task trained alone (or both
    together) gives ≈ 85 %, below 1.5 × the baseline's ≈ 59 % ≈ 89 %."""
    seeds = (0, 1, 2)
    with threadpool_limits(limits=1):
        alone = np.array([[_alone(t, s) for t in make_tasks("medical", s)] for s in seeds])
        baseline = np.mean(
            [train_sequence("medical", "none", seed=s, curves=False).average_accuracy_pct
             for s in seeds]
        )  # fmt: skip
    ceiling = float(alone.mean(axis=0).sum() / 2)
    print(
        f"single-task accuracies {alone.mean(axis=0)}, ceiling {ceiling:.1f}, base {baseline:.1f}"
    )
    assert alone[:, 0].mean() > 95.0 and alone[:, 1].mean() > 65.0  # both tasks are learnable
    assert ceiling < 1.5 * baseline


def test_the_fast_array_refuses_unsafe_pulses_before_touching_the_chip() -> None:
    array = make_fast_array(32, seed=0)
    m_before, x_before = array.chip.m.copy(), array.chip.x.copy()
    refused_gate = r"array: refused consolidation gate voltage = 9: .*\[-3, 3\] V"
    with pytest.raises(LimitError, match=refused_gate):
        array.consolidate([0], 9.0, 0.7)
    with pytest.raises(LimitError, match=r"refused write amplitude = 12: .*\[-6, 6\] V"):
        array.write([0], 1, 12.0, 2e-8)
    with pytest.raises(LimitError, match=r"refused write pulse width = 1: .*\[1e-09, 0\.001\] s"):
        array.write([0], 1, 3.5, 1.0)
    with pytest.raises(ValueError, match=r"polarity must be \+1 or -1"):
        array.write([0], 0, 3.5, 2e-8)
    with pytest.raises(IndexError, match=r"out of range 0\.\.31"):
        array.read([32])
    assert (array.chip.m == m_before).all() and (array.chip.x == x_before).all()
    assert array.counts.transactions == 0
    assert "all gates at 0 V" in array.safe_state()
