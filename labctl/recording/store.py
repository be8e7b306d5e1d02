"""VISA traffic in SQLite: two tables next to qcodes' own, keyed by the run id.

``labctl_visa_recordings`` holds one row per recorded run: the library underneath, the clock
at the start, the station, the resources. ``labctl_visa_traffic`` holds the transactions in
batches, one row per batch, column-packed (one little-endian array per field, the data bytes
concatenated): packing costs ~0.4 µs per transaction where a row per transaction costs ~3 µs,
and the writer thread shares the GIL with the run. :func:`load_recording` unpacks them and
:func:`traffic_frame` gives a pandas view for inspection.

A :class:`TrafficStore` writes new transactions every ``flush_interval_s``, so recording costs
the run only the in-memory append, and a killed process loses at most the last interval: in a
labctl run through the run's qcodes writer thread (one writing connection per database), in a
plain pyvisa script from a thread of its own into a file of the same schema (``LABREC_FILE``),
each script run taking the next free id.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from labctl.errors import LabctlError
from labctl.recording.traffic import OP_CODES, OPS, Recording, Transaction

if TYPE_CHECKING:
    import pandas as pd

TRAFFIC_TABLE = "labctl_visa_traffic"
RECORDINGS_TABLE = "labctl_visa_recordings"
SCHEMA = f"""
CREATE TABLE IF NOT EXISTS {RECORDINGS_TABLE} (
    run_id INTEGER PRIMARY KEY,
    underlying TEXT NOT NULL,
    clock_start_s REAL NOT NULL,
    wall_start_s REAL NOT NULL,
    station TEXT NOT NULL,
    resources TEXT NOT NULL DEFAULT '[]',
    transactions INTEGER NOT NULL DEFAULT 0,
    complete INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS {TRAFFIC_TABLE} (
    run_id INTEGER NOT NULL,
    first_seq INTEGER NOT NULL,
    n INTEGER NOT NULL,
    op BLOB NOT NULL,
    resource BLOB NOT NULL,
    status BLOB NOT NULL,
    t_station_s BLOB NOT NULL,
    t_wall_s BLOB NOT NULL,
    duration_s BLOB NOT NULL,
    data_len BLOB NOT NULL,
    data BLOB NOT NULL,
    detail TEXT NOT NULL,
    PRIMARY KEY (run_id, first_seq)
);
"""
# column -> numpy dtype of its packed array
ARRAYS = {
    "op": "u1",
    "resource": "<i2",
    "status": "<i4",
    "t_station_s": "<f8",
    "t_wall_s": "<f8",
    "duration_s": "<f8",
    "data_len": "<i4",
}
BUSY_TIMEOUT_S = 30.0  # qcodes' writer shares the file; wait for its short transactions


def connect(db: Path) -> sqlite3.Connection:
    db.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(str(db), timeout=BUSY_TIMEOUT_S, check_same_thread=False)
    conn.executescript(SCHEMA)
    return conn


def next_recording_id(conn: sqlite3.Connection) -> int:
    row = conn.execute(f"SELECT COALESCE(MAX(run_id), 0) + 1 FROM {RECORDINGS_TABLE}").fetchone()
    return int(row[0])


def pack(recording: Recording, entries: list[Any]) -> dict[str, Any]:
    """Column-pack ``entries`` (tuples of :data:`~labctl.recording.traffic.Entry`)."""
    ops, res, data, status, t_station, t_perf, duration, detail = zip(*entries, strict=True)
    wall0 = recording.wall_start_s - recording.perf_start_s
    return {
        "op": np.array([OP_CODES[o] for o in ops], "u1").tobytes(),
        "resource": np.array(res, "<i2").tobytes(),
        "status": np.array([int(s) for s in status], "<i4").tobytes(),
        "t_station_s": np.array(t_station, "<f8").tobytes(),
        "t_wall_s": (np.array(t_perf, "<f8") + wall0).tobytes(),
        "duration_s": np.array(duration, "<f8").tobytes(),
        "data_len": np.array([-1 if d is None else len(d) for d in data], "<i4").tobytes(),
        "data": b"".join(d for d in data if d is not None),
        "detail": json.dumps({i: d for i, d in enumerate(detail) if d is not None}, default=str),
    }


class TrafficStore:
    """Streams one :class:`Recording` into ``db`` under ``run_id``.

    Two ways: from a thread of its own with its own connection (a file nothing else writes:
    a plain script's ``LABREC_FILE``), or — :meth:`on_writer` — through the run's qcodes
    writer thread and connection, because a second writing connection to the run's database
    would make SQLite fail qcodes' transactions with "database is locked".
    """

    def __init__(
        self,
        recording: Recording,
        db: Path,
        run_id: int | None,
        flush_interval_s: float = 0.5,
        *,
        threaded: bool = True,
    ) -> None:
        self.recording = recording
        self.db = Path(db)
        self.flush_interval_s = flush_interval_s
        self.written = 0
        self.run_id = run_id if run_id is not None else -1
        self.error: BaseException | None = None
        self._begun = False
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        self._thread: threading.Thread | None = None
        if threaded:
            self._conn = connect(self.db)
            self._begin(self._conn)
            self._thread = threading.Thread(target=self._loop, name="labrec-store", daemon=True)
            self._thread.start()

    @classmethod
    def on_writer(cls, recording: Recording, writer: Any) -> TrafficStore:
        """A store that writes at the flushes of ``writer`` (a :class:`labctl.recorder.RunWriter`)
        into its database under its run id; the last write happens when the writer closes."""
        store = cls(recording, writer.db_path, writer.run_id, threaded=False)
        writer.add_flusher(store.flush_on)
        return store

    def _begin(self, conn: sqlite3.Connection) -> None:
        conn.executescript(SCHEMA)
        with conn:
            if self.run_id < 0:
                self.run_id = next_recording_id(conn)
            conn.execute(f"DELETE FROM {TRAFFIC_TABLE} WHERE run_id = ?", (self.run_id,))
            conn.execute(
                f"INSERT OR REPLACE INTO {RECORDINGS_TABLE} "
                "(run_id, underlying, clock_start_s, wall_start_s, station) VALUES (?, ?, ?, ?, ?)",
                (
                    self.run_id,
                    self.recording.underlying,
                    self.recording.clock_start_s,
                    self.recording.wall_start_s,
                    json.dumps(self.recording.station, default=str),
                ),
            )
        self._begun = True

    def _loop(self) -> None:
        while not self._stop.wait(self.flush_interval_s):
            try:
                self.flush()
            except sqlite3.Error:  # retried at the next interval, and at close
                pass

    def flush_on(self, conn: sqlite3.Connection, final: bool) -> None:
        """The writer thread's flush: never raises (a failure is kept in :attr:`error` and
        retried at the next flush)."""
        try:
            if not self._begun:
                self._begin(conn)
            self.write(conn, complete=final)
            self.error = None
        except Exception as exc:
            self.error = exc

    def flush(self, complete: bool = False) -> int:
        """Write the transactions logged since the last flush (own connection)."""
        assert self._conn is not None, "a store on a run writer is flushed by the writer"
        return self.write(self._conn, complete)

    def write(self, conn: sqlite3.Connection, complete: bool = False) -> int:
        """Write the transactions logged since the last write; return how many were written."""
        with self._lock:
            log = self.recording.log
            # Entries are only appended, so a slice up to a length read once is consistent.
            start, end = self.written, len(log)
            with conn:
                if end > start:
                    packed = pack(self.recording, log[start:end])
                    columns = ["run_id", "first_seq", "n", *packed]
                    conn.execute(
                        f"INSERT INTO {TRAFFIC_TABLE} ({', '.join(columns)}) "
                        f"VALUES ({', '.join('?' * len(columns))})",
                        (self.run_id, start + 1, end - start, *packed.values()),
                    )
                conn.execute(
                    f"UPDATE {RECORDINGS_TABLE} SET transactions = ?, complete = ?, resources = ? "
                    "WHERE run_id = ?",
                    (end, int(complete), json.dumps(self.recording.resources), self.run_id),
                )
            # Stored: drop them from memory, keeping positions (same-length slice assignment).
            log[start:end] = [None] * (end - start)
            self.written = end
            return end - start

    def close(self) -> None:
        """Own thread: write the rest, mark the recording complete, close the connection. On a
        run writer: nothing to do (the writer's close writes the rest)."""
        if self._stop.is_set():
            return
        self._stop.set()
        if self._thread is None or self._conn is None:
            return
        self._thread.join(timeout=30)
        self.flush(complete=True)
        self._conn.close()


@dataclass
class StoredRecording:
    """A recording read back from a database."""

    db: Path
    run_id: int
    underlying: str
    clock_start_s: float
    wall_start_s: float
    station: dict[str, Any]
    resources: list[str]
    complete: bool
    transactions: list[Transaction]


def recording_ids(db: Path) -> list[int]:
    if not Path(db).exists():
        return []
    with sqlite3.connect(str(db)) as conn:
        try:
            rows = conn.execute(f"SELECT run_id FROM {RECORDINGS_TABLE} ORDER BY run_id")
            return [int(r[0]) for r in rows]
        except sqlite3.OperationalError:  # no recording table: nothing was ever recorded
            return []


def _unpack(row: sqlite3.Row, resources: list[str]) -> list[Transaction]:
    first, n = int(row["first_seq"]), int(row["n"])
    arrays = {k: np.frombuffer(row[k], dtype) for k, dtype in ARRAYS.items()}
    details = {int(i): d for i, d in json.loads(row["detail"]).items()}
    blob, offset, out = bytes(row["data"]), 0, []
    for i in range(n):
        length = int(arrays["data_len"][i])
        data = None if length < 0 else blob[offset : offset + length]
        offset += max(length, 0)
        r = int(arrays["resource"][i])
        out.append(
            Transaction(
                first + i,
                resources[r] if 0 <= r < len(resources) else "",
                OPS[int(arrays["op"][i])],
                data,
                int(arrays["status"][i]),
                details.get(i),
                float(arrays["t_station_s"][i]),
                float(arrays["t_wall_s"][i]),
                float(arrays["duration_s"][i]),
            )
        )
    return out


def load_recording(db: Path, run_id: int | None = None) -> StoredRecording:
    """The recorded traffic of ``run_id`` (the last recording in ``db`` when None)."""
    db = Path(db)
    if not db.is_file():
        raise LabctlError(f"{db}: no such database")
    ids = recording_ids(db)
    if not ids:
        raise LabctlError(f"{db}: no VISA traffic was recorded in this database")
    if run_id is None:
        run_id = ids[-1]
    if run_id not in ids:
        raise LabctlError(
            f"{db}: run {run_id} has no recorded VISA traffic (recorded runs: "
            f"{', '.join(map(str, ids[-10:]))}); was it run with recording off (LABCTL_RECORD=0)?"
        )
    with sqlite3.connect(str(db)) as conn:
        conn.row_factory = sqlite3.Row
        head = conn.execute(
            f"SELECT * FROM {RECORDINGS_TABLE} WHERE run_id = ?", (run_id,)
        ).fetchone()
        resources = list(json.loads(head["resources"]))
        rows = conn.execute(
            f"SELECT * FROM {TRAFFIC_TABLE} WHERE run_id = ? ORDER BY first_seq", (run_id,)
        ).fetchall()
    transactions = [t for row in rows for t in _unpack(row, resources)]
    return StoredRecording(
        db,
        run_id,
        str(head["underlying"]),
        float(head["clock_start_s"]),
        float(head["wall_start_s"]),
        json.loads(head["station"]),
        resources,
        bool(head["complete"]),
        transactions,
    )


def traffic_frame(db: Path, run_id: int | None = None) -> pd.DataFrame:
    """One row per transaction: seq, resource, op, data, status, detail, times."""
    import pandas as pd

    recording = load_recording(db, run_id)
    return pd.DataFrame([vars(t) for t in recording.transactions])
