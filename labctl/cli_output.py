"""How every ``labctl`` command prints: one JSON object with ``--json`` (strict JSON: NaN and
infinities become ``null``), else readable text."""

from __future__ import annotations

import argparse
import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from labctl.params import ParamInfo

from labctl.results import strict


def emit(args: argparse.Namespace, payload: Any, text: Callable[[], str]) -> None:
    """One JSON object with ``--json``, else the human-readable text."""
    if getattr(args, "json", False):
        print(json.dumps(strict(payload), default=json_default, allow_nan=False))
    else:
        print(text())


def json_default(value: Any) -> Any:
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    return str(value)


def fmt(value: Any) -> str:
    if isinstance(value, float):
        return "nan" if math.isnan(value) else f"{value:.6g}"
    return str(value)


def param_help(info: ParamInfo) -> str:
    """``help (unit) [low, high] {choices}; default X``: how a declared parameter reads in
    ``--help`` (``labctl run <protocol>``, the rule options of ``labctl train``)."""
    bounds = ""
    if info.low is not None or info.high is not None:
        bounds = f" [{fmt(info.low) if info.low is not None else '-inf'}, "
        bounds += f"{fmt(info.high) if info.high is not None else 'inf'}]"
    unit = f" ({info.unit})" if info.unit else ""
    choices = f" {{{', '.join(map(str, info.choices))}}}" if info.choices else ""
    return f"{info.help}{unit}{bounds}{choices}; default {info.default}"


finite = strict  # the name this module gave it before labctl.results


def result_lines(protocol: str, result: dict[str, Any]) -> list[str]:
    """A run's result as aligned tables, with the units its protocol's result type declares
    (the names' unit suffixes for a protocol that is not installed or declares none)."""
    from labctl.results import render_result, result_type_of

    spec = _installed(protocol)
    return render_result(result, result_type_of(spec.function) if spec else None)


def params_lines(protocol: str, params: dict[str, Any]) -> list[str]:
    """A run's parameters as a name / value / unit table (units from the protocol's
    parameter dataclass, or from the names for a protocol that is not installed)."""
    from labctl.params import describe_params
    from labctl.results import render_result, unit_of_name

    spec = _installed(protocol)
    units = {i.name: i.unit for i in describe_params(spec.params_type)} if spec else {}
    lines = render_result(params)
    if not lines or not units:
        return lines
    start = lines[0].index("unit")  # the names' units replaced by the declared ones
    out = [lines[0]]
    for line in lines[1:]:
        name = line.split()[0]
        unit = units.get(name, unit_of_name(name)) if name in params else line[start:].strip()
        out.append((line[:start] + unit).rstrip() if name in params else line)
    return out


def _installed(protocol: str) -> Any:
    from labctl.errors import LabctlError
    from labctl.protocol import find_protocol

    try:
        return find_protocol(protocol)
    except LabctlError:
        return None
