"""Fault injection: make a simulated instrument misbehave at a chosen transaction, reproducibly.

A *transaction* is one message written to a resource (one ``write``; a query's write counts,
its read does not). Faults are armed per resource (canonical VISA name, or ``"*"`` for any) and
fire either at the ``at``-th transaction after arming (``times`` consecutive ones) or with a
seeded ``probability`` on each transaction.

Kinds:
    ``timeout``    the message is lost: not executed, no reply; the next read times out.
    ``garbled``    the reply comes back with its characters scrambled.
    ``truncated``  the reply comes back cut in half, without its terminator.
    ``dropped``    the connection drops: this and every later call on the session fails
                   with VI_ERROR_CONN_LOST (open the resource again to recover).
    ``error``      the instrument executes the message and queues error ``code``.
    ``compliance`` the source hits its compliance limit (SourceMeters), then executes.

Three ways to arm:
    Python:   ``sim_backend.faults.inject("GPIB0::8::INSTR", "timeout", at=3)``
    lab file: ``faults: [{resource: GPIB0::8::INSTR, kind: garbled, probability: 0.1, seed: 4}]``
    env var:  ``LABSIM_FAULTS='[{"resource": "GPIB0::24::INSTR", "kind": "dropped", "at": 7}]'``
              (read when the first lab of the process is created; for subprocess tests).
"""

from __future__ import annotations

import json
import os
import random
from dataclasses import dataclass, field
from typing import Any

from pyvisa import rname

KINDS = ("timeout", "garbled", "truncated", "dropped", "error", "compliance")
ENV_VAR = "LABSIM_FAULTS"


@dataclass
class Fault:
    """One armed fault on one resource."""

    resource: str
    kind: str
    at: int | None = None
    probability: float | None = None
    seed: int = 0
    times: int = 1
    code: int = -300
    message: str = "Device-specific error"
    seen: int = 0
    fired: int = 0
    rng: random.Random = field(default_factory=random.Random, repr=False)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"fault kind {self.kind!r}: expected one of {list(KINDS)}")
        if (self.at is None) == (self.probability is None):
            raise ValueError("give exactly one of at=N (transaction number) or probability=p")
        if self.at is not None and self.at < 1:
            raise ValueError(f"at={self.at}: transactions count from 1")
        if self.probability is not None and not 0.0 <= self.probability <= 1.0:
            raise ValueError(f"probability={self.probability}: expected 0..1")
        self.rng = random.Random(self.seed)

    def step(self) -> bool:
        """Count one transaction; True if the fault fires on it."""
        self.seen += 1
        if self.at is not None:
            hit = self.at <= self.seen < self.at + self.times
        else:
            hit = self.rng.random() < (self.probability or 0.0)
        if hit:
            self.fired += 1
        return hit


_ARMED: list[Fault] = []
_env_armed = False


def canonical(resource: str) -> str:
    if resource == "*":
        return resource
    try:
        return rname.to_canonical_name(resource)
    except rname.InvalidResourceName:
        return resource


def inject(
    resource: str,
    kind: str,
    *,
    at: int | None = None,
    probability: float | None = None,
    seed: int = 0,
    times: int = 1,
    code: int = -300,
    message: str = "Device-specific error",
) -> Fault:
    """Arm a fault on ``resource``; ``at`` counts transactions from now (1 = the next one)."""
    fault = Fault(canonical(resource), kind, at, probability, seed, times, code, message)
    _ARMED.append(fault)
    return fault


def clear(resource: str | None = None) -> None:
    """Disarm every fault (or those of one resource)."""
    if resource is None:
        _ARMED.clear()
    else:
        key = canonical(resource)
        _ARMED[:] = [f for f in _ARMED if f.resource != key]


def armed() -> list[Fault]:
    return list(_ARMED)


def next_fault(resource: str) -> Fault | None:
    """Count a transaction on ``resource``; the first armed fault that fires, if any."""
    if not _ARMED:
        return None
    hit = None
    for fault in _ARMED:
        if fault.resource in (resource, "*") and fault.step() and hit is None:
            hit = fault
    return hit


def arm_from_specs(specs: list[dict[str, Any]], where: str) -> None:
    for i, spec in enumerate(specs):
        try:
            inject(**spec)
        except (TypeError, ValueError) as err:
            raise ValueError(f"{where}: faults[{i}]: {err}") from err


def arm_from_lab(specs: list[dict[str, Any]], lab_path: str) -> None:
    """Faults from a lab file (armed when the lab is created), then the env var once."""
    arm_from_specs(specs, lab_path)
    arm_from_env()


def arm_from_env() -> None:
    global _env_armed
    if _env_armed:
        return
    _env_armed = True
    text = os.environ.get(ENV_VAR)
    if text:
        specs = json.loads(text)
        arm_from_specs(specs if isinstance(specs, list) else [specs], f"${ENV_VAR}")


def garble(payload: str, rng: random.Random) -> str:
    """Scramble a reply the way a noisy line does: same length, wrong characters."""
    junk = "#$%&?@~^`|\x7f\x15"
    chars = [rng.choice(junk) if rng.random() < 0.6 else c for c in payload] or ["#"]
    chars[0] = rng.choice(junk)
    return "".join(chars)
