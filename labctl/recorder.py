"""Buffered recording of one run into a qcodes dataset.

``record()`` only appends ``(t_s, values)`` to an in-memory list (a fraction of a microsecond);
the same list serves ``run.points()``. A writer thread, the only one that touches the SQLite
connection, writes the new rows to the dataset's results table with qcodes'
``insert_many_values`` every ``flush_interval_s`` (0.5 s by default), so a process killed with
``kill -9`` loses at most the points of the last interval and the database stays readable
(SQLite's journal takes care of torn writes). Several processes may write to one database at
once: :mod:`labctl.database` serialises their transactions.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from operator import itemgetter
from pathlib import Path
from typing import Any

from qcodes.dataset import load_or_create_experiment, new_data_set
from qcodes.dataset.descriptions.dependencies import InterDependencies_
from qcodes.dataset.sqlite.query_helpers import insert_many_values
from qcodes.parameters import ParamSpecBase

from labctl import database
from labctl.errors import LabctlError

log = logging.getLogger("labctl")

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
    ) -> None:
        self.db_path = Path(db_path)
        self.flush_interval_s = flush_interval_s
        self.rows: list[tuple[float, Mapping[str, Any]]] = []  # (t_s, {column: value})
        self._columns: tuple[str, ...] = ()
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
        self._columns = tuple(c for c in columns.columns if c != "t_s")
        self._call("begin", columns)
        self._started = True

    @property
    def started(self) -> bool:
        return self._started

    def record(self, t_s: float, values: Mapping[str, Any]) -> None:
        self.rows.append((t_s, values))

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

    def close(self, completed: bool = True) -> None:
        """Flush, mark the dataset completed and stop the writer thread."""
        if self._thread.is_alive():
            self._call("close", completed)
            self._thread.join(timeout=30)

    def _call(self, command: str, arg: Any) -> None:
        done = threading.Event()
        self._control.put((command, (arg, done)))
        while not done.wait(0.1):
            if not self._thread.is_alive():
                break
        if self._error is not None:
            error, self._error = self._error, None
            unsaved = len(self.rows) - self.rows_written
            raise LabctlError(
                f"writing run {self.run_id} failed ({unsaved} points not stored yet): "
                + database.describe(self.db_path, error)
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
                elif arg is not None:
                    waiters.append(arg[1])
            self._guarded(partial(self._write, conn, dataset), errors)
            for flush in self._flushers:
                flush(conn, closing is not None)
            if closing is not None:
                self._guarded(partial(self._complete, conn, dataset, closing[0]), errors)
                conn.close()
                waiters.append(closing[1])
            # A failed flush followed by one that stored everything lost nothing: no error.
            self._error = errors[0] if errors else None
            for done in waiters:
                done.set()

    def _guarded(self, write: Callable[[], None], errors: list[BaseException]) -> None:
        """A write whose failure is reported to the caller at its next call (its data stays
        pending, so the next flush tries again)."""
        try:
            write()
        except Exception as exc:
            errors.append(exc)
            log.warning("run %d: %s", self.run_id, database.describe(self.db_path, exc))

    def _begin(self, conn: Any, dataset: Any, spec: ColumnSpec) -> None:
        def begin() -> None:
            dataset.set_interdependencies(spec.interdependencies())
            dataset.mark_started()

        database.write(conn, begin, f"starting run {self.run_id}")

    def _write(self, conn: Any, dataset: Any) -> None:
        """Commit the pending metadata, snapshot and points in one transaction."""
        metadata, snapshot = dict(self._metadata), self._snapshot
        end = len(self.rows)
        rows = end > self.rows_written and dataset.started
        if not (metadata or snapshot or rows):
            return

        def write() -> None:
            for key, value in metadata.items():
                dataset.add_metadata(key, value)
            if snapshot is not None:
                dataset.add_snapshot(snapshot)
            if rows:
                self._insert(dataset, self.rows_written, end)

        database.write(conn, write, f"writing run {self.run_id}")
        for key, value in metadata.items():  # unless a newer value came meanwhile
            if self._metadata.get(key) is value:
                del self._metadata[key]
        if self._snapshot is snapshot:
            self._snapshot = None
        if rows:
            self.rows_written = end

    def _complete(self, conn: Any, dataset: Any, completed: bool) -> None:
        def complete() -> None:
            if not dataset.started:
                dataset.set_interdependencies(InterDependencies_())
                dataset.mark_started()
            if completed:
                dataset.mark_completed()

        database.write(conn, complete, f"completing run {self.run_id}")

    def _insert(self, dataset: Any, start: int, end: int) -> None:
        columns = self._columns
        rows = self.rows[start:end]
        try:
            pick = itemgetter(*columns)
            if len(columns) == 1:
                values = [(t, pick(d)) for t, d in rows]
            else:
                values = [(t, *pick(d)) for t, d in rows]
        except KeyError:  # some rows leave columns out: those are NULL
            values = [(t, *map(d.get, columns)) for t, d in rows]
        insert_many_values(dataset.conn, dataset.table_name, ["t_s", *columns], values)
