"""``@labreplay``: a VISA library whose instruments are a recording.

``"<file>[#run_id]@labreplay"`` replays a recording file or a labctl database (the last
recording in it without ``#run_id``); labctl's own replays use a registered key (see
:mod:`labctl.recording.libspec`). Nothing is sent anywhere: writes are checked against the
recording, reads get the recorded replies, and the first divergence stops the replay.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from pyvisa import constants, errors, highlevel, rname
from pyvisa.util import LibraryPath

from labctl.recording import libspec
from labctl.recording.divergence import Divergence, protocol_source
from labctl.recording.replay_source import ReplaySource
from labctl.recording.store import load_recording
from labctl.recording.traffic import CLEAR, FLUSH, READ, READ_STB, TRIGGER, WRITE
from labctl.recording.visa_recorder import FORWARDED_CALLS

SC = constants.StatusCode
DEFAULT_TIMEOUT_MS = 2000


def open_source(argument: str) -> ReplaySource:
    """The replay source a library argument names: a registered key or ``file[#run_id]``."""
    _, key = libspec.split_key("#" + argument)
    if key:
        return libspec.lookup(key)
    path, sep, run = argument.rpartition("#")
    if not sep:
        path, run = argument, ""
    if not path or not Path(path).exists():
        raise OSError(f"labreplay: no recording file at {path or argument!r}")
    try:
        run_id = int(run) if run else None
    except ValueError:
        raise OSError(f"labreplay: {run!r} is not a run id (expected file.db#7)") from None
    return ReplaySource(load_recording(Path(path), run_id))


class ReplayVisaLibrary(highlevel.VisaLibraryBase):
    """Answers from a :class:`ReplaySource`; never touches an instrument."""

    source: ReplaySource

    @staticmethod
    def get_library_paths() -> Iterable[LibraryPath]:
        return (LibraryPath("labrec.db", "the default recording file"),)

    @staticmethod
    def get_debug_info() -> dict[str, str]:
        return {"Backend": "labreplay (answers from a recorded run)"}

    def _init(self) -> None:
        self.source = open_source(str(self.library_path))
        self._ids = itertools.count(1_000_001)
        self._resource: dict[int, str] = {}
        self._attrs: dict[int, dict[int, Any]] = {}
        for name in FORWARDED_CALLS:
            setattr(self, name, self._accept(name))

    def _accept(self, name: str) -> Callable[..., Any]:
        def accept(session: Any, *args: Any, **kwargs: Any) -> Any:
            # Housekeeping (events, locks) still works after a divergence, so that drivers
            # can close cleanly; only instrument I/O stops.
            return ("", SC.success) if name == "lock" else SC.success

        return accept

    def _name(self, session: int) -> str:
        if session not in self._resource:
            raise errors.InvalidSession()
        return self._resource[session]

    def _status(self, session: int, op: str, data: bytes | None = None) -> SC:
        t = self.source.take(self._name(session), op, data)
        return self.handle_return_value(session, t.status if t is not None else SC.success)

    # --- resource manager ------------------------------------------------------------------------
    def open_default_resource_manager(self) -> tuple[int, SC]:
        session = next(self._ids)
        self._attrs[session] = {}
        return session, SC.success

    def list_resources(self, session: Any, query: str = "?*::INSTR") -> tuple[str, ...]:
        found = rname.filter(tuple(self.source.resources), query)
        if not found:
            raise errors.VisaIOError(SC.error_resource_not_found.value)
        return tuple(found)

    def open(
        self,
        session: Any,
        resource_name: str,
        access_mode: constants.AccessModes = constants.AccessModes.no_lock,
        open_timeout: int = constants.VI_TMO_IMMEDIATE,
    ) -> tuple[int, SC]:
        try:
            canonical = str(rname.parse_resource_name(resource_name))
        except rname.InvalidResourceName:
            return 0, self.handle_return_value(None, SC.error_invalid_resource_name)
        if canonical not in self.source.resources:
            raise self.source.diverge(
                Divergence(
                    1,
                    canonical,
                    "one of the recorded resources: " + ", ".join(self.source.resources),
                    f"open {canonical}",
                    protocol_source(),
                    self.source.run_id,
                )
            )
        new = next(self._ids)
        self._resource[new] = canonical
        self._attrs[new] = {}
        return new, SC.success

    def close(self, session: Any) -> SC:
        self._resource.pop(session, None)
        return SC.success if self._attrs.pop(session, None) is not None else SC.error_invalid_object

    # --- checked operations ---------------------------------------------------------------
    def write(self, session: Any, data: bytes) -> tuple[int, SC]:
        return len(data), self._status(session, WRITE, bytes(data))

    def read(self, session: Any, count: int) -> tuple[bytes, SC]:
        t = self.source.take(self._name(session), READ)
        assert t is not None  # a read is always answered, or raises
        return t.data or b"", self.handle_return_value(session, t.status)

    def clear(self, session: Any) -> SC:
        return self._status(session, CLEAR)

    def flush(self, session: Any, mask: constants.BufferOperation) -> SC:
        return self._status(session, FLUSH)

    def read_stb(self, session: Any) -> tuple[int, SC]:
        t = self.source.take(self._name(session), READ_STB)
        value = int((t.detail or {}).get("value", 0)) if t is not None else 0
        return value, self.handle_return_value(session, t.status if t is not None else SC.success)

    def assert_trigger(self, session: Any, protocol: constants.TriggerProtocol) -> SC:
        return self._status(session, TRIGGER)

    # --- attributes: state, not checked ---------------------------------------------------------
    def get_attribute(self, session: Any, attribute: Any) -> tuple[Any, SC]:
        attrs = self._attrs.get(session)
        if attrs is None:
            return 0, SC.error_invalid_object
        key = int(attribute)
        if key in attrs:
            return attrs[key], SC.success
        if session in self._resource:
            value = self.source.initial_attribute(self._resource[session], key)
            if value is not None:
                return value, SC.success
        if attribute == constants.ResourceAttribute.timeout_value:
            return DEFAULT_TIMEOUT_MS, SC.success
        return 0, SC.success

    def set_attribute(self, session: Any, attribute: Any, attribute_state: Any) -> SC:
        attrs = self._attrs.get(session)
        if attrs is None:
            return SC.error_invalid_object
        attrs[int(attribute)] = attribute_state
        return SC.success


WRAPPER_CLASS = ReplayVisaLibrary
