"""A Lua-subset interpreter for TSP instruments: tokens, expressions, calls, assignments.

Evaluates one line at a time against a global table of :class:`Node` objects; see
:mod:`sim_backend.commands.tsp` for what the twins put in that table.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, ClassVar

_TOKEN = re.compile(
    r"\s*(?:(?P<num>(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)|(?P<str>'[^']*'|\"[^\"]*\")"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_]*)|(?P<op>==|~=|<=|>=|\.\.|[-+*/^#<>=(){}\[\],.;:%]))"
)
_KEYWORDS = {
    "for",
    "if",
    "while",
    "function",
    "local",
    "repeat",
    "return",
    "do",
    "end",
    "then",
    "else",
    "elseif",
    "until",
    "in",
    "break",
    "goto",
}


class TspError(Exception):
    def __init__(self, code: int, message: str) -> None:
        self.code, self.message = code, message
        super().__init__(message)


class Node:
    """A TSP table: fields, and a hook called when a field is assigned."""

    def __init__(
        self,
        fields: dict[str, Any] | None = None,
        on_set: Callable[[str, Any], None] | None = None,
        name: str = "",
    ) -> None:
        self.fields = fields or {}
        self.on_set = on_set
        self.name = name

    def get(self, key: Any) -> Any:
        value = self.fields.get(key) if not isinstance(key, float) else self.fields.get(int(key))
        if callable(value) and getattr(value, "tsp_property", False):
            return value()
        return value

    def set(self, key: str, value: Any) -> None:
        if self.on_set is not None:
            self.on_set(key, value)
        else:
            self.fields[key] = value


def prop(fn: Callable[[], Any]) -> Callable[[], Any]:
    """Mark a zero-argument function as a read-only attribute computed on access."""
    fn.tsp_property = True  # type: ignore[attr-defined]
    return fn


def tsp_format(value: Any) -> str:
    if value is None:
        return "nil"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int | float):
        return f"{float(value):.5e}"
    if isinstance(value, Node):
        return f"table: 0x{id(value) & 0xFFFFFF:06x}"
    if callable(value):
        return f"function: 0x{id(value) & 0xFFFFFF:06x}"
    return str(value)


class _Parser:
    """Recursive descent over one line's tokens, evaluating as it goes."""

    def __init__(self, text: str, env: Node, out: list[str]) -> None:
        self.tokens: list[tuple[str, str]] = []
        pos = 0
        text = text.rstrip()
        while pos < len(text):
            m = _TOKEN.match(text, pos)
            if m is None or m.end() == pos:
                if text[pos:].strip() == "":
                    break
                raise TspError(
                    -285,
                    f"TSP Syntax error at line 1: unexpected symbol near '{text[pos : pos + 8]}'",
                )
            kind = m.lastgroup or ""
            self.tokens.append((kind, m.group(kind)))
            pos = m.end()
        self.i = 0
        self.env = env
        self.out = out

    def peek(self) -> tuple[str, str]:
        return self.tokens[self.i] if self.i < len(self.tokens) else ("eof", "")

    def take(self, value: str | None = None) -> tuple[str, str]:
        tok = self.peek()
        if value is not None and tok[1] != value:
            raise TspError(
                -285, f"TSP Syntax error at line 1: '{value}' expected near '{tok[1] or '<eof>'}'"
            )
        if tok[0] == "eof":
            raise TspError(-285, "TSP Syntax error at line 1: unexpected end of line")
        self.i += 1
        return tok

    def run(self) -> None:
        while self.peek()[0] != "eof":
            if self.peek()[1] == ";":
                self.take()
                continue
            self.statement()

    def statement(self) -> None:
        kind, value = self.peek()
        if kind == "name" and value in _KEYWORDS:
            raise TspError(
                -285,
                f"TSP Syntax error at line 1: '{value}' is not supported "
                "by the simulated instrument",
            )
        if kind != "name":
            raise TspError(-285, f"TSP Syntax error at line 1: unexpected symbol near '{value}'")
        target, key, _value_now, was_call = self.prefix()
        if self.peek()[1] == "=":
            self.take("=")
            assigned = self.expression()
            if target is None:
                self.env.set(key, assigned)
            elif isinstance(target, Node):
                target.set(key, assigned)
            else:
                raise TspError(-286, "TSP Runtime error: attempt to index a non-table value")
        elif not was_call:
            raise TspError(
                -285, f"TSP Syntax error at line 1: '=' expected near '{self.peek()[1] or '<eof>'}'"
            )

    def prefix(self) -> tuple[Any, Any, Any, bool]:
        """name {.name | [exp] | (args)}: (container, key, value, ended with a call)."""
        _, name = self.take()
        container: Any = None
        key: Any = name
        value = self.env.get(name)
        was_call = False
        while True:
            op = self.peek()[1]
            if op == ".":
                self.take()
                kind, field = self.take()
                if kind != "name":
                    raise TspError(-285, "TSP Syntax error at line 1: <name> expected")
                container, key, value = value, field, self._index(value, field, key)
                was_call = False
            elif op == "[":
                self.take()
                idx = self.expression()
                self.take("]")
                container, key, value = value, idx, self._index(value, idx, key)
                was_call = False
            elif op == "(":
                self.take()
                args = [] if self.peek()[1] == ")" else self.expression_list()
                self.take(")")
                if not callable(value):
                    raise TspError(
                        -286, f"TSP Runtime error: attempt to call field '{key}' (a nil value)"
                    )
                result = value(*args)
                value = result[0] if isinstance(result, tuple) and len(result) == 1 else result
                container, key, was_call = None, None, True
            else:
                return container, key, value, was_call

    def _index(self, value: Any, field: Any, parent: Any) -> Any:
        if not isinstance(value, Node):
            raise TspError(
                -286, f"TSP Runtime error: attempt to index field '{parent}' (a nil value)"
            )
        return value.get(field)

    def expression_list(self) -> list[Any]:
        """Comma-separated expressions; a call in last place expands to all its results."""
        values = [self.expression(multi=True)]
        while self.peek()[1] == ",":
            self.take()
            values.append(self.expression(multi=True))
        last = values.pop()
        values = [_first(v) for v in values]
        values.extend(last if isinstance(last, tuple) else (last,))
        return values

    _BINARY: ClassVar[list[tuple[str, ...]]] = [
        ("or",),
        ("and",),
        ("<", ">", "<=", ">=", "~=", "=="),
        ("..",),
        ("+", "-"),
        ("*", "/", "%"),
    ]

    def expression(self, level: int = 0, multi: bool = False) -> Any:
        if level == len(self._BINARY):
            return self.unary()
        left = self.expression(level + 1, multi=True)
        while self.peek()[1] in self._BINARY[level]:
            _, op = self.take()
            right = self.expression(level + 1, multi=True)
            left = _binary(op, _first(left), _first(right))
        return left if multi else _first(left)

    def unary(self) -> Any:
        op = self.peek()[1]
        if op in ("-", "not", "#"):
            self.take()
            value = self.unary()
            value = _first(value)
            if op == "-":
                return -_number(value)
            if op == "not":
                return value is None or value is False
            return float(len(value)) if isinstance(value, str) else 0.0
        base = self.atom()
        if self.peek()[1] == "^":
            self.take()
            return _number(_first(base)) ** _number(_first(self.unary()))
        return base

    def atom(self) -> Any:
        kind, value = self.peek()
        if kind == "num":
            self.take()
            return float(value)
        if kind == "str":
            self.take()
            return value[1:-1]
        if kind == "name":
            if value in ("nil", "true", "false"):
                self.take()
                return {"nil": None, "true": True, "false": False}[value]
            if value in _KEYWORDS:
                raise TspError(-285, f"TSP Syntax error at line 1: unexpected '{value}'")
            return self.prefix()[2]
        if value == "(":
            self.take()
            inner = self.expression()
            self.take(")")
            return inner
        if value == "{":
            self.take()
            items = [] if self.peek()[1] == "}" else self.expression_list()
            self.take("}")
            return Node({i + 1: v for i, v in enumerate(items)})
        raise TspError(
            -285, f"TSP Syntax error at line 1: unexpected symbol near '{value or '<eof>'}'"
        )


def _first(value: Any) -> Any:
    """Lua truncates a multiple result to its first value outside an argument list's end."""
    if isinstance(value, tuple):
        return value[0] if value else None
    return value


def _number(value: Any) -> float:
    if isinstance(value, bool) or value is None:
        raise TspError(
            -286, f"TSP Runtime error: attempt to perform arithmetic on a {tsp_format(value)} value"
        )
    try:
        return float(value)
    except (TypeError, ValueError):
        raise TspError(
            -286, "TSP Runtime error: attempt to perform arithmetic on a string value"
        ) from None


def _binary(op: str, a: Any, b: Any) -> Any:
    if op == "..":
        return (
            f"{tsp_format(a) if not isinstance(a, str) else a}"
            f"{tsp_format(b) if not isinstance(b, str) else b}"
        )
    if op == "and":
        return b if a not in (None, False) else a
    if op == "or":
        return a if a not in (None, False) else b
    if op == "==":
        return a == b
    if op == "~=":
        return a != b
    x, y = _number(a), _number(b)
    if op in ("<", ">", "<=", ">="):
        return {"<": x < y, ">": x > y, "<=": x <= y, ">=": x >= y}[op]
    if op == "/" and y == 0:
        return float("inf") if x else float("nan")
    if op == "%" and y == 0:
        return float("nan")
    return {"+": x + y, "-": x - y, "*": x * y, "/": x / y if y else 0.0, "%": x % y}[op]
