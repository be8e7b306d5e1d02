"""The engine of the non-SCPI instruments: four-letter mnemonics (SR830/SR860, Lake Shore).

``HEAD args`` sets, ``HEAD? args`` queries; spaces are optional (``OUTP?1``, ``SLVL0.500``,
``SRAT ?``), ``;`` separates commands and a trailing ``;`` is ignored. Errors go to the error
queue with their standard code and set the command/execution bit of ``*ESR?``; instruments that
have their own error query (``ERRS?``, ``ERST?``) answer it from the same state.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, ClassVar

from sim_backend.commands.base import ESR_OPC, InstrumentError, Twin
from sim_backend.commands.numbers import parse_float, parse_int, split_args, split_outside_quotes
from sim_backend.commands.table import HandlerTable

_HEAD = re.compile(r"\s*(\*?[A-Za-z]+)(?:\s*(\?))?(.*)$", re.DOTALL)
Handler = Callable[[Any, list[str]], "str | None"]


class Mnemonics(HandlerTable):
    """``{HEAD: [setter, query]}`` plus the stored settings of one model."""

    def __init__(self, *bases: Mnemonics) -> None:
        self.entries: dict[str, list[Handler | None]] = {}
        self.defaults: dict[str, Any] = {}
        for base in bases:
            self.entries.update({k: list(v) for k, v in base.entries.items()})
            self.defaults.update(base.defaults)

    def add(self, head: str, setter: Handler | None = None, query: Handler | None = None) -> None:
        self._put(head.upper(), setter, query)

    def integer(self, head: str, key: str, low: int, high: int, default: int) -> None:
        """A stored integer setting (``HEAD n`` / ``HEAD?``)."""
        self.defaults[key] = default

        def setter(twin: MnemonicTwin, args: list[str]) -> None:
            twin.change(key, parse_int(_one(args), low, high))

        self.add(head, setter, lambda twin, args: str(twin.values[key]))

    def real(
        self, head: str, key: str, low: float, high: float, default: float, fmt: str = "{:.6g}"
    ) -> None:
        """A stored real setting."""
        self.defaults[key] = default

        def setter(twin: MnemonicTwin, args: list[str]) -> None:
            twin.change(key, parse_float(_one(args), low, high))

        self.add(head, setter, lambda twin, args: fmt.format(twin.values[key]))

    def indexed(
        self,
        head: str,
        key: str,
        count: int,
        low: float,
        high: float,
        default: float,
        first: int = 1,
    ) -> None:
        """``HEAD i,x`` / ``HEAD? i`` for channels ``first..first+count-1``."""
        self.defaults[key] = [default] * count

        def index(args: list[str]) -> int:
            if not args or not args[0]:
                raise InstrumentError(-109)
            return parse_int(args[0], first, first + count - 1) - first

        def setter(twin: MnemonicTwin, args: list[str]) -> None:
            i = index(args)
            if len(args) != 2:
                raise InstrumentError(-109 if len(args) < 2 else -108)
            twin.values[key][i] = parse_float(args[1], low, high)
            twin.on_change(key)

        def query(twin: MnemonicTwin, args: list[str]) -> str:
            return f"{twin.values[key][index(args)]:.6g}"

        self.add(head, setter, query)


def _one(args: list[str]) -> str:
    if not args or not args[0]:
        raise InstrumentError(-109)
    if len(args) > 1:
        raise InstrumentError(-108)
    return args[0]


def _idn(twin: Twin, args: list[str]) -> str:
    return twin.identify()


def _rst(twin: MnemonicTwin, args: list[str]) -> None:
    twin.reset()
    twin.on_change("*RST")


def _cls(twin: Twin, args: list[str]) -> None:
    twin.clear_status()


def _set_ese(twin: Twin, args: list[str]) -> None:
    twin.ese = parse_int(_one(args), 0, 255)


def _set_sre(twin: Twin, args: list[str]) -> None:
    twin.sre = parse_int(_one(args), 0, 255)


def _opc(twin: Twin, args: list[str]) -> None:
    twin.esr |= ESR_OPC


def _trg(twin: Twin, args: list[str]) -> None:
    twin.trigger()


COMMON = Mnemonics()
COMMON.add("*IDN", query=_idn)
COMMON.add("*RST", setter=_rst)
COMMON.add("*CLS", setter=_cls)
COMMON.add("*ESR", query=lambda twin, args: str(twin.read_esr()))
COMMON.add("*ESE", _set_ese, lambda twin, args: str(twin.ese))
COMMON.add("*SRE", _set_sre, lambda twin, args: str(twin.sre))
COMMON.add("*STB", query=lambda twin, args: str(twin.status_byte()))
COMMON.add("*OPC", _opc, lambda twin, args: "1")
COMMON.add("*WAI", setter=lambda twin, args: None)
COMMON.add("*TRG", setter=_trg)
COMMON.add("*TST", query=lambda twin, args: "0")


class MnemonicTwin(Twin):
    """A twin whose command set is a flat table of mnemonics."""

    table: ClassVar[Mnemonics] = COMMON

    def reset(self) -> None:
        self.values: dict[str, Any] = {
            k: list(v) if isinstance(v, list) else v for k, v in self.table.defaults.items()
        }

    def change(self, key: str, value: Any) -> None:
        old = self.values.get(key)
        self.values[key] = value
        if old != value:
            self.on_change(key)

    def on_change(self, key: str) -> None:
        """Hook: a setting changed."""

    def execute(self, message: str) -> list[str]:
        replies: list[str] = []
        segments = split_outside_quotes(message, ";") if ";" in message else (message,)
        entries = self.table.entries
        for segment in segments:
            if not segment or segment.isspace():
                continue
            match = _HEAD.match(segment)
            if match is None:
                self.push_error(-102)
                continue
            head, query, data = match.groups()
            entry = entries.get(head.upper())
            if entry is None:
                self.push_error(-113)
                continue
            handler = entry[1] if query else entry[0]
            if handler is None:
                self.push_error(-113)
                continue
            data = data.strip()
            try:
                reply = handler(self, split_args(data) if data else [])
            except InstrumentError as err:
                self.push_error(err.code, err.message)
                continue
            if query and reply is not None:
                replies.append(reply)
        return replies

    def join_replies(self, replies: list[str]) -> str:
        return ";".join(replies)
