"""Typed protocol results: units declared per field, aligned text tables, strict JSON."""

from __future__ import annotations

import dataclasses
import json
import math
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from labctl.cli import main
from labctl.engine import execute
from labctl.params import build_params
from labctl.protocol import find_protocol, spec_of
from labctl.results import (
    Result,
    describe_result,
    plain,
    quantity,
    render_result,
    result_type_of,
    strict,
    summarise,
)
from labctl.station import load_station

MAX_LINE = 160  # a readable line: no 1,000-character Python reprs
STATIONS = Path(__file__).parents[1] / "labctl" / "stations"


def refuse_constant(name: str) -> Any:
    raise ValueError(f"strict JSON has no {name}")


def strict_json(text: str) -> Any:
    return json.loads(text, parse_constant=refuse_constant)


def unit_column(lines: list[str], name: str) -> str:
    """The unit printed on the scalar-table row of ``name``."""
    header = lines[0]
    row = next(line for line in lines if line.split()[:1] == [name])
    return row[header.index("unit") :].strip()


# ------------------------------------------------------------------------ every protocol
PROTOCOLS = sorted(entry_points(group="labctl.protocols"), key=lambda ep: ep.name)


@pytest.mark.parametrize("ep", PROTOCOLS, ids=[ep.name for ep in PROTOCOLS])
def test_every_protocol_declares_a_result_with_units(ep: Any) -> None:
    spec = spec_of(ep.load())
    result_type = result_type_of(spec.function)
    assert result_type is not None and issubclass(result_type, Result), ep.name
    for name, doc in describe_result(result_type).items():
        assert doc.help, f"{ep.name}: result field {name} has no description"
        suffix_unit = {"_T": "T", "_V": "V", "_s": "s", "_ohm": "Ω", "_pct": "%"}
        for suffix, unit in suffix_unit.items():
            if name.endswith(suffix):
                assert doc.unit == unit, f"{ep.name}: {name} declared in {doc.unit!r}"


# ------------------------------------------------------------------------ rendering
@dataclasses.dataclass(frozen=True, kw_only=True)
class Example(Result):
    coercive_field_T: float = quantity("T", "coercive field")
    stop_reason: str = quantity("", "why it stopped")
    pulses: int = quantity("", "pulses applied")
    undefined_V: float = quantity("V", "a statistic of nothing", default=float("nan"))
    hold_s: list[float] = quantity("s", "hold times", default=[])
    series: dict[str, list[float]] = quantity(
        "", "per rate", default={}, parts={"t_step_s": "s", "hc_T": "T"}
    )
    drive_unit: str = quantity("", "unit of the drive", default="T")
    curves: list[dict[str, Any]] = quantity(
        "", "curves", default=[], parts={"drive": "@drive_unit"}
    )


def example(n_hold: int = 1000) -> Example:
    return Example(
        coercive_field_T=np.float64(0.0245012345),
        stop_reason="within tolerance",
        pulses=np.int64(3),
        hold_s=np.logspace(0, 3, n_hold),
        series={"t_step_s": [0.1, 1.0, 10.0], "hc_T": [0.03, 0.028, float("nan")]},
        curves=[
            {"label": "as found", "drive": list(np.linspace(0.0045, 0.04, 50)), "delta": 41.2,
             "programming": {"achieved_hc_T": 0.027, "pulses": 2}},
            {"label": "Hc 30.0 mT", "drive": [0.01, 0.02], "delta": float("nan")},
        ],
    )  # fmt: skip


def test_as_dict_is_plain_json_values() -> None:
    stored = example().as_dict()
    assert type(stored["coercive_field_T"]) is float and type(stored["pulses"]) is int
    assert type(stored["hold_s"]) is list and len(stored["hold_s"]) == 1000
    assert json.loads(json.dumps(stored))["series"]["hc_T"][2] != 0  # NaN kept in the database


def test_scalars_table_with_units_and_precision() -> None:
    lines = render_result(example().as_dict(), Example)
    assert unit_column(lines, "coercive_field_T") == "T"
    assert unit_column(lines, "hold_s") == "s"
    row = next(line for line in lines if line.split()[:1] == ["coercive_field_T"])
    assert "0.024501" in row and "0.0245012345" not in row  # 5 significant digits
    assert "nan" in next(line for line in lines if line.split()[:1] == ["undefined_V"])
    # the value column is aligned: every scalar row has its unit at the header's column
    start = lines[0].index("unit")
    for line in lines[1:5]:
        assert line[start - 1 : start] in ("", " ") and line[start:].strip() in ("T", "", "V", "s")


def test_long_arrays_are_summarised() -> None:
    lines = render_result(example().as_dict(), Example)
    row = next(line for line in lines if line.split()[:1] == ["hold_s"])
    assert "1000 values, 1…1000" in row
    assert max(len(line) for line in lines) <= MAX_LINE
    assert summarise([0.1, float("nan"), 0.3]) == "3 values, 0.1…0.3 (1 nan)"
    short = render_result(example(n_hold=3).as_dict(), Example)
    assert "1, 31.623, 1000" in next(line for line in short if line.split()[:1] == ["hold_s"])


def test_columns_and_records_are_tables() -> None:
    text = "\n".join(render_result(example().as_dict(), Example))
    assert "t_step_s (s)" in text and "hc_T (T)" in text  # one column per series key
    assert "curves: 2 records" in text
    # one column per curve, headed by its label; nested dicts flattened
    header = next(line for line in text.splitlines() if "as found" in line)
    assert "Hc 30.0 mT" in header
    assert "programming.achieved_hc_T" in text
    drive = next(line for line in text.splitlines() if line.split()[:1] == ["drive"])
    assert drive.split()[1] == "T" and "50 values, 0.0045…0.04" in drive  # unit from drive_unit


def test_old_runs_render_from_the_names() -> None:
    """A result stored before its protocol declared a type: units from the name suffixes."""
    lines = render_result({"coercive_field_T": 0.02, "t_step_s": 1.4, "points": 321})
    assert unit_column(lines, "coercive_field_T") == "T"
    assert unit_column(lines, "t_step_s") == "s" and unit_column(lines, "points") == ""


def test_strict_json_refuses_nothing_and_keeps_arrays_whole() -> None:
    payload = {"result": example().as_dict(), 3: float("inf"), "m": np.array([[1.0, np.nan]])}
    text = json.dumps(strict(payload), allow_nan=False)
    parsed = strict_json(text)
    assert parsed["3"] is None and parsed["m"] == [[1.0, None]]
    assert parsed["result"]["undefined_V"] is None
    assert len(parsed["result"]["hold_s"]) == 1000
    with pytest.raises(ValueError, match="NaN"):
        strict_json(json.dumps({"x": float("nan")}))  # the check itself can fail


def test_plain_converts_numpy_and_nested_results() -> None:
    value = plain({"a": np.arange(3), "b": (np.float32(1.5),), "c": example(n_hold=2)})
    assert value["a"] == [0, 1, 2] and value["b"] == [1.5]
    assert value["c"]["hold_s"] == [1.0, 1000.0]
    assert not any(isinstance(v, float) and math.isnan(v) for v in value["a"])


def test_result_refuses_unknown_fields() -> None:
    with pytest.raises(TypeError, match=r"unknown result field.*bogus"):
        Example.from_dict({"coercive_field_T": 0.1, "stop_reason": "", "pulses": 0, "bogus": 1})


def test_train_result_is_a_table(tmp_path: Path) -> None:
    """The accuracy matrix as a small matrix table, the device cost as a sub-table."""
    spec = find_protocol("train")
    raw = {"tasks": "permuted-digits:2", "hidden": [8], "epochs": 1}
    params = build_params(spec.params_type, raw, "train")
    station = load_station(STATIONS / "virtual_chip_fast.yaml")
    outcome = execute(spec, params, station, tmp_path / "t.db", handle_signals=False)
    assert outcome.status == "completed", outcome.error
    lines = render_result(outcome.result, result_type_of(spec.function))
    assert unit_column(lines, "average_accuracy_pct") == "%"
    text = "\n".join(lines)
    assert "accuracy_matrix_pct (%): 2 × 2" in text and "device_cost:" in text
    assert "energy_J" in text and max(len(line) for line in lines) <= MAX_LINE
    parsed = strict_json(json.dumps(strict(outcome.result), allow_nan=False))
    assert np.asarray(parsed["accuracy_matrix_pct"]).shape == (2, 2)


# ------------------------------------------------------------------------ through the CLI
def test_cli_prints_a_table_and_strict_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = str(tmp_path / "r.db")
    args = ["run", "hall-loop", "--field-max-T", "0.05", "--step-T", "0.005", "--db", db]
    assert main(args) == 0
    text = capsys.readouterr().out.splitlines()
    table_lines = [line for line in text if line.startswith("  ") and "figure:" not in line]
    assert table_lines[0].split() == ["quantity", "value", "unit"]
    assert unit_column(table_lines, "coercive_field_T") == "T"
    assert unit_column(table_lines, "r_ahe_ohm") == "Ω"
    assert main(["show", "1", "--json", "--db", db]) == 0
    shown = strict_json(capsys.readouterr().out)
    assert isinstance(shown["result"]["coercive_field_T"], float)
    assert main(["show", "1", "--db", db]) == 0
    shown_text = capsys.readouterr().out
    assert "result:" in shown_text and "coercive_field_T" in shown_text
