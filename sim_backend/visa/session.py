"""One open VISA session on a twin: message framing, terminations, timeouts, faults.

Writes are split into messages at LF, CR LF or a trailing CR (and at END for GPIB/VXI-11
writes); each message is one transaction for fault injection, then goes to the twin. Reads hand
out one reply at a time, framed with the instrument's terminator — or with the client's
termination character when the instrument's terminator does not end with it, as a real
instrument configured for that terminator would.
"""

from __future__ import annotations

import random
import re
from collections import deque
from typing import TYPE_CHECKING, Any

from pyvisa import attributes, constants, rname

from labctl.clock import get_clock
from sim_backend import faults
from sim_backend.commands.base import Twin

if TYPE_CHECKING:
    from sim_backend.lab import Lab

SC = constants.StatusCode
RA = constants.ResourceAttribute
_LINES = re.compile(r"\r\n|\n|\r")
# VISA viFlush mask bits (VPP-4.3 §6.4.1)
_READ_BUF, _WRITE_BUF, _READ_BUF_DISCARD, _WRITE_BUF_DISCARD = 1, 2, 4, 8
_IO_IN_BUF, _IO_OUT_BUF, _IO_IN_BUF_DISCARD, _IO_OUT_BUF_DISCARD = 16, 32, 64, 128
_EOM_INTERFACES = (constants.InterfaceType.gpib, constants.InterfaceType.vxi)


class LabSession:
    """A message-based session on one twin."""

    def __init__(self, rm_session: int, parsed: rname.ResourceName, lab: Lab, twin: Twin) -> None:
        self.parsed = parsed
        self.resource = str(parsed)
        self.lab = lab
        self.twin = twin
        self.session_type = (parsed.interface_type_const, parsed.resource_class)
        self.attrs: dict[Any, Any] = {
            RA.resource_manager_session: rm_session,
            RA.resource_name: self.resource,
            RA.resource_class: parsed.resource_class,
            RA.interface_type: parsed.interface_type_const,
            RA.interface_number: int(getattr(parsed, "board", 0) or 0),
        }
        self.inbuf = ""
        self.pending = b""
        self.greeting: deque[str] = deque(twin.greeting)
        self.fresh = True
        self.dropped = False
        self.termchar = "\n"
        self._termchar_byte = b"\n"
        self.termchar_enabled = False
        self.timeout_ms: float = 2000.0
        self.encoding = "latin-1"
        self.rng = random.Random(hash(self.resource) & 0xFFFF)
        self.eom_on_write = parsed.interface_type_const in _EOM_INTERFACES or (
            parsed.interface_type_const == constants.InterfaceType.tcpip
            and parsed.resource_class == "INSTR"
        )

    # --- attributes -----------------------------------------------------------------------
    def get_attribute(self, attribute: Any) -> tuple[Any, SC]:
        attr = attributes.AttributesByID.get(attribute)
        if attr is None or not attr.in_resource(self.session_type):
            return 0, SC.error_nonsupported_attribute
        if attribute == RA.timeout_value:
            return self.timeout_ms, SC.success
        return self.attrs.setdefault(attribute, attr.default), SC.success

    def set_attribute(self, attribute: Any, value: Any) -> SC:
        attr = attributes.AttributesByID.get(attribute)
        if attr is None or not attr.in_resource(self.session_type):
            return SC.error_nonsupported_attribute
        if not attr.write:
            return SC.error_attribute_read_only
        self.attrs[attribute] = value
        if attribute == RA.termchar:
            self.termchar = chr(value)
            self._termchar_byte = bytes([value])
        elif attribute == RA.termchar_enabled:
            self.termchar_enabled = bool(value)
        elif attribute == RA.timeout_value:
            self.timeout_ms = float(value)
        return SC.success

    # --- I/O ------------------------------------------------------------------------------
    def write(self, data: bytes) -> tuple[int, SC]:
        if self.dropped:
            return 0, SC.error_connection_lost
        self.fresh = False
        self.greeting.clear()
        text = self.inbuf + data.decode(self.encoding, errors="replace")
        if text.endswith(("\n", "\r")) or self.eom_on_write:
            lines, self.inbuf = _LINES.split(text), ""
        else:
            *lines, self.inbuf = _LINES.split(text)
        for line in lines:
            if line.strip():
                self._transaction(line)
                if self.dropped:
                    return 0, SC.error_connection_lost
        return len(data), SC.success

    def _transaction(self, line: str) -> None:
        twin = self.twin
        fault = faults.next_fault(self.resource)
        if fault is None:
            self.lab.sync()
            self.lab.deliver(twin, line)
            return
        kind = fault.kind
        if kind == "timeout":
            return
        if kind == "dropped":
            self.dropped = True
            return
        if kind == "compliance":
            self.lab.sync()
            twin.force_compliance()
        before = len(twin.output)
        self.lab.sync()
        self.lab.deliver(twin, line)
        if kind == "error":
            twin.push_error(fault.code, fault.message)
        elif kind in ("garbled", "truncated") and len(twin.output) > before:
            reply = twin.output.pop()
            if kind == "garbled":
                twin.output.append(faults.garble(reply, fault.rng))
            else:
                twin.output.append("\x00TRUNC" + reply[: max(1, len(reply) // 2)])

    def read(self, count: int) -> tuple[bytes, SC]:
        if self.dropped:
            return b"", SC.error_connection_lost
        if not self.pending:
            payload = self._next_payload()
            if payload is None:
                return b"", self._timeout()
            self.pending = payload
        data = self.pending
        end = len(data)
        if self.termchar_enabled:
            stop = data.find(self._termchar_byte)
            if stop >= 0:
                end = stop + 1
        end = min(end, count)
        chunk, self.pending = data[:end], data[end:]
        if self.termchar_enabled and chunk.endswith(self._termchar_byte):
            return chunk, SC.success_termination_character_read
        if self.pending:
            return chunk, SC.success_max_count_read
        return chunk, SC.success

    def _next_payload(self) -> bytes | None:
        if self.greeting:  # only still there while nothing was written
            return self._frame(self.greeting.popleft())
        output = self.twin.output
        if not output:
            return None
        reply = output.popleft()
        if reply.startswith("\x00TRUNC"):
            return reply[6:].encode(self.encoding, errors="replace")
        return self._frame(reply)

    def _frame(self, reply: str) -> bytes:
        end = self.twin.reply_terminator
        if self.termchar_enabled and not end.endswith(self.termchar):
            end = self.termchar
        return (reply + end).encode(self.encoding, errors="replace")

    def _timeout(self) -> SC:
        """No reply pending: a real read waits the timeout out; the lab's clock does too."""
        clock = get_clock()
        if getattr(clock, "virtual", False) and self.timeout_ms != float("inf"):
            clock.sleep(self.timeout_ms / 1000.0)
        return SC.error_timeout

    # --- control --------------------------------------------------------------------------
    def clear(self) -> SC:
        if self.dropped:
            return SC.error_connection_lost
        self.pending = b""
        self.inbuf = ""
        self.twin.device_clear()
        return SC.success

    def flush(self, mask: int) -> SC:
        if self.dropped:
            return SC.error_connection_lost
        if mask & (_READ_BUF | _READ_BUF_DISCARD | _IO_IN_BUF | _IO_IN_BUF_DISCARD):
            self.pending = b""
            self.twin.output.clear()
        if mask & (_WRITE_BUF_DISCARD | _IO_OUT_BUF_DISCARD):
            self.inbuf = ""
        return SC.success

    def read_stb(self) -> tuple[int, SC]:
        if self.dropped:
            return 0, SC.error_connection_lost
        return self.twin.status_byte(), SC.success

    def assert_trigger(self) -> SC:
        if self.dropped:
            return SC.error_connection_lost
        self.lab.sync()
        self.twin.trigger()
        return SC.success
