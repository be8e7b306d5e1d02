"""The first divergence of a replay from its recording, and the protocol line that caused it."""

from __future__ import annotations

import linecache
import os
import sys
import sysconfig
from dataclasses import dataclass
from types import FrameType
from typing import Any

from labctl.errors import LabctlError

# Frames of these packages are plumbing between the protocol and the VISA call.
PLUMBING = frozenset(
    {
        "labctl",
        "instruments",
        "pyvisa",
        "pyvisa_labrec",
        "pyvisa_labreplay",
        "pyvisa_sim",
        "pymeasure",
        "qcodes",
        "sim_backend",
    }
)
_SITE = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}


@dataclass(frozen=True)
class Divergence:
    """What the replay expected at ``transaction`` and what was sent instead."""

    transaction: int  # 1-based number of the expected transaction in the recording
    resource: str
    expected: str  # "write b'CURR 1.5\\n'", or "nothing (end of the recording)"
    sent: str  # "write b'CURR 1.6\\n'", or "nothing (the run ended)"
    source: str  # "protocols/hall_loop.py:71 in hall_loop: field_T = magnet.set_field(...)"
    run_id: int | None = None

    def message(self) -> str:
        run = f"run {self.run_id}" if self.run_id is not None else "the recording"
        where = f"\n  sent from {self.source}" if self.source else ""
        return (
            f"replay of {run} diverged at transaction {self.transaction} on {self.resource}:\n"
            f"  expected {self.expected}\n  sent     {self.sent}{where}"
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "transaction": self.transaction,
            "resource": self.resource,
            "expected": self.expected,
            "sent": self.sent,
            "source": self.source,
            "run_id": self.run_id,
        }


class ReplayDivergence(LabctlError):
    """Raised into the driver (and so the protocol) at the first divergence."""

    def __init__(self, divergence: Divergence) -> None:
        self.divergence = divergence
        super().__init__(divergence.message())


class ReplayStopped(LabctlError):
    """Raised at every VISA call after the first divergence: the recording cannot answer."""


def _top_module(frame: FrameType) -> str:
    return str(frame.f_globals.get("__name__", "")).partition(".")[0]


def _is_library(frame: FrameType) -> bool:
    top = _top_module(frame)
    if top == "__main__":
        return False
    if top in PLUMBING or top in sys.stdlib_module_names or top.startswith("_"):
        return True
    filename = os.path.abspath(frame.f_code.co_filename)
    return any(filename.startswith(site) for site in _SITE)


def describe_frame(frame: FrameType) -> str:
    filename, lineno = frame.f_code.co_filename, frame.f_lineno
    code = linecache.getline(filename, lineno).strip()
    try:
        shown = os.path.relpath(filename)
    except ValueError:  # another drive on Windows
        shown = filename
    if shown.startswith(".."):
        shown = filename
    return f"{shown}:{lineno} in {frame.f_code.co_name}: {code}"


def protocol_source(frame: FrameType | None = None) -> str:
    """The line that sent a command: the innermost frame in a ``protocols`` package, else the
    innermost frame outside labctl, the drivers, pyvisa, pymeasure, qcodes and the stdlib."""
    frame = frame or sys._getframe(1)
    fallback: FrameType | None = None
    while frame is not None:
        if _top_module(frame) == "protocols":
            return describe_frame(frame)
        if fallback is None and not _is_library(frame):
            fallback = frame
        frame = frame.f_back
    return describe_frame(fallback) if fallback is not None else ""
