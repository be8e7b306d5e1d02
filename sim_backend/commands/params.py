"""Stored settings of SCPI twins: how each parses its program data and formats its reply."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sim_backend.commands.base import InstrumentError
from sim_backend.commands.numbers import parse_bool, parse_float, parse_int, sci, unquote


class Param:
    """How a stored setting parses its program data and formats its query reply."""

    default: Any = None

    def parse(self, text: str) -> Any:
        raise NotImplementedError

    def format(self, value: Any) -> str:
        return str(value)

    def bound(self, keyword: str) -> Any:
        raise InstrumentError(-224)


@dataclass
class Float(Param):
    low: float = -math.inf
    high: float = math.inf
    default: float = 0.0
    fmt: Callable[[float], str] = sci

    def parse(self, text: str) -> float:
        return parse_float(text, self.low, self.high, self.default)

    def format(self, value: float) -> str:
        return self.fmt(value)

    def bound(self, keyword: str) -> float:
        return {"MIN": self.low, "MAX": self.high, "DEF": self.default}.get(
            keyword.upper()[:3], self.default
        )


@dataclass
class Int(Param):
    low: int = -(2**31)
    high: int = 2**31 - 1
    default: int = 0

    def parse(self, text: str) -> int:
        return parse_int(text, self.low, self.high)

    def format(self, value: int) -> str:
        return str(int(value))


@dataclass
class Bool(Param):
    default: bool = False

    def parse(self, text: str) -> bool:
        return parse_bool(text)

    def format(self, value: bool) -> str:
        return "1" if value else "0"


class Enum(Param):
    """Choices in mixed case (``VOLTage``); stored and answered in the short form."""

    def __init__(self, *choices: str, default: str | None = None, quoted: bool = False) -> None:
        self.lookup: dict[str, str] = {}
        for choice in choices:
            short = "".join(c for c in choice if not c.islower()).upper() or choice.upper()
            self.lookup[short] = short
            self.lookup[choice.upper()] = short
        self.default = default or next(iter(self.lookup.values()))
        self.quoted = quoted

    def parse(self, text: str) -> str:
        key = unquote(text).upper()
        if key not in self.lookup:
            raise InstrumentError(-224)
        return self.lookup[key]

    def format(self, value: str) -> str:
        return f'"{value}"' if self.quoted else value


class Text(Param):
    def __init__(self, default: str = "") -> None:
        self.default = default

    def parse(self, text: str) -> str:
        return unquote(text)

    def format(self, value: str) -> str:
        return f'"{value}"'
