"""A tiny study grid: one row per run, aggregation over seeds, CSV and markdown output."""

from __future__ import annotations

from pathlib import Path

from protocols.learning.study import aggregate, run_study, settings_grid, write_study

from .fake_array import FakeSynapseArray


def test_settings_grid_is_the_cartesian_product() -> None:
    assert settings_grid(None) == [{}]
    assert settings_grid({"a": [1, 2], "b": [3]}) == [{"a": 1, "b": 3}, {"a": 2, "b": 3}]


def test_study_grid_to_csv_and_markdown(tmp_path: Path) -> None:
    df = run_study(
        "permuted-digits:2",
        {"none": None, "meta-adam": {"m_meta": [5.0, 10.0]}},
        seeds=(0, 1),
        hidden=(16,),
        epochs=1,
    )
    assert len(df) == 2 * 3 and set(df["rule"]) == {"none", "meta-adam"}
    agg = aggregate(df)
    assert len(agg) == 3 and (agg["n_seeds"] == 2).all()
    csv, md = write_study(df, tmp_path / "study")
    assert csv.exists() and md.read_text().startswith("| rule |")


def test_study_on_an_array_reports_device_cost() -> None:
    df = run_study(
        "permuted-digits:2",
        ["device"],
        seeds=(0,),
        array_factory=lambda n, seed: FakeSynapseArray(n, seed=seed),
        hidden=(16,),
        epochs=1,
    )
    assert bool(df["on_array"].iloc[0]) and df["write_pulses"].iloc[0] > 0
