"""What every benchmark in ``scripts/`` reports: figures measured against anchors of the same run.

A benchmark script exposes ``figures(quick: bool = False) -> list[Figure]`` and prints
:func:`table` of them from its own ``main``; ``scripts/bench_all.py`` calls every script's
``figures`` and prints one table. Never an assertion on a wall time: run it, read it.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Figure:
    """One measured figure and what it is measured against in the same run.

    ``value`` is in ``unit``; ``anchor_value`` in the same unit (None when the goal is an
    absolute one, such as a start-up time printed beside bare Python's). ``goal`` says what
    is asked (for example ``"<= 1.0x"``, ``">= 20x"``, ``"<= 0.2 s"``); ``met`` whether the
    figure reaches it; ``note`` says the setting it was measured under (threads, sizes).
    """

    name: str
    value: float
    unit: str
    anchor: str
    anchor_value: float | None
    goal: str
    met: bool
    note: str = ""

    @property
    def ratio(self) -> float | None:
        """value / anchor_value (None without an anchor)."""
        if self.anchor_value is None or self.anchor_value == 0:
            return None
        return self.value / self.anchor_value

    def as_dict(self) -> dict[str, object]:
        """Plain JSON-ready form, the ratio included."""
        return {**asdict(self), "ratio": self.ratio}


def best_of(fn: Callable[[], object], repeats: int) -> float:
    """Shortest wall time (s) of ``repeats`` calls: the least disturbed by the rest of the OS."""
    best = math.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def per_query_us(resource: Any, query: str, n: int, warmup: int = 0) -> float:
    """µs per ``resource.query(query)`` over ``n`` queries (a pyvisa resource), after ``warmup``
    untimed ones."""
    for _ in range(warmup):
        resource.query(query)
    start = time.perf_counter()
    for _ in range(n):
        resource.query(query)
    return (time.perf_counter() - start) / n * 1e6


def _num(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.3g}"


def table(figures: Sequence[Figure]) -> str:
    """The figures as one aligned text table: figure, value, anchor, ratio, goal, met."""
    head = ("figure", "value", "anchor", "anchor value", "ratio", "goal", "met")
    rows = [head]
    for f in figures:
        ratio = f.ratio
        rows.append(
            (
                f.name,
                f"{_num(f.value)} {f.unit}",
                f.anchor,
                "-" if f.anchor_value is None else f"{_num(f.anchor_value)} {f.unit}",
                "-" if ratio is None else f"{ratio:.3g}x",
                f.goal,
                "yes" if f.met else "NO",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
    lines = [
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    notes = [f"  {f.name}: {f.note}" for f in figures if f.note]
    return "\n".join(lines + (["notes:", *notes] if notes else []))
