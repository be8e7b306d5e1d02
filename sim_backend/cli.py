"""``labctl sim list``: the simulator's own sub-command, registered through the
``labctl.commands`` entry point (labctl knows nothing of the simulator).

``register(subparsers, common)`` adds the parser and returns the handler. The handler prints on
its own, in labctl's two forms: one strict JSON object with ``--json``, else aligned text.
Building a lab imports the chip and the twins, so that happens inside the handler only.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

EXIT_OK, EXIT_USAGE = 0, 2
Handler = Callable[[argparse.Namespace], int]


def cmd_sim(args: argparse.Namespace) -> int:
    """Describe a simulated lab: its file, chip, magnets, and every instrument's address,
    model and wiring."""
    from sim_backend.labs.schema import LabFileError
    from sim_backend.open_labs import get_lab

    where = args.lab or "the built-in lab"
    try:
        if args.lab and not Path(args.lab).is_file():
            raise OSError("no such file")
        lab = get_lab(args.lab).describe()
    except (OSError, LabFileError) as exc:
        print(f"labctl: error: cannot open the simulated lab {where!r}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if getattr(args, "json", False):
        print(json.dumps(_finite(lab), default=str, allow_nan=False))
    else:
        print(describe_text(lab))
    return EXIT_OK


def describe_text(lab: dict[str, Any]) -> str:
    """The lab as aligned tables: instruments (name, address, model, wiring, settings), magnets,
    chip. Nested values read ``key=value``, never as Python reprs (``--json`` has them whole)."""
    lines = [f"simulated lab {lab.get('name', '')} ({lab['file']})"]
    rows = [
        [
            str(inst.get("name", "")),
            str(inst["address"]),
            str(inst["model"]),
            _pairs(inst.get("wiring")),
            _pairs(inst.get("settings")),
        ]
        for inst in lab["instruments"]
    ]
    lines += _table(["instrument", "address", "model", "wiring", "settings"], rows)
    magnets = lab.get("magnets") or {}
    if magnets:
        lines.append("magnets:")
        rows = [[name, _pairs(m)] for name, m in magnets.items()]
        lines += _table(["magnet", "parameters"], rows)
    lines.append(f"chip: {_pairs(lab['chip'])}")
    return "\n".join(lines)


def _pairs(value: Any, sep: str = ", ") -> str:
    """``terminal=gate``, ``matrix: rows: A=gate B=pulse``; numbers with 6 significant digits
    at most; ``-`` for nothing."""
    if not isinstance(value, dict):
        return _scalar(value)
    parts = [
        f"{k}: {_pairs(v, ' ')}" if isinstance(v, dict) else f"{k}={_scalar(v)}"
        for k, v in value.items()
        if v is not None
    ]
    return sep.join(parts) or "-"


def _scalar(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, (list, tuple)):
        return "[" + " ".join(_scalar(v) for v in value) + "]"
    return str(value)


def _table(headers: list[str], rows: list[list[str]], indent: str = "  ") -> list[str]:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    return [
        (indent + "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True))).rstrip()
        for r in [headers, *rows]
    ]


def _finite(value: Any) -> Any:
    """Strict JSON, as every labctl command prints it: NaN and ±inf become ``null``."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def register(subparsers: Any, common: argparse.ArgumentParser) -> dict[str, Handler]:
    p = subparsers.add_parser("sim", parents=[common], help="the simulated lab")
    p.add_argument("action", choices=("list",))
    p.add_argument("--lab", default=None, help="lab file (default: the built-in lab)")
    return {"sim": cmd_sim}
