"""``labctl watch RUN``: follow a run's points in the database from another process.

The engine's writer thread commits new rows every flush interval; :class:`RunFollower` reads
the rows added since its last poll straight from the dataset's results table (a read-only
SQLite connection, so it never blocks the writer) and the run's status from its metadata. A
finished run is drawn at once and the window stays up.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from labctl.data import list_runs, open_db
from labctl.errors import LabctlError
from labctl.live import REFRESH_MS, LiveWindow, has_display

POLL_MS = 500
# Rows read at a time: a long run is drawn in steps (the window keeps a decimated curve), never
# read whole into memory; a poll tick reads up to POLL_CHUNKS of them.
POLL_ROWS = 20_000
POLL_CHUNKS = 10


class RunFollower:
    """Incremental reader of one run's points and status."""

    def __init__(self, db: Path, run_id: int) -> None:
        from qcodes.dataset import load_by_id

        self.db, self.run_id = Path(db), run_id
        with open_db(self.db, write=False) as conn:
            try:
                dataset = load_by_id(run_id, conn=conn)
            except (ValueError, RuntimeError, NameError):
                raise LabctlError(f"no run {run_id} in {db}") from None
            self.table = dataset.table_name
            self.protocol = str(dataset.metadata.get("labctl_protocol", dataset.name))
        self._last_id = 0
        self.points = 0  # rows read so far
        self._conn = sqlite3.connect(f"file:{self.db}?mode=ro", uri=True, check_same_thread=False)

    def columns(self) -> list[str]:
        rows = self._conn.execute(f'PRAGMA table_info("{self.table}")').fetchall()
        return [r[1] for r in rows if r[1] != "id"]

    def poll(self, limit: int = POLL_ROWS) -> list[dict[str, Any]]:
        """The next rows committed since the last poll, ``limit`` at most (empty while the run
        has not started)."""
        try:
            cursor = self._conn.execute(
                f'SELECT * FROM "{self.table}" WHERE id > ? ORDER BY id LIMIT ?',
                (self._last_id, limit),
            )
        except sqlite3.OperationalError:  # the table exists once the run has begun
            return []
        names = [d[0] for d in cursor.description]
        rows = [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]
        if rows:
            self._last_id = rows[-1]["id"]
            self.points += len(rows)
        return rows

    def _run_row(self) -> dict[str, Any]:
        cursor = self._conn.execute("SELECT * FROM runs WHERE run_id = ?", (self.run_id,))
        names = [d[0] for d in cursor.description]
        return dict(zip(names, cursor.fetchone() or (), strict=False))

    def checkpoint(self) -> dict[str, Any]:
        """The run's last stored checkpoint: ``done``, ``total``, ``message`` (once the protocol
        reported progress), ``points``, ``t_s``; empty before the first one."""
        raw = self._run_row().get("labctl_last_checkpoint")
        try:
            value = json.loads(raw) if isinstance(raw, str) else {}
        except ValueError:
            return {}
        return value if isinstance(value, dict) else {}

    def status(self) -> str:
        """The run's labctl status (``running`` until the engine writes the final one)."""
        row = self._run_row()
        status = row.get("labctl_status")
        if status:
            return str(status).strip('"')
        return "completed" if row.get("is_completed") else "running"

    def axis_label(self, column: str) -> tuple[str, str]:
        """(quantity, unit) of ``column`` on an axis, as the run's protocol declares it."""
        from labctl.protocol import axis_label, find_protocol

        try:
            return find_protocol(self.protocol).axis_label(column)
        except LabctlError:  # a protocol not installed here: what the column's name says
            return axis_label(column)

    def axes(self) -> list[tuple[str, str]]:
        """The protocol's declared axes, or every column against time when it is unknown."""
        try:
            from labctl.protocol import find_protocol

            axes = list(find_protocol(self.protocol).axes)
        except LabctlError:
            axes = []
        columns = self.columns()
        axes = [(x, y) for x, y in axes if x in columns and y in columns]
        return axes or [("t_s", c) for c in columns if c != "t_s"][:3]

    def close(self) -> None:
        self._conn.close()


def catch_up(window: LiveWindow, follower: RunFollower, chunks: int | None = None) -> None:
    """Draw the rows committed since the last poll, ``POLL_ROWS`` at a time (``chunks`` of
    them at most; all if None)."""
    while chunks is None or chunks > 0:
        rows = follower.poll()
        window.extend(rows)
        window.drain()
        if len(rows) < POLL_ROWS:
            return
        chunks = None if chunks is None else chunks - 1


def open_watch_window(follower: RunFollower) -> LiveWindow:
    """A live window fed by ``follower`` every ``POLL_MS`` (call from the GUI thread; close
    the window before the follower: the poll stops with the window)."""
    window = LiveWindow(
        follower.axes(), f"labctl watch: run {follower.run_id}", follower.axis_label
    )

    def poll() -> None:
        catch_up(window, follower, POLL_CHUNKS)
        window.set_status(
            f"labctl watch: run {follower.run_id} {follower.protocol}: {follower.status()}"
        )

    poll()
    window.poll_timer = window.every(POLL_MS, poll)  # type: ignore[attr-defined]
    window.drain()
    return window


def run_to_watch(db: Path, run_id: int | None) -> tuple[int, Path]:
    """The run to follow (the latest one when ``run_id`` is None) and where its window is
    saved: ``labctl watch`` and :func:`labctl.notebook.watch`."""
    if run_id is None:
        runs = list_runs(db)
        if not runs:
            raise LabctlError(f"no runs in {db}")
        run_id = runs[-1].run_id
    return int(run_id), db.parent / "figures" / f"run{int(run_id)}_watch.png"


def watch(
    db: Path,
    run_id: int,
    snapshot: Path | None = None,
    report: Callable[[RunFollower], None] | None = None,
) -> str:
    """Show a run (live while it runs); returns the last status.

    With a display the window stays up until it is closed (or Ctrl-C). Without one (offscreen
    Qt) nobody can close it: the window follows the run until it is no longer running. Either
    way, ``snapshot`` (a PNG path) receives the window as last drawn. ``report(follower)`` is
    called every ``POLL_MS`` and once at the end (the command line's text reports).
    """
    from labctl.figures import qt_app

    app = qt_app()
    follower = RunFollower(db, run_id)
    window = open_watch_window(follower)
    window.show()
    interactive = has_display()
    reported_at = -float("inf")
    try:
        while window.widget.isVisible():
            app.processEvents()
            if not interactive and follower.status() != "running":
                catch_up(window, follower)  # the rows committed with the final status
                break
            if report is not None and time.monotonic() - reported_at >= POLL_MS / 1000:
                reported_at = time.monotonic()
                report(follower)
            threading.Event().wait(REFRESH_MS / 1000)
        if report is not None:
            report(follower)
        return follower.status()
    except KeyboardInterrupt:
        return follower.status()
    finally:
        if snapshot is not None:
            window.grab(snapshot)
        window.close()
        follower.close()
