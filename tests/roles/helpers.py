"""Assertions shared by the role contract suites."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

import pytest

from instruments.roles import LimitError, Role, Window


def refused(role: Role, quantity: str, limit: Window | str, call: Callable[[], Any]) -> None:
    """``call`` raises a LimitError naming the role, the quantity and the limit, and nothing was
    sent (no instrument transaction): refused, not clipped."""
    sent = role.transactions
    with pytest.raises(LimitError) as caught:
        call()
    message = str(caught.value)
    assert message.startswith(f"{role.name}: refused {quantity} = "), message
    assert str(limit) in message and "nothing was sent" in message, message
    assert role.transactions == sent, f"{role.name}: sent {role.transactions - sent} message(s)"


def finite_float(value: Any) -> float:
    assert isinstance(value, float), f"expected a float, got {type(value).__name__} {value!r}"
    assert math.isfinite(value), value
    return value


def outside(window: Window) -> list[float]:
    """Values just beyond each end of ``window`` (a tenth of its span) and a NaN."""
    span = max(window.high - window.low, abs(window.high), 1e-12)
    return [window.high + 0.1 * span, window.low - 0.1 * span, math.nan]


def said(line: Any) -> str:
    """A safe state reports what it did in one non-empty line."""
    assert isinstance(line, str) and line.strip() and "\n" not in line, repr(line)
    return line


def words(text: str) -> set[str]:
    return set(re.findall(r"\w+", text.lower()))
