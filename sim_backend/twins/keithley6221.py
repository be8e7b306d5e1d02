"""Keithley 6221 AC/DC current source (SCPI): DC Hall bias, delta mode with a 2182A, pulses.

DC: ``:SOUR:CURR i`` with ``:OUTP 1`` biases the routed readout devices (the 2182A reads it).
Delta: ``:SOUR:DELT:HIGH``, ``:SOUR:DELT:ARM``, ``:INIT:IMM`` take ``:SOUR:DELT:COUN`` readings
(V(+I) − V(−I))/2 through the 2182A named in the wiring (``voltmeter``), which cancels the
thermal EMF; ``:TRAC:DATA?`` returns ``reading,timestamp`` pairs. Pulse (``:SOUR:PDEL:*``):
each pulse of ``HIGH`` A for ``WIDT`` s (50 µs–12 ms) is a SOT write on the routed devices.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

from sim_backend.commands.base import InstrumentError
from sim_backend.commands.numbers import sci
from sim_backend.commands.params import Bool, Enum, Float, Int
from sim_backend.commands.scpi import SCPI_BASE, Call, ScpiTree, ScpiTwin

tree = ScpiTree(SCPI_BASE)
tree.setting(
    "[:SOURce]:CURRent[:LEVel][:IMMediate][:AMPLitude]", "current_A", Float(-0.105, 0.105, 0.0)
)
tree.setting("[:SOURce]:CURRent:COMPliance", "compliance_V", Float(0.1, 105.0, 10.0))
tree.setting("[:SOURce]:CURRent:RANGe", "range_A", Float(0, 0.105, 0.1))
tree.setting("[:SOURce]:CURRent:RANGe:AUTO", "autorange", Bool(True))
tree.setting("[:SOURce]:DELay", "delay_s", Float(1e-3, 999999.999, 1e-3))
tree.setting(":OUTPut[:STATe]", "output", Bool())
tree.setting(":OUTPut:LTEarth", "low_to_earth", Bool())
tree.setting(":OUTPut:ISHield", "shield", Enum("OLOW", "GUARd"))
tree.setting(":OUTPut:RESPonse", "response", Enum("FAST", "SLOW"))
tree.setting("[:SOURce]:DELTa:HIGH", "delta_high_A", Float(-0.105, 0.105, 1e-3))
tree.setting("[:SOURce]:DELTa:LOW", "delta_low_A", Float(-0.105, 0.105, -1e-3))
tree.setting("[:SOURce]:DELTa:DELay", "delta_delay_s", Float(1e-3, 9999.999, 2e-3))
tree.setting("[:SOURce]:DELTa:COUNt", "delta_count", Int(1, 65536, 10))
tree.setting("[:SOURce]:DELTa:CABort", "delta_cabort", Bool())
tree.setting("[:SOURce]:DELTa:CSWitch", "delta_cswitch", Bool())
tree.setting("[:SOURce]:PDELta:HIGH", "pulse_high_A", Float(-0.105, 0.105, 1e-3))
tree.setting("[:SOURce]:PDELta:LOW", "pulse_low_A", Float(-0.105, 0.105, 0.0))
tree.setting("[:SOURce]:PDELta:WIDTh", "pulse_width_s", Float(50e-6, 12e-3, 110e-6))
tree.setting("[:SOURce]:PDELta:SDELay", "pulse_sdelay_s", Float(16e-6, 11.966e-3, 100e-6))
tree.setting("[:SOURce]:PDELta:COUNt", "pulse_count", Int(1, 65636, 10))
tree.setting("[:SOURce]:PDELta:INTerval", "pulse_interval", Int(5, 999999, 5))
tree.setting("[:SOURce]:PDELta:RANGing", "pulse_ranging", Enum("BEST", "FIXed"))
tree.setting("[:SOURce]:PDELta:SWEep", "pulse_sweep", Bool())
tree.setting("[:SOURce]:PDELta:LMEasure", "pulse_low_meas", Int(1, 2, 2))
tree.setting("[:SOURce]:SWEep:COUNt", "sweep_count", Int(1, 9999, 1))
tree.setting(":UNIT[:VOLTage][:DC]", "unit", Enum("V", "OHMS", "W", "SIEMens"))
tree.setting(":TRACe:POINts", "trace_points", Int(1, 1_000_000, 100))
tree.setting(":DISPlay:ENABle", "display", Bool(True))
tree.setting(":TRIGger:SOURce", "trigger_source", Enum("IMMediate", "TLINk", "BUS"))
tree.setting(
    ":ARM:SOURce",
    "arm_source",
    Enum("IMMediate", "TIMer", "BUS", "TLINk", "PSTest", "NSTest", "BSTest", "MANual"),
)
tree.setting(":ARM:TIMer", "arm_timer", Float(1e-3, 99999.99, 0.1))
tree.setting(":TRIGger:OUTPut", "trigger_output", Enum("SOURce", "DELay", "NONE"))
for _layer in ("TRIGger", "ARM"):
    tree.setting(f":{_layer}:ILINe", f"{_layer}_iline", Int(1, 6, 1))
    tree.setting(f":{_layer}:OLINe", f"{_layer}_oline", Int(1, 6, 2))
_WAVE_FUNC = Enum("SIN", "SQUare", "RAMP", "ARB0", "ARB1", "ARB2", "ARB3", "ARB4")
tree.setting("[:SOURce]:WAVE:FUNCtion", "wave_function", _WAVE_FUNC)
tree.setting("[:SOURce]:WAVE:RANGing", "wave_ranging", Enum("BEST", "FIXed"))
tree.setting("[:SOURce]:WAVE:PMARker:STATe", "wave_marker", Bool())
tree.setting("[:SOURce]:WAVE:PMARker:OLINe", "wave_marker_line", Int(1, 6, 1))
for _key in (
    "FREQuency",
    "AMPLitude",
    "OFFSet",
    "DCYCle",
    "PMARker",
    "DURation:TIME",
    "DURation:CYCLes",
):
    tree.setting(f"[:SOURce]:WAVE:{_key}", f"wave_{_key}", Float(-1e9, 1e9, 0.0))
for _reg in ("MEASurement", "OPERation", "QUEStionable"):
    tree.setting(f":STATus:{_reg}:ENABle", f"enable_{_reg}", Int(0, 65535, 0))
    tree.add(f":STATus:{_reg}[:EVENt]", query=lambda twin, call: "0")


@tree.query("[:SOURce]:DELTa:NVPResent")
def _nvpr(twin: Keithley6221, call: Call) -> str:
    return "1" if twin.voltmeter() is not None else "0"


@tree.command("[:SOURce]:DELTa:ARM")
def _delta_arm(twin: Keithley6221, call: Call) -> None:
    if twin.voltmeter() is None:
        raise InstrumentError(-221, "Settings conflict; no 2182A on the trigger link")
    twin.armed = "delta"


@tree.query("[:SOURce]:DELTa:ARM")
def _delta_arm_q(twin: Keithley6221, call: Call) -> str:
    return "1" if twin.armed == "delta" else "0"


@tree.command("[:SOURce]:PDELta:ARM")
def _pulse_arm(twin: Keithley6221, call: Call) -> None:
    twin.armed = "pulse"


@tree.query("[:SOURce]:PDELta:ARM")
def _pulse_arm_q(twin: Keithley6221, call: Call) -> str:
    return "1" if twin.armed == "pulse" else "0"


@tree.command(":INITiate[:IMMediate]")
def _init(twin: Keithley6221, call: Call) -> None:
    if twin.armed == "delta":
        twin.run_delta()
    elif twin.armed == "pulse":
        twin.run_pulses()


@tree.command("[:SOURce]:SWEep:ABORt")
def _abort(twin: Keithley6221, call: Call) -> None:
    twin.armed = None


@tree.query(":TRACe:DATA")
def _trace(twin: Keithley6221, call: Call) -> str:
    return ",".join(f"{sci(v, 3)},{sci(t, 3)}" for v, t in twin.trace) or "9.91E37,0"


@tree.query(":SENSe:DATA[:LATest]")
def _latest(twin: Keithley6221, call: Call) -> str:
    return sci(twin.trace[-1][0], 3) if twin.trace else "9.91E37"


@tree.query(":TRACe:POINts:ACTual")
def _actual(twin: Keithley6221, call: Call) -> str:
    return str(len(twin.trace))


for _p in (
    ":TRACe:CLEar",
    ":ABORt",
    "[:SOURce]:CLEar[:IMMediate]",
    "[:SOURce]:WAVE:ABORt",
    "[:SOURce]:WAVE:ARM",
    "[:SOURce]:WAVE:INITiate",
    "[:SOURce]:WAVE:ARB:COPY",
    "[:SOURce]:WAVE:ARB:DATA",
    ":SYSTem:BEEPer[:IMMediate]",
):
    tree.add(_p, setter=lambda twin, call: None)
tree.add(":TRACe:CLEar", setter=lambda twin, call: twin.trace.clear())


class Keithley6221(ScpiTwin):
    """A 6221 wired to the readout terminal (DC bias, delta) of the routed devices."""

    model = "keithley6221"
    idn = "KEITHLEY INSTRUMENTS INC.,MODEL 6221,{serial},D03  /700x "
    tree = tree
    defaults: ClassVar[dict[str, Any]] = {"serial": "4126798"}

    def reset(self) -> None:
        super().reset()
        self.armed: str | None = None
        self.trace: list[tuple[float, float]] = []
        if getattr(self, "_biasing", False):
            self.wiring.set_dc_bias(0.0)
        self._biasing = False

    def voltmeter(self) -> Any:
        name = self.wiring.connections.get("voltmeter")
        return self.wiring.twin_named(name) if name else None

    def bias_A(self) -> float:
        """The DC current through the load, limited by the voltage compliance."""
        if not self.values["output"]:
            return 0.0
        i = self.values["current_A"]
        r = self.wiring.load_resistance_ohm()
        if math.isfinite(r) and abs(i * r) > self.values["compliance_V"]:
            return math.copysign(self.values["compliance_V"] / r, i)
        return i if math.isfinite(r) else 0.0

    def on_change(self, key: str) -> None:
        if key in ("output", "current_A", "compliance_V", "*RST"):
            self._biasing = bool(self.values["output"])
            self.wiring.set_dc_bias(self.bias_A())

    def run_delta(self) -> None:
        vm = self.voltmeter()
        bw = vm.bandwidth_Hz() if vm is not None else 25.0
        hi, lo = self.values["delta_high_A"], self.values["delta_low_A"]
        period = 2 * self.values["delta_delay_s"] + 2 * 1.0 / bw
        self.trace = []
        for k in range(self.values["delta_count"]):
            v_hi = self.wiring.hall_voltage_V(hi, bw, dc_coupled=True)
            v_lo = self.wiring.hall_voltage_V(lo, bw, dc_coupled=True)
            self.trace.append(((v_hi - v_lo) / 2.0, k * period))
        self.armed = None

    def run_pulses(self) -> None:
        width = self.values["pulse_width_s"]
        hi, lo = self.values["pulse_high_A"], self.values["pulse_low_A"]
        interval_s = self.values["pulse_interval"] / 50.0  # in power-line cycles
        t = self.clock.now_s()
        self.trace = []
        for k in range(self.values["pulse_count"]):
            self.wiring.sot_pulse_current(hi, width, t + k * interval_s)
            v_hi = self.wiring.hall_voltage_V(hi, 1.0 / (2 * width), dc_coupled=True)
            v_lo = self.wiring.hall_voltage_V(lo, 1.0 / (2 * width), dc_coupled=True)
            self.trace.append((v_hi - v_lo, k * interval_s))
        self.armed = None

    def journal_state(self) -> dict[str, Any]:
        return {
            "output": bool(self.values["output"]),
            "current_A": self.values["current_A"],
            "armed": self.armed,
        }
