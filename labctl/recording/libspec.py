"""How the recording and replay VISA libraries are spelled, and the in-process registry.

pyvisa splits a library string at its *last* ``@``: what precedes is handed to the backend.
So the recording library wraps any other library by naming it in front::

    "@labsim@labrec"                   record the simulated lab
    "path/lab.yaml@labsim@labrec"      ... a given lab file
    "@py@labrec", "@ivi@labrec"        record a real bench
    "@labrec" + LABREC_UNDERLYING=@py  the same through environment variables only

and the replay library names where the recording is::

    "traffic.db@labreplay"             the last recording in a file (LABREC_FILE of a script,
    "labctl.db#7@labreplay"            or a labctl database and a run id)

labctl itself adds ``#<key>`` to the argument (``"@labsim#rec-3-ab12@labrec"``): the key picks
an object registered in this process (the run's :class:`Recording`, or a replay source), and it
makes pyvisa, which caches one library instance per string, give every run its own instance.
"""

from __future__ import annotations

import itertools
import re
import threading
import uuid
from typing import Any

RECORD_BACKEND = "labrec"
REPLAY_BACKEND = "labreplay"
_KEY = re.compile(r"^(rec|replay)-[0-9]+-[0-9a-f]{8}$")
_counter = itertools.count(1)
_objects: dict[str, Any] = {}
_lock = threading.Lock()


def split_key(argument: str) -> tuple[str, str]:
    """``"@labsim#rec-1-0a1b2c3d"`` -> ``("@labsim", "rec-1-0a1b2c3d")``; no key -> ``""``."""
    head, sep, tail = argument.rpartition("#")
    if sep and _KEY.match(tail):
        return head, tail
    return argument, ""


def register(kind: str, obj: Any) -> str:
    """Register ``obj`` under a new key (``kind`` is ``rec`` or ``replay``)."""
    key = f"{kind}-{next(_counter)}-{uuid.uuid4().hex[:8]}"
    with _lock:
        _objects[key] = obj
    return key


def lookup(key: str) -> Any:
    with _lock:
        if key not in _objects:
            raise OSError(f"no recording or replay registered in this process under {key!r}")
        return _objects[key]


def unregister(key: str) -> None:
    with _lock:
        _objects.pop(key, None)
    forget_library(key)


def recording_library(underlying: str, key: str = "") -> str:
    """The library string that records ``underlying`` (into the registered ``key``)."""
    return f"{underlying}{'#' + key if key else ''}@{RECORD_BACKEND}"


def replay_library(source: str) -> str:
    """The library string that answers from ``source`` (a key, or ``file[#run_id]``)."""
    return f"{source}@{REPLAY_BACKEND}"


def underlying_of(library: str) -> str:
    """The library a recording library string records (itself if it is not one)."""
    argument, sep, backend = library.rpartition("@")
    if sep and backend == RECORD_BACKEND:
        return split_key(argument)[0]
    return library


def forget_library(key: str) -> None:
    """Drop pyvisa's cached library instances whose string carries ``key`` (a finished run)."""
    from pyvisa.highlevel import VisaLibraryBase

    registry = VisaLibraryBase._registry
    for entry in [e for e in registry if key in str(e[1])]:
        registry.pop(entry, None)
