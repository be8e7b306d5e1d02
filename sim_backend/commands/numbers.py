"""Program-data parsing shared by the command engines: numbers with SI suffixes, booleans, strings.

Every parser raises :class:`InstrumentError` with the standard code on bad input: ``-104`` for
something that is not a number, ``-222`` for a number outside the accepted range.
"""

from __future__ import annotations

import math
import re

from sim_backend.commands.base import InstrumentError

# Multiplier prefixes (SCPI: "M" is milli, "MA" mega; "MHZ"/"MOHM" are mega by convention).
_PREFIX = {
    "": 1.0,
    "P": 1e-12,
    "N": 1e-9,
    "U": 1e-6,
    "M": 1e-3,
    "K": 1e3,
    "MA": 1e6,
    "G": 1e9,
}
_UNITS = ("V", "A", "S", "HZ", "OHM", "T", "W", "DB", "DEG", "PCT", "SEC", "VPP", "VRMS", "GS")
_NUMBER = re.compile(r"\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*([A-Za-z]*)\s*$")
_KEYWORDS = {"MIN": "MIN", "MINIMUM": "MIN", "MAX": "MAX", "MAXIMUM": "MAX"}
_KEYWORDS.update({"DEF": "DEF", "DEFAULT": "DEF", "UP": "UP", "DOWN": "DOWN"})


def _suffix_multiplier(suffix: str) -> float:
    s = suffix.upper()
    if not s:
        return 1.0
    if s in ("MHZ", "MOHM"):
        return 1e6
    for unit in _UNITS:
        if s.endswith(unit):
            prefix = s[: -len(unit)]
            if prefix in _PREFIX:
                return _PREFIX[prefix]
    if s in _PREFIX:
        return _PREFIX[s]
    raise InstrumentError(-104, "Data type error; bad suffix")


def parse_float(
    text: str,
    low: float = -math.inf,
    high: float = math.inf,
    default: float | None = None,
) -> float:
    """A decimal number with optional suffix, or MIN/MAX/DEF; checked against ``[low, high]``."""
    try:
        value = float(text)
    except ValueError:
        value = _parse_slow(text, low, high, default)
    if not (low <= value <= high):
        if math.isnan(value):
            raise InstrumentError(-104)
        raise InstrumentError(-222)
    return value


def _parse_slow(text: str, low: float, high: float, default: float | None) -> float:
    stripped = text.strip()
    keyword = _KEYWORDS.get(stripped.upper())
    if keyword == "MIN":
        return low
    if keyword == "MAX":
        return high
    if keyword == "DEF":
        return default if default is not None else max(low, min(high, 0.0))
    match = _NUMBER.match(stripped)
    if match is None:
        raise InstrumentError(-104)
    return float(match.group(1)) * _suffix_multiplier(match.group(2))


def parse_int(text: str, low: int = -(2**31), high: int = 2**31 - 1) -> int:
    """An integer (a decimal that rounds, as instruments accept ``1.0``)."""
    value = parse_float(text, low, high)
    return round(value)


_BOOL = {"1": True, "0": False, "ON": True, "OFF": False, "TRUE": True, "FALSE": False}


def parse_bool(text: str) -> bool:
    """``ON``/``OFF``/``1``/``0`` (any number: non-zero is on)."""
    key = text.strip().upper()
    if key in _BOOL:
        return _BOOL[key]
    try:
        return round(float(key)) != 0
    except ValueError:
        raise InstrumentError(-104) from None


def unquote(text: str) -> str:
    """Strip one level of single or double quotes."""
    s = text.strip()
    if len(s) >= 2 and s[0] == s[-1] and s[0] in "'\"":
        return s[1:-1]
    return s


def split_args(text: str) -> list[str]:
    """Split program data on commas outside quotes; strip each piece."""
    if not text:
        return []
    if '"' not in text and "'" not in text:
        return [a.strip() for a in text.split(",")]
    out: list[str] = []
    buf: list[str] = []
    quote = ""
    for ch in text:
        if quote:
            buf.append(ch)
            if ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
            buf.append(ch)
        elif ch == ",":
            out.append("".join(buf).strip())
            buf = []
        else:
            buf.append(ch)
    out.append("".join(buf).strip())
    return out


def split_outside_quotes(text: str, sep: str) -> list[str]:
    """Split ``text`` on ``sep`` except inside quotes."""
    if '"' not in text and "'" not in text:
        return text.split(sep)
    out: list[str] = []
    start = 0
    quote = ""
    for i, ch in enumerate(text):
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
        elif ch == sep:
            out.append(text[start:i])
            start = i + 1
    out.append(text[start:])
    return out


def sci(value: float, digits: int = 6) -> str:
    """Keithley style: ``+1.000000E-03``."""
    return f"{value:+.{digits}E}"
