"""What a replay serves: the recorded transactions of each resource, in order, and a clock.

Strict replay matches the *checked* operations (write, read, clear, flush, read_stb, trigger)
one by one per resource: a write must carry the recorded bytes, a read gets the recorded reply
and status. Attribute reads are answered from what the replay has set, else from the value the
recording saw first. The first mismatch is kept as the :class:`Divergence`; every later call
is answered leniently — writes accepted, a query gets the reply recorded after the same
command on the same resource — so that the safe state and closing run through; a query never
recorded raises :class:`ReplayStopped`.

The :class:`ReplayClock` is a virtual clock that the replay pins to the recorded station time
after every transaction, so that ``t_s`` of the replayed points equals the recording's: exactly
for runs recorded on a virtual clock, to the bench's I/O latency for wall-clock runs.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from dataclasses import dataclass, field

from labctl.clock import VirtualClock
from labctl.recording.divergence import (
    Divergence,
    ReplayDivergence,
    ReplayStopped,
    protocol_source,
)
from labctl.recording.store import StoredRecording
from labctl.recording.traffic import CHECKED_OPS, GET_ATTR, READ, SET_ATTR, WRITE, Transaction


class ReplayClock(VirtualClock):
    """A virtual clock that starts, and is pinned after each transaction, at recorded times."""

    def pin(self, t_s: float) -> None:
        with self._lock:
            self._t_s = t_s


def _describe_sent(op: str, data: bytes | None) -> str:
    return f"{op} {data!r}" if op == WRITE else op


@dataclass
class ReplaySource:
    recording: StoredRecording
    clock: ReplayClock | None = None
    run_id: int | None = None
    divergence: Divergence | None = None
    served: int = 0
    _queues: dict[str, list[Transaction]] = field(default_factory=dict)
    _cursor: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    _initial_attrs: dict[str, dict[int, object]] = field(default_factory=dict)
    _replies: dict[tuple[str, bytes], Transaction] = field(default_factory=dict)
    _last_write: dict[str, bytes] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        queues: dict[str, list[Transaction]] = defaultdict(list)
        last: dict[str, bytes] = {}
        attrs: dict[str, dict[int, object]] = defaultdict(dict)
        set_before: dict[str, set[int]] = defaultdict(set)
        for t in self.recording.transactions:
            if t.op in CHECKED_OPS:
                queues[t.resource].append(t)
                if t.op == WRITE and t.data is not None:
                    last[t.resource] = t.data
                elif t.op == READ and t.resource in last:
                    self._replies.setdefault((t.resource, last.pop(t.resource)), t)
            elif t.op == SET_ATTR and isinstance(t.detail, dict):
                set_before[t.resource].add(int(t.detail["attribute"]))
            elif t.op == GET_ATTR and isinstance(t.detail, dict) and t.status >= 0:
                attribute = int(t.detail["attribute"])
                if attribute not in set_before[t.resource]:
                    attrs[t.resource].setdefault(attribute, t.detail.get("value"))
        self._queues = dict(queues)
        self._initial_attrs = dict(attrs)
        if self.run_id is None:
            self.run_id = self.recording.run_id

    @property
    def resources(self) -> list[str]:
        return self.recording.resources

    def initial_attribute(self, resource: str, attribute: int) -> object | None:
        return self._initial_attrs.get(resource, {}).get(attribute)

    def diverge(self, divergence: Divergence) -> ReplayDivergence:
        with self._lock:
            if self.divergence is None:
                self.divergence = divergence
        return ReplayDivergence(divergence)

    def take(self, resource: str, op: str, data: bytes | None = None) -> Transaction | None:
        """The next recorded transaction of ``resource``, checked against what was sent
        (after a divergence: the lenient answer, None for anything but a read)."""
        if self.divergence is not None:
            return self._lenient(resource, op, data)
        queue = self._queues.get(resource, [])
        with self._lock:
            i = self._cursor[resource]
            expected = queue[i] if i < len(queue) else None
            matches = expected is not None and expected.op == op
            if matches and op == WRITE:
                matches = expected.data == data  # type: ignore[union-attr]
            if matches:
                self._cursor[resource] = i + 1
                self.served += 1
        if expected is None:
            raise self.diverge(
                Divergence(
                    self._next_seq(resource),
                    resource,
                    "nothing (the recording of this resource ends here)",
                    _describe_sent(op, data),
                    protocol_source(),
                    self.run_id,
                )
            )
        if not matches:
            raise self.diverge(
                Divergence(
                    expected.seq,
                    resource,
                    expected.describe(),
                    _describe_sent(op, data),
                    protocol_source(),
                    self.run_id,
                )
            )
        if self.clock is not None:
            self.clock.pin(expected.t_station_s)
        return expected

    def _lenient(self, resource: str, op: str, data: bytes | None) -> Transaction | None:
        if op == WRITE and data is not None:
            self._last_write[resource] = data
            return None
        if op != READ:
            return None
        command = self._last_write.pop(resource, b"")
        reply = self._replies.get((resource, command))
        if reply is None:
            raise ReplayStopped(
                f"the replay stopped at transaction {self.divergence.transaction}: "  # type: ignore[union-attr]
                f"no reply to {command!r} on {resource} was ever recorded"
            )
        return reply

    def _next_seq(self, resource: str) -> int:
        queue = self._queues.get(resource, [])
        return (queue[-1].seq + 1) if queue else len(self.recording.transactions) + 1

    def unreplayed(self) -> Divergence | None:
        """The first recorded transaction the replay never sent (None: all were replayed)."""
        left = [
            queue[self._cursor[resource]]
            for resource, queue in self._queues.items()
            if self._cursor[resource] < len(queue)
        ]
        if not left:
            return None
        first = min(left, key=lambda t: t.seq)
        total = sum(len(q) - self._cursor[r] for r, q in self._queues.items())
        return Divergence(
            first.seq,
            first.resource,
            first.describe(),
            f"nothing (the run ended; {total} recorded transaction(s) never replayed)",
            "",
            self.run_id,
        )

    def first_divergence(self) -> Divergence | None:
        return self.divergence or self.unreplayed()
