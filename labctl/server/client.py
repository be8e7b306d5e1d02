"""``@labserver``: a pyvisa backend whose sessions live in an instrument server.

``pyvisa.ResourceManager("tcp://127.0.0.1:5557@labserver")`` talks to the instruments of the
server at that address, so labctl's drivers, qcodes, pymeasure or a plain pyvisa script work
through it unchanged. A query (a write whose commands all end with ``?``) is one round trip:
the server answers it with its replies, which this library hands out at the next reads. A
session's attributes (timeout, terminations) are kept here and travel with its next call.

:func:`hold_bench` takes the server's write lock for a run (and keeps it alive with a
heartbeat); the library sends its station time with every call so that the lab's virtual clock
follows the run holding the lock.
"""

from __future__ import annotations

import atexit
import json
import socket
import threading
import time
import uuid
import weakref
from collections import deque
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from pyvisa import constants, errors, highlevel
from pyvisa.util import LibraryPath

from labctl.clock import get_clock
from labctl.errors import LabctlError
from labctl.processes import process_identity
from labctl.server import wire

if TYPE_CHECKING:
    import zmq

SC = constants.StatusCode
BACKEND = "labserver"
REPLY_TIMEOUT_S = 60.0  # a server busy with another client's slow instrument still answers
HEARTBEAT_S = 3.0
CONNECT_TIMEOUT_S = 2.0
CLOSE_TIMEOUT_S = 5.0
WAIT_SLICE_S = 1.0  # between two looks whether the server still listens
_tokens: dict[str, str] = {}  # address url -> token given by a station file


_connections: weakref.WeakSet[Connection] = weakref.WeakSet()


@atexit.register
def _close_connections() -> None:
    # an open socket makes ZeroMQ's context wait at exit: a client must never hang there
    for connection in list(_connections):
        connection.close()


def library_string(address: wire.Address) -> str:
    return f"{address.url}@{BACKEND}"


def remember_token(address: wire.Address, token: str) -> None:
    """A token read from a station file: used by this process's libraries for ``address``."""
    _tokens[address.url] = token


class BenchRefused(LabctlError):
    """The server refused a call (wrong token, bench held by another client)."""


class Connection:
    """One request socket to a server; calls from several threads take turns."""

    def __init__(
        self, address: wire.Address, token: str, client_id: str, *, timed: bool = True
    ) -> None:
        self.address = address
        self.timed = timed  # carries station time both ways (not a heartbeat's thread)
        self.token = token
        self.client_id = client_id
        import zmq  # here: a run on a bench without a server never loads it

        self._zmq = zmq
        self.context = zmq.Context.instance()
        self._lock = threading.Lock()
        self._socket: zmq.Socket[bytes] | None = None
        _connections.add(self)

    def _connect(self) -> zmq.Socket[bytes]:
        socket = self._socket
        if socket is None:
            socket = self.context.socket(self._zmq.REQ)
            socket.setsockopt(self._zmq.LINGER, 0)
            socket.connect(self.address.url)
            self._socket = socket
        return socket

    def call(
        self, op: str, payload: bytes = b"", *, timeout_s: float = REPLY_TIMEOUT_S, **args: Any
    ) -> tuple[dict[str, Any], bytes]:
        clock = get_clock()
        timed = self.timed and getattr(clock, "virtual", False)
        if timed:
            args["t"] = clock.now()
        frames = wire.request(self.token, op, payload, c=self.client_id, **args)
        with self._lock:
            socket = self._connect()
            socket.send_multipart(frames)
            if not self._wait_reply(socket, timeout_s):
                socket.close()  # a REQ socket that missed its reply cannot send again
                self._socket = None
                raise LabctlError(
                    f"instrument server {self.address.url}: no answer within {timeout_s:g} s "
                    "(is it running? `labctl server status`)"
                )
            header_raw, payload = socket.recv_multipart()
        header = json.loads(header_raw)
        if "t" in header and timed:
            clock.advance_to(float(header["t"]))  # type: ignore[attr-defined]
        if "refused" in header:
            raise BenchRefused(f"instrument server {self.address.url}: {header['refused']}")
        return header, payload

    def _wait_reply(self, socket: zmq.Socket[bytes], timeout_s: float) -> bool:
        """Wait for the reply up to ``timeout_s``, in slices: a server that is gone (nobody
        listens any more) is reported at once, not after the whole timeout."""
        deadline = time.monotonic() + timeout_s
        while True:
            left_s = deadline - time.monotonic()
            if left_s <= 0:
                return False
            if socket.poll(int(min(left_s, WAIT_SLICE_S) * 1000)):
                return True
            try:
                check_listening(self.address)
            except LabctlError:
                socket.close()
                self._socket = None
                raise

    def close(self) -> None:
        with self._lock:
            if self._socket is not None:
                self._socket.close()
                self._socket = None


class _Session:
    def __init__(self, sid: int, resource: str) -> None:
        self.sid = sid
        self.resource = resource
        self.attrs: dict[int, Any] = {}
        self.dirty: dict[int, Any] = {}
        self.pending: deque[tuple[bytes, int]] = deque()

    def take_dirty(self) -> dict[str, Any]:
        dirty, self.dirty = self.dirty, {}
        return {str(k): v for k, v in dirty.items()}


class ServerVisaLibrary(highlevel.VisaLibraryBase):
    """A VISA library whose calls run in an instrument server."""

    connection: Connection
    _sessions: dict[int, _Session]

    @staticmethod
    def get_library_paths() -> Iterable[LibraryPath]:
        return (LibraryPath(f"tcp://{wire.LOOPBACK}:{wire.DEFAULT_PORT}", "default server"),)

    @staticmethod
    def get_debug_info() -> dict[str, str]:
        return {"Backend": "labserver (a labctl instrument server)"}

    def _init(self) -> None:
        address = wire.Address.parse(str(self.library_path), "labserver")
        check_listening(address)
        token = wire.token_for(address, _tokens.get(address.url))
        self.client_id = uuid.uuid4().hex
        self.connection = Connection(address, token, self.client_id)
        self._sessions = {}
        self._rm_sessions: set[int] = set()
        self._next_local = 1
        self._holding = 0
        self._heartbeat: threading.Event | None = None
        self.server = self.connection.call(
            "hello", identity=process_identity(), name="labserver client"
        )[0]

    @property
    def address(self) -> wire.Address:
        return self.connection.address

    # --- the write lock -----------------------------------------------------------------------
    def acquire(self, label: str, wait_s: float = 0.0) -> None:
        """Take the bench's write lock (re-entrant), waiting up to ``wait_s`` for it."""
        if self._holding:
            self._holding += 1
            return
        deadline = time.monotonic() + wait_s
        while True:
            try:
                self.connection.call("acquire", label=label, identity=process_identity())
                break
            except BenchRefused as exc:
                if time.monotonic() >= deadline:
                    waited = f" (waited {wait_s:g} s)" if wait_s > 0 else ""
                    raise BenchRefused(
                        f"{exc}{waited}; try again when it ends, or wait for it with the "
                        "station's server.wait_s"
                    ) from None
                time.sleep(0.2)
        self._holding = 1
        self._heartbeat = threading.Event()
        threading.Thread(
            target=self._beat, args=(self._heartbeat,), name="labserver-heartbeat", daemon=True
        ).start()

    def release(self) -> None:
        if self._holding > 1:
            self._holding -= 1
            return
        self._holding = 0
        if self._heartbeat is not None:
            self._heartbeat.set()
            self._heartbeat = None
        self.connection.call("release")

    def _beat(self, stop: threading.Event) -> None:
        beat = Connection(self.address, self.connection.token, self.client_id, timed=False)
        try:
            while not stop.wait(HEARTBEAT_S):
                try:
                    beat.call("heartbeat", timeout_s=HEARTBEAT_S * 3)
                except LabctlError:
                    pass  # the next call of the run says what is wrong
        finally:
            beat.close()

    # --- resource manager ----------------------------------------------------------------------
    def _local_id(self) -> int:
        self._next_local += 1
        return self._next_local

    def open_default_resource_manager(self) -> tuple[Any, SC]:
        session = self._local_id()
        self._rm_sessions.add(session)
        return session, SC.success

    def list_resources(self, session: int, query: str = "?*::INSTR") -> tuple[str, ...]:
        resources = self.connection.call("list", q=query)[0]["resources"]
        if not resources:
            raise errors.VisaIOError(SC.error_resource_not_found.value)
        return tuple(resources)

    def open(
        self,
        session: int,
        resource_name: str,
        access_mode: constants.AccessModes = constants.AccessModes.no_lock,
        open_timeout: int = constants.VI_TMO_IMMEDIATE,
    ) -> tuple[Any, SC]:
        header = self._call("open", session, resource=resource_name)
        if "visa_error" in header:
            return 0, self.handle_return_value(None, SC(header["visa_error"]))
        local = self._local_id()
        self._sessions[local] = _Session(int(header["session"]), resource_name)
        return local, SC.success

    def close(self, session: int) -> SC:
        if session in self._rm_sessions:
            self._rm_sessions.discard(session)
            return SC.success
        sess = self._sessions.pop(session, None)
        if sess is None:
            return SC.error_invalid_object
        try:
            self.connection.call("close", s=sess.sid, timeout_s=CLOSE_TIMEOUT_S)
        except LabctlError:
            pass  # a server that is gone or refuses us keeps no session of ours
        return SC.success

    # --- I/O -------------------------------------------------------------------------------------
    def _session(self, session: int) -> _Session:
        sess = self._sessions.get(session)
        if sess is None:
            raise errors.InvalidSession()
        return sess

    def _call(self, op: str, session: int, payload: bytes = b"", **args: Any) -> dict[str, Any]:
        return self._call_with_payload(op, session, payload, **args)[0]

    def _call_with_payload(
        self, op: str, session: int, payload: bytes = b"", **args: Any
    ) -> tuple[dict[str, Any], bytes]:
        sess = self._sessions.get(session)
        if sess is not None:
            args["s"] = sess.sid
            dirty = sess.take_dirty()
            if dirty:
                args["attrs"] = dirty
        return self.connection.call(op, payload, **args)

    def write(self, session: int, data: bytes) -> tuple[int, SC]:
        sess = self._session(session)
        header, replies = self._call_with_payload("write", session, bytes(data))
        if "visa_error" in header:
            return 0, self.handle_return_value(_visa(session), SC(header["visa_error"]))
        offset = 0
        for size, status in header.get("replies", []):
            sess.pending.append((replies[offset : offset + size], status))
            offset += size
        return int(header["count"]), SC.success

    def read(self, session: int, count: int) -> tuple[bytes, SC]:
        sess = self._session(session)
        if sess.pending:
            data, status = sess.pending.popleft()
            if status < 0:
                return b"", self.handle_return_value(_visa(session), SC(status))
            if len(data) > count:
                sess.pending.appendleft((data[count:], status))
                return data[:count], SC.success_max_count_read
            return data, SC(status)
        header, data = self._call_with_payload("read", session, n=count)
        if "visa_error" in header:
            return b"", self.handle_return_value(_visa(session), SC(header["visa_error"]))
        return data, SC(header["status"])

    def get_attribute(self, session: int, attribute: Any) -> tuple[Any, SC]:
        sess = self._sessions.get(session)
        if sess is None:
            return 0, SC.error_invalid_object
        if int(attribute) in sess.attrs:
            return sess.attrs[int(attribute)], SC.success
        header = self._call("get", session, a=int(attribute))
        if "visa_error" in header:
            return 0, SC(header["visa_error"])
        return header["value"], SC(header["status"])

    def set_attribute(self, session: int, attribute: Any, attribute_state: Any) -> SC:
        sess = self._sessions.get(session)
        if sess is None:
            return SC.error_invalid_object
        value = attribute_state
        if isinstance(value, bool | int) or hasattr(value, "__index__"):
            value = int(value) if not isinstance(value, bool) else value
        sess.attrs[int(attribute)] = value
        sess.dirty[int(attribute)] = value
        return SC.success

    def _forward(self, name: str, session: int, *args: Any) -> tuple[Any, SC]:
        header = self._call("call", session, name=name, args=[_plain(a) for a in args])
        if "visa_error" in header:
            return None, self.handle_return_value(_visa(session), SC(header["visa_error"]))
        return header.get("value"), SC(header["status"])

    def clear(self, session: int) -> SC:
        self._session(session).pending.clear()
        return self._forward("clear", session)[1]

    def flush(self, session: int, mask: constants.BufferOperation) -> SC:
        self._session(session).pending.clear()
        return self._forward("flush", session, mask)[1]

    def read_stb(self, session: int) -> tuple[int, SC]:
        value, status = self._forward("read_stb", session)
        return int(value or 0), status

    def assert_trigger(self, session: int, protocol: constants.TriggerProtocol) -> SC:
        return self._forward("assert_trigger", session, protocol)[1]

    def gpib_control_ren(self, session: int, mode: Any) -> SC:
        return self._forward("gpib_control_ren", session, mode)[1]

    def lock(self, session: int, lock_type: Any, timeout: int, requested_key: Any = None):
        return "", SC.success  # the server's write lock is the lock that counts

    def unlock(self, session: int) -> SC:
        return SC.success

    def enable_event(self, session: int, event_type: Any, mechanism: Any, context: Any = None):
        return SC.success

    def disable_event(self, session: int, event_type: Any, mechanism: Any) -> SC:
        return SC.success

    def discard_events(self, session: int, event_type: Any, mechanism: Any) -> SC:
        return SC.success


def _visa(session: int) -> Any:
    """A session number as pyvisa's typed session (a NewType of int)."""
    return session


def _plain(value: Any) -> Any:
    return int(value) if hasattr(value, "__index__") and not isinstance(value, bool) else value


def check_listening(address: wire.Address, timeout_s: float = CONNECT_TIMEOUT_S) -> None:
    """One line at once when nobody listens at ``address`` (ZeroMQ would wait in silence)."""
    try:
        with socket.create_connection((address.host.strip("[]"), address.port), timeout_s):
            pass
    except OSError as exc:
        reason = "no answer" if isinstance(exc, TimeoutError) else exc.strerror or str(exc)
        raise LabctlError(
            f"instrument server {address.url}: {reason}; is it running? (`labctl server "
            f"status --port {address.port}` on its host)"
        ) from None


# --- for runs ----------------------------------------------------------------------------------
def served_library(visa_library: str) -> ServerVisaLibrary | None:
    """The server client behind a station's VISA library string (recording or not), if any."""
    from labctl.recording.libspec import underlying_of

    library = underlying_of(visa_library)
    if not library.endswith("@" + BACKEND):
        return None
    opened = highlevel.open_visa_library(library)
    assert isinstance(opened, ServerVisaLibrary)
    return opened


@contextmanager
def hold_bench(visa_library: str, label: str, wait_s: float = 0.0) -> Iterator[None]:
    """Hold the write lock of the server behind ``visa_library`` (nothing for other libraries)."""
    library = served_library(visa_library)
    if library is None:
        yield
        return
    library.acquire(label, wait_s)
    try:
        yield
    finally:
        try:
            library.release()
        except LabctlError:
            pass  # a server that is gone holds no lock
