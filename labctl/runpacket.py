"""A finished run carried between processes or machines as bytes, and merged into a database.

A worker (a Dask worker of ``labctl study``, on this machine or another) runs a protocol through
the engine into a private database of its own; :func:`pack_run` turns that run into a
:class:`RunPacket` (the private database's bytes, the run id, its figures' PNGs), which pickles
and travels back to the parent process. There :func:`unpack_run` adds it to the runs database as
a new run: the dataset with its points, metadata and station snapshot (qcodes'
``extract_runs_into_db``), its recorded VISA traffic, and its figures, renamed for the new run
id. Only the parent writes the runs database, one run at a time, so no worker ever writes it
concurrently.
"""

from __future__ import annotations

import json
import sqlite3
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from labctl import database
from labctl.recording.store import RECORDINGS_TABLE, TRAFFIC_TABLE


@dataclass
class RunPacket:
    """One finished run of a private database, as bytes."""

    db_bytes: bytes
    run_id: int
    figures: dict[str, bytes] = field(default_factory=dict)  # file name -> PNG


def pack_run(db: Path, run_id: int) -> RunPacket:
    """The run ``run_id`` of ``db`` (whose writers have all closed) and its figure files."""
    conn = sqlite3.connect(str(db))
    data: bytes = b""
    try:
        data = conn.serialize()  # the pages in the WAL too
        row = conn.execute("SELECT labctl_figures FROM runs WHERE run_id = ?", (run_id,)).fetchone()
    except sqlite3.OperationalError:  # no figures column: the run drew none
        row = None
    finally:
        conn.close()
    figures = {}
    for name in json.loads(row[0]) if row and row[0] else []:
        path = Path(name)
        if path.exists():
            figures[path.name] = path.read_bytes()
    return RunPacket(bytes(data), run_id, figures)


def unpack_run(
    packet: RunPacket,
    db: Path,
    metadata: dict[str, Any] | None = None,
    figures_dir: Path | None = None,
) -> int:
    """Add the packet's run to ``db`` (created if missing) with ``metadata`` added (values
    JSON-encoded under ``labctl_<key>``); returns its run id there. Its figures go to
    ``figures_dir`` (default: ``figures/`` next to ``db``), named for the new run id."""
    from qcodes.dataset.database_extract_runs import extract_runs_into_db
    from qcodes.dataset.sqlite.queries import add_data_to_dynamic_columns, get_runid_from_guid

    db = Path(db)
    figures_dir = figures_dir or db.parent / "figures"
    database.connect(db, write=True).close()  # created in WAL mode, checked: one line if not
    with tempfile.TemporaryDirectory(prefix="labctl-packet-") as tmp:
        source = Path(tmp) / "run.db"
        source.write_bytes(packet.db_bytes)
        with sqlite3.connect(str(source)) as conn:
            guid = conn.execute(
                "SELECT guid FROM runs WHERE run_id = ?", (packet.run_id,)
            ).fetchone()[0]
            recording = _recording(conn, packet.run_id)
        database.retrying(
            lambda: extract_runs_into_db(source, db, packet.run_id), f"merging a run into {db}"
        )
    conn = database.connect(db, write=True)
    try:
        run_id = int(get_runid_from_guid(conn, guid))  # type: ignore[arg-type]
        figures = []
        for name, png in packet.figures.items():
            path = figures_dir / name.replace(f"run{packet.run_id}_", f"run{run_id}_", 1)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(png)
            figures.append(str(path))
        extra = {f"labctl_{k}": json.dumps(v) for k, v in (metadata or {}).items()}
        if packet.figures:
            extra["labctl_figures"] = json.dumps(figures)

        def write() -> None:
            if extra:
                add_data_to_dynamic_columns(conn, run_id, extra)
            _insert_recording(conn, run_id, recording)

        database.write(conn, write, f"merging run {run_id} into {db}")
    finally:
        conn.close()
    return run_id


def _recording(conn: sqlite3.Connection, run_id: int) -> dict[str, list[tuple[Any, ...]]]:
    """The run's rows of the VISA-traffic tables (none if it recorded nothing)."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    for table in (RECORDINGS_TABLE, TRAFFIC_TABLE):
        try:
            cursor = conn.execute(f"SELECT * FROM {table} WHERE run_id = ?", (run_id,))
        except sqlite3.OperationalError:  # the table does not exist: nothing recorded
            continue
        names = [d[0] for d in cursor.description]
        out[table] = [tuple(names), *cursor.fetchall()]
    return out


def _insert_recording(conn: Any, run_id: int, recording: dict[str, list[tuple[Any, ...]]]) -> None:
    from labctl.recording.store import SCHEMA

    if not any(len(rows) > 1 for rows in recording.values()):
        return
    for statement in SCHEMA.split(";"):
        if statement.strip():
            conn.execute(statement)
    for table, (names, *rows) in recording.items():
        at = names.index("run_id")
        columns = ", ".join(names)
        marks = ", ".join("?" * len(names))
        for row in rows:
            values = (*row[:at], run_id, *row[at + 1 :])
            conn.execute(f"INSERT OR REPLACE INTO {table} ({columns}) VALUES ({marks})", values)
