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


def emit(args: argparse.Namespace, payload: Any, text: Callable[[], str]) -> None:
    """One JSON object with ``--json``, else the human-readable text."""
    if getattr(args, "json", False):
        print(json.dumps(finite(payload), default=json_default, allow_nan=False))
    else:
        print(text())


def finite(value: Any) -> Any:
    """NaN and ±inf (undefined statistics) become JSON ``null``: strict JSON has no NaN."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite(v) for v in value]
    if hasattr(value, "tolist"):  # numpy arrays and scalars
        return finite(value.tolist())
    return value


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
