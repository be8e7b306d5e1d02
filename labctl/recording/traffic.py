"""The VISA traffic of one run, in memory: what the recording library appends to.

One transaction is one call into the VISA library, kept as a plain tuple so that logging it
costs an ``append`` (see :data:`Entry`). Resources are numbered in the order they were opened;
``resources[i]`` is the canonical VISA name of resource ``i``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from labctl.clock import get_clock

# Operations. "Checked" ones are matched one by one in strict replay; the others are logged
# (attribute changes, locks, events) and answered from state.
OPEN, CLOSE = "open", "close"
WRITE, READ = "write", "read"
CLEAR, FLUSH, READ_STB, TRIGGER = "clear", "flush", "read_stb", "assert_trigger"
SET_ATTR, GET_ATTR, CALL = "set_attr", "get_attr", "call"
CHECKED_OPS = frozenset({WRITE, READ, CLEAR, FLUSH, READ_STB, TRIGGER})
OPS = (OPEN, CLOSE, WRITE, READ, CLEAR, FLUSH, READ_STB, TRIGGER, SET_ATTR, GET_ATTR, CALL)
OP_CODES = {op: code for code, op in enumerate(OPS)}  # stored as one byte per transaction

# (op, resource index, data bytes, status, t_station_s, t_perf_s, duration_s, detail)
#   data:   command bytes (write), reply bytes (read), None otherwise
#   status: the VISA status code (negative: an error, the call raised VisaIOError)
#   detail: JSON-able extra (attribute and value, flush mask, STB value, the name of a call)
Entry = tuple[str, int, "bytes | None", int, float, float, float, Any]
NO_RESOURCE = -1  # the resource manager session
# Once stored, an entry is replaced by None in ``Recording.log`` (positions stay valid), so a
# long run keeps 8 bytes per stored transaction in memory.


@dataclass
class Transaction:
    """One stored transaction (what :mod:`labctl.recording.store` reads back)."""

    seq: int  # 1-based position in the run's traffic
    resource: str
    op: str
    data: bytes | None
    status: int
    detail: Any
    t_station_s: float
    t_wall_s: float
    duration_s: float

    def describe(self) -> str:
        """``write b'CURR 1.5\\n'`` — how a divergence report names it."""
        if self.op in (WRITE, READ):
            return f"{self.op} {self.data!r}"
        if self.detail not in (None, {}):
            return f"{self.op} {json.dumps(self.detail, default=str)}"
        return self.op


@dataclass
class Recording:
    """The traffic of one run as it happens, plus what replay needs to redo the run."""

    underlying: str  # the VISA library spec that was recorded ("@labsim", "@py", ...)
    station: dict[str, Any] = field(default_factory=dict)  # the station file's content
    log: list[Entry] = field(default_factory=list)
    resources: list[str] = field(default_factory=list)
    clock_start_s: float = field(default_factory=lambda: get_clock().now())
    # perf_counter and epoch at the same moment: entries keep perf_counter (cheap, precise);
    # storage converts to epoch seconds.
    perf_start_s: float = field(default_factory=time.perf_counter)
    wall_start_s: float = field(default_factory=time.time)
    key: str = ""  # the in-process registry key of the library recording into this

    def resource_index(self, name: str) -> int:
        try:
            return self.resources.index(name)
        except ValueError:
            self.resources.append(name)
            return len(self.resources) - 1

    def resource_name(self, index: int) -> str:
        return self.resources[index] if 0 <= index < len(self.resources) else ""

    def wall_time(self, t_perf_s: float) -> float:
        return self.wall_start_s + (t_perf_s - self.perf_start_s)

    def transactions(self, start: int = 0, end: int | None = None) -> list[Transaction]:
        """Entries ``start:end`` still in memory as :class:`Transaction` (seq counts from 1)."""
        entries: Sequence[Entry] = self.log[start:end]
        if any(e is None for e in entries):
            raise ValueError("these transactions were stored and dropped from memory")
        return [
            Transaction(
                start + i + 1,
                self.resource_name(res),
                op,
                data,
                int(status),
                detail,
                t_station,
                self.wall_time(t_perf),
                duration,
            )
            for i, (op, res, data, status, t_station, t_perf, duration, detail) in enumerate(
                entries
            )
        ]

    def summary(self) -> dict[str, Any]:
        return {
            "underlying": self.underlying,
            "transactions": len(self.log),
            "resources": list(self.resources),
        }
