"""The instrument server: one process owns a station's VISA sessions and serves them to clients.

Clients (labctl runs, monitors, notebooks, any pyvisa script through ``@labserver``) send VISA
calls over a ZeroMQ ROUTER socket; the server runs them one at a time on its own sessions, one
per instrument, whoever asked. Each client session keeps its own attributes (timeout,
terminations), applied to the instrument's session before each of its calls.

Who may change the bench: one client at a time holds the write lock (a run takes it for its
whole duration, :func:`labctl.server.client.hold_bench`). While it is held, other clients may
only *query*: a write whose every command is a query (``RDGFIELD?``, ``CURR?; OUTP?``) is run
together with the read of its replies as one step, so it never takes a reply owed to the run,
and the replies go back with the write's answer. Any other write, a device clear, a trigger,
is refused with one line naming the holder. A lock whose holder died (same host) or went
silent for :data:`LEASE_S` is taken back.

Time: on a virtual-clock station the server keeps the lab's clock. The lock holder's requests
carry its station time and move the lab's clock forward to it (never back); every answer
carries the lab's time back. Readers never move it, so a monitor cannot change what a run
measures.

Limitation: a reader's query and a run's own write-then-read of a reply that was not asked for
with ``?`` (a TSP ``print(...)``) on the same instrument can still cross; such replies are for
the run only.
"""

from __future__ import annotations

import json
import logging
import os
import re
import signal
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import zmq
from pyvisa import constants, errors, highlevel

from labctl.clock import VirtualClock, WallClock, set_clock
from labctl.errors import LabctlError
from labctl.processes import process_gone
from labctl.server import wire
from labctl.station import Station

log = logging.getLogger(__name__)
SC = constants.StatusCode
LEASE_S = 15.0  # a lock holder silent this long (no call, no heartbeat) has lost the lock
_LINES = re.compile(r"\r\n|\n|\r")
_DONE = (SC.success, SC.success_termination_character_read)
# calls a client that does not hold the lock may make: they change nothing on the bench
READ_CALLS = frozenset({"read_stb", "list_resources", "get_attribute"})
FORWARDED_CALLS = frozenset(
    {"clear", "flush", "read_stb", "assert_trigger", "gpib_control_ren", "lock", "unlock"}
)


def is_query(text: str) -> bool:
    """Every command of every message is a query (its header ends with ``?``)."""
    commands = [c.strip() for line in _LINES.split(text) for c in line.split(";")]
    commands = [c for c in commands if c]
    return bool(commands) and all(c.split(None, 1)[0].endswith("?") for c in commands)


def query_count(text: str) -> int:
    """Replies a query write asks for: one per message (``A?;B?`` is answered on one line)."""
    return sum(1 for line in _LINES.split(text) if line.strip())


@dataclass
class Device:
    """The server's one session on an instrument and the attributes applied to it."""

    resource: str
    session: Any
    applied: dict[int, Any] = field(default_factory=dict)


@dataclass
class ClientSession:
    client: str
    device: Device
    attrs: dict[int, Any] = field(default_factory=dict)


@dataclass
class Holder:
    client: str
    label: str
    identity: dict[str, Any]
    since: float
    seen: float

    def describe(self) -> str:
        where = f"pid {self.identity.get('pid')} on {self.identity.get('host')}"
        return (
            f"{self.label} ({where}) since {time.strftime('%H:%M:%S', time.localtime(self.since))}"
        )


class Refused(Exception):
    """A call this client may not make now; the message is the whole story."""


class InstrumentServer:
    def __init__(
        self,
        station: Station,
        address: wire.Address,
        token: str,
        *,
        allow_remote: bool = False,
    ) -> None:
        if not wire.is_loopback(address.host) and not allow_remote:
            raise LabctlError(
                f"instrument server: {address.host} is not a loopback address; binding there "
                "lets other hosts reach the bench: pass --allow-remote to mean it"
            )
        if not wire.is_loopback(address.host):
            log.warning(
                "instrument server: listening on %s, reachable from other hosts (token required)",
                address.url,
            )
        self.station = station
        self.address = address
        self.token = token
        self.clock = VirtualClock() if station.clock == "virtual" else WallClock()
        # installed before the library opens: a simulated lab starts on the station's clock
        self._previous_clock = set_clock(self.clock)
        self.library = highlevel.open_visa_library(station.visa_library)
        self.rm_session, _ = self.library.open_default_resource_manager()
        self.devices: dict[str, Device] = {}
        self.sessions: dict[int, ClientSession] = {}
        self.clients: dict[str, dict[str, Any]] = {}
        self.holder: Holder | None = None
        self.requests = 0
        self.started = time.time()
        self._next_session = 1
        self._running = False
        self.context = zmq.Context()
        self.socket = self.context.socket(zmq.ROUTER)
        self.socket.setsockopt(zmq.LINGER, 0)
        try:
            self.socket.bind(address.url)
        except zmq.ZMQError as exc:
            self.close()
            raise LabctlError(f"instrument server: cannot listen on {address.url}: {exc}") from None

    # --- the loop ---------------------------------------------------------------------------
    def serve(self) -> None:
        """Answer requests until ``stop`` (or SIGTERM / SIGINT)."""
        self._running = True
        main = threading.current_thread() is threading.main_thread()
        handlers = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT) if main}
        for sig in handlers:
            signal.signal(sig, self._on_signal)
        poller = zmq.Poller()
        poller.register(self.socket, zmq.POLLIN)
        try:
            while self._running:
                if not poller.poll(200):
                    continue
                frames = self.socket.recv_multipart()
                self.socket.send_multipart([*frames[:2], *self.answer(frames[2:])])
        finally:
            for sig, handler in handlers.items():
                signal.signal(sig, handler)
            self.close()

    def _on_signal(self, signum: int, frame: Any) -> None:
        self._running = False

    def close(self) -> None:
        for device in self.devices.values():
            try:
                self.library.close(device.session)
            except Exception:  # the server is going: a session that will not close is gone too
                pass
        self.devices.clear()
        try:
            self.library.close(self.rm_session)
        except Exception:
            pass
        self.socket.close()
        self.context.term()
        set_clock(self._previous_clock)

    def answer(self, frames: list[bytes]) -> list[bytes]:
        """One request ``[token, header, payload]`` -> ``[header, payload]``."""
        if len(frames) != 3 or not wire.token_matches(frames[0], self.token):
            log.warning("instrument server: a request without the right token was refused")
            return wire.reply(refused="token refused: this server needs its token")
        try:
            header = json.loads(frames[1])
            op = str(header["op"])
        except (ValueError, KeyError, TypeError):
            return wire.reply(refused="malformed request")
        self.requests += 1
        client = str(header.get("c", ""))
        if self.holder is not None and self.holder.client == client:
            self.holder.seen = time.monotonic()
            if header.get("t") is not None and isinstance(self.clock, VirtualClock):
                self.clock.advance_to(float(header["t"]))
        try:
            payload, fields = getattr(self, f"op_{op}")(client, header, frames[2])
        except AttributeError:
            return wire.reply(refused=f"unknown operation {op!r}")
        except Refused as exc:
            return wire.reply(refused=str(exc), t=self.clock.now())
        except errors.VisaIOError as exc:
            return wire.reply(visa_error=int(exc.error_code), t=self.clock.now())
        if self.holder is not None and self.holder.client == client:
            self.holder.seen = time.monotonic()
        return wire.reply(payload, t=self.clock.now(), **fields)

    # --- the lock -----------------------------------------------------------------------------
    def _holder_lost(self) -> bool:
        holder = self.holder
        if holder is None:
            return False
        gone = process_gone(holder.identity)
        silent = time.monotonic() - holder.seen > LEASE_S
        if gone or silent:
            why = "its process is gone" if gone else f"silent for {LEASE_S:g} s"
            log.warning("instrument server: lock of %s taken back: %s", holder.describe(), why)
            self.holder = None
            return True
        return False

    def _may_write(self, client: str, what: str) -> None:
        if self.holder is None or self.holder.client == client or self._holder_lost():
            return
        raise Refused(
            f"{what} refused: the bench is held by {self.holder.describe()}; "
            "until it is released this client may only query"
        )

    def op_hello(self, client: str, header: dict[str, Any], payload: bytes) -> Any:
        self.clients[client] = {"identity": header.get("identity", {}), "name": header.get("name")}
        return b"", {
            "station": self.station.name,
            "clock": self.station.clock,
            "version": wire.PROTOCOL_VERSION,
        }

    def op_acquire(self, client: str, header: dict[str, Any], payload: bytes) -> Any:
        if self.holder is not None and self.holder.client != client and not self._holder_lost():
            raise Refused(f"the bench is held by {self.holder.describe()}")
        now = time.monotonic()
        identity = header.get("identity") or self.clients.get(client, {}).get("identity", {})
        self.holder = Holder(client, str(header.get("label", client)), identity, time.time(), now)
        if header.get("t") is not None and isinstance(self.clock, VirtualClock):
            self.clock.advance_to(float(header["t"]))
        return b"", {}

    def op_release(self, client: str, header: dict[str, Any], payload: bytes) -> Any:
        if self.holder is not None and self.holder.client == client:
            self.holder = None
        return b"", {}

    def op_heartbeat(self, client: str, header: dict[str, Any], payload: bytes) -> Any:
        return b"", {}

    def op_status(self, client: str, header: dict[str, Any], payload: bytes) -> Any:
        if self.holder is not None:
            self._holder_lost()
        return b"", {
            "station": self.station.name,
            "station_file": self.station.path,
            "visa_library": self.station.visa_library,
            "address": self.address.url,
            "pid": os.getpid(),
            "up_s": time.time() - self.started,
            "requests": self.requests,
            "clients": len(self.clients),
            "instruments": sorted(self.devices),
            "holder": self.holder.describe() if self.holder else None,
        }

    def op_station(self, client: str, header: dict[str, Any], payload: bytes) -> Any:
        """The station's own file, for a client station that names this server."""
        from labctl.station import dump_station

        return dump_station(self.station).encode(), {"path": self.station.path}

    def op_stop(self, client: str, header: dict[str, Any], payload: bytes) -> Any:
        holder = self.holder
        if holder is not None and holder.client != client and not self._holder_lost():
            raise Refused(
                f"not stopped: the bench is held by {holder.describe()}; stop the server "
                "when it ends (a run's safe state needs it)"
            )
        self._running = False
        return b"", {}

    # --- VISA ---------------------------------------------------------------------------------
    def op_list(self, client: str, header: dict[str, Any], payload: bytes) -> Any:
        return b"", {"resources": list(self.library.list_resources(self.rm_session, header["q"]))}

    def op_open(self, client: str, header: dict[str, Any], payload: bytes) -> Any:
        resource = str(header["resource"])
        device = self.devices.get(resource)
        if device is None:
            session, _ = self.library.open(self.rm_session, resource)
            device = self.devices[resource] = Device(resource, session)
        sid = self._next_session
        self._next_session += 1
        self.sessions[sid] = ClientSession(client, device)
        return b"", {"session": sid}

    def op_close(self, client: str, header: dict[str, Any], payload: bytes) -> Any:
        self.sessions.pop(int(header["s"]), None)
        return b"", {}

    def _session(self, client: str, header: dict[str, Any]) -> ClientSession:
        session = self.sessions.get(int(header["s"]))
        if session is None or session.client != client:
            raise errors.VisaIOError(SC.error_invalid_object.value)
        for key, value in (header.get("attrs") or {}).items():
            session.attrs[int(key)] = value
        device = session.device
        for attribute, value in session.attrs.items():
            if device.applied.get(attribute, _UNSET) != value:
                self.library.set_attribute(device.session, _attribute(attribute), value)
                device.applied[attribute] = value
        return session

    def op_write(self, client: str, header: dict[str, Any], payload: bytes) -> Any:
        session = self._session(client, header)
        device = session.device
        text = payload.decode("latin-1")
        if not is_query(text):
            self._may_write(client, f"{device.resource}: {text.strip()[:40]!r}")
            count, _ = self.library.write(device.session, payload)
            return b"", {"count": count}
        count, _ = self.library.write(device.session, payload)
        replies: list[list[Any]] = []
        blobs: list[bytes] = []
        for _ in range(query_count(text)):
            try:
                data, status = self._read_reply(device)
            except errors.VisaIOError as exc:
                replies.append([0, int(exc.error_code)])
                break
            replies.append([len(data), int(status)])
            blobs.append(data)
        return b"".join(blobs), {"count": count, "replies": replies}

    def _read_reply(self, device: Device) -> tuple[bytes, SC]:
        """One whole reply: up to the termination character or END."""
        chunks = []
        while True:
            data, status = self.library.read(device.session, 1 << 16)
            chunks.append(bytes(data))
            if status in _DONE:
                return b"".join(chunks), status
            if status != SC.success_max_count_read:
                return b"".join(chunks), status

    def op_read(self, client: str, header: dict[str, Any], payload: bytes) -> Any:
        session = self._session(client, header)
        data, status = self.library.read(session.device.session, int(header["n"]))
        return bytes(data), {"status": int(status)}

    def op_get(self, client: str, header: dict[str, Any], payload: bytes) -> Any:
        session = self._session(client, header)
        value, status = self.library.get_attribute(
            session.device.session, _attribute(int(header["a"]))
        )
        if isinstance(value, bytes):
            value = value.decode("latin-1")
        return b"", {"value": value if _jsonable(value) else str(value), "status": int(status)}

    def op_call(self, client: str, header: dict[str, Any], payload: bytes) -> Any:
        name = str(header["name"])
        if name not in FORWARDED_CALLS:
            raise Refused(f"{name} is not served")
        session = self._session(client, header)
        if name not in READ_CALLS:
            self._may_write(client, f"{session.device.resource}: {name}")
        result = getattr(self.library, name)(session.device.session, *header.get("args", []))
        if isinstance(result, tuple):
            value, status = result
            return b"", {"value": value if _jsonable(value) else None, "status": int(status)}
        return b"", {"status": int(result)}


_UNSET = object()


def _attribute(attribute: int) -> Any:
    """An attribute id as pyvisa's enum (unknown ids pass through: the library says no)."""
    try:
        return constants.ResourceAttribute(attribute)
    except ValueError:
        return attribute


def _jsonable(value: Any) -> bool:
    return value is None or isinstance(value, bool | int | float | str)
