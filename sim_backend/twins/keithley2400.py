"""Keithley 2400 SourceMeter (SCPI over GPIB): the gate source, or a 4-wire resistance meter.

Faithful where the drivers look: ``:FORM:ELEM`` decides the fields of ``:READ?`` (qcodes asks for
two, pymeasure configures five), ``:READ?`` with the output off is an error with no reply,
``:MEAS:<f>?`` turns the output on, compliance shows in the status word (bit 3) and in
``:SENS:CURR:PROT:TRIP?``.
"""

from __future__ import annotations

import statistics
from typing import Any, ClassVar

from sim_backend.commands.base import InstrumentError
from sim_backend.commands.numbers import parse_bool, parse_float, sci, unquote
from sim_backend.commands.params import Bool, Enum, Float, Int, Text
from sim_backend.commands.scpi import SCPI_BASE, Call, ScpiTree, ScpiTwin
from sim_backend.twins.smu import SmuCore

ELEMENTS = ("VOLT", "CURR", "RES", "TIME", "STAT")
_ELEMENT_NAMES = {
    "VOLT": "VOLT",
    "VOLTAGE": "VOLT",
    "CURR": "CURR",
    "CURRENT": "CURR",
    "RES": "RES",
    "RESISTANCE": "RES",
    "TIME": "TIME",
    "STAT": "STAT",
    "STATUS": "STAT",
}
OVERFLOW = 9.91e37
tree = ScpiTree(SCPI_BASE)


def _core_setting(pattern: str, attr: str, param: Any) -> None:
    def setter(twin: Keithley2400, call: Call) -> None:
        setattr(twin.smu, attr, param.parse(call.one()))
        twin.smu.apply()

    def getter(twin: Keithley2400, call: Call) -> str:
        if call.args:
            return param.format(param.bound(call.args[0]))
        return param.format(getattr(twin.smu, attr))

    tree.add(pattern, setter=setter, query=getter)


_core_setting("[:SOURce]:FUNCtion[:MODE]", "func", Enum("VOLTage", "CURRent"))
_core_setting("[:SOURce]:VOLTage[:LEVel][:IMMediate][:AMPLitude]", "level_V", Float(-210, 210))
_core_setting("[:SOURce]:CURRent[:LEVel][:IMMediate][:AMPLitude]", "level_A", Float(-1.05, 1.05))
_core_setting("[:SENSe]:CURRent[:DC]:PROTection[:LEVel]", "limit_A", Float(1e-9, 1.05, 105e-6))
_core_setting("[:SENSe]:VOLTage[:DC]:PROTection[:LEVel]", "limit_V", Float(0.2, 210, 21.0))
_core_setting(":OUTPut[:STATe]", "on", Bool())
_core_setting("[:SENSe]:CURRent[:DC]:NPLCycles", "nplc", Float(0.01, 10, 1.0))

for _f in ("VOLTage", "CURRent"):
    tree.setting(f"[:SOURce]:{_f}:RANGe", f"src_range_{_f}", Float(-1e3, 1e3, 21.0))
    tree.setting(f"[:SOURce]:{_f}:RANGe:AUTO", f"src_autorange_{_f}", Bool(True))
    tree.setting(f"[:SOURce]:{_f}:MODE", f"src_mode_{_f}", Enum("FIXed", "SWEep", "LIST"))
for _f in ("VOLTage", "CURRent", "RESistance"):
    tree.setting(f"[:SENSe]:{_f}[:DC]:RANGe[:UPPer]", f"range_{_f}", Float(-1e9, 1e9, 21.0))
    tree.setting(f"[:SENSe]:{_f}[:DC]:RANGe:AUTO", f"autorange_{_f}", Bool(True))
tree.setting("[:SENSe]:VOLTage[:DC]:NPLCycles", "nplc_v", Float(0.01, 10, 1.0))
tree.setting("[:SENSe]:RESistance:NPLCycles", "nplc_r", Float(0.01, 10, 1.0))
tree.setting("[:SENSe]:RESistance:MODE", "res_mode", Enum("MANual", "AUTO"))
tree.setting("[:SENSe]:AVERage[:STATe]", "average", Bool())
tree.setting("[:SENSe]:AVERage:TCONtrol", "average_type", Enum("REPeat", "MOVing"))
tree.setting("[:SENSe]:AVERage:COUNt", "average_count", Int(1, 100, 10))
tree.setting("[:SOURce]:DELay", "source_delay", Float(0, 999.9999, 0.0))
tree.setting("[:SOURce]:DELay:AUTO", "source_delay_auto", Bool(True))
tree.setting("[:SOURce]:CLEar:AUTO", "auto_off", Bool())
tree.setting(
    ":OUTPut:SMODe", "off_mode", Enum("HIMPedance", "NORMal", "ZERO", "GUARd", default="NORM")
)
tree.setting(":SYSTem:RSENse", "four_wire", Bool())
tree.setting(":SYSTem:LFRequency", "line_Hz", Int(50, 60, 60))
tree.setting(":SYSTem:LFRequency:AUTO", "line_auto", Bool(True))
tree.setting(":SYSTem:TIME:RESet:AUTO", "time_reset_auto", Bool())
tree.setting(":DISPlay:ENABle", "display", Bool(True))
tree.setting(":DISPlay[:WINDow]:TEXT[:DATA]", "display_text", Text())
tree.setting(":DISPlay[:WINDow]:TEXT:STATe", "display_text_on", Bool())
tree.setting(":ROUTe:TERMinals", "terminals", Enum("FRONt", "REAR"))
tree.setting(":TRIGger:COUNt", "trigger_count", Int(1, 2500, 1))
tree.setting(":ARM:COUNt", "arm_count", Int(1, 2500, 1))
tree.setting(":TRIGger:DELay", "trigger_delay", Float(0, 999.9999, 0.0))
tree.setting(":ARM:TIMer", "arm_timer", Float(0.001, 99999.99, 0.1))
tree.setting(":TRIGger:SOURce", "trigger_source", Enum("IMMediate", "TLINk"))
tree.setting(
    ":ARM:SOURce",
    "arm_source",
    Enum("IMMediate", "TLINk", "TIMer", "MANual", "BUS", "NSTest", "PSTest", "BSTest"),
)
tree.setting(
    ":TRIGger:OUTPut", "trigger_output", Enum("SOURce", "DELay", "SENSe", "NONE", default="NONE")
)
tree.setting(":ARM:OUTPut", "arm_output", Enum("TENTer", "TEXit", "NONE", default="NONE"))
for _layer in ("TRIGger", "ARM"):
    tree.setting(f":{_layer}:ILINe", f"{_layer}_iline", Int(1, 4, 1))
    tree.setting(f":{_layer}:OLINe", f"{_layer}_oline", Int(1, 4, 2))
tree.setting(
    ":CALCulate3:FORMat", "calc3_format", Enum("MEAN", "SDEViation", "MAXimum", "MINimum", "PKPK")
)
tree.setting(":TRACe:POINts", "trace_points", Int(1, 2500, 2500))
tree.setting(":TRACe:FEED", "trace_feed", Enum("SENSe", "CALCulate1", "CALCulate2", "NONE"))
tree.setting(":TRACe:FEED:CONTrol", "trace_control", Enum("NEVer", "NEXT"))


@tree.command(":SYSTem:AZERo[:STATe]")
def _azero(twin: Keithley2400, call: Call) -> None:
    arg = call.one()
    twin.values["azero"] = "ONCE" if arg.upper() == "ONCE" else parse_bool(arg)


@tree.query(":SYSTem:AZERo[:STATe]")
def _azero_q(twin: Keithley2400, call: Call) -> str:
    return "0" if twin.values.get("azero") is False else "1"


@tree.command("[:SENSe]:FUNCtion[:ON]")
def _sense_on(twin: Keithley2400, call: Call) -> None:
    if not call.args:
        raise InstrumentError(-109)
    for arg in call.args:
        twin.sense_on(unquote(arg))


@tree.command("[:SENSe]:FUNCtion:OFF")
def _sense_off(twin: Keithley2400, call: Call) -> None:
    for arg in call.args:
        func = twin.sense_name(unquote(arg))
        twin.sense.discard(func)


@tree.command("[:SENSe]:FUNCtion:ALL")
def _sense_all(twin: Keithley2400, call: Call) -> None:
    twin.sense.update(("VOLT", "CURR", "RES"))


@tree.command("[:SENSe]:FUNCtion:OFF:ALL")
def _sense_none(twin: Keithley2400, call: Call) -> None:
    twin.sense.clear()


@tree.query("[:SENSe]:FUNCtion[:ON]")
def _sense_q(twin: Keithley2400, call: Call) -> str:
    order = [f for f in ("VOLT", "CURR", "RES") if f in twin.sense]
    return ",".join(f'"{f}:DC"' if f != "RES" else '"RES"' for f in order) or '""'


tree.setting("[:SENSe]:FUNCtion:CONCurrent", "concurrent", Bool(True))


@tree.command(":FORMat:ELEMents[:SENSe]")
def _elements(twin: Keithley2400, call: Call) -> None:
    chosen = []
    for arg in call.args:
        name = _ELEMENT_NAMES.get(arg.strip().upper())
        if name is None:
            raise InstrumentError(-224)
        chosen.append(name)
    if not chosen:
        raise InstrumentError(-109)
    twin.elements = tuple(e for e in ELEMENTS if e in chosen)


@tree.query(":FORMat:ELEMents[:SENSe]")
def _elements_q(twin: Keithley2400, call: Call) -> str:
    return ",".join(twin.elements)


tree.setting(":FORMat[:DATA]", "format", Enum("ASCii", "REAL", "SREal"))


@tree.query("[:SENSe]:CURRent[:DC]:PROTection:TRIPped")
def _trip_i(twin: Keithley2400, call: Call) -> str:
    twin.smu.measure()
    return "1" if twin.smu.tripped and twin.smu.func == "VOLT" else "0"


@tree.query("[:SENSe]:VOLTage[:DC]:PROTection:TRIPped")
def _trip_v(twin: Keithley2400, call: Call) -> str:
    twin.smu.measure()
    return "1" if twin.smu.tripped and twin.smu.func == "CURR" else "0"


@tree.query(":READ")
def _read(twin: Keithley2400, call: Call) -> str:
    if not twin.smu.on:
        raise InstrumentError(-221, "Settings conflict; output off")
    return twin.readings()


@tree.query(":FETCh")
def _fetch(twin: Keithley2400, call: Call) -> str:
    if not twin.last_readings:
        raise InstrumentError(-230, "Data corrupt or stale")
    return twin.format_readings(twin.last_readings)


@tree.command(":INITiate[:IMMediate]")
def _init(twin: Keithley2400, call: Call) -> None:
    if not twin.smu.on:
        raise InstrumentError(-221, "Settings conflict; output off")
    twin.readings()


@tree.query(":MEASure[:VOLTage][:DC]")
def _meas_v(twin: Keithley2400, call: Call) -> str:
    return twin.measure_function("VOLT")


@tree.query(":MEASure:CURRent[:DC]")
def _meas_i(twin: Keithley2400, call: Call) -> str:
    return twin.measure_function("CURR")


@tree.query(":MEASure:RESistance")
def _meas_r(twin: Keithley2400, call: Call) -> str:
    return twin.measure_function("RES")


@tree.query(":CALCulate3:DATA")
def _calc3(twin: Keithley2400, call: Call) -> str:
    rows = twin.last_readings or [twin.one_reading()]
    fmt = twin.values["calc3_format"]
    out = []
    for k in range(3):
        column = [r[k] for r in rows]
        if fmt == "MEAN":
            out.append(statistics.fmean(column))
        elif fmt == "SDEV":
            out.append(statistics.pstdev(column))
        elif fmt == "MAX":
            out.append(max(column))
        elif fmt == "MIN":
            out.append(min(column))
        else:
            out.append(max(column) - min(column))
    return ",".join(sci(v) for v in out)


@tree.command(":SYSTem:BEEPer[:IMMediate]")
def _beep(twin: Keithley2400, call: Call) -> None:
    for arg in call.args:
        parse_float(arg)


for _pattern in (":ABORt", ":TRIGger:CLEar", ":TRACe:CLEar", ":SYSTem:PRESet", ":SYSTem:CLEar"):
    tree.add(_pattern, setter=lambda twin, call: None)


class Keithley2400(ScpiTwin):
    """A Keithley 2400 whose output reaches its wired terminal (gate, by default)."""

    model = "keithley2400"
    idn = "KEITHLEY INSTRUMENTS INC.,MODEL 2400,{serial},C32   Oct  4 2010 14:20:11/A02  /K/J"
    tree = tree
    defaults: ClassVar[dict[str, Any]] = {"serial": "4105023"}

    def reset(self) -> None:
        super().reset()
        if not hasattr(self, "smu"):
            self.smu = SmuCore(self.wiring, self.name)
        else:
            self.smu.reset()
        self.sense: set[str] = {"CURR"}
        self.elements: tuple[str, ...] = ELEMENTS
        self.last_readings: list[tuple[float, float, float, float, float]] = []
        self.t0_s = self.clock.now_s()

    def sense_name(self, text: str) -> str:
        key = text.upper().split(":")[0]
        name = _ELEMENT_NAMES.get(key)
        if name is None or name in ("TIME", "STAT"):
            raise InstrumentError(-224)
        return name

    def sense_on(self, text: str) -> None:
        self.sense.add(self.sense_name(text))

    def one_reading(self) -> tuple[float, float, float, float, float]:
        t = self.clock.now_s()  # the session brought the lab to now for this message
        v, i, tripped = self.smu.measure()
        res = OVERFLOW
        if "RES" in self.sense and i != 0:
            res = v / i
        status = (8 if tripped else 0) | (1 << 14 if "RES" in self.sense else 0)
        return v, i, res, t - self.t0_s, float(status)

    def readings(self) -> str:
        n = self.values["trigger_count"] * self.values["arm_count"]
        self.last_readings = [self.one_reading() for _ in range(n)]
        return self.format_readings(self.last_readings)

    def format_readings(self, rows: list[tuple[float, ...]]) -> str:
        index = [ELEMENTS.index(e) for e in self.elements]
        return ",".join(sci(row[k]) for row in rows for k in index)

    def measure_function(self, func: str) -> str:
        self.sense = {func}
        if not self.smu.on:
            self.smu.on = True
            self.smu.apply()
        return self.readings()

    def trigger(self) -> None:
        if self.smu.on:
            self.readings()

    def force_compliance(self) -> None:
        self.smu.force_compliance()

    def journal_state(self) -> dict[str, Any]:
        return self.smu.state()
