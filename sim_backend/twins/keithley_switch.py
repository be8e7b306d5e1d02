"""Keithley 707B and 3706A switch matrices (TSP): which device each terminal reaches.

``channel.close('1A01,1B02')``, ``channel.open('allslots')``, ``channel.exclusiveclose(...)``,
``print(channel.getclose('allslots'))`` → ``nil`` or ``1A01;1B02``. A 707B channel is
slot-row-column (``1A01``: slot 1, row A, column 1; a 7174A card is 8 rows × 12 columns); a
3706A matrix channel is slot-row-column digits (``1101``: slot 1, row 1, column 1; a 3730 card
is 6 rows × 16 columns). Closed crosspoints go to the lab, which maps rows to terminals and
columns to devices as the lab file says. Forbidden channels refuse to close (error -221).
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

from sim_backend.commands.base import InstrumentError
from sim_backend.commands.tsp import Node, TspTwin, prop


class SwitchMatrix(TspTwin):
    """Common channel logic; subclasses define the channel-name format and the cards."""

    rows: ClassVar[str] = "ABCDEFGH"
    n_columns: ClassVar[int] = 12
    slots: ClassVar[tuple[int, ...]] = (1,)
    channel_re: ClassVar[re.Pattern[str]] = re.compile(r"^([1-6])([A-H])(\d\d)$")

    def reset(self) -> None:
        self.closed: set[str] = set()
        self.forbidden: set[str] = set()
        self.connect_rule = 1.0
        super().reset()
        self._publish()

    # --- channel names --------------------------------------------------------------------
    def channel_name(self, slot: int, row: str, column: int) -> str:
        return f"{slot}{row}{column:02d}"

    def all_channels(self, slot: int | None = None) -> list[str]:
        slots = self.slots if slot is None else (slot,)
        return [
            self.channel_name(s, r, c)
            for s in slots
            for r in self.rows
            for c in range(1, self.n_columns + 1)
        ]

    def expand(self, spec: Any) -> list[str]:
        """Channel list from a specifier: names, ranges ``a:b``, ``slotN``, ``allslots``."""
        if not isinstance(spec, str) or not spec.strip():
            raise InstrumentError(-286, "TSP Runtime error: bad argument (string expected)")
        out: list[str] = []
        for part in spec.replace(";", ",").split(","):
            part = part.strip()
            if part.lower() == "allslots":
                out.extend(self.all_channels())
            elif part.lower().startswith("slot"):
                try:
                    slot = int(part[4:])
                except ValueError:
                    raise InstrumentError(-286, f"TSP Runtime error: bad slot {part}") from None
                if slot not in self.slots:
                    raise InstrumentError(-286, f"TSP Runtime error: empty slot {part}")
                out.extend(self.all_channels(slot))
            elif ":" in part:
                first, last = (p.strip() for p in part.split(":", 1))
                names = self.all_channels()
                if first not in names or last not in names:
                    raise InstrumentError(-286, f"TSP Runtime error: invalid range {part}")
                a, b = sorted((names.index(first), names.index(last)))
                out.extend(names[a : b + 1])
            elif self.channel_re.match(part) and part in self.all_channels():
                out.append(part)
            else:
                raise InstrumentError(-286, f"TSP Runtime error: invalid channel {part}")
        return out

    def crosspoint(self, name: str) -> tuple[str, int]:
        m = self.channel_re.match(name)
        assert m is not None
        return m.group(2), int(m.group(3))

    # --- actions --------------------------------------------------------------------------
    def close(self, spec: Any) -> None:
        names = self.expand(spec)
        refused = [n for n in names if n in self.forbidden]
        if refused:
            raise InstrumentError(-221, f"Settings conflict; forbidden channel {refused[0]}")
        self.closed.update(names)
        self._publish()

    def open(self, spec: Any) -> None:
        self.closed.difference_update(self.expand(spec))
        self._publish()

    def exclusive_close(self, spec: Any) -> None:
        names = self.expand(spec)
        if any(n in self.forbidden for n in names):
            raise InstrumentError(-221, "Settings conflict; forbidden channel")
        self.closed = set(names)
        self._publish()

    def exclusive_slot_close(self, spec: Any) -> None:
        names = self.expand(spec)
        slots = {n[0] for n in names}
        self.closed = {n for n in self.closed if n[0] not in slots} | set(names)
        self._publish()

    def getclose(self, spec: Any) -> str | None:
        wanted = set(self.expand(spec))
        closed = [n for n in self.all_channels() if n in self.closed and n in wanted]
        return ";".join(closed) if closed else None

    def _publish(self) -> None:
        self.wiring.set_crosspoints({self.crosspoint(n) for n in self.closed})

    def channel_node(self) -> Node:
        def set_forbidden(spec: Any) -> None:
            self.forbidden.update(self.expand(spec))

        def clear_forbidden(spec: Any) -> None:
            self.forbidden.difference_update(self.expand(spec))

        def get_forbidden(spec: Any) -> str | None:
            wanted = set(self.expand(spec))
            names = [n for n in self.all_channels() if n in self.forbidden and n in wanted]
            return ",".join(names) if names else None

        def set_rule(key: str, value: Any) -> None:
            if key == "connectrule":
                self.connect_rule = float(value)
            else:
                node.fields[key] = value

        node = Node(
            {
                "close": self.close,
                "open": self.open,
                "exclusiveclose": self.exclusive_close,
                "exclusiveslotclose": self.exclusive_slot_close,
                "getclose": self.getclose,
                "reset": lambda spec="allslots": self.open(spec),
                "setforbidden": set_forbidden,
                "clearforbidden": clear_forbidden,
                "getforbidden": get_forbidden,
                "setdelay": lambda *a: None,
                "getdelay": lambda spec: "0",
                "getstate": lambda spec: ",".join(
                    "1" if n in self.closed else "0" for n in self.expand(spec)
                ),
                "connectrule": prop(lambda: self.connect_rule),
                "BREAK_BEFORE_MAKE": 1.0,
                "MAKE_BEFORE_BREAK": 2.0,
                "OFF": 0.0,
            },
            on_set=set_rule,
        )
        return node

    def environment(self) -> Node:
        env = super().environment()
        env.fields["channel"] = self.channel_node()
        env.fields["localnode"] = Node(
            {
                "model": self.model_number,
                "serialno": self.serial,
                "revision": "1.0",
                "linefreq": 60.0,
            }
        )
        return env

    model_number: ClassVar[str] = ""

    def journal_state(self) -> dict[str, Any]:
        return {"closed": sorted(self.closed)}


class Keithley707B(SwitchMatrix):
    """A 707B with one 7174A 8×12 matrix card in slot 1."""

    model = "keithley707b"
    model_number = "707B"
    idn = "Keithley Instruments Inc., Model 707B, {serial}, 1.3.3"
    defaults: ClassVar[dict[str, Any]] = {"serial": "1234567"}

    def environment(self) -> Node:
        env = super().environment()
        env.fields["slot"] = Node(
            {
                k: Node(
                    {"idn": "7174A,8x12 Low Current Matrix,1.0,12345" if k == 1 else "Empty Slot"}
                )
                for k in range(1, 7)
            }
        )
        return env


class Keithley3706A(SwitchMatrix):
    """A 3706A with one 3730 6×16 matrix card in slot 1."""

    model = "keithley3706a"
    model_number = "3706A"
    idn = "KEITHLEY INSTRUMENTS INC.,MODEL 3706A,{serial},01.56a"
    rows = "123456"
    n_columns = 16
    channel_re = re.compile(r"^([1-6])([1-6])(\d\d)$")
    defaults: ClassVar[dict[str, Any]] = {"serial": "04089762"}

    def environment(self) -> Node:
        env = super().environment()
        slots = {}
        for k in range(1, 7):
            if k in self.slots:
                slots[k] = Node(
                    {
                        "idn": "3730,6x16 High Density Matrix,01.40h,1234567",
                        "rows": Node({"matrix": 6.0}),
                        "columns": Node({"matrix": 16.0}),
                        "interlock": Node({"state": 3.0}),
                    }
                )
            else:
                slots[k] = Node({"idn": "Empty Slot", "interlock": Node({"state": None})})
        env.fields["slot"] = Node(slots)
        env.fields["memory"] = Node({"available": lambda: "51.58, 100.00, 99.92, 100.00"})
        env.fields["lan"] = Node(
            {"status": Node({"ipaddress": "192.168.0.2"}), "reset": lambda: None}
        )
        env.fields["gpib"] = Node({"address": 16.0})
        env.fields["comm"] = Node({"gpib": Node({"enable": True}), "lan": Node({"enable": True})})
        env.fields["setup"] = Node({"save": lambda *a: None, "recall": lambda *a: None})
        return env
