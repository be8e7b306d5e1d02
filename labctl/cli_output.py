"""How every ``labctl`` command prints: one JSON object with ``--json`` (strict JSON: NaN and
infinities become ``null``), else readable text."""

from __future__ import annotations

import argparse
import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

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


finite = strict  # the name this module gave it before labctl.results


def result_lines(protocol: str, result: dict[str, Any]) -> list[str]:
    """A run's result as aligned tables, with the units its protocol's result type declares
    (the names' unit suffixes for a protocol that is not installed or declares none)."""
    from labctl.errors import LabctlError
    from labctl.protocol import find_protocol
    from labctl.results import render_result, result_type_of

    try:
        result_type = result_type_of(find_protocol(protocol).function)
    except LabctlError:
        result_type = None
    return render_result(result, result_type)
