"""Protocol tests: the full stack (engine + station + @labsim twins) on a fresh virtual lab."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from labctl.engine import RunOutcome, execute
from labctl.params import build_params
from labctl.protocol import find_protocol
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
    return Ran(outcome, lab_of(station))
