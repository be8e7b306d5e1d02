"""Keithley 2182A nanovoltmeter (SCPI): the DC Hall readout, alone or in delta mode.

``:READ?`` measures V_xy of the routed device for the DC bias the current sources put through
it, over the bandwidth set by NPLC (1/f noise and thermal EMF included — which is why benches use
delta mode). ``:SENS:FUNC?`` answers ``"VOLT:DC"``; empty segments between ``;`` are ignored.
"""

from __future__ import annotations

import statistics
from typing import Any, ClassVar

from sim_backend.commands.base import InstrumentError
from sim_backend.commands.numbers import sci, unquote
from sim_backend.commands.params import Bool, Enum, Float, Int
from sim_backend.commands.scpi import SCPI_BASE, Call, ScpiTree, ScpiTwin
from sim_backend.twins.smu import LINE_FREQUENCY_HZ

tree = ScpiTree(SCPI_BASE)
tree.setting("[:SENSe]:CHANnel", "channel", Int(0, 2, 1))
tree.setting("[:SENSe]:VOLTage[:DC]:NPLCycles", "nplc", Float(0.01, 60, 5.0))
tree.setting("[:SENSe]:TEMPerature:NPLCycles", "nplc_t", Float(0.01, 60, 5.0))
_CH = ("CHAN", (1, 2))
tree.setting("[:SENSe]:VOLTage[:DC]:CHANnel:RANGe[:UPPer]", "range", Float(0, 120, 10.0), per=_CH)
tree.setting("[:SENSe]:VOLTage[:DC]:CHANnel:RANGe:AUTO", "auto", Bool(True), per=_CH)
tree.setting("[:SENSe]:VOLTage[:DC]:CHANnel:REFerence", "ref", Float(-120, 120, 0.0), per=_CH)
tree.setting("[:SENSe]:VOLTage[:DC]:CHANnel:REFerence:STATe", "ref_on", Bool(), per=_CH)
tree.setting("[:SENSe]:TEMPerature:CHANnel:REFerence", "tref", Float(-1e3, 1e4, 0.0), per=_CH)
tree.setting("[:SENSe]:TEMPerature:CHANnel:REFerence:STATe", "tref_on", Bool(), per=_CH)
tree.add("[:SENSe]:VOLTage[:DC]:CHANnel:REFerence:ACQuire", setter=lambda twin, call: None)
tree.add("[:SENSe]:TEMPerature:CHANnel:REFerence:ACQuire", setter=lambda twin, call: None)
tree.setting("[:SENSe]:VOLTage[:DC]:RANGe[:UPPer]", "range_all", Float(0, 120, 10.0))
tree.setting("[:SENSe]:VOLTage[:DC]:RANGe:AUTO", "auto_all", Bool(True))
tree.setting(
    "[:SENSe]:TEMPerature:TCouple", "thermocouple", Enum("J", "K", "T", "E", "R", "S", "B", "N")
)
tree.setting("[:SENSe]:TEMPerature:RJUNction:RSELect", "rjunction", Enum("SIMulated", "INTernal"))
tree.setting("[:SENSe]:TEMPerature:RJUNction:SIMulated", "rjunction_T", Float(0, 60, 23.0))
tree.add("[:SENSe]:TEMPerature:RTEMperature", query=lambda twin, call: sci(23.0))
tree.setting(":SYSTem:AZERo[:STATe]", "azero", Bool(True))
tree.setting(":SYSTem:LFRequency", "line_Hz", Int(50, 60, 50))
tree.setting(":SYSTem:LFRequency:AUTO", "line_auto", Bool(True))
tree.setting(":DISPlay:ENABle", "display", Bool(True))
tree.setting(":TRIGger:COUNt", "trigger_count", Int(1, 9999, 1))
tree.setting(":TRIGger:DELay", "trigger_delay", Float(0, 99999.999, 0.0))
tree.setting(
    ":TRIGger:SOURce", "trigger_source", Enum("IMMediate", "TIMer", "MANual", "BUS", "EXTernal")
)
tree.setting(
    ":CALCulate2:FORMat",
    "calc2_format",
    Enum("MEAN", "SDEViation", "MAXimum", "MINimum", "PKPK", "NONE"),
)
tree.setting(":CALCulate2:STATe", "calc2_on", Bool())
tree.add(":STATus:QUEue:CLEar", setter=lambda twin, call: twin.errors.clear())


@tree.command("[:SENSe]:FUNCtion")
def _func(twin: Keithley2182A, call: Call) -> None:
    key = unquote(call.one()).upper()
    if key not in ("VOLT", "VOLT:DC", "VOLTAGE", "VOLTAGE:DC", "TEMP", "TEMPERATURE"):
        raise InstrumentError(-224)
    twin.function = "TEMP" if key.startswith("TEMP") else "VOLT:DC"


@tree.query("[:SENSe]:FUNCtion")
def _func_q(twin: Keithley2182A, call: Call) -> str:
    return f'"{twin.function}"'


@tree.query(":READ")
def _read(twin: Keithley2182A, call: Call) -> str:
    twin.last = [twin.reading() for _ in range(twin.values["trigger_count"])]
    return ",".join(sci(v) for v in twin.last)


@tree.query(":FETCh")
def _fetch(twin: Keithley2182A, call: Call) -> str:
    if not twin.last:
        raise InstrumentError(-230)
    return ",".join(sci(v) for v in twin.last)


@tree.command(":INITiate[:IMMediate]")
def _init(twin: Keithley2182A, call: Call) -> None:
    twin.last = [twin.reading() for _ in range(twin.values["trigger_count"])]


@tree.query(":CALCulate2:IMMediate")
def _calc2(twin: Keithley2182A, call: Call) -> str:
    data = twin.last or [twin.reading()]
    fn = {
        "MEAN": statistics.fmean,
        "SDEV": statistics.pstdev,
        "MAX": max,
        "MIN": min,
        "PKPK": lambda d: max(d) - min(d),
        "NONE": lambda d: d[-1],
    }
    return sci(fn[twin.values["calc2_format"]](data))


tree.add(":CALCulate2:DATA", query=_calc2)
for _p in (":ABORt", ":SYSTem:PRESet", ":SENSe:VOLTage[:DC]:NULL"):
    tree.add(_p, setter=lambda twin, call: None)


class Keithley2182A(ScpiTwin):
    """A nanovoltmeter on the Hall voltage of the routed readout device."""

    model = "keithley2182a"
    idn = "KEITHLEY INSTRUMENTS INC.,MODEL 2182A,{serial},C02  /A02  "
    tree = tree
    defaults: ClassVar[dict[str, Any]] = {"serial": "1234567"}

    def reset(self) -> None:
        super().reset()
        self.function = "VOLT:DC"
        self.last: list[float] = []

    def bandwidth_Hz(self) -> float:
        return 1.0 / (2.0 * self.values["nplc"] / LINE_FREQUENCY_HZ)

    def reading(self) -> float:
        if self.function == "TEMP":
            return 23.0 + self.wiring.rng.normal(0.0, 0.01)
        v = self.wiring.hall_voltage_V(
            self.wiring.dc_bias_A(), self.bandwidth_Hz(), dc_coupled=True
        )
        if self.values["ref_on_1"]:
            v -= self.values["ref_1"]
        return v

    def journal_state(self) -> dict[str, Any]:
        return {"function": self.function}
