"""A SCPI command engine: a compiled header tree, compound-message rules, common commands.

Headers are declared once per model as patterns, e.g.
``[:SOURce]:VOLTage[:LEVel][:IMMediate][:AMPLitude]``: upper-case letters are the short form,
the whole word the long form, brackets mark optional nodes, and any node may carry a numeric
suffix (``SOUR2``, ``OUTP1``). At declaration time every pattern is expanded into the tuples of
canonical short forms it accepts, so dispatch at run time is one dict lookup per header.

Compound messages (``:TRIG:COUN 1;:FORM:ELEM VOLT,CURR``) follow IEEE 488.2 §7.6: a header with
a leading ``:`` starts from the root, one without it continues from the previous header's branch,
common commands (``*XXX``) do not change the branch, empty segments are ignored.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from typing import Any, ClassVar

from sim_backend.commands.base import InstrumentError, Twin
from sim_backend.commands.numbers import (
    parse_int,
    split_args,
    split_outside_quotes,
)
from sim_backend.commands.params import Param
from sim_backend.commands.table import HandlerTable

_NODE = re.compile(r"(\[)?:?([A-Za-z*]+)(\])?")
_SUFFIX = re.compile(r"^([A-Z]+)(\d+)$")


class Call:
    """One header to execute: its arguments (raw strings), numeric suffixes and kind."""

    __slots__ = ("args", "query", "suffixes")

    def __init__(self, args: list[str], suffixes: dict[str, int], query: bool) -> None:
        self.args = args
        self.suffixes = suffixes
        self.query = query

    def suffix(self, node: str, default: int = 1) -> int:
        return self.suffixes.get(node, default)

    def one(self) -> str:
        """The single argument; -109 when missing, -108 when there are more."""
        if not self.args or self.args[0] == "":
            raise InstrumentError(-109)
        if len(self.args) > 1:
            raise InstrumentError(-108)
        return self.args[0]


Handler = Callable[[Any, Call], "str | None"]


# --- the tree ------------------------------------------------------------------------------
def _parse_pattern(pattern: str) -> list[tuple[str, str, bool]]:
    nodes = []
    for opt_open, word, opt_close in _NODE.findall(pattern.rstrip("?")):
        short = "".join(c for c in word if not c.islower()).upper()
        nodes.append((short, word.upper(), bool(opt_open and opt_close)))
    return nodes


class ScpiTree(HandlerTable):
    """Header patterns compiled to ``{(canonical nodes...): (setter, query)}``."""

    def __init__(self, *bases: ScpiTree) -> None:
        self.vocab: dict[str, str] = {}
        self.entries: dict[tuple[str, ...], list[Handler | None]] = {}
        self.settings: dict[str, Param] = {}
        for base in bases:
            self.vocab.update(base.vocab)
            self.entries.update({k: list(v) for k, v in base.entries.items()})
            self.settings.update(base.settings)

    def add(
        self, pattern: str, setter: Handler | None = None, query: Handler | None = None
    ) -> None:
        nodes = _parse_pattern(pattern)
        for short, long, _ in nodes:
            self.vocab[short] = short
            self.vocab[long] = short
        optional = [i for i, n in enumerate(nodes) if n[2]]
        for present in itertools.product((True, False), repeat=len(optional)):
            skip = {i for i, p in zip(optional, present, strict=True) if not p}
            self._put(tuple(n[0] for i, n in enumerate(nodes) if i not in skip), setter, query)

    def setting(
        self,
        pattern: str,
        key: str,
        param: Param,
        query: bool = True,
        per: tuple[str, tuple[int, ...]] | None = None,
    ) -> None:
        """A stored setting: ``HEADER value`` sets it, ``HEADER?`` reads it back.

        ``per=("CHAN", (1, 2))`` keeps one value per numeric suffix of node ``CHAN``, stored as
        ``key_1``, ``key_2``; another suffix is error -114.
        """
        if per is None:
            self.settings[key] = param

            def slot(call: Call) -> str:
                return key
        else:
            node, allowed = per
            for n in allowed:
                self.settings[f"{key}_{n}"] = param

            def slot(call: Call) -> str:
                n = call.suffix(node)
                if n not in allowed:
                    raise InstrumentError(-114)
                return f"{key}_{n}"

        def setter(twin: ScpiTwin, call: Call) -> None:
            name = slot(call)
            twin.change(name, param.parse(call.one()))

        def getter(twin: ScpiTwin, call: Call) -> str:
            name = slot(call)
            if call.args and call.args[0]:
                return param.format(param.bound(call.args[0]))
            return param.format(twin.values[name])

        self.add(pattern, setter=setter, query=getter if query else None)

    def resolve(self, header: str) -> tuple[tuple[str, ...], dict[str, int]]:
        """Canonical node tuple and numeric suffixes of a received header (no ``:``/``?``)."""
        nodes = []
        suffixes: dict[str, int] = {}
        vocab = self.vocab
        for token in header.upper().split(":"):
            if token.isdigit() and nodes:  # RAMP:RATE:FIELD:1? — a suffix as its own node
                suffixes[nodes[-1]] = int(token)
                continue
            canon = vocab.get(token)
            if canon is None:
                m = _SUFFIX.match(token)
                canon = vocab.get(m.group(1)) if m else None
                if canon is None or m is None:
                    raise InstrumentError(-113)
                suffixes[canon] = int(m.group(2))
            nodes.append(canon)
        return tuple(nodes), suffixes


# --- the twin base ------------------------------------------------------------------------------
def _err_next(twin: Twin, call: Call) -> str:
    code, message = twin.pop_error()
    return f'{code},"{message}"'


def _err_all(twin: Twin, call: Call) -> str:
    out = []
    while twin.errors:
        out.append(_err_next(twin, call))
    return ",".join(out) or '0,"No error"'


def _err_count(twin: Twin, call: Call) -> str:
    return str(len(twin.errors))


def _err_clear(twin: Twin, call: Call) -> None:
    twin.errors.clear()


def _preset(twin: Twin, call: Call) -> None:
    return None


SCPI_BASE = ScpiTree()
SCPI_BASE.add("SYSTem:ERRor[:NEXT]", query=_err_next)
SCPI_BASE.add("SYSTem:ERRor:ALL", query=_err_all)
SCPI_BASE.add("SYSTem:ERRor:COUNt", query=_err_count)
SCPI_BASE.add("SYSTem:ERRor:CLEar", setter=_err_clear)
SCPI_BASE.add("SYSTem:VERSion", query=lambda t, c: "1999.0")
SCPI_BASE.add("STATus:PRESet", setter=_preset)
SCPI_BASE.add("SYSTem:BEEPer[:IMMediate]", setter=_preset)
SCPI_BASE.add("SYSTem:BEEP", setter=_preset)
SCPI_BASE.add("SYSTem:LOCal", setter=_preset)
SCPI_BASE.add("SYSTem:REMote", setter=_preset)


class ScpiTwin(Twin):
    """A twin that speaks SCPI through :attr:`tree`, with the IEEE 488.2 common commands."""

    tree: ClassVar[ScpiTree] = SCPI_BASE
    interrupts_queries = True
    #: ``*LANG?`` answer, or None when the instrument has no such command.
    language: ClassVar[str | None] = None

    def reset(self) -> None:
        self.values: dict[str, Any] = {k: p.default for k, p in self.tree.settings.items()}

    def change(self, key: str, value: Any) -> None:
        """Store a setting and let the model react (``on_change``)."""
        old = self.values.get(key)
        self.values[key] = value
        if old != value:
            self.on_change(key)

    def on_change(self, key: str) -> None:
        """Hook: a setting changed."""

    def execute(self, message: str) -> list[str]:
        replies: list[str] = []
        branch: tuple[str, ...] = ()
        segments = split_outside_quotes(message, ";") if ";" in message else (message,)
        for segment in segments:
            segment = segment.strip()
            if not segment:
                continue
            try:
                reply, branch = self._run(segment, branch)
            except InstrumentError as err:
                self.push_error(err.code, err.message)
                if -199 <= err.code <= -100:
                    break
                continue
            if reply is not None:
                replies.append(reply)
        return replies

    def _run(self, segment: str, branch: tuple[str, ...]) -> tuple[str | None, tuple[str, ...]]:
        parts = segment.split(None, 1)
        head = parts[0]
        data = parts[1] if len(parts) > 1 else ""
        if head.startswith(":*"):
            head = head[1:]
        if head.startswith("*"):
            return self._common(head.upper(), data), branch
        query = head.endswith("?")
        if query:
            head = head[:-1].rstrip()
        absolute = head.startswith(":")
        if absolute:
            head = head[1:]
        if not head:
            raise InstrumentError(-102)
        nodes, suffixes = self.tree.resolve(head)
        entry = None
        if not absolute and branch:
            entry = self.tree.entries.get(branch + nodes)
            if entry is not None:
                nodes = branch + nodes
        if entry is None:
            entry = self.tree.entries.get(nodes)
        if entry is None:
            raise InstrumentError(-113)
        handler = entry[1] if query else entry[0]
        if handler is None:
            raise InstrumentError(-113)
        args = split_args(data) if data else []
        reply = handler(self, Call(args, suffixes, query))
        return (reply if query else None), nodes[:-1]

    def _common(self, head: str, data: str) -> str | None:
        if head == "*IDN?":
            return self.identify()
        if head == "*RST":
            self.reset()
            self.on_change("*RST")
            return None
        if head == "*CLS":
            self.clear_status()
            return None
        if head == "*OPC?":
            return "1"
        if head == "*OPC":
            self.esr |= 1
            return None
        if head in ("*WAI",):
            return None
        if head == "*TRG":
            self.trigger()
            return None
        if head == "*ESR?":
            return str(self.read_esr())
        if head == "*STB?":
            return str(self.status_byte())
        if head == "*ESE?":
            return str(self.ese)
        if head == "*SRE?":
            return str(self.sre)
        if head == "*ESE":
            self.ese = parse_int(data, 0, 255)
            return None
        if head == "*SRE":
            self.sre = parse_int(data, 0, 255)
            return None
        if head == "*OPT?":
            return self.options()
        if head == "*TST?":
            return "0"
        if head == "*LANG?" and self.language is not None:
            return self.language
        raise InstrumentError(-113)
