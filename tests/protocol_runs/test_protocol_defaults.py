"""Defaults that work: every protocol, with its own defaults, on every shipped station.

Each pairing either runs (the instruments accept every default: ranges, limits, ratings) or is
refused in ONE line saying why (a role the station lacks, an array too small for the default
network). The expected refusals are listed here, explicitly; every other pairing must run.

The default run keeps this small: a protocol whose default run costs more than a few seconds of
simulated physics is stopped after its first steps (``FIRST_STEPS``), which is where a default
the instruments refuse shows (the width scan's first pulse was ``-222,"Data out of range"`` on
the 33500B); the ``slow`` variant runs every pairing to its end, analysis and figure included.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pytest

from labctl.data import list_runs
from labctl.engine import RunOutcome, execute
from labctl.errors import LabctlError
from labctl.params import build_params
from labctl.protocol import available_protocols, find_protocol
from labctl.run import Run
from labctl.station import load_station

from .conftest import STATIONS, check_result_output

SHIPPED = sorted(path.name for path in STATIONS.glob("*.yaml"))
# each protocol with its defaults; switching-probability's other modes with their defaults too
CASES = {name: {} for name in sorted(available_protocols())} | {
    "switching-probability --mode amplitude": {"mode": "amplitude"},
    "switching-probability --mode width": {"mode": "width"},
}

# the pairings that cannot run, and the one line that says so
NO_PULSE = "needs an instrument in the 'pulse' role (mode = {mode}); station {station} has none"
NO_ARRAY = "train needs an instrument in the 'array' role (for on_chip = true: a synapse_array"
ARRAY_ONLY = "needs an instrument in each of the roles {roles}; station {station} has none "
TOO_SMALL = (
    "the network 64-256-10 needs 18944 synapses (one device per weight), the array has {n} "
    "devices: train a smaller network (hidden widths, tasks) or use a larger array"
)
REFUSED: dict[tuple[str, str], str] = {}
for _station in ("simulated.yaml", "simulated_gs200_dc.yaml"):
    for _mode in ("amplitude", "width"):
        REFUSED[(_station, f"switching-probability --mode {_mode}")] = NO_PULSE.format(
            mode=_mode, station=STATIONS / _station
        )
for _station in ("simulated.yaml", "simulated_gs200_dc.yaml", "simulated_array.yaml"):
    REFUSED[(_station, "train")] = NO_ARRAY
_FAST = STATIONS / "virtual_chip_fast.yaml"
for _case, _roles in {
    "array-map": "'field', 'hall'",
    "gate-program": "'gate', 'field', 'hall'",
    "hall-loop": "'field', 'hall'",
    "hall-loop-series": "'field', 'hall'",
    "neuromodulation": "'gate', 'field', 'hall'",
    "retention": "'gate', 'field', 'hall'",
    "switching-probability": "'field', 'hall'",
    "switching-probability --mode amplitude": "'field', 'hall', 'pulse' (mode = amplitude)",
    "switching-probability --mode width": "'field', 'hall', 'pulse' (mode = width)",
}.items():
    REFUSED[("virtual_chip_fast.yaml", _case)] = (
        _case.split()[0] + " " + ARRAY_ONLY.format(roles=_roles, station=_FAST)
    )
# refused once the bench is open (the array's size): a failed run, its error that one line
FAILS_IN_RUN = {
    ("simulated_707b.yaml", "train"): TOO_SMALL.format(n=12),
    ("simulated_synapse_array.yaml", "train"): TOO_SMALL.format(n=16),
}

# The default run stops these after their first n points or progress reports (whichever come
# first: a gate-program reports each pulse, neuromodulation programs its devices before its first
# point); a default the instruments refuse shows there. hall-loop runs to its end.
FIRST_STEPS = {
    "array-map": 2,
    "gate-program": 2,
    "hall-loop-series": 40,
    "neuromodulation": 1,
    "retention": 2,
    "switching-probability": 2,
    "switching-probability --mode amplitude": 2,
    "switching-probability --mode width": 2,
    "train": 3,
}
STOP = "enough steps for the defaults test"


def run_defaults(station_file: str, case: str, tmp_path: Path, steps: int | None) -> RunOutcome:
    """Run ``case`` with its defaults on a shipped station; stop after ``steps`` points or
    progress reports if given."""
    name = case.split()[0]
    spec = find_protocol(name)
    params = build_params(spec.params_type, CASES[case], name)
    station = load_station(STATIONS / station_file)
    runs: list[Run] = []
    reports: list[float] = []

    def enough() -> None:
        run = runs[0]
        if steps and (run.n_points >= steps or len(reports) >= steps):
            run.control.request_abort(STOP)

    def on_run(run: Run) -> None:
        runs.append(run)
        run.subscribers.append(lambda _row: enough())

    def progress(done: float, _total: float, _message: str) -> None:
        reports.append(done)
        enough()

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return execute(
            spec,
            params,
            station,
            tmp_path / "runs.db",
            handle_signals=False,
            on_run=on_run,
            progress=progress,
        )


def check_pairing(station_file: str, case: str, tmp_path: Path, steps: int | None) -> None:
    db = tmp_path / "runs.db"
    refusal = REFUSED.get((station_file, case))
    if refusal is not None:
        with pytest.raises(LabctlError) as refused:
            run_defaults(station_file, case, tmp_path, steps)
        assert refusal in str(refused.value)
        assert "\n" not in str(refused.value)
        assert not db.exists() or not list_runs(db)  # refused before the run was created
        return
    outcome = run_defaults(station_file, case, tmp_path, steps)
    failure = FAILS_IN_RUN.get((station_file, case))
    if failure is not None:
        assert outcome.status == "failed"
        assert outcome.error is not None and failure in outcome.error
        assert "\n" not in outcome.error.strip()
        return
    if outcome.status == "aborted" and steps:
        assert outcome.error is not None and STOP in outcome.error
        return
    assert outcome.status == "completed", outcome.error
    assert outcome.points > 0
    for figure in outcome.figures:
        assert Path(figure).stat().st_size > 1000
    check_result_output(spec=find_protocol(case.split()[0]), result=outcome.result)
    json.dumps(outcome.result)  # NaN allowed here; strict JSON is check_result_output's


def test_every_case_and_station_is_covered() -> None:
    """The tables name only shipped stations and known cases; a new station or protocol is in
    the matrix by itself (and must run, or be added to a table with the line it gives)."""
    assert "simulated_707b.yaml" in SHIPPED and len(SHIPPED) >= 6
    assert set(available_protocols()) <= {case.split()[0] for case in CASES}
    for station_file, case in [*REFUSED, *FAILS_IN_RUN]:
        assert station_file in SHIPPED and case in CASES, (station_file, case)
    assert set(FIRST_STEPS) <= set(CASES)


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("station_file", SHIPPED)
def test_defaults_run_on_every_shipped_station(
    tmp_path: Path, station_file: str, case: str
) -> None:
    check_pairing(station_file, case, tmp_path, FIRST_STEPS.get(case))


@pytest.mark.slow
@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("station_file", SHIPPED)
def test_defaults_run_to_the_end_on_every_shipped_station(
    tmp_path: Path, station_file: str, case: str
) -> None:
    check_pairing(station_file, case, tmp_path, None)
