"""Keithley 2450 SourceMeter (SCPI mode): the touch-screen successor of the 2400 as a gate source.

``*LANG?`` answers ``SCPI`` (qcodes refuses to talk otherwise), ``:SENS:FUNC?`` answers the quoted
form (``"CURR:DC"``), limits are ``SOUR:VOLT:ILIM`` / ``SOUR:CURR:VLIM`` with ``:TRIP?``,
readings go to named buffers (``defbuffer1``) read with ``:MEAS?``, ``:READ?``, ``:FETCh?`` and
``:TRACe:DATA?``; ``:SOUR:SWE:<f>:LIN`` + ``:INIT`` runs a linear sweep into a buffer.
"""

from __future__ import annotations

import statistics
from typing import Any, ClassVar

from sim_backend.commands.base import InstrumentError
from sim_backend.commands.numbers import parse_float, parse_int, unquote
from sim_backend.commands.params import Bool, Enum, Float, Int
from sim_backend.commands.scpi import SCPI_BASE, Call, ScpiTree, ScpiTwin
from sim_backend.twins.smu import SmuCore

tree = ScpiTree(SCPI_BASE)
_FUNC = Enum("VOLTage", "CURRent")
_SENSE = {
    "CURR": "CURR:DC",
    "CURR:DC": "CURR:DC",
    "CURRENT": "CURR:DC",
    "VOLT": "VOLT:DC",
    "VOLT:DC": "VOLT:DC",
    "VOLTAGE": "VOLT:DC",
    "RES": "RES",
    "RESISTANCE": "RES",
}
_UNITS = {"CURR:DC": "Amp DC", "VOLT:DC": "Volt DC", "RES": "Ohm"}


def _core(pattern: str, attr: str, param: Any, func: str | None = None) -> None:
    def setter(twin: Keithley2450, call: Call) -> None:
        setattr(twin.smu, attr, param.parse(call.one()))
        twin.smu.apply()

    def getter(twin: Keithley2450, call: Call) -> str:
        if call.args:
            return param.format(param.bound(call.args[0]))
        return param.format(getattr(twin.smu, attr))

    tree.add(pattern, setter=setter, query=getter)


_core("[:SOURce]:FUNCtion[:MODE]", "func", _FUNC)
_core("[:SOURce]:VOLTage[:LEVel][:IMMediate][:AMPLitude]", "level_V", Float(-210, 210))
_core("[:SOURce]:CURRent[:LEVel][:IMMediate][:AMPLitude]", "level_A", Float(-1.05, 1.05))
_core("[:SOURce]:VOLTage:ILIMit[:LEVel]", "limit_A", Float(1e-9, 1.05, 105e-6))
_core("[:SOURce]:CURRent:VLIMit[:LEVel]", "limit_V", Float(0.02, 210, 21.0))
_core(":OUTPut[:STATe]", "on", Bool())
for _f in ("VOLTage", "CURRent"):
    tree.setting(f"[:SOURce]:{_f}:RANGe", f"src_range_{_f}", Float(-210, 210, 20.0))
    tree.setting(f"[:SOURce]:{_f}:RANGe:AUTO", f"src_auto_{_f}", Bool(True))
    tree.setting(f"[:SOURce]:{_f}:DELay", f"src_delay_{_f}", Float(0, 1e4, 0.0))
    tree.setting(f"[:SOURce]:{_f}:DELay:AUTO", f"src_delay_auto_{_f}", Bool(True))
    tree.setting(f"[:SOURce]:{_f}:READ:BACK", f"readback_{_f}", Bool(True))
    tree.setting(
        f":OUTPut:{_f}:SMODe", f"off_mode_{_f}", Enum("NORMal", "HIMPedance", "ZERO", "GUARd")
    )
for _f in ("VOLTage", "CURRent", "RESistance"):
    tree.setting(f"[:SENSe]:{_f}[:DC]:RANGe[:UPPer]", f"range_{_f}", Float(-1e9, 1e9, 1e-4))
    tree.setting(f"[:SENSe]:{_f}[:DC]:RANGe:AUTO", f"auto_{_f}", Bool(True))
    tree.setting(f"[:SENSe]:{_f}[:DC]:NPLCycles", f"nplc_{_f}", Float(0.01, 10, 1.0))
    tree.setting(f"[:SENSe]:{_f}[:DC]:AZERo[:STATe]", f"azero_{_f}", Bool(True))
    tree.setting(f"[:SENSe]:{_f}[:DC]:RSENse", f"rsense_{_f}", Bool())
    tree.setting(f"[:SENSe]:{_f}[:DC]:AVERage[:STATe]", f"avg_{_f}", Bool())
    tree.setting(f"[:SENSe]:{_f}[:DC]:AVERage:COUNt", f"avg_n_{_f}", Int(1, 100, 10))
    tree.setting(f"[:SENSe]:{_f}[:DC]:AVERage:TCONtrol", f"avg_t_{_f}", Enum("REPeat", "MOVing"))
tree.setting("[:SENSe]:COUNt", "count", Int(1, 300000, 1))
tree.setting(":ROUTe:TERMinals", "terminals", Enum("FRONt", "REAR"))
tree.setting(":SYSTem:LFRequency", "line_Hz", Int(50, 60, 50))


@tree.command("[:SENSe]:FUNCtion[:ON]")
def _sense(twin: Keithley2450, call: Call) -> None:
    key = unquote(call.one()).upper()
    if key not in _SENSE:
        raise InstrumentError(-224)
    twin.sense = _SENSE[key]


@tree.query("[:SENSe]:FUNCtion[:ON]")
def _sense_q(twin: Keithley2450, call: Call) -> str:
    return f'"{twin.sense}"'


def _buffer_arg(twin: Keithley2450, args: list[str]) -> list[float]:
    for a in args:
        name = unquote(a)
        if name in twin.buffers:
            return twin.buffers[name]
    return twin.buffers["defbuffer1"]


def _measure(twin: Keithley2450, call: Call) -> str:
    if not twin.smu.on:
        raise InstrumentError(-221, "Settings conflict; output off")
    buffer = _buffer_arg(twin, call.args)
    values = [twin.reading() for _ in range(twin.values["count"])]
    buffer.extend(values)
    return ",".join(f"{v:.6E}" for v in values)


for _p in (":MEASure", ":MEASure:VOLTage", ":MEASure:CURRent", ":MEASure:RESistance", ":READ"):
    tree.add(_p, query=_measure)


@tree.query(":FETCh")
def _fetch(twin: Keithley2450, call: Call) -> str:
    buffer = _buffer_arg(twin, call.args)
    if not buffer:
        raise InstrumentError(-230)
    return f"{buffer[-1]:.6E}"


@tree.command(":TRACe:MAKE")
def _make(twin: Keithley2450, call: Call) -> None:
    if not call.args:
        raise InstrumentError(-109)
    twin.buffers[unquote(call.args[0])] = []


@tree.command(":TRACe:CLEar")
def _clear(twin: Keithley2450, call: Call) -> None:
    _buffer_arg(twin, call.args).clear()


@tree.command(":TRACe:DELete")
def _delete(twin: Keithley2450, call: Call) -> None:
    for a in call.args:
        if unquote(a) not in ("defbuffer1", "defbuffer2"):
            twin.buffers.pop(unquote(a), None)


@tree.query(":TRACe:ACTual")
def _actual(twin: Keithley2450, call: Call) -> str:
    return str(len(_buffer_arg(twin, call.args)))


@tree.query(":TRACe:POINts")
def _points_q(twin: Keithley2450, call: Call) -> str:
    return "100000"


tree.add(":TRACe:POINts", setter=lambda twin, call: None)


@tree.query(":TRACe:DATA")
def _data(twin: Keithley2450, call: Call) -> str:
    if len(call.args) < 2:
        raise InstrumentError(-109)
    start, end = parse_int(call.args[0], 1), parse_int(call.args[1], 1)
    buffer = _buffer_arg(twin, call.args[2:])
    if end > len(buffer) or start > end:
        raise InstrumentError(-222)
    extra = [unquote(a).upper() for a in call.args[3:]]
    out = []
    for v in buffer[start - 1 : end]:
        out.append(f"{v:.6E}")
        for e in extra:
            if e.startswith("SOUR"):
                out.append(
                    f"{twin.smu.level_V if twin.smu.func == 'VOLT' else twin.smu.level_A:.6E}"
                )
            elif e.startswith("UNIT"):
                out.append(_UNITS[twin.sense])
            elif e.startswith("REL") or e.startswith("SEC"):
                out.append("0.000000E+00")
            elif e.startswith("READ"):
                continue
    return ",".join(out)


def _stat(fn: Any) -> Any:
    def query(twin: Keithley2450, call: Call) -> str:
        buffer = _buffer_arg(twin, call.args)
        if not buffer:
            raise InstrumentError(-230)
        return f"{fn(buffer):.6E}"

    return query


tree.add(":TRACe:STATistics:AVERage", query=_stat(statistics.fmean))
tree.add(":TRACe:STATistics:MAXimum", query=_stat(max))
tree.add(":TRACe:STATistics:MINimum", query=_stat(min))
tree.add(":TRACe:STATistics:STDDev", query=_stat(statistics.pstdev))


def _sweep(func: str) -> Any:
    def setter(twin: Keithley2450, call: Call) -> None:
        if len(call.args) < 3:
            raise InstrumentError(-109)
        start, stop = parse_float(call.args[0]), parse_float(call.args[1])
        n = parse_int(call.args[2], 2, 100000)
        buffer = "defbuffer1"
        if len(call.args) >= 9:
            buffer = unquote(call.args[8])
        twin.sweep = (func, start, stop, n, buffer)

    return setter


tree.add("[:SOURce]:SWEep:VOLTage:LINear", setter=_sweep("VOLT"))
tree.add("[:SOURce]:SWEep:CURRent:LINear", setter=_sweep("CURR"))


@tree.command(":INITiate[:IMMediate]")
def _init(twin: Keithley2450, call: Call) -> None:
    if twin.sweep is None:
        if twin.smu.on:
            twin.buffers["defbuffer1"].append(twin.reading())
        return
    func, start, stop, n, name = twin.sweep
    buffer = twin.buffers.setdefault(name, [])
    twin.smu.func, twin.smu.on = func, True
    for k in range(n):
        level = start + (stop - start) * k / (n - 1)
        if func == "VOLT":
            twin.smu.level_V = level
        else:
            twin.smu.level_A = level
        twin.smu.apply()
        buffer.append(twin.reading())


for _p in (
    ":ABORt",
    ":STATus:CLEar",
    ":SYSTem:CLEar",
    "[:SENSe]:AZERo:ONCE",
    ":TRACe:TRIGger",
    ":DISPlay:CLEar",
):
    tree.add(_p, setter=lambda twin, call: None)
tree.add(
    "[:SOURce]:VOLTage:ILIMit[:LEVel]:TRIPped", query=lambda twin, call: twin.tripped_q("VOLT")
)
tree.add(
    "[:SOURce]:CURRent:VLIMit[:LEVel]:TRIPped", query=lambda twin, call: twin.tripped_q("CURR")
)


class Keithley2450(ScpiTwin):
    """A Keithley 2450 in SCPI mode."""

    model = "keithley2450"
    idn = "KEITHLEY INSTRUMENTS,MODEL 2450,{serial},1.7.12b"
    language = "SCPI"
    tree = tree
    defaults: ClassVar[dict[str, Any]] = {"serial": "04512345"}

    def reset(self) -> None:
        super().reset()
        if not hasattr(self, "smu"):
            self.smu = SmuCore(self.wiring, self.name)
        else:
            self.smu.reset()
        self.sense = "CURR:DC"
        self.buffers: dict[str, list[float]] = {"defbuffer1": [], "defbuffer2": []}
        self.sweep: tuple[str, float, float, int, str] | None = None

    def reading(self) -> float:
        v, i, _ = self.smu.measure()
        if self.sense == "VOLT:DC":
            return v
        if self.sense == "RES":
            return v / i if i else 9.9e37
        return i

    def tripped_q(self, func: str) -> str:
        self.smu.measure()
        return "1" if self.smu.tripped and self.smu.func == func else "0"

    def force_compliance(self) -> None:
        self.smu.force_compliance()

    def journal_state(self) -> dict[str, Any]:
        return self.smu.state()
