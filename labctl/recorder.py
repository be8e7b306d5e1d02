"""Buffered recording of one run into a qcodes dataset.

``record()`` only appends ``(t_s, values)`` to an in-memory list (a fraction of a microsecond);
the same list serves ``run.points()``. A writer thread, the only one that touches the SQLite
connection, writes the new rows to the dataset's results table with qcodes'
``insert_many_values`` every ``flush_interval_s`` (0.5 s by default), so a process killed with
``kill -9`` loses at most the points of the last interval and the database stays readable
(SQLite's journal takes care of torn writes).
"""

from __future__ import annotations

import json
import queue
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from operator import itemgetter
from pathlib import Path
from typing import Any

from qcodes.dataset import load_or_create_experiment, new_data_set
from qcodes.dataset.descriptions.dependencies import InterDependencies_
from qcodes.dataset.sqlite.database import connect
from qcodes.dataset.sqlite.query_helpers import insert_many_values
from qcodes.parameters import ParamSpecBase

from labctl.errors import LabctlError

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
    """Owns one qcodes dataset; all SQLite work happens on its writer thread."""

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
        self._flushers: list[Callable[[Any, bool], None]] = []  # used on the writer thread only
        self._thread = threading.Thread(
            target=self._main, args=(experiment, sample, name), name="labctl-writer", daemon=True
        )
        self._thread.start()
        self._ready.wait()
        if self._error is not None:
            raise LabctlError(f"cannot create a run in {self.db_path}: {self._error}")

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
        through the one connection, so that no second writer can deadlock qcodes' transactions.
        ``flush`` must commit what it writes and must not raise."""
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
            raise LabctlError(f"writing run {self.run_id} to {self.db_path} failed: {error}")

    # ------------------------------------------------------------------ writer thread
    def _main(self, experiment: str, sample: str, name: str) -> None:
        try:
            self.db_path.parent.mkdir(parents=True, exist_ok=True)
            conn = connect(str(self.db_path))
            exp = load_or_create_experiment(experiment, sample_name=sample, conn=conn)
            dataset = new_data_set(name, exp_id=exp.exp_id, conn=conn)
            self.run_id = dataset.run_id
        except BaseException as exc:
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        running = True
        while running:
            try:
                command, arg = self._control.get(timeout=self.flush_interval_s)
            except queue.Empty:
                command, arg = "flush", None
            try:
                if command == "metadata":
                    key, value = arg
                    dataset.add_metadata(
                        key, value if isinstance(value, str) else json.dumps(value)
                    )
                elif command == "snapshot":
                    dataset.add_snapshot(json.dumps({"station": arg}, default=str))
                elif command == "flusher":
                    self._flushers.append(arg)
                elif command == "begin":
                    spec, done = arg
                    dataset.set_interdependencies(spec.interdependencies())
                    dataset.mark_started()
                    done.set()
                else:
                    if dataset.started:
                        self._drain(dataset)
                    for flush in self._flushers:
                        flush(conn, command == "close")
                    if command == "close":
                        completed, done = arg
                        if not dataset.started:
                            dataset.set_interdependencies(InterDependencies_())
                            dataset.mark_started()
                        if completed:
                            dataset.mark_completed()
                        conn.close()
                        running = False
                        done.set()
                    elif arg is not None:
                        arg[1].set()
            except BaseException as exc:  # reported to the caller at its next call
                self._error = exc
                if isinstance(arg, tuple) and len(arg) == 2 and isinstance(arg[1], threading.Event):
                    arg[1].set()

    def _drain(self, dataset: Any) -> None:
        # Appends happen only at the end of the list, so a slice up to a length read once is
        # a consistent snapshot without a lock.
        end = len(self.rows)
        if end == self.rows_written:
            return
        columns = self._columns
        rows = self.rows[self.rows_written : end]
        try:
            pick = itemgetter(*columns)
            if len(columns) == 1:
                values = [(t, pick(d)) for t, d in rows]
            else:
                values = [(t, *pick(d)) for t, d in rows]
        except KeyError:  # some rows leave columns out: those are NULL
            values = [(t, *map(d.get, columns)) for t, d in rows]
        insert_many_values(dataset.conn, dataset.table_name, ["t_s", *columns], values)
        self.rows_written = end
