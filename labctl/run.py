"""The ``Run`` context a protocol receives: station roles, clock, recording, control."""

from __future__ import annotations

import logging
from collections.abc import Callable
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
        self._points = writer.rows
        self._columns: frozenset[str] | None = None
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

    def record(self, **values: Any) -> None:
        """Store one point (column=value). ``t_s`` (station time) is added automatically."""
        columns = self._columns
        if columns is None:
            self._begin({name: unit_from_name(name) for name in values})
            columns = self._columns
        if not values.keys() <= columns:  # type: ignore[operator]
            extra = sorted(set(values) - columns)  # type: ignore[operator]
            raise LabctlError(
                f"{self.spec.name}: run.record got column(s) {', '.join(extra)} not declared "
                f"by the protocol (declared: {', '.join(sorted(columns))})"  # type: ignore[arg-type]
            )
        # An instrument that queued an error or tripped since the last point makes this point
        # suspect: it is not stored (serial polls only, no message while all is well).
        self.station.check_health(self.spec.tolerates)
        t_s = self.clock.now() - self._t0_s
        self._points.append((t_s, values))
        if self.subscribers:
            row = {"t_s": t_s, **values}
            for subscriber in self.subscribers:
                subscriber(row)
        if self.control.pending:
            self.control.checkpoint()

    @property
    def n_points(self) -> int:
        return len(self._points)

    def points(self) -> pd.DataFrame:
        """Every point recorded so far in this run (``t_s`` first)."""
        return pd.DataFrame([{"t_s": t, **values} for t, values in self._points])

    def figure_path(self, name: str) -> Path:
        """Where to write a PNG figure of this run (recorded in the run's metadata)."""
        self.figures_dir.mkdir(parents=True, exist_ok=True)
        path = self.figures_dir / f"run{self.run_id}_{self.spec.name}_{name}.png"
        self.figures.append(path)
        return path
