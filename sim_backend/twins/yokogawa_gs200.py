"""Yokogawa GS200 DC voltage/current source (SCPI): a gate source with program-mode ramps.

``:SOUR:LEV x`` / ``:SOUR:LEV:AUTO x`` set the level (the range must hold it, except in auto),
``:SOUR:PROT:CURR i`` is the compliance, ``OUTPUT 1`` switches the output, ``:MEAS?`` reads the
monitor (option ``/MON``, enabled with ``:SENS 1``). A program (``:PROG:EDIT:STAR``, levels,
``:PROG:EDIT:END``, ``:PROG:SLOP``, ``:PROG:RUN``) ramps the level linearly over the slope time.
"""

from __future__ import annotations

from typing import Any, ClassVar

from sim_backend.commands.base import InstrumentError
from sim_backend.commands.numbers import parse_float, sci, unquote
from sim_backend.commands.params import Bool, Enum, Float, Int
from sim_backend.commands.scpi import SCPI_BASE, Call, ScpiTree, ScpiTwin
from sim_backend.twins.smu import SmuCore

V_RANGES = (10e-3, 100e-3, 1.0, 10.0, 30.0)
I_RANGES = (1e-3, 10e-3, 100e-3, 200e-3)
tree = ScpiTree(SCPI_BASE)


def _level(twin: YokogawaGS200, value: float, auto: bool) -> None:
    ranges = V_RANGES if twin.smu.func == "VOLT" else I_RANGES
    if auto:
        twin.range = next((r for r in ranges if abs(value) <= r * 1.2), ranges[-1])
    if abs(value) > twin.range * 1.2:
        raise InstrumentError(-222)
    if twin.editing:
        twin.program.append(value)
        return
    twin.ramp = None
    twin.clock.ticking(twin, False)
    twin.set_level(value)


@tree.command("[:SOURce]:LEVel[:FIX]")
def _lev(twin: YokogawaGS200, call: Call) -> None:
    _level(twin, parse_float(call.one()), auto=False)


@tree.command("[:SOURce]:LEVel:AUTO")
def _lev_auto(twin: YokogawaGS200, call: Call) -> None:
    _level(twin, parse_float(call.one()), auto=True)


@tree.query("[:SOURce]:LEVel[:FIX]")
def _lev_q(twin: YokogawaGS200, call: Call) -> str:
    return sci(twin.level(), 5)


@tree.command("[:SOURce]:FUNCtion")
def _func(twin: YokogawaGS200, call: Call) -> None:
    func = Enum("VOLTage", "CURRent").parse(call.one())
    if func != twin.smu.func:
        twin.smu.func = func
        twin.range = V_RANGES[-1] if func == "VOLT" else I_RANGES[-1]
        twin.smu.on = False
        twin.smu.apply()


@tree.query("[:SOURce]:FUNCtion")
def _func_q(twin: YokogawaGS200, call: Call) -> str:
    return twin.smu.func


@tree.command("[:SOURce]:RANGe")
def _range(twin: YokogawaGS200, call: Call) -> None:
    value = abs(parse_float(call.one()))
    ranges = V_RANGES if twin.smu.func == "VOLT" else I_RANGES
    chosen = next((r for r in ranges if value <= r * 1.0001), None)
    if chosen is None:
        raise InstrumentError(-222)
    twin.range = chosen


@tree.query("[:SOURce]:RANGe")
def _range_q(twin: YokogawaGS200, call: Call) -> str:
    return sci(twin.range, 5)


def _limit(attr: str, low: float, high: float) -> None:
    param = Float(low, high)

    def setter(twin: YokogawaGS200, call: Call) -> None:
        setattr(twin.smu, attr, param.parse(call.one()))
        twin.smu.apply()

    tree.add(
        f"[:SOURce]:PROTection:{'CURRent' if attr == 'limit_A' else 'VOLTage'}",
        setter=setter,
        query=lambda twin, call: sci(getattr(twin.smu, attr), 5),
    )


_limit("limit_A", 1e-3, 0.2)
_limit("limit_V", 1.0, 30.0)
tree.setting("[:SOURce]:PROTection[:STATe]", "protection", Bool(True))


@tree.command(":OUTPut[:STATe]")
def _output(twin: YokogawaGS200, call: Call) -> None:
    twin.smu.on = Bool().parse(call.one())
    twin.smu.apply()


@tree.query(":OUTPut[:STATe]")
def _output_q(twin: YokogawaGS200, call: Call) -> str:
    return "1" if twin.smu.on else "0"


tree.setting(":SENSe[:STATe]", "sense", Bool())
tree.setting(":SENSe:NPLCycles", "nplc", Int(1, 25, 5))
tree.setting(":SENSe:DELay", "sense_delay", Float(0, 999999, 1e-3))
tree.setting(":SENSe:TRIGger", "sense_trigger", Enum("READy", "TIMer", "COMMunicate", "IMMediate"))
tree.setting(":SENSe:INTerval", "sense_interval", Float(0.1, 3600, 0.1))
tree.setting(":SENSe:REMote", "remote_sense", Bool())
tree.setting(":SENSe:GUARd", "guard", Bool())
tree.setting(":SYSTem:LFRequency", "line_Hz", Int(50, 60, 50))
tree.setting(":ROUTe:BNCO", "bnc_out", Enum("TRIGger", "OUTPut", "READy"))
tree.setting(":ROUTe:BNCI", "bnc_in", Enum("TRIGger", "OUTPut"))
tree.setting(":PROGram:INTerval", "prog_interval", Float(0.1, 3600, 1.0))
tree.setting(":PROGram:SLOPe", "prog_slope", Float(0.0, 3600, 0.0))
tree.setting(":PROGram:TRIGger", "prog_trigger", Enum("NORMal", "MEND"))
tree.setting(":PROGram:REPeat", "prog_repeat", Bool(True))
tree.setting(":PROGram:COUNt", "prog_count", Int(1, 10000, 1))


@tree.query(":MEASure")
def _measure(twin: YokogawaGS200, call: Call) -> str:
    if not twin.values["sense"] or not twin.smu.on:
        raise InstrumentError(-221, "Settings conflict; measurement off")
    v, i, _ = twin.smu.measure()
    return sci(i if twin.smu.func == "VOLT" else v, 5)


@tree.command(":PROGram:EDIT:STARt")
def _edit_start(twin: YokogawaGS200, call: Call) -> None:
    twin.editing, twin.program = True, []


@tree.command(":PROGram:EDIT:END")
def _edit_end(twin: YokogawaGS200, call: Call) -> None:
    twin.editing = False


@tree.command(":PROGram:RUN")
def _run(twin: YokogawaGS200, call: Call) -> None:
    if not twin.program:
        raise InstrumentError(-221, "Settings conflict; empty program")
    t = twin.clock.now_s()
    slope = max(twin.values["prog_slope"], 0.0)
    twin.ramp = (t, twin.level(), twin.program[-1], slope)
    twin.clock.ticking(twin, True)
    twin.tick(t, t)
    twin.events &= ~(1 << 7) if twin.ramp is not None else ~0


tree.setting(":STATus:ENABle", "status_enable", Int(0, 255, 0))
tree.add(":STATus:EVENt", query=lambda twin, call: str(twin.read_events()))
tree.add(":STATus:CONDition", query=lambda twin, call: str(twin.condition()))
tree.add(":PROGram:HOLD", setter=lambda twin, call: twin.clock.ticking(twin, False))
tree.add(":PROGram:SAVE", setter=lambda twin, call: unquote(call.one()) and None)
tree.add(":PROGram:LOAD", setter=lambda twin, call: None, query=lambda twin, call: '""')


class YokogawaGS200(ScpiTwin):
    """A GS200 with the /MON monitor option."""

    model = "yokogawa_gs200"
    idn = "YOKOGAWA,GS210,{serial},2.02"
    tree = tree
    defaults: ClassVar[dict[str, Any]] = {"serial": "91T926459", "options": "/MON"}

    def reset(self) -> None:
        super().reset()
        if not hasattr(self, "smu"):
            self.smu = SmuCore(self.wiring, self.name)
        else:
            self.smu.reset()
        self.smu.limit_A, self.smu.limit_V = 0.1, 30.0
        self.range = V_RANGES[-1]
        self.editing = False
        self.program: list[float] = []
        self.ramp: tuple[float, float, float, float] | None = None
        self.events = 0
        self.clock.ticking(self, False)

    def read_events(self) -> int:
        """Extended event register (read clears): bit 5 source change, bit 7 end of program."""
        value, self.events = self.events, 0
        return value

    def condition(self) -> int:
        """Condition register: bit 12 tripped (compliance), bit 8 ready for program."""
        self.smu.measure()
        return (1 << 12 if self.smu.tripped else 0) | (0 if self.ramp else 1 << 8)

    def clear_status(self) -> None:
        super().clear_status()
        self.events = 0

    def options(self) -> str:
        return str(self.settings["options"])

    def level(self) -> float:
        return self.smu.level_V if self.smu.func == "VOLT" else self.smu.level_A

    def set_level(self, value: float) -> None:
        self.events |= 1 << 5
        if self.smu.func == "VOLT":
            self.smu.level_V = value
        else:
            self.smu.level_A = value
        self.smu.apply()

    def tick(self, t0_s: float, t1_s: float) -> None:
        if self.ramp is None:
            return
        start_t, start, end, slope = self.ramp
        frac = 1.0 if slope <= 0 else min(1.0, (t1_s - start_t) / slope)
        self.set_level(start + (end - start) * frac)
        if frac >= 1.0:
            self.ramp = None
            self.events |= 1 << 7
            self.clock.ticking(self, False)

    def force_compliance(self) -> None:
        self.smu.force_compliance()

    def journal_state(self) -> dict[str, Any]:
        return self.smu.state()
