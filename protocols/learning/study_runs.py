"""``labctl study``'s grid on Dask: every cell one ``train`` run through the engine, stored.

A :class:`Cell` is one run of the grid: the ``train`` protocol's parameters (rule, settings,
seed, tasks, network …), the station, and the chip it trains on (the chip seed: the run's seed,
and optionally a chip preset), both set on the station's array when the array says which chip it
is (the fast virtual chip). :func:`run_cells` runs the cells not yet done on a Dask cluster
(:mod:`labctl.cluster`): each worker runs its cell through the engine into a private database
(safe state, points, result, figures, as ``labctl train`` would) and sends the run back as bytes
(:mod:`labctl.runpacket`); this process adds it to the runs database, so workers never write it.
Each run carries its cell (``labctl_study_cell``: parameters, station, chip seed, preset), so a
re-run of the same study finds the cells already completed and skips them: a study resumes.

The numbers of a cell depend on its parameters and seeds only, never on the worker, the number
of workers or the order the cells finish in.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from labctl.errors import ParamError

PROTOCOL = "train"
CELL_KEY = "study_cell"  # metadata labctl_study_cell: what makes a run this cell


@dataclass(frozen=True)
class Cell:
    """One run of a study: ``params`` are the ``train`` protocol's (as built and checked)."""

    params: dict[str, Any]
    station: str
    chip_seed: int | None = None  # None: the station's own chip
    preset: str | None = None  # None: the station's own preset

    def key(self) -> dict[str, Any]:
        return {
            "params": self.params,
            "station": self.station,
            "chip_seed": self.chip_seed,
            "preset": self.preset,
        }

    def key_text(self) -> str:
        return json.dumps(self.key(), sort_keys=True)


@dataclass
class CellOutcome:
    """What a worker sends back: the run's status and result, and the run itself."""

    status: str
    error: str | None
    result: dict[str, Any]
    packet: Any  # labctl.runpacket.RunPacket
    chip_seed: int | None = None
    preset: str | None = None


@dataclass
class CellRun:
    """A cell's run in the runs database (``resumed``: it was there before this study ran)."""

    cell: Cell
    run_id: int
    status: str
    result: dict[str, Any]
    error: str | None = None
    resumed: bool = False
    chip: dict[str, Any] = field(default_factory=dict)


def make_cell(raw_params: dict[str, Any], station: str, preset: str | None = None) -> Cell:
    """A cell from the protocol's raw parameters (checked here, before any worker starts): its
    chip seed is its seed, and its preset ``preset`` or the station's, when the station's array
    takes them (the fast virtual chip); else the station's chip as it is."""
    from labctl.params import build_params, params_as_dict
    from labctl.protocol import find_protocol
    from labctl.station import load_station

    spec = find_protocol(PROTOCOL)
    params = params_as_dict(build_params(spec.params_type, raw_params, PROTOCOL))
    loaded = load_station(station)
    settings = _array_settings(loaded) if params["on_chip"] else None
    if preset is not None and not _has(settings, "preset"):
        raise ParamError(
            f"labctl study: --presets: the array of station {station} does not say which chip "
            "it is (a 'preset' setting, as in virtual_chip_fast.yaml); use such a station"
        )
    chip_seed = int(params["seed"]) if _has(settings, "seed") else None
    if preset is None and settings is not None and _has(settings, "preset"):
        preset = str(settings.preset)  # the station's: stored with the cell all the same
    return Cell(params, str(Path(station).resolve()), chip_seed, preset)


def _array_settings(station: Any) -> Any:
    for spec in station.instruments.values():
        if spec.role == "array":
            return spec.settings
    return None


def _has(settings: Any, name: str) -> bool:
    return dataclasses.is_dataclass(settings) and any(
        f.name == name for f in dataclasses.fields(settings)
    )


def chip_station(station: Any, chip_seed: int | None, preset: str | None) -> Any:
    """``station`` with its array's chip seed and preset set (those given)."""
    changes = {k: v for k, v in (("seed", chip_seed), ("preset", preset)) if v is not None}
    if not changes:
        return station
    instruments = dict(station.instruments)
    for name, spec in instruments.items():
        if spec.role == "array" and dataclasses.is_dataclass(spec.settings):
            settings = dataclasses.replace(spec.settings, **changes)  # type: ignore[type-var]
            instruments[name] = dataclasses.replace(spec, settings=settings)
    return dataclasses.replace(station, instruments=instruments)


def run_cell(cell: Cell) -> CellOutcome:
    """On a worker: the cell's run through the engine into a private database, packed."""
    from labctl.engine import execute
    from labctl.figures import release_qt_app
    from labctl.params import build_params
    from labctl.protocol import find_protocol
    from labctl.runpacket import pack_run
    from labctl.station import load_station

    spec = find_protocol(PROTOCOL)
    params = build_params(spec.params_type, cell.params, PROTOCOL)
    station = chip_station(load_station(cell.station), cell.chip_seed, cell.preset)
    # the worker's log: its private run ids and the virtual chip's safe state would only confuse
    # (the run's metadata holds the safe state); errors still show
    logger = logging.getLogger("labctl")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with tempfile.TemporaryDirectory(prefix="labctl-cell-") as tmp:
            db = Path(tmp) / "cell.db"
            outcome = execute(
                spec, params, station, db, figures_dir=Path(tmp) / "figures", handle_signals=False
            )
            packet = pack_run(db, outcome.run_id)
    finally:
        logger.setLevel(level)
        release_qt_app()  # a figure drawn on a worker thread
    return CellOutcome(
        outcome.status, outcome.error, outcome.result, packet, cell.chip_seed, cell.preset
    )


def done_cells(db: Path) -> dict[str, tuple[int, dict[str, Any]]]:
    """The completed runs of ``db`` that are study cells: cell key -> (run id, result)."""
    from labctl.data import list_runs

    out = {}
    for info in list_runs(db):
        key = info.metadata.get(CELL_KEY)
        if info.protocol == PROTOCOL and info.status == "completed" and isinstance(key, dict):
            out[json.dumps(key, sort_keys=True)] = (info.run_id, info.result)
    return out


def run_cells(
    cells: Sequence[Cell],
    db: Path,
    client_factory: Callable[[], Any],
    on_run: Callable[[CellRun], None] | None = None,
    progress: bool | None = None,
) -> list[CellRun]:
    """Every cell's run, in the order of ``cells``: those completed in ``db`` before, the others
    run on the client ``client_factory()`` opens (a context manager; opened only if a cell is
    left to run) and added to ``db`` here, one at a time, as they finish. Cells on a station
    with instruments (a VISA address: a real bench, or the simulated one) run one at a time:
    two runs never share a bench; cells on a virtual chip given by class path run side by
    side."""
    from labctl.cluster import map_jobs
    from labctl.runpacket import unpack_run

    done = done_cells(db)
    runs: list[CellRun | None] = [None] * len(cells)
    todo: list[int] = []
    for i, cell in enumerate(cells):
        if cell.key_text() in done:
            run_id, result = done[cell.key_text()]
            runs[i] = CellRun(cell, run_id, "completed", result, resumed=True, chip=_chip(cell))
        else:
            todo.append(i)

    def stored(j: int, outcome: CellOutcome) -> None:
        cell = cells[todo[j]]
        run_id = unpack_run(outcome.packet, db, {CELL_KEY: cell.key()})
        run = CellRun(cell, run_id, outcome.status, outcome.result, outcome.error, chip=_chip(cell))
        runs[todo[j]] = run
        if on_run is not None:
            on_run(run)

    if todo:
        with client_factory() as client:
            at_once = 1 if any(shares_a_bench(cells[i].station) for i in todo) else None
            map_jobs(client, run_cell, [cells[i] for i in todo], stored, "study", progress, at_once)
    return [r for r in runs if r is not None]


def shares_a_bench(station: str) -> bool:
    """Whether runs on ``station`` use instruments that two runs cannot share at once (any
    with a VISA address): only class-path virtual chips are each run's own."""
    from labctl.station import load_station

    return load_station(station).outlives_the_process


def _chip(cell: Cell) -> dict[str, Any]:
    return {"chip_seed": cell.chip_seed, "preset": cell.preset}
