"""The one YAML reader of the project: YAML 1.2 numbers, no duplicate keys, errors that name
the file and the line.

PyYAML (YAML 1.1) reads ``1e-6`` and ``1.1e6`` as strings and silently keeps the last of two
equal keys; a chip file or a station file means numbers, and on a bench a duplicate hides a
second instrument or parameter. Lives in the device model (a leaf) because the chip parameter
loader needs it and may import nothing else of ours; ``labctl.yamlio`` and the lab files reuse it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml


class StrictLoader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 floats that refuses duplicate keys."""


def _construct_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode, deep: bool = False) -> Any:
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)  # type: ignore[no-untyped-call]
        line = key_node.start_mark.line + 1
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None,
                None,
                f"duplicate key {key!r} (first at line {seen[key]}, again at line {line})",
                key_node.start_mark,
            )
        seen[key] = line
    return loader.construct_mapping(node, deep=deep)


StrictLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(
        r"""^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?
        |[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)
        |\.[0-9_]+(?:[eE][-+]?[0-9]+)?
        |[-+]?\.(?:inf|Inf|INF)
        |\.(?:nan|NaN|NAN))$""",
        re.X,
    ),
    list("-+0123456789."),
)
StrictLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
    _construct_mapping,  # type: ignore[arg-type]
)


def load_yaml_mapping(
    path: Path, error: Callable[[str, str, str], Exception], *, empty_ok: bool = False
) -> dict[str, Any]:
    """Parse ``path`` as a YAML mapping; ``error(file, key, problem)`` builds the exception.

    With ``empty_ok`` an empty file is an empty mapping (a chip file of defaults).
    """
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise error(str(path), "", f"cannot read the file: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        problem = f"not UTF-8 text (byte {exc.start}: {exc.object[exc.start : exc.start + 1]!r})"
        raise error(str(path), "", f"cannot read the file: {problem}") from None
    try:
        data = yaml.load(text, Loader=StrictLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "unknown line"
        kind = (
            "YAML error"
            if isinstance(exc, yaml.constructor.ConstructorError)
            else "YAML syntax error"
        )
        raise error(str(path), "", f"{kind} at {where}: {exc.problem}") from None
    except yaml.reader.ReaderError as exc:
        problem = f"character {exc.character!r} at position {exc.position} is not allowed in YAML"
        raise error(str(path), "", f"YAML error: {problem}") from None
    except yaml.YAMLError as exc:
        raise error(str(path), "", f"YAML error: {' '.join(str(exc).split())}") from None
    if data is None and empty_ok:
        return {}
    if not isinstance(data, dict):
        raise error(str(path), "", f"expected a mapping at the top, got {type(data).__name__}")
    return data
