"""Keysight 33512B function generator (33500B series, SCPI): write pulses on the routed devices.

Per channel (``SOUR1``/``OUTP1``/``TRIG1``; no suffix = channel 1): ``FUNC PULS``,
``FUNC:PULS:WIDT``, ``VOLT:HIGH``/``VOLT:LOW`` (or ``VOLT`` + ``VOLT:OFFS``), ``BURS:STAT 1``,
``BURS:NCYC``, ``TRIG:SOUR BUS``, ``*TRG`` (also ``*TRG;*WAI``), ``OUTP ON``. Each pulse that
leaves an enabled output is a SOT write pulse on the devices routed to its terminal.
Amplitudes assume a 50 Ω load unless ``OUTP:LOAD INF``: the open-circuit voltage is
V·(R_load + 50)/R_load, and the device (R_dev) sees V_open·R_dev/(R_dev + 50).
A continuous pulse train (output on, burst off) applies f·Δt pulses as time passes (≤ 1000 per
lab step).
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

from sim_backend.commands.base import InstrumentError
from sim_backend.commands.numbers import parse_float, sci
from sim_backend.commands.params import Bool, Enum, Float, Int
from sim_backend.commands.scpi import SCPI_BASE, Call, ScpiTree, ScpiTwin

OUTPUT_OHM = 50.0
MAX_PULSES_PER_STEP = 1000
tree = ScpiTree(SCPI_BASE)
_S = ("SOUR", (1, 2))
_O = ("OUTP", (1, 2))
_T = ("TRIG", (1, 2))
tree.setting(
    "[:SOURce]:FUNCtion[:SHAPe]",
    "func",
    Enum("SINusoid", "SQUare", "TRIangle", "RAMP", "PULSe", "PRBS", "NOISe", "ARB", "DC"),
    per=_S,
)
tree.setting("[:SOURce]:FREQuency[:CW]", "freq_Hz", Float(1e-6, 20e6, 1e3), per=_S)
tree.setting("[:SOURce]:FREQuency:MODE", "freq_mode", Enum("CW", "FIXed", "LIST", "SWEep"), per=_S)
tree.setting("[:SOURce]:FUNCtion:PULSe:WIDTh", "width_s", Float(16e-9, 1e6, 100e-6), per=_S)
tree.setting("[:SOURce]:FUNCtion:PULSe:PERiod", "period_s", Float(33e-9, 1e6, 1e-3), per=_S)
tree.setting("[:SOURce]:FUNCtion:PULSe:DCYCle", "duty_pct", Float(0, 100, 10.0), per=_S)
tree.setting("[:SOURce]:FUNCtion:PULSe:HOLD", "hold", Enum("WIDTh", "DCYCle"), per=_S)
tree.setting(
    "[:SOURce]:FUNCtion:PULSe:TRANsition[:BOTH]", "edge_s", Float(8.4e-9, 1e-6, 1e-8), per=_S
)
tree.setting("[:SOURce]:FUNCtion:SQUare:DCYCle", "sq_duty", Float(0.01, 99.99, 50.0), per=_S)
tree.setting("[:SOURce]:FUNCtion:RAMP:SYMMetry", "symmetry", Float(0, 100, 100.0), per=_S)
tree.setting("[:SOURce]:PHASe", "phase_deg", Float(-360, 360, 0.0), per=_S)
tree.setting("[:SOURce]:VOLTage:UNIT", "unit", Enum("VPP", "VRMS", "DBM"), per=_S)
tree.setting("[:SOURce]:BURSt:STATe", "burst", Bool(), per=_S)
tree.setting("[:SOURce]:BURSt:MODE", "burst_mode", Enum("TRIGgered", "GATed"), per=_S)
tree.setting("[:SOURce]:BURSt:NCYCles", "ncycles", Int(1, 100_000_000, 1), per=_S)
tree.setting("[:SOURce]:BURSt:INTernal:PERiod", "burst_period_s", Float(1e-6, 8000, 0.01), per=_S)
tree.setting("[:SOURce]:BURSt:PHASe", "burst_phase", Float(-360, 360, 0.0), per=_S)
tree.setting("[:SOURce]:BURSt:GATE:POLarity", "gate_pol", Enum("NORMal", "INVerted"), per=_S)
tree.setting(":OUTPut:POLarity", "polarity", Enum("NORMal", "INVerted"), per=_O)
tree.setting(":OUTPut:TRIGger", "trig_out", Bool(), per=_O)
tree.setting(":OUTPut:SYNC", "sync", Bool(True))
tree.setting(":OUTPut:SYNC:SOURce", "sync_source", Enum("CH1", "CH2"))
tree.setting(
    ":TRIGger:SOURce", "trig_source", Enum("IMMediate", "EXTernal", "TIMer", "BUS"), per=_T
)
tree.setting(":TRIGger:COUNt", "trig_count", Int(1, 1_000_000, 1), per=_T)
tree.setting(":TRIGger:DELay", "trig_delay", Float(0, 1000, 0.0), per=_T)
tree.setting(":TRIGger:SLOPe", "trig_slope", Enum("POSitive", "NEGative"), per=_T)
tree.setting(":TRIGger:TIMer", "trig_timer", Float(1e-6, 8000, 1e-3), per=_T)


def _ch(call: Call, node: str) -> int:
    n = call.suffix(node)
    if n not in (1, 2):
        raise InstrumentError(-114)
    return n


def _volt_attr(attr: str) -> None:
    def setter(twin: Keysight33500B, call: Call) -> None:
        ch = twin.channels[_ch(call, "SOUR") - 1]
        value = parse_float(call.one(), -10.0, 10.0)
        hi, lo = ch["offset_V"] + ch["ampl_Vpp"] / 2, ch["offset_V"] - ch["ampl_Vpp"] / 2
        if attr == "ampl_Vpp":
            if value <= 0:
                raise InstrumentError(-222)
            ch["ampl_Vpp"] = value
        elif attr == "offset_V":
            ch["offset_V"] = value
        else:
            hi, lo = (value, lo) if attr == "high" else (hi, value)
            if hi <= lo:
                raise InstrumentError(-221, "Settings conflict; high must exceed low")
            ch["ampl_Vpp"], ch["offset_V"] = hi - lo, (hi + lo) / 2

    def getter(twin: Keysight33500B, call: Call) -> str:
        ch = twin.channels[_ch(call, "SOUR") - 1]
        values = {
            "ampl_Vpp": ch["ampl_Vpp"],
            "offset_V": ch["offset_V"],
            "high": ch["offset_V"] + ch["ampl_Vpp"] / 2,
            "low": ch["offset_V"] - ch["ampl_Vpp"] / 2,
        }
        return sci(values[attr], 8)

    pattern = {
        "ampl_Vpp": "[:SOURce]:VOLTage[:LEVel][:IMMediate][:AMPLitude]",
        "offset_V": "[:SOURce]:VOLTage[:LEVel][:IMMediate]:OFFSet",
        "high": "[:SOURce]:VOLTage[:LEVel][:IMMediate]:HIGH",
        "low": "[:SOURce]:VOLTage[:LEVel][:IMMediate]:LOW",
    }[attr]
    tree.add(pattern, setter=setter, query=getter)


for _attr in ("ampl_Vpp", "offset_V", "high", "low"):
    _volt_attr(_attr)


@tree.command(":OUTPut[:STATe]")
def _output(twin: Keysight33500B, call: Call) -> None:
    ch = _ch(call, "OUTP")
    twin.channels[ch - 1]["on"] = Bool().parse(call.one())
    twin.clock.ticking(twin, any(c["on"] for c in twin.channels))


@tree.query(":OUTPut[:STATe]")
def _output_q(twin: Keysight33500B, call: Call) -> str:
    return "1" if twin.channels[_ch(call, "OUTP") - 1]["on"] else "0"


@tree.command(":OUTPut:LOAD")
def _load(twin: Keysight33500B, call: Call) -> None:
    arg = call.one().upper()
    load = math.inf if arg in ("INF", "INFINITY", "MAX") else parse_float(arg, 1.0, 10e3)
    twin.channels[_ch(call, "OUTP") - 1]["load_ohm"] = load


@tree.query(":OUTPut:LOAD")
def _load_q(twin: Keysight33500B, call: Call) -> str:
    load = twin.channels[_ch(call, "OUTP") - 1]["load_ohm"]
    return "9.9E+37" if math.isinf(load) else sci(load, 1)


for _p in (
    ":PHASe:SYNChronize",
    "[:SOURce]:DATA:VOLatile:CLEar",
    ":DISPlay:TEXT:CLEar",
    ":DISPlay:TEXT",
    ":SYSTem:BEEPer[:IMMediate]",
):
    tree.add(_p, setter=lambda twin, call: None)


@tree.command(":TRIGger[:IMMediate]")
def _trig_now(twin: Keysight33500B, call: Call) -> None:
    twin.fire_burst(_ch(call, "TRIG"))


class Keysight33500B(ScpiTwin):
    """A two-channel 33512B whose outputs drive the pulse terminal."""

    model = "keysight33500b"
    idn = "Keysight Technologies,33512B,{serial},4.03-1.19-2.00-52-00"
    tree = tree
    defaults: ClassVar[dict[str, Any]] = {"serial": "MY52401234"}

    def reset(self) -> None:
        super().reset()
        self.channels = [
            {"on": False, "load_ohm": OUTPUT_OHM, "ampl_Vpp": 0.1, "offset_V": 0.0}
            for _ in range(2)
        ]
        self.pulses_fired = 0
        self.clock.ticking(self, False)

    def pulse_V(self, ch: int) -> float:
        """Voltage a pulse puts across the routed device (load and 50 Ω source included)."""
        c = self.channels[ch - 1]
        high = c["offset_V"] + c["ampl_Vpp"] / 2
        low = c["offset_V"] - c["ampl_Vpp"] / 2
        amplitude = high - low if self.values[f"polarity_{ch}"] == "NORM" else low - high
        load = c["load_ohm"]
        v_open = amplitude if math.isinf(load) else amplitude * (load + OUTPUT_OHM) / load
        r_dev = self.wiring.load_resistance_ohm()
        return v_open if math.isinf(r_dev) else v_open * r_dev / (r_dev + OUTPUT_OHM)

    def _width_s(self, ch: int) -> float:
        if self.values[f"func_{ch}"] == "PULS":
            return self.values[f"width_s_{ch}"]
        return 0.5 / self.values[f"freq_Hz_{ch}"]

    def fire_burst(self, ch: int) -> None:
        c = self.channels[ch - 1]
        if not c["on"]:
            return
        n = self.values[f"ncycles_{ch}"] if self.values[f"burst_{ch}"] else 1
        period = 1.0 / self.values[f"freq_Hz_{ch}"]
        if self.values[f"func_{ch}"] == "PULS":
            period = self.values[f"period_s_{ch}"]
        amplitude, width = self.pulse_V(ch), self._width_s(ch)
        t = self.clock.now_s() + self.values[f"trig_delay_{ch}"]
        for k in range(min(n, 100_000)):
            self.wiring.sot_pulse(amplitude, width, t + k * period)
        self.pulses_fired += n

    def trigger(self) -> None:
        for ch in (1, 2):
            if self.values[f"burst_{ch}"] and self.values[f"trig_source_{ch}"] == "BUS":
                self.fire_burst(ch)

    def tick(self, t0_s: float, t1_s: float) -> None:
        for ch in (1, 2):
            c = self.channels[ch - 1]
            if not c["on"] or self.values[f"burst_{ch}"] or self.values[f"func_{ch}"] != "PULS":
                continue
            period = self.values[f"period_s_{ch}"]
            n = min(int((t1_s - t0_s) / period), MAX_PULSES_PER_STEP)
            amplitude, width = self.pulse_V(ch), self._width_s(ch)
            for k in range(n):
                self.wiring.sot_pulse(amplitude, width, t0_s + k * period)
            self.pulses_fired += n

    def journal_state(self) -> dict[str, Any]:
        return {
            "outputs": [bool(c["on"]) for c in self.channels],
            "high_V": [c["offset_V"] + c["ampl_Vpp"] / 2 for c in self.channels],
            "pulses_fired": self.pulses_fired,
        }
