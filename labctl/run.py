"""The ``Run`` context a protocol receives: station roles, clock, recording, control."""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial
from operator import itemgetter
from pathlib import Path
from typing import Any

import pandas as pd

from labctl.bench import Bench
from labctl.clock import Clock
from labctl.control import RunControl
from labctl.errors import LabctlError
from labctl.protocol import ProtocolSpec
from labctl.recorder import ColumnSpec, RunWriter, unit_from_name

WALL_SLEEP_CHUNK_S = 0.05  # a wall-clock sleep is cut into chunks so that abort stays prompt


class Run:
    """What a protocol sees. Every ``sleep`` and ``record`` is also a checkpoint."""

    def __init__(
        self,
        spec: ProtocolSpec,
        params: Any,
        station: Bench,
        clock: Clock,
        writer: RunWriter,
        control: RunControl,
        figures_dir: Path,
        progress: Callable[[float, float, str], None] | None = None,
    ) -> None:
        self.spec = spec
        self.params = params
        self.station = station
        self.clock = clock
        self.control = control
        self.figures_dir = figures_dir
        self.log = logging.getLogger(f"labctl.{spec.name}")
        self._writer = writer
        self._progress = progress
        self._t0_s = clock.now()
        self._n_points = 0
        self._columns: frozenset[str] | None = None
        # record's fast path: a call that names exactly the declared columns (see _begin)
        self._n_values = -1
        self._pick: Callable[[dict[str, Any]], Any] = itemgetter("t_s")
        self._check_health = partial(station.check_health, spec.tolerates)
        self._buffer = writer.buffer  # the writer's pending points (it never replaces the list)
        self._flush_at = writer.flush_at
        self.subscribers: list[Callable[[dict[str, Any]], None]] = []
        self.figures: list[Path] = []
        if spec.columns:
            self._begin(dict(spec.columns))

    @property
    def run_id(self) -> int:
        return self._writer.run_id

    # -------------------------------------------------------------- time and control
    def now(self) -> float:
        """Seconds of station time since the run started."""
        return self.clock.now() - self._t0_s

    def sleep(self, seconds: float) -> None:
        """Wait on the station clock (no wall time on a virtual clock), abortable."""
        self.control.checkpoint()
        if getattr(self.clock, "virtual", False):
            self.clock.sleep(seconds)
        else:
            end = self.clock.now() + seconds
            while (left := end - self.clock.now()) > 0:
                self.clock.sleep(min(left, WALL_SLEEP_CHUNK_S))
                self.control.checkpoint()
        self.control.checkpoint()

    def checkpoint(self) -> None:
        """Honour pause and abort requests."""
        self.control.checkpoint()

    def progress(self, done: float, total: float, message: str = "") -> None:
        if self._progress is not None:
            self._progress(done, total, message)

    # -------------------------------------------------------------- data
    def _begin(self, columns: dict[str, str]) -> None:
        columns = {"t_s": "s", **columns}
        self._writer.begin(ColumnSpec(columns, tuple(self.spec.setpoints)))
        self._columns = frozenset(columns)
        self._n_values = len(columns) - 1
        self._flush_at = self._writer.flush_at
        names = self._writer.columns
        self._pick = itemgetter("t_s", *names) if names else lambda values: (values["t_s"],)

    def record(self, **values: Any) -> None:
        """Store one point (column=value). ``t_s`` (station time) is added automatically.

        The point goes to the run's writer (committed within the flush interval), not to a
        list in memory: :meth:`points` reads the run back from its dataset."""
        if len(values) == self._n_values:  # every declared column, if the names match
            # An instrument that queued an error or tripped since the last point makes this
            # point suspect: it is not stored (serial polls only, no message while all is well).
            self._check_health()
            values["t_s"] = self.clock.now() - self._t0_s
            try:
                point = self._pick(values)  # t_s and the columns in the table's order
            except KeyError:  # a name that is not declared
                point = self._point_of(values, checked=True)
        else:
            point = self._point_of(values, checked=False)
        buffer = self._buffer
        buffer.extend(point)  # one list operation: the writer thread never sees half a point
        if len(buffer) >= self._flush_at:
            self._writer.make_room()  # a flush now (and a wait if the writer is far behind)
        self._n_points += 1
        if self.subscribers:
            row = {"t_s": values["t_s"], **values}
            for subscriber in self.subscribers:
                subscriber(row)
        if self.control.pending:
            self.control.checkpoint()

    def _point_of(self, values: dict[str, Any], checked: bool) -> tuple[Any, ...]:
        """``record`` with columns left out (NULL) or a name that is not declared (an
        error); the first point of a protocol that declared no columns declares them."""
        columns = self._columns
        if columns is None:
            self._begin({name: unit_from_name(name) for name in values})
            columns = self._columns
        if not values.keys() <= columns:  # type: ignore[operator]
            extra = sorted(set(values) - columns - {"t_s"})  # type: ignore[operator]
            raise LabctlError(
                f"{self.spec.name}: run.record got column(s) {', '.join(extra)} not declared "
                f"by the protocol (declared: {', '.join(sorted(columns))})"  # type: ignore[arg-type]
            )
        if not checked:
            self._check_health()
            values["t_s"] = self.clock.now() - self._t0_s
        return (values["t_s"], *map(values.get, self._writer.columns))

    @property
    def n_points(self) -> int:
        return self._n_points

    def points(self) -> pd.DataFrame:
        """Every point recorded so far in this run (``t_s`` first), read back from the run's
        dataset: a long run's points are in the database, not in memory. A protocol that
        needs its recent points while it runs keeps them itself (a bounded buffer of its own)."""
        return self._writer.read_points()

    def figure_path(self, name: str) -> Path:
        """Where to write a PNG figure of this run (recorded in the run's metadata)."""
        self.figures_dir.mkdir(parents=True, exist_ok=True)
        path = self.figures_dir / f"run{self.run_id}_{self.spec.name}_{name}.png"
        self.figures.append(path)
        return path
