"""Buffered recording of one run into a qcodes dataset.

A point is appended to :attr:`RunWriter.buffer`, one flat list of the values not yet committed
(``t_s, column 1, column 2, ...`` per point, in the results table's column order): no dict or
tuple per point outlives ``record``. A writer thread, the only one that touches the SQLite
connection, inserts the pending points into the dataset's results table (qcodes' own layout:
the table ``new_data_set`` made, the columns ``set_interdependencies`` declared) with multi-row
``INSERT ... VALUES`` statements, as qcodes' ``insert_many_values`` does, every
``flush_interval_s`` (0.5 s by default) and as soon as ``FLUSH_POINTS`` are pending. Committed
points leave memory: a run of any length holds at most about ``FLUSH_POINTS`` points (unless the
database refuses writes: then everything stays pending until a write succeeds). A process
killed with ``kill -9`` loses at most the points of the last interval, and the database stays
readable (SQLite's journal takes care of torn writes). Several processes may write to one
database at once: :mod:`labctl.database` serialises their transactions.

:meth:`RunWriter.read_points` reads a run's points back from its dataset (with the pending
ones): analysis and figures get them from the database, not from memory.
"""

from __future__ import annotations

import json
import logging
import numbers
import queue
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qcodes.dataset import load_by_id, load_or_create_experiment, new_data_set
from qcodes.dataset.descriptions.dependencies import InterDependencies_
from qcodes.dataset.sqlite.settings import SQLiteSettings
from qcodes.parameters import ParamSpecBase

from labctl import database
from labctl.errors import LabctlError

if TYPE_CHECKING:
    import pandas as pd

log = logging.getLogger("labctl")

# Pending points that make the writer flush before its interval is up (about 6 MB for three
# float columns). Twice that many pending and ``record`` waits for the writer: points can come
# faster than SQLite takes them, and a run of any length must not grow in memory for that.
FLUSH_POINTS = 1 << 16
HOLD_FACTOR = 2
# Rows per INSERT statement: long enough that the per-statement cost vanishes, short enough
# that SQLite compiles it fast (1000 rows beat 10,000 here; qcodes' limit is the variable count).
INSERT_ROWS = 1000
READ_ROWS = 1 << 14  # rows fetched at a time when a run is read back (bounds the temporary tuples)

UNIT_SUFFIXES = {
    "_T": "T",
    "_V": "V",
    "_A": "A",
    "_s": "s",
    "_ohm": "Ohm",
    "_Hz": "Hz",
    "_K": "K",
    "_J": "J",
    "_W": "W",
    "_pct": "%",
}


def unit_from_name(name: str) -> str:
    """The unit a column name carries in its suffix (``field_T`` -> ``T``), or ``""``."""
    for suffix, unit in UNIT_SUFFIXES.items():
        if name.endswith(suffix):
            return unit
    return ""


@dataclass(frozen=True)
class ColumnSpec:
    columns: dict[str, str]  # name -> unit ("text" makes a text column)
    setpoints: tuple[str, ...] = ()

    def interdependencies(self) -> InterDependencies_:
        specs = {
            n: ParamSpecBase(n, "text" if u == "text" else "numeric", unit="" if u == "text" else u)
            for n, u in self.columns.items()
        }
        setpoints = tuple(specs[s] for s in self.setpoints if s in specs)
        if not setpoints:
            return InterDependencies_(standalones=tuple(specs.values()))
        dependents = {
            specs[n]: setpoints for n in self.columns if n not in self.setpoints and n != "t_s"
        }
        standalones = tuple(specs[n] for n in ("t_s",) if n in specs and n not in self.setpoints)
        return InterDependencies_(dependencies=dependents, standalones=standalones)


class RunWriter:
    """Owns one qcodes dataset; all SQLite work happens on its writer thread.

    What the caller hands over (points, metadata, the snapshot) stays in memory until a write
    that includes it has committed: a write that fails (the database busy beyond the retries)
    is tried again at the next flush, with everything recorded since.
    """

    def __init__(
        self,
        db_path: Path,
        experiment: str,
        sample: str,
        name: str,
        flush_interval_s: float = 0.5,
        flush_points: int = FLUSH_POINTS,
    ) -> None:
        self.db_path = Path(db_path)
        self.flush_interval_s = flush_interval_s
        self.flush_points = flush_points
        # The pending points, flat. The recording thread adds each point with one ``extend``
        # at the end, the writer thread deletes committed points from the front: both are
        # single list operations (atomic under the GIL), so neither side needs a lock, and
        # the writer only ever takes whole points (len rounded down to a multiple of width).
        self.buffer: list[Any] = []
        self.columns: tuple[str, ...] = ()  # the columns after t_s, in the buffer's order
        self.width = 1  # values per point in the buffer (t_s included)
        self.flush_at = flush_points  # a buffer this long asks for a flush before the interval
        self.hold_at = HOLD_FACTOR * flush_points  # ... and this long waits for the writer
        self._kinds: dict[str, str] = {}  # column -> kind of its first recorded value
        self._nudged = False
        self._failing = False  # the last write failed: nobody waits for the writer then
        self._written = threading.Condition()  # notified after every write attempt
        self._control: queue.Queue[tuple[str, Any]] = queue.Queue()
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._started = False
        self.run_id = -1
        self.rows_written = 0
        self._metadata: dict[str, str] = {}  # written at the next flush (writer thread only)
        self._snapshot: str | None = None
        self._flushers: list[Callable[[Any, bool], None]] = []  # used on the writer thread only
        self._thread = threading.Thread(
            target=self._main, args=(experiment, sample, name), name="labctl-writer", daemon=True
        )
        self._thread.start()
        self._ready.wait()
        if self._error is not None:
            if isinstance(self._error, LabctlError):
                raise LabctlError(str(self._error))
            problem = database.describe(self.db_path, self._error)
            raise LabctlError(f"cannot create a run: {problem}")

    # ------------------------------------------------------------------ caller side
    def begin(self, columns: ColumnSpec) -> None:
        """Declare the columns (``t_s`` first); must come before the first ``record``."""
        self.columns = tuple(c for c in columns.columns if c != "t_s")
        self.width = 1 + len(self.columns)
        self.flush_at = self.flush_points * self.width
        self.hold_at = HOLD_FACTOR * self.flush_at
        self._call("begin", columns)
        self._started = True

    @property
    def started(self) -> bool:
        return self._started

    @property
    def pending_points(self) -> int:
        """Points recorded and not yet committed."""
        return len(self.buffer) // self.width

    def record(self, t_s: float, values: Mapping[str, Any]) -> None:
        """Add one point; columns that ``values`` leaves out are NULL."""
        self.extend((t_s, *map(values.get, self.columns)))

    def extend(self, point: tuple[Any, ...]) -> None:
        """Add one point given as ``(t_s, *values)`` in the order of :attr:`columns`."""
        buffer = self.buffer
        buffer.extend(point)
        if len(buffer) >= self.flush_at:
            self.make_room()

    def make_room(self) -> None:
        """``flush_at`` values or more are pending: ask for a flush now, and wait for the
        writer once ``hold_at`` are (see :meth:`_hold`)."""
        self.nudge()
        if len(self.buffer) >= self.hold_at:
            self._hold()

    def _hold(self) -> None:
        """Wait until the writer has caught up (the pending points below ``hold_at``); not
        while writes fail: the run then goes on and keeps its points until one succeeds. (A
        write that waits on another process's lock holds the run up to then: bounded memory
        is worth more to a long run than going on meanwhile.)"""
        with self._written:
            while (
                len(self.buffer) >= self.hold_at and not self._failing and self._thread.is_alive()
            ):
                self.nudge()
                self._written.wait(self.flush_interval_s)

    def nudge(self) -> None:
        """Ask for a flush now (many points are pending); at most one request in flight, and
        none while a write is failing (the interval's retry is enough)."""
        if not self._nudged:
            self._nudged = True
            self._control.put(("nudge", None))

    def add_metadata(self, key: str, value: Any) -> None:
        """Store ``value`` (JSON-encoded unless a string) as run metadata, asynchronously."""
        self._control.put(("metadata", (key, value)))

    def add_snapshot(self, snapshot: Mapping[str, Any]) -> None:
        self._control.put(("snapshot", snapshot))

    def add_flusher(self, flush: Callable[[Any, bool], None]) -> None:
        """Also call ``flush(conn, final)`` on the writer thread after every flush of the points
        and, with ``final=True``, at close: other data of the run (its VISA traffic) written
        through the one connection. ``flush`` must commit what it writes and must not raise."""
        self._control.put(("flusher", flush))

    def flush(self) -> None:
        """Write everything recorded so far and wait until it is committed."""
        self._call("flush", None)

    def read_points(self) -> pd.DataFrame:
        """Every point of the run so far: flushed, then read back from the dataset's results
        table, with the points still pending if the database refuses writes (a failing write
        is reported by the next ``flush`` or ``close``, not here). ``t_s`` first, then the
        columns that ever received a value; empty before the first point."""
        box: dict[str, Any] = {}
        self._call("read", box, report=False)
        if not box:  # the writer has stopped (the run is closed): read on this thread
            try:
                conn = database.connect(self.db_path, write=False)
                try:
                    box["frame"] = self._read(conn, load_by_id(self.run_id, conn=conn))
                finally:
                    conn.close()
            except Exception as exc:
                box["error"] = exc
        if "error" in box:
            raise LabctlError(
                f"reading run {self.run_id} back failed: "
                + database.describe(self.db_path, box["error"])
            )
        return box["frame"]

    def close(self, completed: bool = True) -> None:
        """Flush, mark the dataset completed and stop the writer thread."""
        if self._thread.is_alive():
            self._call("close", completed)
            self._thread.join(timeout=30)

    def _call(self, command: str, arg: Any, report: bool = True) -> None:
        done = threading.Event()
        self._control.put((command, (arg, done)))
        while not done.wait(0.1):
            if not self._thread.is_alive():
                break
        if report and self._error is not None:
            error, self._error = self._error, None
            raise LabctlError(
                f"writing run {self.run_id} failed ({self.pending_points} points not stored "
                "yet): " + database.describe(self.db_path, error)
            )

    # ------------------------------------------------------------------ writer thread
    def _main(self, experiment: str, sample: str, name: str) -> None:
        try:
            conn = database.connect(self.db_path)

            def create() -> Any:
                exp = load_or_create_experiment(experiment, sample_name=sample, conn=conn)
                return new_data_set(name, exp_id=exp.exp_id, conn=conn)

            dataset = database.write(conn, create, f"creating a run in {self.db_path}")
            self.run_id = dataset.run_id
        except BaseException as exc:
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        closing: tuple[bool, threading.Event] | None = None
        while closing is None:
            waiters: list[threading.Event] = []
            reads: list[dict[str, Any]] = []
            errors: list[BaseException] = []
            try:
                commands = [self._control.get(timeout=self.flush_interval_s)]
            except queue.Empty:
                commands = []
            while not self._control.empty():  # whatever else is queued joins this flush
                commands.append(self._control.get_nowait())
            for command, arg in commands:
                if command == "metadata":
                    key, value = arg
                    self._metadata[key] = value if isinstance(value, str) else json.dumps(value)
                elif command == "snapshot":
                    self._snapshot = json.dumps({"station": arg}, default=str)
                elif command == "flusher":
                    self._flushers.append(arg)
                elif command == "begin":
                    self._guarded(partial(self._begin, conn, dataset, arg[0]), errors)
                    waiters.append(arg[1])
                elif command == "close":
                    closing = arg
                elif command == "read":
                    reads.append(arg[0])
                    waiters.append(arg[1])
                elif arg is not None:
                    waiters.append(arg[1])
            written = self._guarded(partial(self._write, conn, dataset), errors)
            with self._written:
                if written:
                    self._nudged = False  # a failing write keeps nudges off until one succeeds
                self._failing = not written
                self._written.notify_all()
            for flush in self._flushers:
                flush(conn, closing is not None)
            for box in reads:
                try:
                    box["frame"] = self._read(conn, dataset)
                except Exception as exc:
                    box["error"] = exc
            if closing is not None:
                self._guarded(partial(self._complete, conn, dataset, closing[0]), errors)
                conn.close()
                waiters.append(closing[1])
            # A failed flush followed by one that stored everything lost nothing: no error.
            self._error = errors[0] if errors else None
            for done in waiters:
                done.set()

    def _guarded(self, write: Callable[[], None], errors: list[BaseException]) -> bool:
        """A write whose failure is reported to the caller at its next call (its data stays
        pending, so the next flush tries again). True if it succeeded."""
        try:
            write()
        except Exception as exc:
            errors.append(exc)
            log.warning("run %d: %s", self.run_id, database.describe(self.db_path, exc))
            return False
        return True

    def _begin(self, conn: Any, dataset: Any, spec: ColumnSpec) -> None:
        def begin() -> None:
            dataset.set_interdependencies(spec.interdependencies())
            dataset.mark_started()

        database.write(conn, begin, f"starting run {self.run_id}")

    def _write(self, conn: Any, dataset: Any) -> None:
        """Commit the pending metadata, snapshot and points in one transaction."""
        metadata, snapshot = dict(self._metadata), self._snapshot
        width = self.width
        end = len(self.buffer) // width * width  # whole points only: one may be half-added
        rows = end > 0 and dataset.started
        if not (metadata or snapshot or rows):
            return
        if rows:
            self._learn_kinds(end)

        def write() -> None:
            for key, value in metadata.items():
                dataset.add_metadata(key, value)
            if snapshot is not None:
                dataset.add_snapshot(snapshot)
            if rows:
                self._insert(conn, dataset.table_name, end)

        database.write(conn, write, f"writing run {self.run_id}")
        for key, value in metadata.items():  # unless a newer value came meanwhile
            if self._metadata.get(key) is value:
                del self._metadata[key]
        if self._snapshot is snapshot:
            self._snapshot = None
        if rows:
            del self.buffer[:end]  # committed: out of memory
            self.rows_written += end // width

    def _complete(self, conn: Any, dataset: Any, completed: bool) -> None:
        def complete() -> None:
            if not dataset.started:
                dataset.set_interdependencies(InterDependencies_())
                dataset.mark_started()
            if completed:
                dataset.mark_completed()

        database.write(conn, complete, f"completing run {self.run_id}")

    def _insert(self, conn: Any, table: str, end: int) -> None:
        """Insert ``buffer[:end]`` as qcodes' ``insert_many_values`` would (multi-row VALUES,
        qcodes' adapters: a NaN is stored as qcodes stores it), without building a tuple per
        point: the flat buffer's slices are the statements' parameters as they are."""
        width = self.width
        names = ", ".join(f'"{c}"' for c in ("t_s", *self.columns))
        max_rows = int(SQLiteSettings.limits["MAX_VARIABLE_NUMBER"]) // width
        chunk_rows = max(1, min(INSERT_ROWS, max_rows))
        chunk = chunk_rows * width
        head = f'INSERT INTO "{table}" ({names}) VALUES '
        row = "(" + ",".join("?" * width) + ")"
        full = head + ",".join([row] * chunk_rows)
        buffer = self.buffer
        whole = end - end % chunk
        for start in range(0, whole, chunk):
            conn.execute(full, buffer[start : start + chunk])
        if whole < end:
            conn.execute(head + ",".join([row] * ((end - whole) // width)), buffer[whole:end])

    # ------------------------------------------------------------------ reading back
    def _learn_kinds(self, end: int) -> None:
        """The kind of each column's first recorded value (what pandas made of the values
        in memory: float, int, bool, other), so that reading back gives the same dtypes after
        SQLite's NUMERIC affinity stored 2.0 as the integer 2."""
        width = self.width
        for i, name in enumerate(("t_s", *self.columns)):
            if name in self._kinds:
                continue
            for value in self.buffer[i:end:width]:
                if value is not None:
                    self._kinds[name] = _kind(value)
                    break

    def _read(self, conn: Any, dataset: Any) -> pd.DataFrame:
        """The committed points (read in chunks, each column straight into a numpy array:
        no Python object per value outlives its chunk) and the pending ones."""
        import numpy as np
        import pandas as pd

        names = ("t_s", *self.columns)
        chunks: list[list[Any]] = []  # per chunk, one array per column
        if dataset.started and self.rows_written:
            # ``+column`` is the stored value without the column's declared type: no qcodes
            # converter runs per value (a NaN stays the text 'nan' qcodes stored: _array)
            select = ", ".join(f'+"{c}"' for c in names)
            cursor = conn.execute(f'SELECT {select} FROM "{dataset.table_name}" ORDER BY id')
            while rows := cursor.fetchmany(READ_ROWS):
                chunks.append(self._arrays(list(zip(*rows, strict=True)), names))
        width = self.width
        end = len(self.buffer) // width * width
        if end:  # pending: the database refused the last writes
            self._learn_kinds(end)
            columns = [self.buffer[i:end:width] for i in range(width)]
            chunks.append(self._arrays(columns, names))
        if not chunks:
            return pd.DataFrame()
        frame: dict[str, np.ndarray] = {}
        for i, name in enumerate(names):
            parts = [chunk[i] for chunk in chunks]
            for chunk in chunks:
                chunk[i] = None  # freed as soon as joined
            # columns that never received a value were not in the points (a dict per point)
            if name in self._kinds:
                frame[name] = parts[0] if len(parts) == 1 else np.concatenate(parts)
        return pd.DataFrame(frame, copy=False)

    def _arrays(self, columns: list[Any], names: tuple[str, ...]) -> list[Any]:
        return [
            _array(values, self._kinds.get(name))
            for name, values in zip(names, columns, strict=True)
        ]


def _array(values: Any, kind: str | None) -> Any:
    """One column's values as the array pandas made of the recorded values: ``float`` even
    where SQLite's NUMERIC affinity stored 2.0 as the integer 2, NaN for None and for the
    text 'nan' that qcodes stores a NaN as, int or bool while no value is missing."""
    import numpy as np

    if kind in ("int", "bool"):
        array = np.array(values)
        if array.dtype.kind in "iub":
            return array.astype(bool) if kind == "bool" else array
        if kind == "bool":  # some missing: pandas keeps True/False and NaN as objects
            numbers = np.array(values, dtype=float)
            array = np.empty(len(values), dtype=object)
            array[:] = [bool(v) for v in numbers]
            array[np.isnan(numbers)] = np.nan
            return array
        kind = "float"  # a value missing, or floats among the ints
    if kind == "float":
        try:
            return np.array(values, dtype=float)
        except (TypeError, ValueError):
            pass  # text among the numbers: as recorded
    array = np.empty(len(values), dtype=object)
    array[:] = values
    return array


def _kind(value: Any) -> str:
    """float, int, bool or other: what pandas infers a column of such values to be."""
    if isinstance(value, bool) or type(value).__name__ == "bool_":  # numpy's bool is no int
        return "bool"
    if isinstance(value, numbers.Integral):
        return "int"
    if isinstance(value, numbers.Real):
        return "float"
    return "other"
