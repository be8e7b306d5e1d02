"""Protocol parameters: a dataclass whose fields carry unit, bounds and help.

``param(0.5, unit="T", low=0, high=2, help="...")`` declares a field; :func:`build_params`
turns strings or JSON values into a validated instance, and :func:`describe_params` lists the
fields for the CLI (which builds one ``--option`` per field) and the run's metadata.
"""

from __future__ import annotations

import dataclasses
import math
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from labctl.errors import ParamError

if TYPE_CHECKING:
    from labctl.station import Station


def param(
    default: Any,
    *,
    unit: str = "",
    low: float | None = None,
    high: float | None = None,
    help: str = "",
    choices: tuple[Any, ...] | None = None,
    limit: str | None = None,
    sign: str | None = None,
) -> Any:
    """A parameter field with its unit, inclusive bounds and help text.

    ``limit="gate.voltage_V"``: the station limit (role.key) that bounds the value, checked
    before the bench opens. ``sign``: how the value is applied, ``"±"`` (a magnitude used with
    both signs, e.g. a loop amplitude) or the name of the parameter giving its sign.
    """
    meta = {
        "unit": unit,
        "low": low,
        "high": high,
        "help": help,
        "choices": choices,
        "limit": limit,
        "sign": sign,
    }
    if isinstance(default, list | dict):
        return dataclasses.field(default_factory=lambda: default.copy(), metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


@dataclass(frozen=True)
class ParamInfo:
    name: str
    type: type
    default: Any
    unit: str
    low: float | None
    high: float | None
    help: str
    choices: tuple[Any, ...] | None

    @property
    def option(self) -> str:
        return "--" + self.name.replace("_", "-")


def describe_params(params_type: type) -> list[ParamInfo]:
    hints = typing.get_type_hints(params_type)
    out = []
    for f in dataclasses.fields(params_type):
        default = f.default
        if default is dataclasses.MISSING and f.default_factory is not dataclasses.MISSING:
            default = f.default_factory()
        m = f.metadata
        out.append(
            ParamInfo(
                f.name,
                _base_type(hints[f.name]),
                default,
                m.get("unit", ""),
                m.get("low"),
                m.get("high"),
                m.get("help", ""),
                m.get("choices"),
            )
        )
    return out


def _base_type(hint: Any) -> type:
    origin = typing.get_origin(hint)
    if origin is None:
        return hint if isinstance(hint, type) else str
    if origin in (list, tuple):
        return list
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    return _base_type(args[0]) if args else str


EXPECTED: dict[type, str] = {
    bool: "true or false (yes/no, on/off, 1/0)",
    int: "an integer",
    float: "a finite number",
    list: "comma-separated finite numbers",
}


def _convert(info: ParamInfo, raw: Any, protocol: str) -> Any:
    def fail(expected: str) -> ParamError:
        return ParamError(
            f"{protocol}: parameter {info.option} = {raw!r}: expected {expected}"
            + (f" in {info.unit}" if info.unit else "")
        )

    t = info.type
    try:
        if t is bool:
            if isinstance(raw, bool):
                value: Any = raw
            elif str(raw).lower() in ("1", "true", "yes", "on"):
                value = True
            elif str(raw).lower() in ("0", "false", "no", "off"):
                value = False
            else:
                raise ValueError
        elif t is int:
            if isinstance(raw, float) and not raw.is_integer():
                raise ValueError
            value = int(raw)
        elif t is float:
            value = float(raw)
            if not math.isfinite(value):
                raise ValueError
        elif t is list:
            items = raw if isinstance(raw, list | tuple) else str(raw).split(",")
            value = [float(v) for v in items]
            if not all(math.isfinite(v) for v in value):
                raise ValueError
        else:
            value = str(raw)
    except (TypeError, ValueError):
        raise fail(EXPECTED.get(t, f"a {t.__name__}")) from None
    numbers = value if isinstance(value, list) else [value]
    for v in numbers:
        if isinstance(v, int | float) and not isinstance(v, bool):
            if info.low is not None and v < info.low:
                raise fail(f"a value >= {info.low:g}")
            if info.high is not None and v > info.high:
                raise fail(f"a value <= {info.high:g}")
    if info.choices is not None and value not in info.choices:
        raise fail("one of " + ", ".join(map(str, info.choices)))
    return value


def build_params(params_type: type, values: Mapping[str, Any], protocol: str) -> Any:
    """A validated ``params_type`` from ``values`` (strings from the CLI or JSON values)."""
    infos = {i.name: i for i in describe_params(params_type)}
    unknown = set(values) - set(infos)
    if unknown:
        raise ParamError(
            f"{protocol}: unknown parameter(s) {', '.join(sorted(unknown))}; "
            f"expected some of {', '.join(sorted(infos))}"
        )
    kwargs = {k: _convert(infos[k], v, protocol) for k, v in values.items() if v is not None}
    for name, info in infos.items():
        if name not in kwargs:
            kwargs[name] = _convert(info, info.default, protocol)
    try:
        instance = params_type(**kwargs)
    except ValueError as exc:  # cross-field checks in __post_init__
        raise ParamError(f"{protocol}: {exc}") from None
    return instance


def check_station_limits(params: Any, station: Station, protocol: str) -> None:
    """Refuse parameters beyond the station limits they declare (``param(limit=...)``), before
    any instrument is contacted: a run must not stop at its first pulse, points into it."""
    # here, not at module level: the command line imports this module at every start, and the
    # role contracts import numpy (0.25 s)
    from instruments.roles import Window

    for f in dataclasses.fields(params):
        target = f.metadata.get("limit")
        if not target:
            continue
        role, _, key = target.partition(".")
        value = getattr(params, f.name)
        sign = f.metadata.get("sign")
        signs = (1, -1) if sign == "±" else (getattr(params, sign) if sign else 1,)
        values = value if isinstance(value, list) else [value]
        for spec in station.instruments.values():
            bound = getattr(spec.limits, key, None) if spec.role == role else None
            if bound is None:
                continue
            for v in (float(x) * s for x in values for s in signs):
                if isinstance(bound, Window):
                    inside, allowed = bound.contains(v), str(bound)
                else:
                    inside, allowed = abs(v) <= bound, f"<= {bound:g}"
                if not inside:
                    option = "--" + f.name.replace("_", "-")
                    raise ParamError(
                        f"{protocol}: parameter {option} = {value!r} applies {v:g}, beyond the "
                        f"station limit instruments.{spec.name}.limits.{key} {allowed} of "
                        f"{station.path}; expected a value within it (no instrument was opened)"
                    )


def params_as_dict(params: Any) -> dict[str, Any]:
    return dataclasses.asdict(params)


def settings_text(settings: Mapping[str, Any]) -> str:
    """``name=value`` pairs separated by spaces (lists as ``a,b``): the ``settings`` parameter
    of the ``train`` protocol, which ``labctl train`` and :mod:`labctl.notebook` build from a
    mapping of the rule's parameters."""

    def one(v: Any) -> str:
        return ",".join(f"{x:g}" for x in v) if isinstance(v, list | tuple) else f"{v}"

    return " ".join(f"{k}={one(v)}" for k, v in settings.items())


def parse_settings_text(text: str, where: str) -> dict[str, str]:
    """The pairs of :func:`settings_text` back as ``{name: raw string}``."""
    out: dict[str, str] = {}
    for item in text.split():
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ParamError(f"{where}: settings item {item!r}: expected name=value")
        out[key] = value
    return out
