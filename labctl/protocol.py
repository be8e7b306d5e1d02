"""``@protocol``: register a measurement protocol and find it through entry points.

A protocol is a plain function ``(run, params) -> result``. The decorator records its name,
its parameter dataclass (from the type hint of ``params``), the columns it records (name ->
unit) and how each is written on a figure axis, which columns are setpoints, and which pairs
the live view plots. Protocols are found
through the ``labctl.protocols`` entry-point group, so users can ship theirs in their own
packages.
"""

from __future__ import annotations

import typing
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from labctl.errors import LabctlError
from labctl.plugins import entry_points
from labctl.results import SUFFIX_UNITS, unit_of_name

ENTRY_POINT_GROUP = "labctl.protocols"


@dataclass(frozen=True)
class ProtocolSpec:
    name: str
    function: Callable[..., Any]
    params_type: type
    columns: Mapping[str, str] = field(default_factory=dict)
    setpoints: tuple[str, ...] = ()
    axes: tuple[tuple[str, str], ...] = ()
    figure: Callable[..., Any] | None = None
    tolerates: frozenset[int] = frozenset()
    labels: Mapping[str, str] = field(default_factory=dict)

    def axis_label(self, column: str) -> tuple[str, str]:
        """How ``column`` is written on a figure axis: (quantity, SI unit of the raw values),
        e.g. ``("µ0H", "T")`` for ``field_T``; see :func:`axis_label`."""
        return axis_label(column, self.columns, self.labels)

    needs: Sequence[str] | Callable[[Any], Mapping[str, str]] = ()

    def roles_needed(self, params: Any) -> dict[str, str]:
        """``{role: why}`` of the roles a run with ``params`` needs (why: '' or the setting)."""
        if callable(self.needs):
            return dict(self.needs(params))
        return {role: "" for role in self.needs}

    def check_station(self, params: Any, station: Any) -> None:
        """Refuse, in one line, a station lacking a role this run needs (before the run exists
        or the bench opens): a pairing that cannot run says so instead of failing mid-run."""
        present = {spec.role for spec in station.instruments.values()}
        missing = {r: why for r, why in self.roles_needed(params).items() if r not in present}
        if missing:
            named = [f"{r!r}" + (f" ({why})" if why else "") for r, why in missing.items()]
            if len(named) == 1:
                role, _, why = named[0].partition(" ")
                where = f"the {role} role" + (f" {why}" if why else "")
            else:
                where = f"each of the roles {', '.join(named)}"
            raise LabctlError(
                f"{self.name} needs an instrument in {where}; station {station.path} has none "
                f"(roles present: {', '.join(sorted(present))})"
            )

    @property
    def doc(self) -> str:
        return (
            (self.function.__doc__ or "").strip().splitlines()[0] if self.function.__doc__ else ""
        )


def protocol(
    name: str,
    *,
    columns: Mapping[str, str] | None = None,
    setpoints: Sequence[str] = (),
    axes: Sequence[tuple[str, str]] = (),
    figure: Callable[..., Any] | None = None,
    tolerates: Sequence[int] = (),
    labels: Mapping[str, str] | None = None,
    needs: Sequence[str] | Callable[[Any], Mapping[str, str]] = (),
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Declare ``function(run, params) -> result`` as the protocol ``name``.

    ``columns`` maps each recorded column to its unit; ``setpoints`` are the independent ones;
    ``axes`` lists the (x, y) pairs for live plots; ``figure(result, points, path)`` writes the
    protocol's PNG figure. ``tolerates`` lists instrument error codes (SCPI ``-221`` ...)
    that the protocol expects and handles: found during the run, they are logged, not fatal.
    Any other queued error, and every compliance trip, ends the run in the safe state.
    ``labels`` names a column's quantity on figure axes (live view, ``watch``, the replay
    comparison) as a physicist writes it: ``{"field_T": "µ0H", "v_hall_V": "V_xy"}``; the
    unit comes from ``columns``.
    ``needs`` names the roles a run uses (``("field", "hall")``), or is a function of the
    parameters giving ``{role: why}`` (``{"pulse": "mode = width"}``): a station without one is
    refused in one line before the run is created.
    """

    def decorate(function: Callable[..., Any]) -> Callable[..., Any]:
        hints = typing.get_type_hints(function)
        params_type = hints.get("params") or hints.get("p")
        if params_type is None:
            arg_names = list(hints)
            params_type = hints[arg_names[1]] if len(arg_names) > 1 else None
        if params_type is None:
            raise TypeError(f"protocol {name}: annotate the params argument with its dataclass")
        spec = ProtocolSpec(
            name,
            function,
            params_type,
            dict(columns or {}),
            tuple(setpoints),
            tuple(axes),
            figure,
            frozenset(int(code) for code in tolerates),
            dict(labels or {}),
            needs if callable(needs) else tuple(needs),
        )
        function.__labctl_protocol__ = spec  # type: ignore[attr-defined]
        return function

    return decorate


def axis_label(
    column: str, units: Mapping[str, str] | None = None, labels: Mapping[str, str] | None = None
) -> tuple[str, str]:
    """(quantity, unit) of a recorded column on a figure axis: the declared label, else the
    name without its unit suffix (``hold_s`` → ``hold``); the declared unit, else the one the
    name says. ``t_s`` (every run's station time) is ``t`` in seconds."""
    units, labels = units or {}, labels or {}
    unit = units.get(column, unit_of_name(column))
    unit = "" if unit == "text" else unit
    if column in labels:
        return labels[column], unit
    if column == "t_s":
        return "t", "s"
    name = column
    for suffix, _ in SUFFIX_UNITS:
        if name.endswith(suffix) and len(name) > len(suffix):
            name = name[: -len(suffix)]
            break
    return name.replace("_", " "), unit


def spec_of(function: Callable[..., Any]) -> ProtocolSpec:
    spec = getattr(function, "__labctl_protocol__", None)
    if spec is None:
        raise LabctlError(f"{function!r} is not decorated with @protocol")
    return spec


def available_protocols() -> dict[str, ProtocolSpec]:
    """Every protocol registered in the ``labctl.protocols`` entry-point group."""
    found: dict[str, ProtocolSpec] = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        try:
            found[ep.name] = spec_of(ep.load())
        except Exception as exc:  # a broken third-party plugin must not hide the others
            raise LabctlError(
                f"protocol entry point {ep.name!r} ({ep.value}) failed to load: {exc}"
            ) from exc
    return found


def find_protocol(name: str) -> ProtocolSpec:
    """Load only the named protocol's entry point (others may import heavy packages)."""
    eps = entry_points(group=ENTRY_POINT_GROUP)
    for ep in eps:
        if ep.name == name:
            return spec_of(ep.load())
    known = ", ".join(sorted(ep.name for ep in eps)) or "none"
    raise LabctlError(f"unknown protocol {name!r}; available: {known}")
