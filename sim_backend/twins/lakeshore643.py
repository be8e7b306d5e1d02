"""Lake Shore 643 electromagnet power supply (RS-232, 57600 baud 7-O-1, CR LF).

No output on/off: the output current follows ``SETI`` at ``RATE`` (A/s), and the coil follows
the output. ``RDGI?``/``RDGV?`` read the output, ``LIMIT maxI,maxRate`` bounds what ``SETI`` and
``RATE`` accept, ``STOP`` holds the present current, ``ERST?`` answers the error status
(``hardware,operational``), ``OPST?`` the operational status (bit 0 set when the ramp is done).
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

from sim_backend.commands.base import InstrumentError
from sim_backend.commands.mnemonic import COMMON, Mnemonics, MnemonicTwin
from sim_backend.commands.numbers import parse_float

I_MAX_A, RATE_MAX_A_PER_S = 70.1, 50.0
table = Mnemonics(COMMON)
table.defaults.update(
    {"setpoint_A": 0.0, "rate_A_per_s": 0.1, "limit_A": I_MAX_A, "limit_rate": RATE_MAX_A_PER_S}
)


def _one(args: list[str]) -> str:
    if len(args) != 1 or not args[0]:
        raise InstrumentError(-109 if not args or not args[0] else -108)
    return args[0]


@table.command("SETI")
def _seti(twin: LakeShore643, args: list[str]) -> None:
    twin.start_ramp(parse_float(_one(args), -twin.values["limit_A"], twin.values["limit_A"]))


table.add("SETI", query=lambda twin, args: f"{twin.values['setpoint_A']:+.4f}")


@table.command("RATE")
def _rate(twin: LakeShore643, args: list[str]) -> None:
    rate = parse_float(_one(args), 1e-4, twin.values["limit_rate"])
    twin.fold()
    twin.values["rate_A_per_s"] = rate


table.add("RATE", query=lambda twin, args: f"{twin.values['rate_A_per_s']:.4f}")


@table.command("LIMIT")
def _limit(twin: LakeShore643, args: list[str]) -> None:
    if len(args) != 2:
        raise InstrumentError(-109 if len(args) < 2 else -108)
    twin.values["limit_A"] = parse_float(args[0], 0.0, I_MAX_A)
    twin.values["limit_rate"] = parse_float(args[1], 1e-4, RATE_MAX_A_PER_S)


table.add(
    "LIMIT",
    query=lambda twin, args: "{:.4f},{:.4f}".format(
        twin.values["limit_A"], twin.values["limit_rate"]
    ),
)
table.add("RDGI", query=lambda twin, args: f"{twin.output_A(twin.clock.now_s()):+.4f}")
table.add("RDGV", query=lambda twin, args: f"{twin.output_V():+.4f}")
table.add("STOP", setter=lambda twin, args: twin.stop())
table.add("ERST", query=lambda twin, args: "0,0")
table.add("ERCL", setter=lambda twin, args: None)
table.add("OPST", query=lambda twin, args: "1" if twin.ramp_done() else "0")
table.add("OPSTE", setter=lambda twin, args: None, query=lambda twin, args: "0")


class LakeShore643(MnemonicTwin):
    """A 643 driving the coil of the electromagnet named in its wiring."""

    model = "lakeshore643"
    idn = "LSCI,MODEL643,{serial},1.3"
    reply_terminator = "\r\n"
    table = table
    defaults: ClassVar[dict[str, Any]] = {"serial": "6430789", "coil_resistance_ohm": 0.5}

    def reset(self) -> None:
        super().reset()
        self._t0 = self.clock.now_s()
        self._i0 = 0.0
        if "coil" in self.wiring.connections:
            self.wiring.drive_coil(0.0)
        self.clock.ticking(self, False)

    def output_A(self, t_s: float) -> float:
        target = self.values["setpoint_A"]
        step = self.values["rate_A_per_s"] * max(0.0, t_s - self._t0)
        gap = target - self._i0
        return target if abs(gap) <= step else self._i0 + math.copysign(step, gap)

    def output_V(self) -> float:
        return self.output_A(self.clock.now_s()) * float(self.settings["coil_resistance_ohm"])

    def ramp_done(self) -> bool:
        return self.output_A(self.clock.now_s()) == self.values["setpoint_A"]

    def fold(self) -> None:
        """Restart the ramp segment from the present output."""
        t = self.clock.now_s()
        self._i0, self._t0 = self.output_A(t), t

    def start_ramp(self, setpoint_A: float) -> None:
        self.fold()
        self.values["setpoint_A"] = setpoint_A
        self.clock.ticking(self, True)
        self.tick(self._t0, self._t0)

    def stop(self) -> None:
        self.fold()
        self.values["setpoint_A"] = self._i0
        self.clock.ticking(self, False)

    def tick(self, t0_s: float, t1_s: float) -> None:
        current = self.output_A(t1_s)
        if "coil" in self.wiring.connections:
            self.wiring.drive_coil(current)
        if current == self.values["setpoint_A"]:
            self.clock.ticking(self, False)

    def journal_state(self) -> dict[str, Any]:
        return {
            "setpoint_A": self.values["setpoint_A"],
            "rate_A_per_s": self.values["rate_A_per_s"],
            "output_A": self.output_A(self.clock.now_s()),
        }
