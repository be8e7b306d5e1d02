"""Whether a process is alive: what identifies a process on a host (pid, host name, start time,
so a reused pid is not mistaken for it) and whether it still runs.

Used by the supervisor (a run whose process is gone is never shown as "running") and by the
instrument server (a write lock whose holder died is taken back).
"""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Any


def _start_ticks(pid: int) -> int | None:
    """The process's start time in clock ticks since boot (Linux ``/proc``), else None."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    try:
        return int(stat.rsplit(")", 1)[1].split()[19])  # field 22: starttime
    except (IndexError, ValueError):
        return None


def process_identity(pid: int | None = None) -> dict[str, Any]:
    """What identifies this process on this host: pid, host name, start time (pid reuse)."""
    pid = os.getpid() if pid is None else pid
    return {"pid": pid, "host": socket.gethostname(), "start": _start_ticks(pid)}


def process_gone(identity: dict[str, Any]) -> bool:
    """True when the process ``identity`` names ran on this host and no longer runs (a pid
    reused by another process counts as gone). Unknown hosts are never judged."""
    if identity.get("host") != socket.gethostname():
        return False
    try:
        pid = int(identity["pid"])
    except (KeyError, TypeError, ValueError):
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        pass  # alive, someone else's
    start = identity.get("start")
    if start is None:
        return False
    now_start = _start_ticks(pid)
    if now_start is None:
        return False
    if now_start != start:
        return True
    return _is_zombie(pid)


def _is_zombie(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return False
