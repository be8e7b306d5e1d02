"""Recording on by default: the engine hook, and running a protocol with recording and a clock.

The engine calls, inside its ``use_clock`` block, once the run's writer exists::

    station, recorder = recorder_for_run(station)        # wraps station.visa_library in @labrec
    recorder.stream_to(writer.db_path, writer.run_id)   # batches into the run's database
    ...                                                 # open the bench, run, safe state, close
    recorder.close()                                    # writes the rest
    writer.add_metadata("labctl_recording", recorder.summary())

``LABCTL_RECORD=0`` turns recording off. A station whose library already records (``...@labrec``)
is left alone, so a caller that records around the engine does not record twice.
"""

from __future__ import annotations

import dataclasses
import inspect
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from labctl.clock import Clock
from labctl.recording import libspec
from labctl.recording.store import TrafficStore
from labctl.recording.traffic import Recording
from labctl.station import Station

ENV_RECORD = "LABCTL_RECORD"


def recording_enabled() -> bool:
    return os.environ.get(ENV_RECORD, "1").strip().lower() not in ("0", "no", "off", "false")


class RunRecorder:
    """The recording of one run: registered under a key for the ``@labrec`` library, streamed
    into the run's database once the run id is known."""

    def __init__(self, recording: Recording | None) -> None:
        self.recording = recording
        self.key = libspec.register("rec", recording) if recording is not None else ""
        if recording is not None:
            recording.key = self.key
        self.store: TrafficStore | None = None

    @property
    def enabled(self) -> bool:
        return self.recording is not None

    def library(self) -> str:
        assert self.recording is not None
        return libspec.recording_library(self.recording.underlying, self.key)

    def stream_to(self, db: Path, run_id: int, flush_interval_s: float = 0.5) -> None:
        """Start writing the traffic into ``db`` under ``run_id`` (every ``flush_interval_s``)."""
        if self.recording is not None and self.store is None:
            self.store = TrafficStore(self.recording, Path(db), run_id, flush_interval_s)

    def save(self, db: Path, run_id: int) -> None:
        """Write all the traffic at once (for a caller that learns the run id afterwards)."""
        self.stream_to(db, run_id, flush_interval_s=3600.0)
        self.close()

    def close(self) -> None:
        if self.store is not None:
            self.store.close()
        if self.key:
            libspec.unregister(self.key)

    def summary(self) -> dict[str, Any]:
        if self.recording is None:
            return {"enabled": False}
        table = {
            "table": "labctl_visa_traffic",
            "run_id": self.store.run_id if self.store else None,
        }
        return {"enabled": True, **self.recording.summary(), **table}


def recorder_for_run(station: Station) -> tuple[Station, RunRecorder]:
    """The station to open (its VISA library wrapped in ``@labrec``) and the run's recorder.

    Call it with the run's clock installed: the recording notes the station time at its start.
    """
    if not recording_enabled() or station.visa_library.endswith("@" + libspec.RECORD_BACKEND):
        return station, RunRecorder(None)
    content = {**station.raw, "visa_library": station.visa_library, "clock": station.clock}
    described = {"file": station.path, "content": content}
    recorder = RunRecorder(Recording(station.visa_library, described))
    return dataclasses.replace(station, visa_library=recorder.library()), recorder


@contextmanager
def _engine_clock(clock: Clock | None) -> Iterator[dict[str, Any]]:
    """Keyword arguments that make ``execute`` run on ``clock``.

    Uses ``execute(clock=...)`` when the engine takes it; older engines get their
    ``make_clock`` swapped for the duration of the call.
    """
    from labctl import engine

    if clock is None:
        yield {}
    elif "clock" in inspect.signature(engine.execute).parameters:
        yield {"clock": clock}
    else:
        original = engine.make_clock
        engine.make_clock = lambda station: clock  # type: ignore[assignment]
        try:
            yield {}
        finally:
            engine.make_clock = original  # type: ignore[assignment]


def execute_recorded(
    spec: Any, params: Any, station: Station, db: Path, *, clock: Clock | None = None, **kw: Any
) -> Any:
    """``labctl.engine.execute`` with the VISA traffic recorded into ``db`` (and on ``clock``).

    Works whether or not the engine records by itself (it then sees the station already
    recording and leaves it).
    """
    from labctl.clock import use_clock
    from labctl.engine import execute, make_clock

    run_clock = clock or make_clock(station)
    with use_clock(run_clock):  # the recording notes the station time at its start
        recorded, recorder = recorder_for_run(station)
    try:
        with _engine_clock(run_clock) as extra:  # the engine runs on the clock we noted
            outcome = execute(spec, params, recorded, db, **extra, **kw)
    except BaseException:
        recorder.close()
        raise
    if recorder.enabled:
        recorder.save(db, outcome.run_id)
    return outcome
