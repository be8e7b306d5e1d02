"""A TSP (Lua subset) engine for the Keithley 2600B, 707B and 3706A twins.

What the drivers send, and no more: ``print(a, b)`` (the only statement with a reply; values
TAB-separated, numbers in ``%.5e``), assignments ``smua.source.levelv = 1`` , calls
``channel.close('1A01')``, indexing ``slot[1].idn``, single- and double-quoted strings, numbers,
``nil``/``true``/``false``, arithmetic, comparison and ``..``; ``loadscript``/``loadandrunscript``
… ``endscript`` blocks run their lines. ``*IDN?``, ``*RST``, ``*CLS``, ``*OPC?`` … work too.
Errors queue like the instrument's ``errorqueue``: ``-285`` syntax, ``-286`` runtime.
"""

from __future__ import annotations

from typing import Any

from sim_backend.commands.base import InstrumentError, Twin
from sim_backend.commands.lua import Node, TspError, _Parser, prop, tsp_format

__all__ = ["Node", "TspError", "TspTwin", "prop", "tsp_format"]


class TspTwin(Twin):
    """A twin whose commands are TSP statements run against :meth:`environment`."""

    def reset(self) -> None:
        self.script: list[str] | None = None
        self.run_script = False
        self.env = self.environment()

    def __getstate__(self) -> dict[str, Any]:
        # the global table is closures over this twin's own state: rebuilt, not pickled
        return {k: v for k, v in self.__dict__.items() if k not in ("env", "_out")}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self.env = self.environment()

    def environment(self) -> Node:
        """The global table; models extend it (``smua``, ``channel``, ``slot`` …)."""
        env = Node(name="_G")
        env.fields.update(
            {
                "print": lambda *args: self._print(args),
                "reset": lambda *args: self._reset_all(),
                "errorqueue": Node(
                    {
                        "next": self._error_next,
                        "clear": lambda: self.errors.clear(),
                        "count": prop(lambda: float(len(self.errors))),
                    }
                ),
                "waitcomplete": lambda *args: None,
                "opc": lambda *args: None,
                "delay": lambda *args: None,
                "beeper": Node({"beep": lambda *args: None, "enable": 1.0}),
                "format": Node(
                    {
                        "asciiprecision": 6.0,
                        "data": 1.0,
                        "ASCII": 1.0,
                        "REAL32": 4.0,
                        "REAL64": 5.0,
                        "byteorder": 0.0,
                    }
                ),
                "display": Node(
                    {
                        "clear": lambda *a: None,
                        "settext": lambda *a: None,
                        "sendkey": lambda *a: None,
                        "screen": 0.0,
                        "SMUA": 0.0,
                        "SMUB": 1.0,
                        "SMUA_SMUB": 2.0,
                        "USER": 3.0,
                    }
                ),
                "status": Node(
                    {"reset": lambda *a: None, "condition": prop(lambda: float(self.status_byte()))}
                ),
            }
        )
        return env

    # --- built-ins ------------------------------------------------------------------------
    def _print(self, args: tuple[Any, ...]) -> None:
        self._out.append("\t".join(tsp_format(a) for a in args))

    def _error_next(self) -> tuple[Any, ...]:
        code, message = self.pop_error()
        if code == 0:
            message = "Queue Is Empty"
        return (float(code), message, 0.0 if code == 0 else 2.0, 0.0)

    def _reset_all(self) -> None:
        self.reset()
        self.on_change("*RST")

    def on_change(self, key: str) -> None:
        """Hook: the instrument was reset."""

    # --- execution ------------------------------------------------------------------------
    def execute(self, message: str) -> list[str]:
        self._out: list[str] = []
        line = message.strip()
        if self.script is not None:
            if line.lower() == "endscript":
                lines, self.script = self.script, None
                if self.run_script:
                    for script_line in lines:
                        self._line(script_line)
            else:
                self.script.append(line)
            return self._out
        first = line.split(None, 1)[0] if line else ""
        if first in ("loadscript", "loadandrunscript"):
            self.script, self.run_script = [], first == "loadandrunscript"
            return self._out
        if line.startswith("*") or line.startswith(":*"):
            self._common(line.lstrip(":").split(None, 1)[0].upper())
            return self._out
        self._line(line)
        return self._out

    def _line(self, line: str) -> None:
        try:
            _Parser(line, self.env, self._out).run()
        except TspError as err:
            self.push_error(err.code, err.message)
        except InstrumentError as err:
            self.push_error(err.code, err.message)
        except (TypeError, ValueError, OverflowError, ZeroDivisionError, IndexError) as err:
            self.push_error(-286, f"TSP Runtime error: {err}")

    def _common(self, head: str) -> None:
        if head == "*IDN?":
            self._out.append(self.identify())
        elif head == "*RST":
            self._reset_all()
        elif head == "*CLS":
            self.clear_status()
        elif head == "*OPC?":
            self._out.append("1")
        elif head == "*ESR?":
            self._out.append(str(self.read_esr()))
        elif head == "*STB?":
            self._out.append(str(self.status_byte()))
        elif head == "*TRG":
            self.trigger()
        elif head not in ("*OPC", "*WAI", "*ESE", "*SRE"):
            self.push_error(-285, f"TSP Syntax error at line 1: unexpected symbol near '{head}'")

    def join_replies(self, replies: list[str]) -> str:
        return "\n".join(replies)
