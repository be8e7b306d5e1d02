"""Run a protocol on a station: open, run, store, and reach the safe state on every way out."""

from __future__ import annotations

import dataclasses
import logging
import math
import os
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from instruments.roles import ComplianceTrip, InstrumentError
from labctl import __version__
from labctl.bench import Bench, open_bench
from labctl.clock import Clock, VirtualClock, WallClock, use_clock
from labctl.control import RunControl
from labctl.errors import LabctlError, RunAborted
from labctl.params import check_station_limits, params_as_dict
from labctl.protocol import ProtocolSpec
from labctl.recorder import RunWriter
from labctl.recording.hook import RunRecorder, recorder_for_run
from labctl.run import Run
from labctl.server.client import hold_bench
from labctl.station import Station
from labctl.supervisor import process_identity, start_supervisor

log = logging.getLogger("labctl")


@dataclass
class RunOutcome:
    run_id: int
    protocol: str
    status: str  # completed | aborted | interrupted | failed
    result: dict[str, Any]
    safe_state: list[str]
    points: int
    db: Path
    figures: list[str] = field(default_factory=list)
    error: str | None = None
    exception: BaseException | None = field(default=None, repr=False)

    def as_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d.pop("exception")
        d["db"] = str(self.db)
        return d


class _Timebase:
    """The clock as roles see it: ramps and waits stay abortable, except in the safe state."""

    def __init__(self, clock: Clock, control: RunControl) -> None:
        self.clock, self.control = clock, control

    def now(self) -> float:
        return self.clock.now()

    def sleep(self, seconds: float) -> None:
        self.control.checkpoint()
        self.clock.sleep(seconds)


def result_dict(result: Any) -> dict[str, Any]:
    if result is None:
        return {}
    if hasattr(result, "as_dict"):
        return dict(result.as_dict())
    if dataclasses.is_dataclass(result) and not isinstance(result, type):
        return dataclasses.asdict(result)
    if isinstance(result, dict):
        return dict(result)
    raise LabctlError(f"protocol returned {type(result).__name__}; expected a dataclass or dict")


def make_clock(station: Station) -> Clock:
    return VirtualClock() if station.clock == "virtual" else WallClock()


def execute(
    spec: ProtocolSpec,
    params: Any,
    station: Station,
    db: Path,
    *,
    figures_dir: Path | None = None,
    progress: Callable[[float, float, str], None] | None = None,
    on_run: Callable[[Run], None] | None = None,
    handle_signals: bool = True,
    flush_interval_s: float = 0.5,
    clock: Clock | None = None,
    supervise: bool | None = None,
) -> RunOutcome:
    """Run ``spec`` with ``params`` on ``station``, storing into ``db``.

    Never raises for what happens inside the run: the outcome carries the status, the error and
    the safe-state actions. The safe state is reached on every path (return, exception, abort,
    Ctrl-C, SIGTERM). The run's VISA traffic is recorded into ``db`` (``LABCTL_RECORD=0``: off);
    ``clock`` replaces the station's clock (strict replay runs on the recorded times).
    ``supervise`` (default: on unless ``LABCTL_SUPERVISE=0``) starts :mod:`labctl.supervisor`,
    which brings the bench to its safe state if this process dies without finishing the run
    (not for a station with no instrument outside the process: nothing would outlive it).
    """
    # before the run exists or the bench opens
    spec.check_station(params, station)
    check_station_limits(params, station, spec.name)
    if supervise is None:
        supervise = os.environ.get("LABCTL_SUPERVISE", "1").strip() not in ("0", "false", "no")
    # a station whose instruments all die with this process leaves nothing for a supervisor to
    # make safe; its start (imports done ahead, ~1 s of CPU) would cost a study's worker a core
    supervise = supervise and station.outlives_the_process
    clock = clock or make_clock(station)
    control = RunControl()
    figures_dir = figures_dir or db.parent / "figures"
    # a served bench: this run holds the server's write lock from before its record exists
    # until its safe state is reached (labctl.server.client)
    hold = hold_bench(station.visa_library, f"run of {spec.name} into {db}", station.server_wait_s)
    with use_clock(clock), hold:
        writer = RunWriter(
            db,
            experiment=spec.name,
            sample=str(station.chip.get("name", station.name)),
            name=spec.name,
            flush_interval_s=flush_interval_s,
        )
        supervision = (
            start_supervisor(station.path, station.visa_library, db, writer.run_id)
            if supervise
            else None
        )
        station, recorder = recorder_for_run(station)  # wraps the VISA library in @labrec
        recorder.stream_with(writer)  # stored at the writer's flushes
        for key, value in {
            "protocol": spec.name,
            "params": params_as_dict(params),
            "station_file": station.path,
            "version": __version__,
            "status": "running",
            "process": process_identity(),  # a run whose process is gone is not "running"
        }.items():
            writer.add_metadata(f"labctl_{key}", value)
        log.info("run %d: %s on %s", writer.run_id, spec.name, station.name)
        bench: Bench | None = None
        run: Run | None = None
        status, error, exception, result = "completed", None, None, {}
        with control.handlers():
            try:
                bench = open_bench(station, _Timebase(clock, control))
                writer.add_snapshot(bench.snapshot())
                checkpoint = Checkpoints(writer, progress)
                run = Run(spec, params, bench, clock, writer, control, figures_dir, checkpoint)
                checkpoint.run = run
                if on_run is not None:
                    on_run(run)
                result = result_dict(spec.function(run, params))
                bench.check_health(spec.tolerates)  # an error queued after the last point
            except RunAborted as exc:
                status, error, exception = "aborted", str(exc), exc
            except KeyboardInterrupt as exc:
                status, error, exception = "interrupted", "interrupted at once (second signal)", exc
            except Exception as exc:
                status, error, exception = "failed", f"{type(exc).__name__}: {exc}", exc
                _store_instrument_error(writer, exc)
                log.debug("run %d failed:\n%s", writer.run_id, traceback.format_exc())
            finally:
                # signals are ignored from here on: the safe state, then the final record
                with control.safe_section():
                    actions = _reach_safe_state(bench, writer.run_id)
                    figures = _figures(spec, run, result) if run is not None else []
                    try:
                        _finish(
                            writer, bench, run, status, result, actions, figures, error, recorder
                        )
                    finally:
                        if supervision is not None:
                            supervision.release()
    return RunOutcome(
        writer.run_id,
        spec.name,
        status,
        result,
        actions,
        run.n_points if run is not None else 0,
        db,
        [str(p) for p in figures],
        error,
        exception,
    )


class Checkpoints:
    """The run's progress callback, which also stores the last checkpoint (progress message,
    point count) in the run's metadata at most once per flush: ``labctl show`` reports it,
    even for a run whose process was killed."""

    def __init__(
        self, writer: RunWriter, progress: Callable[[float, float, str], None] | None
    ) -> None:
        self.writer, self.progress = writer, progress
        self.run: Run | None = None
        self.last: dict[str, Any] = {}
        self._stored_at_s = -math.inf

    def __call__(self, done: float, total: float, message: str = "") -> None:
        self.last = {"done": done, "total": total, "message": message}
        now_s = time.monotonic()
        if now_s - self._stored_at_s >= self.writer.flush_interval_s:
            self._stored_at_s = now_s
            self.writer.add_metadata("labctl_last_checkpoint", self.of(self.run))
        if self.progress is not None:
            self.progress(done, total, message)

    @staticmethod
    def of(run: Run | None) -> dict[str, Any]:
        if run is None:
            return {"points": 0}
        last = getattr(run._progress, "last", {})
        return {**last, "points": run.n_points, "t_s": run.now()}


def _finish(
    writer: RunWriter,
    bench: Bench | None,
    run: Run | None,
    status: str,
    result: dict[str, Any],
    actions: list[str],
    figures: list[Path],
    error: str | None,
    recorder: RunRecorder,
) -> None:
    """Close the bench and write the run's final metadata (status, result, safe state)."""
    if bench is not None:
        try:
            writer.add_metadata("labctl_transactions", bench.transactions())
            writer.add_metadata("labctl_reply_retries", bench.reply_retries())
        except Exception:
            pass
        bench.close()
    try:
        recorder.close()  # after the bench: its closing traffic is part of the recording
        writer.add_metadata("labctl_recording", recorder.summary())
    except Exception as exc:  # a recording must never lose the run
        log.warning("run %d: storing the VISA traffic failed: %s", writer.run_id, exc)
    for key, value in {
        "status": status,
        "result": result,
        "safe_state": actions,
        "figures": [str(p) for p in figures],
        "error": error or "",
        "points": run.n_points if run is not None else 0,
        "reason": error or "the protocol returned",
        "last_checkpoint": Checkpoints.of(run),
    }.items():
        writer.add_metadata(f"labctl_{key}", value)
    writer.close(completed=True)
    if recorder.error:
        log.warning("run %d: storing the VISA traffic failed: %s", writer.run_id, recorder.error)


def _store_instrument_error(writer: RunWriter, exc: Exception) -> None:
    """The instrument, error kind and codes of a run that an instrument ended."""
    if isinstance(exc, InstrumentError):
        details = {
            "instrument": exc.instrument,
            "kind": exc.kind,
            "codes": list(exc.codes),
            "message": exc.message,
        }
    elif isinstance(exc, ComplianceTrip):
        details = {"kind": type(exc).__name__, "codes": [], "message": str(exc)}
    else:
        return
    writer.add_metadata("labctl_instrument_error", details)


def _reach_safe_state(bench: Bench | None, run_id: int) -> list[str]:
    if bench is None:
        return []
    actions = bench.safe_state()
    for line in actions:
        log.warning("run %d safe state: %s", run_id, line)
    return actions


def _figures(spec: ProtocolSpec, run: Run, result: dict[str, Any]) -> list[Path]:
    """The protocol's figure function, run on whatever points exist (also after an abort)."""
    if spec.figure is not None and run.n_points:
        try:
            points = run.points()  # read back from the dataset
        except LabctlError as exc:  # a figure must never lose a run
            log.warning("run %d: figure skipped: %s", run.run_id, exc)
            return []
        draw_figure(spec, result, points, run.figure_path("main"), run.run_id)
        run.figures = [p for p in run.figures if p.exists()]
    return [p for p in run.figures if p.exists()]


def draw_figure(
    spec: ProtocolSpec, result: dict[str, Any], points: Any, path: Path, run_id: int = -1
) -> None:
    """``spec.figure`` on a run that may have ended early: every declared column is there
    (NaN where nothing was recorded) and the result may be empty; a failure is logged."""
    if spec.figure is None:
        return
    declared = ["t_s", *(c for c in spec.columns if c != "t_s")] if spec.columns else []
    missing = [c for c in declared if c not in points.columns]
    if missing:
        points = points.reindex(columns=[*points.columns, *missing])
    try:
        spec.figure(result, points, path)
    except Exception as exc:  # a figure must never lose a run
        log.warning("run %d: figure failed: %s: %s", run_id, type(exc).__name__, exc)
