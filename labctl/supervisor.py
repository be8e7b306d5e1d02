"""The watchdog outside the run: when the process running a protocol dies, the bench still
reaches its safe state, and the run is marked "interrupted".

``execute`` starts ``python -m labctl.supervisor`` at the start of a run (before the bench opens,
so its imports are done long before it is needed) with a pipe on its stdin. The run's process
says ``done`` when it has finished cleanly; end of file without ``done`` means it died (``kill
-9``, a crash, the OOM killer): the kernel closes the pipe for it. The supervisor then checks the
parent is really gone — it never acts while the parent lives — opens the station (same station
file, same VISA library: on the simulated bench it takes over the lab the dead process left),
brings every instrument to its safe state and writes ``labctl_status``, ``labctl_safe_state`` and
``labctl_error`` to the run, as :func:`labctl.engine._finish` would have.

Whether a run's process is alive (:func:`process_identity`, :func:`process_gone`) lives in
:mod:`labctl.processes` (the instrument server asks it too); both are importable from here.
"""

from __future__ import annotations

import dataclasses
import json
import os
import select
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from labctl.processes import process_gone, process_identity

DONE = b"done\n"
PARENT_GONE_WAIT_S = 3.0
DB_RETRY_S = 10.0


# --- the run's side ----------------------------------------------------------------------------
class Supervision:
    """The handle ``execute`` keeps on its supervisor: :meth:`release` when the run ended
    cleanly (the supervisor exits without acting)."""

    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        self.proc = proc

    def release(self) -> None:
        """Tell the supervisor the run ended cleanly; it exits on its own (not waited for:
        reaped at the next start, so a run's end costs one write)."""
        try:
            assert self.proc.stdin is not None
            self.proc.stdin.write(DONE)
            self.proc.stdin.close()
        except OSError:
            pass  # the supervisor is gone already: nothing to release
        _released.append(self.proc)


_released: list[subprocess.Popen[bytes]] = []


def start_supervisor(station_path: str, visa_library: str, db: Path, run_id: int) -> Supervision:
    """Spawn the watchdog of run ``run_id`` of ``db`` (station ``station_path``)."""
    _released[:] = [p for p in _released if p.poll() is None]
    args = [sys.executable, "-m", "labctl.supervisor", station_path, visa_library, str(db)]
    args += [str(run_id), json.dumps(process_identity())]
    proc = subprocess.Popen(
        args,
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=None,
        start_new_session=True,  # a Ctrl-C or a killpg of the run's group must not reach it
        close_fds=True,
    )
    return Supervision(proc)


# --- the supervisor's side -------------------------------------------------------------------
def wait_for_parent(fd: int, parent: dict[str, Any]) -> bool:
    """Block until the run says ``done`` on ``fd`` (False) or dies (True).

    Death shows as end of file on the pipe, or as this process being re-parented (a forked
    child of the run may still hold the pipe open): checked twice a second."""
    data = b""
    while True:
        orphaned = _orphaned(parent)  # read before the pipe: a "done" sent before dying counts
        ready, _, _ = select.select([fd], [], [], 0.0 if orphaned else 0.5)
        if ready:
            chunk = os.read(fd, 64)
            if not chunk:
                break
            data += chunk
            if DONE in data:
                return False
        elif orphaned:
            break
    # no "done": make sure the parent is really gone before acting
    deadline = time.monotonic() + PARENT_GONE_WAIT_S
    while not (_orphaned(parent) or process_gone(parent)):
        if time.monotonic() > deadline:
            print("labctl supervisor: the run closed its pipe but lives on", file=sys.stderr)
            return False
        time.sleep(0.02)
    return True


def _orphaned(parent: dict[str, Any]) -> bool:
    return os.getppid() != parent.get("pid")


def bring_to_safe_state(station_path: str, visa_library: str) -> list[str]:
    """Open the station's instruments and bring each to its safe state; the lines say what."""
    from labctl.bench import Bench, open_bench
    from labctl.clock import VirtualClock, WallClock, use_clock
    from labctl.station import load_station

    station = dataclasses.replace(load_station(station_path), visa_library=visa_library)
    clock = VirtualClock() if station.clock == "virtual" else WallClock()
    with use_clock(clock):
        try:
            bench = open_bench(station, clock)
        except Exception as exc:  # one instrument will not open: the others still matter
            first = f"opening the whole station failed ({exc}); instrument by instrument:"
            return [first, *_one_by_one(station, clock, Bench)]
        try:
            return bench.safe_state()
        finally:
            bench.close()


def _one_by_one(station: Any, clock: Any, bench_type: Any) -> list[str]:
    lines = []
    for name, spec in station.instruments.items():
        try:
            role = spec.adapter.open(
                name=name,
                address=spec.address,
                visa_library=station.visa_library,
                settings=spec.settings,
                limits=spec.limits,
                timebase=clock,
            )
        except TypeError:
            continue  # a role built on other roles: its instruments are handled one by one
        except Exception as exc:
            lines.append(f"{name} ({spec.driver} @ {spec.address}): cannot open: {exc}")
            continue
        bench = bench_type(station, {name: role})
        lines.extend(bench.safe_state())
        bench.close()
    return lines


def mark_interrupted(db: Path, run_id: int, actions: list[str], error: str) -> None:
    """Write the run's end as ``_finish`` would: the three keys in ONE transaction (a reader
    never sees "interrupted" without its safe state and error), retried while the database is
    busy (:func:`labctl.database.write`) and while the run is not in it yet (a run killed
    during its creation)."""
    values = {"status": "interrupted", "safe_state": actions, "error": error}
    deadline = time.monotonic() + DB_RETRY_S
    while True:
        try:
            _write_metadata(db, run_id, values)
            return
        except Exception as exc:
            if time.monotonic() > deadline:
                raise
            print(
                f"labctl supervisor: run {run_id} not written yet ({exc}); retrying",
                file=sys.stderr,
            )
            time.sleep(0.2)


def _write_metadata(db: Path, run_id: int, values: dict[str, Any]) -> None:
    from qcodes.dataset import load_by_id

    from labctl.database import connect, write

    conn = connect(db)
    try:
        dataset = load_by_id(run_id, conn=conn)

        def add_all() -> None:
            for key, value in values.items():
                dataset.add_metadata(f"labctl_{key}", json.dumps(value))

        write(conn, add_all, f"run {run_id}'s end")
    finally:
        conn.close()


def main(argv: list[str]) -> int:
    station_path, visa_library, db, run_id, parent_json = argv
    parent = json.loads(parent_json)
    # imported now, while the run goes on, so that the safe state is not delayed by imports
    import qcodes.dataset

    import labctl.bench
    import labctl.station

    del qcodes, labctl

    if not wait_for_parent(sys.stdin.fileno(), parent):
        os._exit(0)  # nothing to tidy: skip the interpreter's teardown of qcodes & co.
    started = time.monotonic()
    try:
        actions = bring_to_safe_state(station_path, visa_library)
    except Exception as exc:
        actions = [f"FAILED to reach the safe state: {type(exc).__name__}: {exc}"]
    took_s = time.monotonic() - started
    error = (
        f"the run's process (pid {parent.get('pid')} on {parent.get('host')}) died; "
        f"the supervisor reached the safe state in {took_s:.1f} s"
    )
    for line in actions:
        print(f"labctl supervisor, run {run_id} safe state: {line}", file=sys.stderr)
    mark_interrupted(Path(db), int(run_id), actions, error)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
