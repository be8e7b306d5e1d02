"""Reading runs back: list, load, export. Runs are qcodes datasets in one SQLite file.

The database path comes from ``--db``, else ``$LABCTL_DB``, else ``./labdata/labctl.db``.
Metadata keys written by labctl start with ``labctl_``; values are JSON.

pandas and qcodes are imported by the functions that need them, not at module level: the
command line imports this module at every start (``labctl --help`` must not pay 2 s for them).
:func:`list_runs` (``labctl runs``) reads the qcodes ``runs`` table with :mod:`sqlite3` alone,
which gives the same fields as ``load_by_id``: one path, because importing ``qcodes.dataset``
takes 1.1-1.9 s here (with numpy, which it needs) against a 1.0 s goal for the whole command.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from labctl import database
from labctl.errors import LabctlError

if TYPE_CHECKING:
    import pandas as pd
    import xarray as xr

DEFAULT_DB = Path("labdata") / "labctl.db"
META_PREFIX = "labctl_"


def resolve_db(path: str | Path | None = None) -> Path:
    if path:
        return Path(path)
    env = os.environ.get("LABCTL_DB")
    return Path(env) if env else DEFAULT_DB


@contextmanager
def open_db(db: Path, write: bool = True) -> Iterator[Any]:
    """A qcodes connection to an existing database (one readable line if it is unusable)."""
    database.check_path(db, write=False)  # must exist: reading commands never create one
    conn = database.connect(db, write=write)
    try:
        yield conn
    finally:
        conn.close()


@dataclass
class RunInfo:
    run_id: int
    protocol: str
    status: str
    started: str
    points: int
    result: dict[str, Any] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "protocol": self.protocol,
            "status": self.status,
            "started": self.started,
            "points": self.points,
            "params": self.params,
            "result": self.result,
            "metadata": self.metadata,
        }


def _decode(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def _info(dataset: Any) -> RunInfo:
    return _make_info(
        dataset.run_id,
        dataset.name,
        dataset.completed,
        dataset.run_timestamp(),
        dataset.number_of_results,
        dataset.metadata,
    )


def _make_info(
    run_id: int,
    name: str,
    completed: bool,
    started: str | None,
    points: int,
    metadata: dict[str, Any],
) -> RunInfo:
    meta = {
        k[len(META_PREFIX) :]: _decode(v) for k, v in metadata.items() if k.startswith(META_PREFIX)
    }
    status = str(meta.get("status", "completed" if completed else "interrupted"))
    if status == "running" and isinstance(meta.get("process"), dict):
        from labctl.supervisor import process_gone  # socket, subprocess: not at every start

        if process_gone(meta["process"]):
            status = "interrupted"  # its process died; its supervisor writes this for real
    return RunInfo(
        run_id=run_id,
        protocol=str(meta.get("protocol", name)),
        status=status,
        started=str(started or ""),
        points=int(points),
        result=meta.get("result") or {},
        params=meta.get("params") or {},
        metadata=meta,
    )


def run_ids(db: Path) -> list[int]:
    with open_db(db, write=False) as conn:
        return [r[0] for r in conn.execute("SELECT run_id FROM runs ORDER BY run_id")]


def list_runs(db: Path) -> list[RunInfo]:
    """Every run in ``db`` (none if it does not exist yet), read with plain SQLite, read-only:
    the fields :func:`_info` gives from qcodes' ``load_by_id``, without importing qcodes."""
    if not db.exists():
        database.check_folder(db, write=False)  # a parent that is a file still says so
        return []
    database.check_path(db, write=False)
    conn = sqlite3.connect(
        f"{db.resolve().as_uri()}?mode=ro", uri=True, timeout=database.BUSY_TIMEOUT_S
    )
    try:
        columns = [row[1] for row in conn.execute("PRAGMA table_info(runs)")]
        if not columns:
            (tables,) = conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
            if tables == 0:
                return []  # an empty file: no run was ever written to it
        missing = [c for c in _RUN_COLUMNS if c not in columns]
        if missing:
            raise LabctlError(
                f"database {db} is not a qcodes runs database: its runs table lacks "
                f"{', '.join(missing)}"
            )
        meta = [c for c in columns if c.startswith(META_PREFIX)]
        select = ", ".join(f'"{c}"' for c in (*_RUN_COLUMNS, *meta))
        runs = []
        for row in conn.execute(f"SELECT {select} FROM runs ORDER BY run_id").fetchall():
            run_id, name, table, is_completed, ts, *values = row
            (points,) = conn.execute(f'SELECT COUNT(*) FROM "{table}"').fetchone()
            started = None if ts is None else time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ts))
            metadata = {k: v for k, v in zip(meta, values, strict=True) if v is not None}
            runs.append(_make_info(run_id, name, bool(is_completed), started, points, metadata))
        return runs
    finally:
        conn.close()


# the columns of qcodes' runs table that list_runs reads (the same that load_by_id gives)
_RUN_COLUMNS = ("run_id", "name", "result_table_name", "is_completed", "run_timestamp")


def load_run(db: Path, run_id: int) -> tuple[RunInfo, pd.DataFrame]:
    """The run's metadata and its points as a flat DataFrame (one column per recorded column)."""
    from qcodes.dataset import load_by_id

    with open_db(db, write=False) as conn:
        try:
            dataset = load_by_id(run_id, conn=conn)
        except (ValueError, RuntimeError, NameError):
            raise LabctlError(f"no run {run_id} in {db}") from None
        return _info(dataset), points_frame(dataset)


def points_frame(dataset: Any) -> pd.DataFrame:
    """All columns of a dataset side by side, one row per point in recording order (columns in
    qcodes' order). A column recorded at its own rate (gate-program's ``hc_T``, once per
    verification among the loop points) is NaN at the other points: read from the results table,
    because qcodes' ``get_parameter_data`` gives each dependent only its own rows, which cannot
    be lined up again. Numeric columns are float (NULL and the text 'nan' qcodes stores a NaN
    as are NaN), text columns objects; a column that never received a value is left out."""
    import numpy as np
    import pandas as pd

    specs = dataset.paramspecs
    names = _column_order(specs)
    if not names or not dataset.number_of_results:
        return pd.DataFrame()
    select = ", ".join(f'"{n}"' for n in names)
    rows = dataset.conn.execute(f'SELECT {select} FROM "{dataset.table_name}" ORDER BY id')
    columns: dict[str, Any] = {}
    for name, values in zip(names, zip(*rows.fetchall(), strict=True), strict=True):
        if all(v is None for v in values):
            continue
        if specs[name].type == "numeric":
            try:
                columns[name] = np.array(values, dtype=float)
                continue
            except (TypeError, ValueError):
                pass  # text among the numbers: as stored
        array = np.empty(len(values), dtype=object)
        array[:] = values
        columns[name] = array
    return pd.DataFrame(columns)


def _column_order(specs: Any) -> list[str]:
    """qcodes' order (``get_parameter_data``'s): each dependent or standalone by name, each
    followed by its setpoints the first time they appear."""
    setpoints = {d for spec in specs.values() for d in spec.depends_on_}
    order: list[str] = []
    for name in sorted(n for n in specs if n not in setpoints):
        order += [n for n in (name, *specs[name].depends_on_) if n not in order]
    return order + [n for n in sorted(specs) if n not in order]


def export_run(db: Path, run_id: int, fmt: str, out_dir: Path) -> Path:
    """Write the run as CSV (points + a JSON sidecar of metadata) or NetCDF (xarray)."""
    info, frame = load_run(db, run_id)
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = out_dir / f"run{run_id}_{info.protocol}"
    if fmt == "csv":
        path = stem.with_suffix(".csv")
        frame.to_csv(path, index=False)
        stem.with_suffix(".json").write_text(json.dumps(info.as_dict(), indent=2, default=str))
        return path
    if fmt == "netcdf":
        path = stem.with_suffix(".nc")
        points_xarray(db, run_id).to_netcdf(path, engine="h5netcdf")
        return path
    raise LabctlError(f"unknown export format {fmt!r}; expected csv or netcdf")


def points_xarray(db: Path, run_id: int) -> xr.Dataset:
    """The run's points as an xarray Dataset (dimension ``index``: the point, as
    :func:`points_frame`), each variable with its unit in ``attrs["units"]`` (the dataset's
    parameter specs), the run's metadata (:meth:`RunInfo.as_dict`) as JSON text in ``attrs``:
    what ``labctl export --format netcdf`` writes and :mod:`labctl.notebook` returns."""
    from qcodes.dataset import load_by_id

    info, frame = load_run(db, run_id)
    with open_db(db, write=False) as conn:
        specs = load_by_id(run_id, conn=conn).paramspecs
    ds = frame.to_xarray()
    ds.attrs.update({k: json.dumps(v, default=str) for k, v in info.as_dict().items()})
    for name in frame.columns:
        ds[name].attrs["units"] = specs[name].unit if name in specs else ""
    return ds
