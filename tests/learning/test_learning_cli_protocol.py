"""The ``train`` protocol through the engine on both paths, and ``labctl train``/``study``."""

from __future__ import annotations

import argparse
import json
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from labctl.engine import execute
from labctl.errors import LabctlError
from labctl.params import build_params
from labctl.protocol import find_protocol
from labctl.station import builtin_station, load_station
from protocols.learning import cli as learning_cli


def _train(station: str, tmp_path: Path, **raw: object):  # -> RunOutcome
    spec = find_protocol("train")
    params = build_params(spec.params_type, raw, "train")
    return execute(
        spec,
        params,
        load_station(builtin_station(station)),
        tmp_path / "t.db",
        handle_signals=False,
    )


def test_train_protocol_on_the_fast_chip_stores_curves_and_cost(tmp_path: Path) -> None:
    out = _train(
        "virtual_chip_fast.yaml", tmp_path, tasks="permuted-digits:2", hidden=[16], epochs=2
    )
    assert out.status == "completed", out.error
    res = out.result
    assert np.asarray(res["accuracy_matrix_pct"]).shape == (2, 2) and res["on_chip"]
    cost = res["device_cost"]
    assert cost["write_pulses"] > 0 and cost["consolidation_pulses"] > 0 and cost["energy_J"] > 0
    assert out.points == 2 * 2 * 2  # (task, epoch, evaluated task)
    assert any("all gates at 0 V" in line for line in out.safe_state)
    assert out.figures and Path(out.figures[0]).stat().st_size > 1000
    with sqlite3.connect(tmp_path / "t.db") as db:
        assert db.execute("select count(*) from runs").fetchone()[0] >= 1


def test_train_protocol_on_the_instrument_path_over_the_twins(tmp_path: Path) -> None:
    out = _train(
        "simulated_synapse_array.yaml", tmp_path, tasks="permuted-iris:2", hidden=[2],
        epochs=3, batch=40, lr=0.05,
    )  # fmt: skip
    assert out.status == "completed", out.error
    cost = out.result["device_cost"]
    assert out.result["sizes"] == [4, 2, 3]
    # every synapse operation went through the router and the instruments
    assert cost["reads"] >= 14 and cost["router_operations"] >= cost["reads"]
    assert cost["write_pulses"] > 0 and cost["transactions"] > cost["router_operations"]
    assert any("all crosspoints open" in line for line in out.safe_state)


def test_train_refuses_a_station_without_an_array(tmp_path: Path) -> None:
    # refused before the run exists (the protocol declares the roles it needs), in one line
    with pytest.raises(LabctlError) as refused:
        _train("simulated.yaml", tmp_path, tasks="permuted-iris:2", hidden=[2], epochs=1)
    assert "'array' role" in str(refused.value)
    assert "--on-chip false" in str(refused.value) and "\n" not in str(refused.value)


def test_train_params_name_the_bad_value() -> None:
    spec = find_protocol("train")
    with pytest.raises(Exception, match="unknown family 'digits'"):
        build_params(spec.params_type, {"tasks": "digits:5"}, "train")
    with pytest.raises(Exception, match="rule"):
        build_params(spec.params_type, {"rule": "sgd"}, "train")


def _cli(argv: list[str]) -> tuple[argparse.Namespace, dict]:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--json", action="store_true")
    common.add_argument("--debug", action="store_true")
    common.add_argument("--db", default=None)
    parser = argparse.ArgumentParser()
    handlers = learning_cli.register(parser.add_subparsers(dest="command"), common)
    return parser.parse_args(argv), handlers


def test_labctl_train_and_study_commands(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    db = str(tmp_path / "cli.db")
    small = ["--tasks", "permuted-digits:2", "--hidden", "8", "--epochs", "1", "--db", db]
    args, handlers = _cli(["train", "--rule", "device", *small, "--json"])
    assert handlers["train"](args) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["status"] == "completed" and out["result"]["device_cost"]["write_pulses"] > 0
    stem = tmp_path / "study"
    grid = ["--rules", "none", "device", "--seeds", "0", "1", "--out", str(stem)]
    args, _ = _cli(["study", *grid, *small])
    assert handlers["study"](args) == 0
    table = stem.with_suffix(".md").read_text()
    assert table.startswith("| rule | settings | seeds | ACC % |") and "| device |" in table
    assert len(stem.with_suffix(".csv").read_text().splitlines()) == 1 + 2 * 2
