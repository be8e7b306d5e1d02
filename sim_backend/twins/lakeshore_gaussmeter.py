"""Lake Shore 425 and 475 gaussmeters (Lake Shore command set): the field readback.

``RDGFIELD?`` reads the field at the probe (the magnet named in the wiring, or the total field
at the chip) plus the probe noise, in the unit set by ``UNIT`` (1 G, 2 T, 3 Oe, 4 A/m). Replies
end in CR LF, as Lake Shore instruments do.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

from sim_backend.commands.mnemonic import COMMON, Mnemonics, MnemonicTwin
from sim_backend.commands.numbers import parse_int

MU0 = 4e-7 * math.pi
_UNIT_SCALE = {1: 1e4, 2: 1.0, 3: 1e4, 4: 1.0 / MU0}

table = Mnemonics(COMMON)
table.integer("UNIT", "unit", 1, 4, 1)
table.integer("RANGE", "range", 1, 4, 4)
table.integer("AUTO", "autorange", 0, 1, 1)
table.integer("FILT", "filter", 0, 1, 0)
table.integer("PRMS", "peak_rms", 1, 2, 1)
table.integer("TYPE", "probe_type", 0, 3, 1)
table.defaults["mode"] = (1, 0, 1)


def _rdgfield(twin: LakeShoreGaussmeter, args: list[str]) -> str:
    return f"{twin.reading():+.4E}"


def _auto(twin: LakeShoreGaussmeter, args: list[str]) -> None:
    twin.values["autorange"] = 1


def _rdgmode(twin: LakeShoreGaussmeter, args: list[str]) -> None:
    if len(args) != 3:
        from sim_backend.commands.base import InstrumentError

        raise InstrumentError(-109 if len(args) < 3 else -108)
    twin.values["mode"] = (
        parse_int(args[0], 1, 2),
        parse_int(args[1], 0, 1),
        parse_int(args[2], 1, 2),
    )


table.add("RDGFIELD", query=_rdgfield)
table.add("RDGFLD", query=_rdgfield)
table.add("AUTO", setter=_auto)
table.add("RDGMODE", _rdgmode, lambda twin, args: "{},{},{}".format(*twin.values["mode"]))
table.add("ZPROBE", setter=lambda twin, args: None)
table.add("ZCLEAR", setter=lambda twin, args: None)


class LakeShoreGaussmeter(MnemonicTwin):
    """A gaussmeter reading the field at its probe."""

    model = "lakeshore425"
    idn = "LSCI,MODEL425,{serial},1.6"
    reply_terminator = "\r\n"
    table = table
    defaults: ClassVar[dict[str, Any]] = {"serial": "4250123", "noise_T": 2e-5}

    def reading(self) -> float:
        field_T = self.wiring.field_T() + self.wiring.rng.normal(
            0.0, float(self.settings["noise_T"])
        )
        return field_T * _UNIT_SCALE[self.values["unit"]]

    def journal_state(self) -> dict[str, Any]:
        return {"unit": self.values["unit"]}


class LakeShore475(LakeShoreGaussmeter):
    model = "lakeshore475"
    idn = "LSCI,MODEL475,{serial},1.3"
    defaults: ClassVar[dict[str, Any]] = {"serial": "4750456", "noise_T": 1e-5}
