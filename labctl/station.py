"""The station file: which instruments, at which addresses, in which role, within which limits.

Loading validates everything up front and raises one :class:`StationError` that names the file,
the key path and what was expected. Opening a station connects every instrument through its
role adapter (drivers come from :mod:`instruments.registry` or a ``module:Class`` path).
"""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from instruments.roles import Limits, Role, Window
from labctl.errors import StationError
from labctl.yamlio import load_yaml_mapping

ROLES = ("gate", "field", "hall", "pulse", "router", "array")
VISA_LIBRARIES = ("@py", "@ivi", "@labsim", "@sim")
TOP_KEYS = {"name", "description", "visa_library", "clock", "instruments", "chip"}
INSTRUMENT_KEYS = {"driver", "address", "role", "limits", "settings", "description"}


@dataclass(frozen=True)
class InstrumentSpec:
    name: str
    driver: str
    address: str
    role: str
    adapter: type[Role]
    limits: Limits | None
    settings: Any
    description: str = ""


@dataclass(frozen=True)
class Station:
    path: str
    name: str
    visa_library: str
    clock: str  # "virtual" or "wall"
    instruments: dict[str, InstrumentSpec]
    chip: dict[str, Any] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        return {
            "file": self.path,
            "name": self.name,
            "visa_library": self.visa_library,
            "clock": self.clock,
            "instruments": {
                n: {"driver": i.driver, "address": i.address, "role": i.role}
                for n, i in self.instruments.items()
            },
            "chip": self.chip,
        }


def default_station_path() -> Path:
    """The built-in station describing the simulated bench."""
    return Path(str(resources.files("labctl") / "stations" / "simulated.yaml"))


def load_station(path: str | Path | None = None) -> Station:
    """Load and validate a station file (the built-in simulated station when ``path`` is None)."""
    p = Path(path) if path is not None else default_station_path()
    data = load_yaml_mapping(p, StationError)
    return _validate(str(p), data)


def _validate(path: str, data: dict[str, Any]) -> Station:
    def err(key: str, problem: str) -> StationError:
        return StationError(path, key, problem)

    for key in data:
        if key not in TOP_KEYS:
            raise err(key, f"unknown key; expected one of {', '.join(sorted(TOP_KEYS))}")
    visa = data.get("visa_library", "@py")
    if not isinstance(visa, str) or not any(visa.endswith(lib) for lib in VISA_LIBRARIES):
        raise err(
            "visa_library",
            f"got {visa!r}; expected one of {', '.join(VISA_LIBRARIES)} (optionally 'path@lib')",
        )
    clock = data.get("clock", "wall")
    if clock not in ("virtual", "wall"):
        raise err("clock", f"got {clock!r}; expected 'virtual' or 'wall'")
    instruments = data.get("instruments")
    if not isinstance(instruments, dict) or not instruments:
        raise err("instruments", "expected a mapping of instrument names to their settings")
    specs = {
        str(name): _instrument(path, f"instruments.{name}", str(name), entry)
        for name, entry in instruments.items()
    }
    chip = data.get("chip", {}) or {}
    if not isinstance(chip, dict):
        raise err("chip", f"expected a mapping, got {type(chip).__name__}")
    return Station(path, str(data.get("name", Path(path).stem)), visa, clock, specs, chip, data)


def _instrument(path: str, key: str, name: str, entry: Any) -> InstrumentSpec:
    def err(sub: str, problem: str) -> StationError:
        return StationError(path, f"{key}.{sub}" if sub else key, problem)

    if not isinstance(entry, dict):
        raise err("", f"expected a mapping with {', '.join(sorted(INSTRUMENT_KEYS))}")
    for k in entry:
        if k not in INSTRUMENT_KEYS:
            raise err(k, f"unknown key; expected one of {', '.join(sorted(INSTRUMENT_KEYS))}")
    for required in ("driver", "address", "role"):
        if not isinstance(entry.get(required), str) or not entry[required].strip():
            raise err(required, "missing; expected a non-empty string")
    role = entry["role"]
    if role not in ROLES:
        raise err("role", f"unknown role {role!r}; expected one of {', '.join(ROLES)}")
    adapter = _adapter(entry["driver"], lambda problem: err("driver", problem))
    if getattr(adapter, "role", None) != role:
        raise err(
            "role",
            f"driver {entry['driver']!r} plays the role {getattr(adapter, 'role', '?')!r}, "
            f"not {role!r}",
        )
    limits_type = getattr(adapter, "limits_type", None)
    if limits_type is None:  # a class-path adapter without limits (e.g. a virtual array)
        if entry.get("limits"):
            raise err("limits", f"{entry['driver']} takes no limits")
        limits: Any = None
    else:
        limits = _limits(limits_type, entry.get("limits") or {}, err)
    settings = _settings(adapter, entry.get("settings") or {}, err)
    return InstrumentSpec(
        name,
        entry["driver"],
        entry["address"],
        role,
        adapter,
        limits,
        settings,
        str(entry.get("description", "")),
    )


def _adapter(driver: str, err: typing.Callable[[str], StationError]) -> type[Role]:
    from instruments import registry

    if ":" in driver:
        module_name, _, class_name = driver.partition(":")
        try:
            import importlib

            cls = getattr(importlib.import_module(module_name), class_name)
        except (ImportError, AttributeError) as exc:
            raise err(f"cannot load class path {driver!r}: {exc}") from None
        return typing.cast(type[Role], cls)
    if driver not in registry.DRIVERS:
        known = ", ".join(sorted(registry.DRIVERS))
        raise err(f"unknown driver {driver!r}; expected one of {known} or 'module:Class'")
    return registry.load_adapter(driver)


def _limits(
    limits_type: type[Limits], raw: Any, err: typing.Callable[[str, str], StationError]
) -> Limits:
    if not isinstance(raw, dict):
        raise err("limits", "expected a mapping of limit names to values")
    spec = limits_type.spec()
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in spec:
            raise err(
                f"limits.{key}",
                f"unknown limit for this role; expected one of {', '.join(sorted(spec))}",
            )
        kind, unit = spec[key]
        if kind == "window":
            ok = (
                isinstance(value, list)
                and len(value) == 2
                and all(_is_number(v) for v in value)
                and value[0] <= value[1]
            )
            if not ok:
                raise err(
                    f"limits.{key}", f"got {value!r}; expected [low, high] in {unit}, low <= high"
                )
            values[key] = Window(float(value[0]), float(value[1]), unit)
        else:
            if not _is_number(value):
                raise err(f"limits.{key}", f"got {value!r}; expected a number in {unit}")
            if value <= 0:
                raise err(f"limits.{key}", f"got {value!r}; expected a positive number in {unit}")
            values[key] = float(value)
    return limits_type(**values)


def _settings(adapter: type[Role], raw: Any, err: typing.Callable[[str, str], StationError]) -> Any:
    settings_type = getattr(adapter, "settings_type", None)
    if settings_type is None:
        return dict(raw)
    if not isinstance(raw, dict):
        raise err("settings", "expected a mapping")
    fields = {f.name: f for f in dataclasses.fields(settings_type)}
    hints = typing.get_type_hints(settings_type)
    for key, value in raw.items():
        if key not in fields:
            raise err(
                f"settings.{key}",
                f"unknown setting for {adapter.__name__}; "
                f"expected one of {', '.join(sorted(fields))}",
            )
        expected = _base(hints[key])
        if expected is float and _is_number(value):
            continue
        if expected is not None and not isinstance(value, expected):
            raise err(
                f"settings.{key}",
                f"got {value!r}; expected a {getattr(expected, '__name__', expected)}",
            )
    try:
        return settings_type(
            **{k: (float(v) if _base(hints[k]) is float else v) for k, v in raw.items()}
        )
    except (TypeError, ValueError) as exc:
        raise err("settings", str(exc)) from None


def _base(hint: Any) -> Any:
    origin = typing.get_origin(hint)
    if origin is None:
        return hint if isinstance(hint, type) else None
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    if origin in (typing.Union, types.UnionType):
        return _base(args[0]) if len(args) == 1 else None
    return origin if isinstance(origin, type) else None


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def dump_station(station: Station) -> str:
    return yaml.safe_dump(station.raw, sort_keys=False)
