"""Reading the YAML files the recording commands take (chip parameter files, lab files), with
one clear error line naming the file and what was expected."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from labctl.errors import LabctlError


def read_yaml_mapping(path: Path, what: str) -> dict[str, Any]:
    """The content of ``path``, a YAML mapping (``what`` names the file in errors)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise LabctlError(f"{path}: no such {what}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise LabctlError(f"{path}: cannot read the {what} ({exc})") from None
    try:
        content = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        line = f" at line {where.line + 1}" if where is not None else ""
        problem = getattr(exc, "problem", None) or type(exc).__name__
        raise LabctlError(f"{path}: the {what} is not valid YAML{line} ({problem})") from None
    if not isinstance(content, dict):
        raise LabctlError(f"{path}: expected a {what} (a YAML mapping of keys to values)")
    return content
