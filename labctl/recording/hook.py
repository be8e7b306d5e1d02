"""Recording on by default: the engine hook that wraps a run's VISA library in @labrec.

``labctl.engine.execute`` calls, inside its ``use_clock`` block, once the run's writer exists::

    station, recorder = recorder_for_run(station)        # wraps station.visa_library in @labrec
    recorder.stream_with(writer)                         # batches through the run's writer
    ...                                                 # open the bench, run, safe state, close
    recorder.close()                                    # writes the rest
    writer.add_metadata("labctl_recording", recorder.summary())

``LABCTL_RECORD=0`` turns recording off. A station whose library already records (``...@labrec``)
is left alone, so a caller that records around the engine does not record twice.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

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
        """Start writing the traffic into ``db`` under ``run_id`` (every ``flush_interval_s``)
        from a thread and connection of its own: only for a file no qcodes run writes to."""
        if self.recording is not None and self.store is None:
            self.store = TrafficStore(self.recording, Path(db), run_id, flush_interval_s)

    def stream_with(self, writer: Any) -> None:
        """Write the traffic through the run's writer (a :class:`labctl.recorder.RunWriter`):
        its thread and connection, at its flushes, under its run id."""
        if self.recording is not None and self.store is None:
            self.store = TrafficStore.on_writer(self.recording, writer)

    @property
    def error(self) -> str:
        """Why the traffic could not be stored (``""``: it was), once the writer has closed."""
        problem = self.store.error if self.store is not None else None
        return f"{type(problem).__name__}: {problem}" if problem else ""

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
