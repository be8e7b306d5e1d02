"""An opened station: connected role adapters, reachable by role or by instrument name."""

from __future__ import annotations

import inspect
import logging
from typing import Any, TypeVar

from instruments.roles import (
    FieldSource,
    GateSource,
    HallReadout,
    InstrumentError,
    PulseSource,
    Role,
    Router,
    SynapseArray,
    Timebase,
)
from labctl.errors import LabctlError
from labctl.station import InstrumentSpec, Station, describe_instrument
from labctl.transport import check_reachable

log = logging.getLogger("labctl")


R = TypeVar("R", bound=Role)


class Bench:
    """The roles of an opened station. ``bench.gate`` is the one instrument in the gate role;
    ``bench["magnet"]`` is the instrument named ``magnet`` in the station file.

    Each role is a typed property (``bench.gate`` is a :class:`GateSource` to a type checker,
    so a protocol's instrument calls are checked against the role contracts). A role the
    station lacks raises :class:`LabctlError` naming it: optional roles are asked with
    :meth:`has` first, the way protocols do, rather than typed ``X | None`` on every use.
    """

    def __init__(self, station: Station, roles: dict[str, Role]) -> None:
        self.station = station
        self._roles = roles

    def __getitem__(self, name: str) -> Role:
        if name not in self._roles:
            raise LabctlError(
                f"{self.station.path}: no instrument named {name!r}; have {', '.join(self._roles)}"
            )
        return self._roles[name]

    @property
    def gate(self) -> GateSource:
        return self.one(GateSource)

    @property
    def field(self) -> FieldSource:
        return self.one(FieldSource)

    @property
    def hall(self) -> HallReadout:
        return self.one(HallReadout)

    @property
    def pulse(self) -> PulseSource:
        return self.one(PulseSource)

    @property
    def router(self) -> Router:
        return self.one(Router)

    @property
    def array(self) -> SynapseArray:
        return self.one(SynapseArray)

    def one(self, role_type: type[R]) -> R:
        """The one instrument playing ``role_type`` (``bench.one(GateSource)``)."""
        role = role_type.role
        matches = [r for r in self._roles.values() if r.role == role]
        if len(matches) == 1 and isinstance(matches[0], role_type):
            return matches[0]
        if not matches:
            raise LabctlError(
                f"station {self.station.path} has no instrument in the role {role!r} "
                f"(roles present: {', '.join(sorted({r.role for r in self._roles.values()}))})"
            )
        if len(matches) == 1:  # the station loader refuses such a class; a hand-built bench
            raise LabctlError(
                f"station {self.station.path}: {matches[0].name} plays the role {role!r} but "
                f"is a {type(matches[0]).__name__}, not a {role_type.__name__}"
            )
        names = ", ".join(r.name for r in matches)
        raise LabctlError(
            f"station {self.station.path} has several instruments in the role {role!r} "
            f"({names}); address one by name"
        )

    def has(self, role: str) -> bool:
        return any(r.role == role for r in self._roles.values())

    @property
    def roles(self) -> dict[str, Role]:
        return dict(self._roles)

    def transactions(self) -> int:
        return sum(r.transactions for r in self._roles.values())

    def reply_retries(self) -> int:
        """Replies that failed validation and were asked again, over every role."""
        return sum(r.reply_retries for r in self._roles.values())

    def snapshot(self) -> dict[str, Any]:
        out: dict[str, Any] = {"station": self.station.summary(), "instruments": {}}
        for name, role in self._roles.items():
            try:
                out["instruments"][name] = role.snapshot()
            except Exception as exc:  # a snapshot must never break a run
                out["instruments"][name] = {"error": str(exc)}
        return out

    def check_health(self, tolerated: frozenset[int] = frozenset()) -> None:
        """Raise the first instrument error or compliance trip that any role reports, except
        errors whose codes are all in ``tolerated`` (logged)."""
        for role in self._roles.values():
            try:
                role.check_health()
            except InstrumentError as exc:
                if exc.codes and set(exc.codes) <= tolerated:
                    log.warning("%s (tolerated by the protocol)", exc)
                    continue
                raise

    def safe_state(self) -> list[str]:
        """Bring every instrument to its safe state, the last opened first.

        Every role is tried even if another fails. A role that fails (a dropped connection,
        a confused session) is reconnected (a new VISA session on its addresses, companions
        too) and tried once more. The returned lines say what was done.
        """
        lines = []
        for name, role in reversed(list(self._roles.items())):
            spec = self.station.instruments[name]
            try:
                did = role.safe_state()
            except Exception as exc:
                did = _reconnected_safe_state(role, exc)
            lines.append(f"{name} ({spec.driver} @ {spec.address}): {did}")
        return lines

    def close(self) -> None:
        for role in reversed(list(self._roles.values())):
            try:
                role.close()
            except Exception as exc:
                log.warning("closing %s: %s", role.name, exc)


def _reconnected_safe_state(role: Role, first: Exception) -> str:
    try:
        reconnected = role.reconnect()
    except Exception as exc:
        return f"FAILED to reach the safe state: {first}; reconnecting failed: {exc}"
    try:
        did = role.safe_state()
    except Exception as exc:
        return f"FAILED to reach the safe state: {first}; {reconnected}, then: {exc}"
    return f"{reconnected} after: {first}; {did}"


def open_bench(station: Station, timebase: Timebase) -> Bench:
    """Connect every instrument of ``station``. If one fails, those already opened are brought
    to their safe state and closed before the error is raised."""
    check_reachable(station)  # before any instrument is opened: nothing sent to any
    roles: dict[str, Role] = {}
    # Roles built on other roles (a synapse array over router, pulse, gate and readout) come
    # last and receive the roles opened before them.
    ordered = sorted(station.instruments.items(), key=lambda item: _builds_on_roles(item[1]))
    for name, spec in ordered:
        extra = {"roles": dict(roles)} if _builds_on_roles(spec) else {}
        try:
            roles[name] = spec.adapter.open(  # type: ignore[attr-defined]
                name=name,
                address=spec.address,
                visa_library=station.visa_library,
                settings=spec.settings,
                limits=spec.limits,
                timebase=timebase,
                **extra,
            )
        except Exception as exc:
            partial = Bench(station, roles)
            for line in partial.safe_state():
                log.info("safe state: %s", line)
            partial.close()
            safe = getattr(exc, "safe_state", None)  # an instrument reconnected to reach it
            raise LabctlError(
                f"{station.path}: instruments.{name}: cannot open {spec.driver} at "
                f"{spec.address} ({station.visa_library}): {exc}"
                + (f"; safe state: {safe}" if safe else "")
            ) from exc
        log.info("opened %s (%s)", name, describe_instrument(spec))
    return Bench(station, roles)


def _builds_on_roles(spec: InstrumentSpec) -> bool:
    return "roles" in inspect.signature(spec.adapter.open).parameters  # type: ignore[attr-defined]
