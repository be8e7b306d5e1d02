"""The station file: which instruments, at which addresses, in which role, within which limits.

Loading validates everything up front and raises one :class:`StationError` that names the file,
the key path and what was expected. Opening a station connects every instrument through its
role adapter (drivers come from :mod:`instruments.registry` or a ``module:Class`` path).
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import re
import types
import typing
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from instruments.roles import ROLE_TYPES, Limits, Role, Window
from labctl.errors import LabctlError, StationError
from labctl.yamlio import load_yaml_mapping

ROLES = tuple(ROLE_TYPES)  # gate, field, hall, pulse, router, array
VISA_LIBRARIES = ("@py", "@ivi", "@labsim", "@sim")
TOP_KEYS = {"name", "description", "visa_library", "clock", "instruments", "chip", "server"}
SERVER_KEYS = {"address", "token_file", "wait_s"}
INSTRUMENT_KEYS = {"driver", "address", "role", "limits", "settings", "description"}


@dataclass(frozen=True)
class InstrumentSpec:
    name: str
    driver: str
    address: str
    role: str
    adapter: type[Role]
    limits: Limits
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
    server_wait_s: float = 0.0  # how long a run waits for a served bench held by another

    @property
    def outlives_the_process(self) -> bool:
        """Whether any instrument lives outside this process (it has a VISA address, simulated
        or real): what a supervisor must bring to its safe state when the process dies, and
        what two runs cannot share at once. Class-path virtual chips live and die with it."""
        return any(getattr(s.adapter, "visa_address", True) for s in self.instruments.values())

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


def builtin_station(name: str) -> Path:
    """A station file shipped with labctl (``labctl/stations/<name>``)."""
    return Path(str(resources.files("labctl") / "stations" / name))


def load_station(path: str | Path | None = None) -> Station:
    """Load and validate a station file (the built-in simulated station when ``path`` is None)."""
    p = Path(path) if path is not None else default_station_path()
    data = load_yaml_mapping(p, StationError)
    try:
        return _validate(str(p), data)
    except StationError as exc:
        if "\n" not in exc.key + exc.problem:
            raise
        # a key or a library's message spanning lines: still one line
        raise StationError(exc.path, repr(exc.key)[1:-1], " ".join(exc.problem.split())) from None
    except Exception as exc:  # a shape no check above foresaw: still one line naming the file
        raise StationError(
            str(p), "", f"cannot read the station: {type(exc).__name__}: {exc}"
        ) from None


def _unknown(key: Any, known: typing.Iterable[str], what: str) -> str:
    """``unknown key; did you mean 'x'? expected one of ...``"""
    known = sorted(known)
    close = difflib.get_close_matches(str(key), known, n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    return f"unknown {what}; {hint}expected one of {', '.join(known)}"


def _check_visa_address(address: str, err: typing.Callable[[str], StationError]) -> None:
    from pyvisa import rname

    try:
        rname.parse_resource_name(address)
    except (rname.InvalidResourceName, ValueError) as exc:
        problem = str(exc).splitlines()[0].rstrip(".") if str(exc) else "malformed"
        raise err(
            f"got {address!r}: not a VISA resource name ({problem}); "
            "expected e.g. 'GPIB0::24::INSTR' or 'TCPIP::192.168.1.2::INSTR'"
        ) from None


def _validate(path: str, data: dict[str, Any]) -> Station:
    def err(key: str, problem: str) -> StationError:
        return StationError(path, key, problem)

    for key in data:
        if key not in TOP_KEYS:
            raise err(str(key), _unknown(key, TOP_KEYS, "key"))
    if "server" in data:
        return _served(path, data)
    if "visa_library" not in data:
        # Required: a file without it would talk to the addresses over the system VISA (@py),
        # the wrong bench for a file written for the simulator, and the reverse.
        raise err(
            "visa_library",
            f"missing; expected one of {', '.join(VISA_LIBRARIES)} (the VISA backend to use)",
        )
    visa = data["visa_library"]
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
    _check_references(path, specs)
    chip = data.get("chip", {}) or {}
    if not isinstance(chip, dict):
        raise err("chip", f"expected a mapping, got {type(chip).__name__}")
    for key in ("name", "description"):
        if key in data and not isinstance(data[key], str):
            raise err(key, f"got {data[key]!r}; expected a string")
    return Station(path, str(data.get("name", Path(path).stem)), visa, clock, specs, chip, data)


def _served(path: str, data: dict[str, Any]) -> Station:
    """A station that names an instrument server: its instruments (from the server's own station
    when the file lists none) are reached through ``@labserver``."""
    from labctl.server import client, wire

    entry = data["server"]
    if isinstance(entry, str):
        entry = {"address": entry}
    if not isinstance(entry, dict):
        raise StationError(
            path, "server", f"got {entry!r}; expected tcp://HOST:PORT or a mapping with address"
        )
    for key in entry:
        if key not in SERVER_KEYS:
            raise StationError(path, f"server.{key}", _unknown(key, SERVER_KEYS, "key"))
    if "visa_library" in data:
        raise StationError(
            path, "visa_library", "a station that names a server uses the server's library"
        )
    address = wire.Address.read(str(entry.get("address", "")))
    if address is None:
        problem = wire.Address.problem(entry["address"]) if "address" in entry else "missing"
        raise StationError(path, "server.address", problem)
    wait_s: Any = entry.get("wait_s", 0.0)
    if not _is_number(wait_s) or float(wait_s) < 0:
        raise StationError(path, "server.wait_s", f"got {wait_s!r}; expected seconds >= 0")
    if "token_file" in entry:
        token_path = Path(path).parent / str(entry["token_file"])
        try:
            client.remember_token(address, token_path.read_text().strip())
        except OSError as exc:
            raise StationError(
                path, "server.token_file", f"cannot read {token_path}: {exc.strerror}"
            ) from None
    library = client.library_string(address)
    own = {k: v for k, v in data.items() if k != "server"}
    try:
        served = client.served_library(library)
        assert served is not None
        text = served.connection.call("station")[1]
    except LabctlError as exc:
        raise StationError(path, "server", str(exc)) from None
    # the server's station fills in what this file leaves out: all of it, or only the clock
    # (the bench's: a simulated lab's clock is virtual) when the file lists instruments
    server_station = yaml.safe_load(text.decode())
    if "instruments" not in own:
        own = {**server_station, **own}
        own.pop("visa_library", None)
    own.setdefault("clock", server_station.get("clock", "wall"))
    station = _validate(path, {**own, "visa_library": "@py"})
    return dataclasses.replace(station, visa_library=library, raw=data, server_wait_s=float(wait_s))


def _check_references(path: str, specs: dict[str, InstrumentSpec]) -> None:
    """Settings that name another instrument (a synapse array's router, gate ...) must name one
    of this station, in the expected role."""
    for spec in specs.values():
        references: dict[str, str] = getattr(spec.adapter, "references", {}) or {}
        for key, role in references.items():
            target = getattr(spec.settings, key, None)
            if target is None:
                continue
            where = f"instruments.{spec.name}.settings.{key}"
            if target not in specs:
                have = ", ".join(sorted(specs))
                raise StationError(
                    path, where, f"names no instrument of the station: {target!r} (have: {have})"
                )
            if specs[target].role != role:
                raise StationError(
                    path,
                    where,
                    f"{target!r} plays the role {specs[target].role!r}; expected an instrument "
                    f"in the role {role!r}",
                )


def _instrument(path: str, key: str, name: str, entry: Any) -> InstrumentSpec:
    def err(sub: str, problem: str) -> StationError:
        return StationError(path, f"{key}.{sub}" if sub else key, problem)

    if not isinstance(entry, dict):
        raise err("", f"expected a mapping with {', '.join(sorted(INSTRUMENT_KEYS))}")
    for k in entry:
        if k not in INSTRUMENT_KEYS:
            raise err(str(k), _unknown(k, INSTRUMENT_KEYS, "key"))
    for required in ("driver", "address", "role"):
        if not isinstance(entry.get(required), str) or not entry[required].strip():
            raise err(required, "missing; expected a non-empty string")
    role = entry["role"]
    if role not in ROLES:
        raise err("role", f"unknown role {role!r}; expected one of {', '.join(ROLES)}")
    adapter = _adapter(entry["driver"], lambda problem: err("driver", problem))
    if adapter.role != role or not issubclass(adapter, ROLE_TYPES[role]):
        raise err(
            "role",
            f"driver {entry['driver']!r} plays the role {adapter.role!r}, not {role!r} "
            f"(expected a {ROLE_TYPES[role].__name__})",
        )
    limits = _limits(adapter.limits_type, entry.get("limits") or {}, err)
    settings = _settings(adapter, entry.get("settings") or {}, err)
    if entry["driver"] in _registry_drivers() and getattr(adapter, "visa_address", True):
        _check_visa_address(entry["address"], lambda problem: err("address", problem))
        companion = getattr(settings, "nanovoltmeter_address", None)
        if isinstance(companion, str):
            _check_visa_address(
                companion, lambda problem: err("settings.nanovoltmeter_address", problem)
            )
        gaussmeter = getattr(settings, "gaussmeter", None)
        if isinstance(gaussmeter, dict) and isinstance(gaussmeter.get("address"), str):
            gaussmeter_address = gaussmeter["address"]
            _check_visa_address(
                gaussmeter_address, lambda problem: err("settings.gaussmeter.address", problem)
            )
    _check_ratings(adapter, settings, limits, entry.get("limits") or {}, err)
    limits = _within_ratings(adapter, settings, limits, entry.get("limits") or {})
    check = getattr(adapter, "check_settings", None)
    if check is not None and settings is not None and not isinstance(settings, dict):
        try:
            check(name, settings, limits)
        except ValueError as exc:  # LimitError is a ValueError too
            message = _without_owner(name, str(exc))
            named = re.match(r"setting (\w+)", message)
            raise err(f"settings.{named.group(1)}" if named else "settings", message) from None
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


def _registry_drivers() -> set[str]:
    from instruments import registry

    return set(registry.DRIVERS)


def _without_owner(name: str, message: str) -> str:
    """The adapter's message without its leading ``name: ``: the key path says where."""
    return message[len(name) + 2 :] if message.startswith(f"{name}: ") else message


def _check_ratings(
    adapter: type[Role],
    settings: Any,
    limits: Limits,
    given: dict[str, Any],
    err: typing.Callable[[str, str], StationError],
) -> None:
    """Limits set in the file beyond the instrument's rating (from its driver's validators
    where it declares them): the driver would clip or refuse them mid-run."""
    ratings_of = getattr(adapter, "ratings", None)
    if ratings_of is None:
        return
    for key, rating in ratings_of(settings).items():
        if key not in given:
            continue
        value = getattr(limits, key)
        bounds = (value.low, value.high) if isinstance(value, Window) else (value,)
        for bound in bounds:
            if isinstance(value, Window) and not rating.contains(bound):
                allowed = str(rating)
            elif not isinstance(value, Window) and bound > rating.high:
                allowed = f"<= {rating.high:g} {rating.unit}"
            else:
                continue
            raise err(
                f"limits.{key}",
                f"got {bound:g} {rating.unit}: beyond the rating of {adapter.__name__}; "
                f"expected a limit within {allowed}",
            )


def _within_ratings(
    adapter: type[Role], settings: Any, limits: Limits, given: dict[str, Any]
) -> Limits:
    """A window the file leaves to the role's default, narrowed to the instrument's rating: the
    default pulse width window starts at 1 ns, a 33500B's pulses at 16 ns; a run is held to
    what the instrument can do, and a protocol asking its station for the shortest pulse gets
    the instrument's (the windows set in the file were checked by :func:`_check_ratings`)."""
    ratings_of = getattr(adapter, "ratings", None)
    if ratings_of is None:
        return limits
    narrowed: dict[str, Window] = {}
    for key, rating in ratings_of(settings).items():
        value = getattr(limits, key, None)
        if key in given or not isinstance(value, Window):
            continue
        low, high = max(value.low, rating.low), min(value.high, rating.high)
        if (low, high) != (value.low, value.high) and low <= high:
            narrowed[key] = Window(low, high, value.unit)
    return dataclasses.replace(limits, **narrowed) if narrowed else limits


def _adapter(driver: str, err: typing.Callable[[str], StationError]) -> type[Role]:
    from instruments import registry

    if ":" in driver:
        module_name, _, class_name = driver.partition(":")
        try:
            import importlib

            cls = getattr(importlib.import_module(module_name), class_name)
        except (ImportError, AttributeError) as exc:
            raise err(f"cannot load class path {driver!r}: {exc}") from None
        # A class path must name a real role implementation (a subclass of a role of
        # instruments.roles): its limits are checked and its counts are the role's own.
        if not (isinstance(cls, type) and issubclass(cls, Role)) or not cls.role:
            roles = ", ".join(r.__name__ for r in ROLE_TYPES.values())
            raise err(f"{driver!r} is not a role implementation; expected a subclass of {roles}")
        return cls
    if driver not in registry.DRIVERS:
        known = _unknown(driver, registry.DRIVERS, f"driver {driver!r}")
        raise err(f"{known} or a 'module:Class' path")
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
            raise err(f"limits.{key}", _unknown(key, spec, "limit for this role"))
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
                    f"limits.{key}",
                    f"got {value!r}; expected [low, high] in {unit}, finite, low <= high",
                )
            values[key] = Window(float(value[0]), float(value[1]), unit)
        else:
            if not _is_number(value):
                raise err(f"limits.{key}", f"got {value!r}; expected a finite number in {unit}")
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
            raise err(f"settings.{key}", _unknown(key, fields, f"setting for {adapter.__name__}"))
        expected = _base(hints[key])
        if expected is float and _is_number(value):
            continue
        if expected in (float, int) and isinstance(value, float) and not math.isfinite(value):
            raise err(f"settings.{key}", f"got {value!r}; expected a finite number")
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
    """A finite number: YAML's ``.inf`` / ``.nan`` are no limit and no setting."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def dump_station(station: Station) -> str:
    return yaml.safe_dump(station.raw, sort_keys=False)


def describe_instrument(spec: InstrumentSpec) -> str:
    """``kepco_bop at GPIB0::6::INSTR, gaussmeter lakeshore425 at GPIB0::12::INSTR``: the
    instrument and the companions its settings name."""
    parts = [f"{spec.driver} at {spec.address}"]
    gaussmeter = getattr(spec.settings, "gaussmeter", None)
    if isinstance(gaussmeter, dict) and gaussmeter.get("address"):
        parts.append(f"gaussmeter {gaussmeter.get('driver', '')} at {gaussmeter['address']}")
    nanovoltmeter = getattr(spec.settings, "nanovoltmeter_address", None)
    if nanovoltmeter:
        parts.append(f"nanovoltmeter at {nanovoltmeter}")
    return ", ".join(parts)
