"""Protocol tests: the full stack (engine + station + @labsim twins) on a fresh virtual lab."""

from __future__ import annotations

import dataclasses
import json
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from labctl.data import load_run
from labctl.engine import RunOutcome, execute
from labctl.params import build_params
from labctl.protocol import ProtocolSpec, find_protocol
from labctl.results import Result, render_result, result_type_of, strict
from labctl.station import Station, load_station
from sim_backend import faults
from sim_backend.lab import Lab
from sim_backend.open_labs import forget_labs, get_lab

HERE = Path(__file__).parent
STATIONS = Path(__file__).parents[2] / "labctl" / "stations"
LABS = HERE / "labs"


@pytest.fixture(autouse=True)
def fresh_lab() -> Iterator[None]:
    forget_labs()
    faults.clear()
    yield
    try:
        from qcodes.instrument import Instrument

        Instrument.close_all()
    except ImportError:  # pragma: no cover
        pass
    forget_labs()


@dataclass
class Ran:
    outcome: RunOutcome
    lab: Lab

    @property
    def result(self) -> dict[str, Any]:
        return self.outcome.result


def station_on_lab(station_file: str, lab_file: str | None, tmp_path: Path) -> Station:
    """A station file of ``labctl/stations`` pointed at a lab file (None: the default lab)."""
    if lab_file is None:
        return load_station(STATIONS / station_file)
    data = yaml.safe_load((STATIONS / station_file).read_text())
    data["visa_library"] = f"{LABS / lab_file}@labsim"
    path = tmp_path / station_file
    path.write_text(yaml.safe_dump(data))
    return load_station(path)


def lab_of(station: Station) -> Lab:
    visa = station.visa_library
    return get_lab(visa.split("@labsim")[0] or None)


def run_protocol(
    name: str, values: dict[str, Any], tmp_path: Path, station: Station | None = None
) -> Ran:
    spec = find_protocol(name)
    params = build_params(spec.params_type, values, name)
    station = station or load_station(None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        outcome = execute(spec, params, station, tmp_path / "runs.db", handle_signals=False)
    assert outcome.status == "completed", outcome.error
    for figure in outcome.figures:
        assert Path(figure).stat().st_size > 1000
    check_result_output(spec, outcome.result)
    stored, _ = load_run(tmp_path / "runs.db", outcome.run_id)  # the whole result, NaN kept
    assert json.dumps(stored.result, sort_keys=True) == json.dumps(outcome.result, sort_keys=True)
    return Ran(outcome, lab_of(station))


MAX_LINE = 160  # a readable line: no 1,000-character Python reprs


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"strict JSON has no {name}")


def check_result_output(spec: ProtocolSpec, result: dict[str, Any]) -> list[str]:
    """What every protocol run gives: a declared Result type holding every stored key, a text
    table of short aligned lines with units, strict JSON that keeps the arrays whole."""
    result_type = result_type_of(spec.function)
    assert result_type is not None and issubclass(result_type, Result), spec.name
    assert set(result) <= {f.name for f in dataclasses.fields(result_type)}
    lines = render_result(result, result_type)
    assert lines[0].split() == ["quantity", "value", "unit"], lines[:2]
    assert max(len(line) for line in lines) <= MAX_LINE, max(lines, key=len)
    units = {
        f.name: str(result.get(f.metadata["unit_from"], "")) if f.metadata["unit_from"]
        else f.metadata["unit"]
        for f in dataclasses.fields(result_type)
    }  # fmt: skip
    start = lines[0].index("unit")
    for line in lines[1:]:
        name = line.split()[0] if line.startswith("  ") and not line.startswith("    ") else ""
        section = line.strip().startswith((f"{name}:", f"{name} ("))  # a matrix's head line
        if name in units and not isinstance(result[name], dict) and not section:  # a scalar row
            assert line[start:].strip() == units[name], (name, line)
    parsed = json.loads(
        json.dumps(strict(result), allow_nan=False), parse_constant=_refuse_constant
    )
    assert set(parsed) == set(result)
    for key, value in result.items():
        if isinstance(value, list):
            assert len(parsed[key]) == len(value)  # arrays whole in JSON
    return lines
