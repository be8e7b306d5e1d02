"""labctl from Python: what the command line does, for a notebook or a script.

::

    import labctl.notebook as lab

    station = lab.open_station()                      # the simulated bench; or "my_bench.yaml"
    run = station.run("hall-loop", field_max_T=0.06)  # parameters as in `labctl run --help`
    run.result.coercive_field_T                       # the protocol's typed result
    run.to_pandas()                                   # the points, one column per quantity
    run.to_xarray()                                   # the same with units (attrs["units"])
    station.run("gate-program", live=True)            # with a live plot window
    lab.watch(run.run_id)                             # follow a run of another process
    # RULE: a rule of `labctl train --help`
    lab.open_station("virtual_chip_fast").train(rule=RULE, tasks="permuted-iris:2")
    lab.runs(); lab.load_run(3)                       # what the database holds

A run goes through the same engine as ``labctl run``: stored in the database (``db=``, else
``$LABCTL_DB``, else ``./labdata/labctl.db``) with its parameters, result, VISA traffic and
figures; the safe state is reached on every way out, "Interrupt kernel" included (it aborts
the run at its next checkpoint). A run that fails or is aborted is returned, not raised: its
``status`` and ``error`` say what happened, and its points are in the database.

This is the API for people using labctl; :mod:`labctl.api` is the one for protocol authors.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from labctl.data import load_run as _load_run
from labctl.data import points_xarray, resolve_db
from labctl.errors import LabctlError
from labctl.params import build_params, describe_params, params_as_dict, settings_text
from labctl.protocol import available_protocols, find_protocol
from labctl.results import render_result, result_type_of, typed
from labctl.station import Station, builtin_station, load_station

if TYPE_CHECKING:
    import pandas as pd
    import xarray as xr

__all__ = [
    "RunData",
    "StationSession",
    "load_run",
    "open_station",
    "parameters",
    "protocols",
    "runs",
    "stations",
    "watch",
]


# ------------------------------------------------------------------------ what there is
def protocols() -> pd.DataFrame:
    """Every installed protocol with its one-line description (``labctl protocols``)."""
    import pandas as pd

    found = available_protocols()
    rows = [{"protocol": n, "description": s.doc} for n, s in sorted(found.items())]
    return pd.DataFrame(rows).set_index("protocol")


def parameters(protocol: str) -> pd.DataFrame:
    """A protocol's parameters: default, unit, bounds and help (``labctl run NAME --help``)."""
    import pandas as pd

    rows = [
        {
            "parameter": i.name,
            "default": i.default,
            "unit": i.unit,
            "low": i.low,
            "high": i.high,
            "help": i.help,
        }
        for i in describe_params(find_protocol(protocol).params_type)
    ]
    return pd.DataFrame(rows).set_index("parameter")


def stations() -> list[str]:
    """The station files shipped with labctl, by the name :func:`open_station` takes."""
    folder = builtin_station("simulated.yaml").parent
    return sorted(p.stem for p in folder.glob("*.yaml"))


# ------------------------------------------------------------------------ a run's data
@dataclass
class RunData:
    """One run in the database: how it ended, its typed result, its points.

    ``result`` is the protocol's result dataclass (``HallLoopRunResult`` …), or the stored
    mapping when the run ended before its result existed (then ``status`` is not "completed")
    or when it was stored by a version whose result type differs; ``result_dict`` is always the
    stored mapping.
    """

    run_id: int
    protocol: str
    status: str  # completed | aborted | interrupted | failed | running
    db: Path
    params: dict[str, Any]
    result: Any
    result_dict: dict[str, Any]
    points: int
    figures: list[Path] = field(default_factory=list)
    safe_state: list[str] = field(default_factory=list)
    error: str = ""

    @property
    def completed(self) -> bool:
        return self.status == "completed"

    def to_pandas(self) -> pd.DataFrame:
        """The run's points as a DataFrame: one row per point, one column per recorded
        quantity (names say the unit: ``t_s``, ``field_T``, ``v_hall_V``)."""
        return _load_run(self.db, self.run_id)[1]

    def to_xarray(self) -> xr.Dataset:
        """The run's points as an xarray Dataset (dimension ``index``: the point), each
        variable with ``attrs["units"]``; the run's parameters and result in ``attrs``. The
        same data ``labctl export RUN --format netcdf`` writes."""
        return points_xarray(self.db, self.run_id)

    def lines(self) -> list[str]:
        """The run as ``labctl show`` prints it: how it ended, then the result as tables."""
        head = f"run {self.run_id} ({self.protocol}): {self.status}, {self.points} points"
        lines = [head + (f": {self.error}" if self.error else "")]
        lines += render_result(self.result_dict, _result_type(self.protocol))
        lines += [f"  figure: {p}" for p in self.figures]
        return lines

    def __str__(self) -> str:
        return "\n".join(self.lines())

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:  # IPython's display
        printer.text(str(self))

    def show_figures(self) -> list[Any]:
        """The run's PNG figures, displayed in a notebook (IPython's ``Image``); returns them."""
        from IPython.display import Image, display

        images = [Image(filename=str(p)) for p in self.figures if p.exists()]
        for image in images:
            display(image)
        return images


def _result_type(protocol: str) -> type | None:
    try:
        return result_type_of(find_protocol(protocol).function)
    except LabctlError:  # a run of a protocol that is not installed: its stored mapping
        return None


def _run_data(
    run_id: int,
    protocol: str,
    status: str,
    db: Path,
    params: Mapping[str, Any],
    result: Mapping[str, Any],
    points: int,
    figures: list[Any],
    safe_state: list[str],
    error: str | None,
) -> RunData:
    stored = dict(result)
    return RunData(
        run_id=run_id,
        protocol=protocol,
        status=status,
        db=Path(db),
        params=dict(params),
        result=typed(_result_type(protocol), stored) if stored else stored,
        result_dict=stored,
        points=points,
        figures=[Path(p) for p in figures],
        safe_state=list(safe_state),
        error=error or "",
    )


def load_run(run_id: int, db: str | Path | None = None) -> RunData:
    """A run from the database (``db``: else ``$LABCTL_DB``, else ``./labdata/labctl.db``)."""
    path = resolve_db(db)
    info, _ = _load_run(path, int(run_id))
    meta = info.metadata
    return _run_data(
        info.run_id,
        info.protocol,
        info.status,
        path,
        info.params,
        info.result,
        info.points,
        list(meta.get("figures") or []),
        list(meta.get("safe_state") or []),
        str(meta.get("error") or ""),
    )


def runs(db: str | Path | None = None) -> pd.DataFrame:
    """Every run of the database, one row each (``labctl runs``)."""
    import pandas as pd

    from labctl.data import list_runs

    rows = [
        {
            "run": r.run_id,
            "protocol": r.protocol,
            "status": r.status,
            "points": r.points,
            "started": r.started,
        }
        for r in list_runs(resolve_db(db))
    ]
    columns = ["run", "protocol", "status", "points", "started"]
    return pd.DataFrame(rows, columns=columns).set_index("run")


def watch(run_id: int | None = None, db: str | Path | None = None) -> Path:
    """Follow a run's points in a live window (the latest run if ``run_id`` is None), as
    ``labctl watch`` does: with a display, until the window is closed; without one, until the
    run is no longer running. Returns the PNG the window was saved to."""
    from labctl.watch import run_to_watch
    from labctl.watch import watch as follow

    path = resolve_db(db)
    run_id, snapshot = run_to_watch(path, run_id)
    follow(path, run_id, snapshot=snapshot)
    return snapshot


# ------------------------------------------------------------------------ a station
class StationSession:
    """A validated station file and the database its runs go to. Each :meth:`run` opens the
    instruments, runs the protocol and brings the bench to its safe state, as ``labctl run``
    does; nothing stays open between runs."""

    def __init__(self, station: Station, db: Path, progress: bool) -> None:
        self.station, self.db, self.progress = station, db, progress

    @property
    def name(self) -> str:
        return self.station.name

    def run(
        self,
        protocol: str,
        *,
        live: bool = False,
        progress: bool | None = None,
        **params: Any,
    ) -> RunData:
        """Run ``protocol`` with ``params`` (Python values, e.g. ``field_max_T=0.06``; omitted
        ones take their defaults), checked as the command line checks its options (a bad value
        raises :class:`~labctl.errors.ParamError` naming it, before any instrument is opened).

        ``live``: plot the points in a window while the run goes on (without a display the
        window is drawn offscreen). ``progress``: a progress bar on stderr (default: the
        session's). Returns when the run has ended, whichever way it ended.
        """
        from labctl.engine import execute
        from labctl.progress import ProgressBar

        spec = find_protocol(protocol)
        checked = build_params(spec.params_type, params, spec.name)
        show_progress = self.progress if progress is None else progress
        if live:
            from labctl.live import run_live

            # keep_open=False: a window left up would hold the notebook until it is closed
            outcome = run_live(spec, checked, self.station, self.db, keep_open=False)
        else:
            bar = ProgressBar(spec.name) if show_progress else None
            try:
                outcome = execute(
                    spec, checked, self.station, self.db, progress=bar.update if bar else None
                )
            finally:
                if bar is not None:
                    bar.close()
        return _run_data(
            outcome.run_id,
            outcome.protocol,
            outcome.status,
            outcome.db,
            params_as_dict(checked),
            outcome.result,
            outcome.points,
            outcome.figures,
            outcome.safe_state,
            outcome.error,
        )

    def train(
        self,
        rule: str | None = None,
        *,
        settings: Mapping[str, Any] | str = "",
        live: bool = False,
        progress: bool | None = None,
        **params: Any,
    ) -> RunData:
        """Train a network on the station's synapse array: the ``train`` protocol, as
        ``labctl train`` runs it. ``params``: the protocol's (``tasks="permuted-iris:2"``,
        ``hidden=[8]``, ``epochs``, ``batch``, ``lr``, ``seed``, ``on_chip`` …);
        ``settings``: the rule's parameters (``{"m_meta": 5}``), checked against the rule's
        bounds. The station needs an ``array`` role (``open_station("virtual_chip_fast")``),
        unless ``on_chip=False``."""
        if rule is not None:
            params["rule"] = rule
        text = settings if isinstance(settings, str) else settings_text(settings)
        if text:
            params["settings"] = text
        return self.run("train", live=live, progress=progress, **params)

    def runs(self) -> pd.DataFrame:
        """The runs of this session's database."""
        return runs(self.db)

    def load_run(self, run_id: int) -> RunData:
        return load_run(run_id, self.db)

    def __str__(self) -> str:
        s = self.station
        lines = [f"station {s.name!r} ({s.path}), VISA {s.visa_library}, {s.clock} clock"]
        lines += [
            f"  {name:<12} {i.role:<7} {i.driver:<20} {i.address}"
            for name, i in s.instruments.items()
        ]
        lines.append(f"  runs go to {self.db}")
        return "\n".join(lines)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(str(self))


def open_station(
    station: str | Path | None = None,
    *,
    db: str | Path | None = None,
    progress: bool | None = None,
) -> StationSession:
    """A station to run protocols on, validated as ``labctl station check`` validates it.

    ``station``: a station file, or the name of one shipped with labctl (:func:`stations`:
    ``"simulated"``, ``"virtual_chip_fast"`` …; a file of that name in the working folder
    wins); None is the built-in simulated bench. ``db``: where runs are stored (default
    ``$LABCTL_DB``, else ``./labdata/labctl.db``). ``progress``: a progress bar during runs
    (default: when stderr is a terminal or a notebook).
    """
    path: Path | None = None
    if station is not None:
        path = Path(station)
        if not path.exists() and path.parent == Path(".") and path.stem in stations():
            path = builtin_station(path.stem + ".yaml")
    if progress is None:  # a terminal, or a notebook (its stderr is no terminal)
        progress = sys.stderr.isatty() or "ipykernel" in sys.modules
    return StationSession(load_station(path), resolve_db(db), bool(progress))
