"""``@labrec``: a VISA library that forwards every call to the real one and logs it.

Sessions are the underlying library's own, so status bookkeeping (last status, ignored
warnings) stays where the underlying library keeps it. Each logged call costs two
``perf_counter`` reads, one station-clock read and a tuple append: the hot path (``read`` and
``write``) is written out by hand for that reason; the rarer calls go through ``_logged``.

Where the log goes: a key in the library string names a :class:`Recording` registered by
labctl (one per run); without a key (a plain pyvisa script, ``PYVISA_LIBRARY=@py@labrec``) the
traffic is streamed into ``$LABREC_FILE`` (default ``labrec.db``) under the next free id.
"""

from __future__ import annotations

import atexit
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from time import perf_counter
from typing import Any

from pyvisa import constants, errors, highlevel, rname
from pyvisa.util import LibraryPath

from labctl.clock import get_clock
from labctl.recording import libspec
from labctl.recording.traffic import (
    CALL,
    CLEAR,
    CLOSE,
    FLUSH,
    GET_ATTR,
    NO_RESOURCE,
    OPEN,
    READ,
    READ_STB,
    SET_ATTR,
    TRIGGER,
    WRITE,
    Recording,
)

SC = constants.StatusCode
ENV_UNDERLYING = "LABREC_UNDERLYING"
ENV_FILE = "LABREC_FILE"
DEFAULT_FILE = "labrec.db"
# Logged and forwarded as "call" (name and arguments in the detail); replay answers success.
FORWARDED_CALLS = (
    "lock",
    "unlock",
    "gpib_control_ren",
    "gpib_control_atn",
    "gpib_command",
    "gpib_send_ifc",
    "gpib_pass_control",
    "enable_event",
    "disable_event",
    "discard_events",
    "wait_on_event",
    "install_handler",
    "uninstall_handler",
    "assert_interrupt_signal",
    "assert_utility_signal",
    "set_buffer",
    "usb_control_in",
    "usb_control_out",
    "vxi_command_query",
    "terminate",
)


def _jsonable(value: Any) -> Any:
    if isinstance(value, bool | int | float | str) or value is None:
        return int(value) if isinstance(value, int) and not isinstance(value, bool) else value
    if isinstance(value, bytes):
        return value.decode("latin-1")
    return repr(value)


def _status_of(result: Any) -> int:
    status = result[-1] if isinstance(result, tuple) else result
    try:
        return int(status)
    except (TypeError, ValueError):  # e.g. wait_on_event's response object
        return 0


def script_recording(underlying: str) -> Recording:
    """A recording for a plain pyvisa script, streamed to ``$LABREC_FILE`` until exit."""
    from labctl.recording.store import TrafficStore

    recording = Recording(underlying, {"script": True, "cwd": os.getcwd()})
    store = TrafficStore(recording, Path(os.environ.get(ENV_FILE, DEFAULT_FILE)), None)
    atexit.register(store.close)
    return recording


class RecordingVisaLibrary(highlevel.VisaLibraryBase):
    """Forwards to the library named in its path and logs every call into a Recording."""

    underlying: highlevel.VisaLibraryBase
    recording: Recording

    @staticmethod
    def get_library_paths() -> Iterable[LibraryPath]:
        return (LibraryPath(os.environ.get(ENV_UNDERLYING, "") or "<unset>", ENV_UNDERLYING),)

    @staticmethod
    def get_debug_info() -> dict[str, str]:
        return {"Backend": "labrec (records the library underneath)"}

    def _init(self) -> None:
        underlying, key = libspec.split_key(str(self.library_path))
        if underlying in ("", "<unset>"):
            raise OSError(
                "labrec: name the VISA library to record, e.g. '@py@labrec' or "
                f"PYVISA_LIBRARY=@labrec with {ENV_UNDERLYING}=@py"
            )
        if underlying.rpartition("@")[2] == libspec.RECORD_BACKEND:
            raise OSError(f"labrec: {underlying!r} records a recording library")
        self.underlying = highlevel.open_visa_library(underlying)
        self.recording = libspec.lookup(key) if key else script_recording(underlying)
        self._session_resource: dict[int, int] = {}
        self._append = self.recording.log.append
        self._read = self.underlying.read
        self._write = self.underlying.write
        for name in FORWARDED_CALLS:
            setattr(self, name, self._forwarder(name))

    # --- pyvisa bookkeeping lives in the underlying library -------------------------------
    @property
    def last_status(self) -> SC:  # type: ignore[override]
        return self.underlying.last_status

    def get_last_status_in_session(self, session: Any) -> SC:
        return self.underlying.get_last_status_in_session(session)

    def ignore_warning(self, session: Any, *warnings_constants: SC) -> Any:
        return self.underlying.ignore_warning(session, *warnings_constants)

    def parse_resource_extended(self, session: Any, resource_name: str) -> Any:
        return self.underlying.parse_resource_extended(session, resource_name)

    def list_resources(self, session: Any, query: str = "?*::INSTR") -> tuple[str, ...]:
        return self.underlying.list_resources(session, query)

    # --- logging -----------------------------------------------------------------------------
    def _logged(self, op: str, session: Any, call: Callable[[], Any], detail: Any = None) -> Any:
        res = self._session_resource.get(session, NO_RESOURCE)
        t0 = perf_counter()
        try:
            result = call()
        except errors.VisaIOError as exc:
            self._log(op, res, None, exc.error_code, t0, detail)
            raise
        status = _status_of(result)
        if op in (READ_STB, GET_ATTR):
            detail = {**(detail or {}), "value": _jsonable(result[0])}
        self._log(op, res, None, status, t0, detail)
        return result

    def _log(
        self, op: str, res: int, data: bytes | None, status: Any, t0: float, detail: Any = None
    ) -> None:
        """One traffic event: lab-clock time, host start and host duration since ``t0``."""
        self._append((op, res, data, status, get_clock().now(), t0, perf_counter() - t0, detail))

    def _forwarder(self, name: str) -> Callable[..., Any]:
        target = getattr(self.underlying, name)

        def forward(session: Any, *args: Any, **kwargs: Any) -> Any:
            detail = {"name": name, "args": [_jsonable(a) for a in args]}
            return self._logged(CALL, session, lambda: target(session, *args, **kwargs), detail)

        return forward

    # --- resource manager and sessions -----------------------------------------------------------
    def open_default_resource_manager(self) -> tuple[int, SC]:
        return self.underlying.open_default_resource_manager()

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
            canonical = resource_name
        res = self.recording.resource_index(canonical)
        t0 = perf_counter()
        try:
            new_session, status = self.underlying.open(
                session, resource_name, access_mode, open_timeout
            )
        except errors.VisaIOError as exc:
            self._log(OPEN, res, None, exc.error_code, t0)
            raise
        self._log(OPEN, res, None, int(status), t0)
        if status >= 0:
            self._session_resource[new_session] = res
        return new_session, status

    def close(self, session: Any) -> SC:
        if session not in self._session_resource:  # the resource manager's session
            return self.underlying.close(session)
        status = self._logged(CLOSE, session, lambda: self.underlying.close(session))
        self._session_resource.pop(session, None)
        return status

    # --- message I/O: the hot path ----------------------------------------------------------------
    def write(self, session: Any, data: bytes) -> tuple[int, SC]:
        res = self._session_resource.get(session, NO_RESOURCE)
        t0 = perf_counter()
        try:
            count, status = self._write(session, data)
        except errors.VisaIOError as exc:
            self._log(WRITE, res, bytes(data), exc.error_code, t0)
            raise
        self._log(WRITE, res, bytes(data), status, t0)
        return count, status

    def read(self, session: Any, count: int) -> tuple[bytes, SC]:
        res = self._session_resource.get(session, NO_RESOURCE)
        t0 = perf_counter()
        try:
            data, status = self._read(session, count)
        except errors.VisaIOError as exc:
            self._log(READ, res, b"", exc.error_code, t0)
            raise
        self._log(READ, res, bytes(data), status, t0)
        return data, status

    # --- the other logged operations -----------------------------------------------------------
    def clear(self, session: Any) -> SC:
        return self._logged(CLEAR, session, lambda: self.underlying.clear(session))

    def flush(self, session: Any, mask: constants.BufferOperation) -> SC:
        detail = {"mask": int(mask)}
        return self._logged(FLUSH, session, lambda: self.underlying.flush(session, mask), detail)

    def read_stb(self, session: Any) -> tuple[int, SC]:
        return self._logged(READ_STB, session, lambda: self.underlying.read_stb(session))

    def assert_trigger(self, session: Any, protocol: constants.TriggerProtocol) -> SC:
        detail = {"protocol": int(protocol)}
        call = lambda: self.underlying.assert_trigger(session, protocol)  # noqa: E731
        return self._logged(TRIGGER, session, call, detail)

    def get_attribute(self, session: Any, attribute: Any) -> tuple[Any, SC]:
        detail = {"attribute": int(attribute)}
        call = lambda: self.underlying.get_attribute(session, attribute)  # noqa: E731
        return self._logged(GET_ATTR, session, call, detail)

    def set_attribute(self, session: Any, attribute: Any, attribute_state: Any) -> SC:
        detail = {"attribute": int(attribute), "value": _jsonable(attribute_state)}
        call = lambda: self.underlying.set_attribute(session, attribute, attribute_state)  # noqa: E731
        return self._logged(SET_ATTR, session, call, detail)


WRAPPER_CLASS = RecordingVisaLibrary
