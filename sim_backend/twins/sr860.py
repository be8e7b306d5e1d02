"""Stanford Research SR860 lock-in amplifier: the AC Hall readout, SR860 command set.

Outputs are numbered 0–3 (X, Y, R, θ) or named (``SNAP? X, Y`` from pymeasure, ``SNAP? 0,1``
from qcodes); sensitivity is ``SCAL`` (0 = 1 V … 27 = 1 nV); ``ENBW?`` answers the equivalent
noise bandwidth of the output filter. The sine output drives the routed Hall cross through the
lab file's series resistor, as for the SR830.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

from sim_backend.commands.base import InstrumentError
from sim_backend.commands.mnemonic import COMMON, Mnemonics, MnemonicTwin
from sim_backend.commands.numbers import parse_int
from sim_backend.twins.sr830 import ENBW_FACTOR

TIME_CONSTANTS_S = [k * 10.0**e for e in range(-6, 5) for k in (1, 3)][:22]
SCALES_V = [k * 10.0**e for e in range(0, -10, -1) for k in (1, 0.5, 0.2)][:28]
_NAMES = {
    "X": 0,
    "Y": 1,
    "R": 2,
    "THETA": 3,
    "TH": 3,
    "IN1": 4,
    "IN2": 5,
    "IN3": 6,
    "IN4": 7,
    "XNOISE": 8,
    "XNO": 8,
    "YNOISE": 9,
    "YNO": 9,
    "OUT1": 10,
    "OUT2": 11,
    "PHASE": 12,
    "PHA": 12,
    "SAMP": 13,
    "SAM": 13,
    "LEVEL": 14,
    "LEV": 14,
    "FINT": 15,
    "FI": 15,
    "FEXT": 16,
    "FE": 16,
}

table = Mnemonics(COMMON)
table.real("FREQ", "frequency_Hz", 1e-3, 500e3, 1000.0, "{:.6e}")
table.real("FREQINT", "internal_Hz", 1e-3, 500e3, 1000.0, "{:.6e}")
table.real("SLVL", "amplitude_V", 1e-9, 2.0, 1e-3, "{:.9e}")
table.real("SOFF", "offset_V", -5.0, 5.0, 0.0, "{:.6e}")
table.real("PHAS", "phase_deg", -360000.0, 360000.0, 0.0, "{:.7f}")
for _head, _key, _hi, _def in (
    ("HARM", "harmonic", 99, 1),
    ("HARMDUAL", "harmonic2", 99, 1),
    ("SCAL", "scale", 27, 9),
    ("OFLT", "time_constant", 21, 12),
    ("OFSL", "filter_slope", 3, 1),
    ("SYNC", "sync", 1, 0),
    ("ADVFILT", "advanced_filter", 1, 0),
    ("ADVFIL", "advanced_filter", 1, 0),
    ("ISRC", "input_source", 3, 0),
    ("IVMD", "input_mode", 1, 0),
    ("ICUR", "current_gain", 1, 0),
    ("IRNG", "input_range", 4, 0),
    ("IGND", "ground", 1, 0),
    ("ICPL", "coupling", 1, 0),
    ("RSRC", "ref_source", 3, 0),
    ("RTRG", "ref_trigger", 2, 0),
    ("REFZ", "ref_impedance", 1, 0),
    ("REFM", "ref_mode", 1, 0),
    ("CAPTURELEN", "capture_len", 4096, 256),
    ("CAPTURECFG", "capture_cfg", 3, 0),
    ("CAPTURERATE", "capture_rate", 20, 0),
    ("TBMODE", "timebase", 1, 0),
    ("DBLK", "blanking", 1, 0),
    ("GSDP", "display_screen", 4, 0),
):
    table.integer(_head, _key, 0, _hi, _def)
table.indexed("AUXV", "aux_out_V", 4, -10.5, 10.5, 0.0, first=0)
table.indexed("CDSP", "display_param", 4, 0, 16, 0, first=0)
table.indexed("CGRF", "display_graph", 4, 0, 1, 0, first=0)
table.indexed("CEXP", "expand", 3, 0, 2, 0, first=0)
table.indexed("COFP", "offset_pct", 3, -999.99, 999.99, 0.0, first=0)


def _index(text: str) -> int:
    key = text.strip().upper()
    if key in _NAMES:
        return _NAMES[key]
    return parse_int(key, 0, 16)


@table.query("OUTP")
def _outp(twin: SR860, args: list[str]) -> str:
    if len(args) != 1 or not args[0]:
        raise InstrumentError(-109 if not args or not args[0] else -108)
    k = _index(args[0])
    if k > 3:
        raise InstrumentError(-222)
    return f"{twin.outputs()[k]:.6e}"


@table.query("SNAP")
def _snap(twin: SR860, args: list[str]) -> str:
    if not 2 <= len(args) <= 3:
        raise InstrumentError(-109 if len(args) < 2 else -108)
    values = twin.all_values()
    return ",".join(f"{values[_index(a)]:.6e}" for a in args)


@table.query("SNAPD")
def _snapd(twin: SR860, args: list[str]) -> str:
    values = twin.all_values()
    return ",".join(f"{values[twin.values['display_param'][k]]:.6e}" for k in range(4))


@table.query("OAUX")
def _oaux(twin: SR860, args: list[str]) -> str:
    parse_int(args[0] if args else "", 0, 3)
    return f"{twin.wiring.rng.normal(0.0, 1e-4):.6e}"


table.add("ENBW", query=lambda twin, args: f"{twin.enbw_Hz():.6e}")
table.add("ILVL", query=lambda twin, args: "0")
table.add("CAPTURERATEMAX", query=lambda twin, args: "1.250000e+06")
table.add("CAPTUREBYTES", query=lambda twin, args: "0")
table.add("CAPTUREPROG", query=lambda twin, args: "0")
table.add("CAPTURESTAT", query=lambda twin, args: "0")
table.add("CAPTURESTOP", setter=lambda twin, args: None)
table.add("TBSTAT", query=lambda twin, args: "0")
table.add("FREQDET", query=lambda twin, args: f"{twin.values['frequency_Hz']:.6e}")
table.add("FREQEXT", query=lambda twin, args: f"{twin.values['frequency_Hz']:.6e}")
table.add("DCAP", setter=lambda twin, args: None)


class SR860(MnemonicTwin):
    """An SR860 reading the Hall voltage of the routed device."""

    model = "sr860"
    idn = "Stanford_Research_Systems,SR860,{serial},v1.51"
    table = table
    defaults: ClassVar[dict[str, Any]] = {"serial": "003157", "series_resistor_ohm": 10_000.0}

    def enbw_Hz(self) -> float:
        return (
            ENBW_FACTOR[self.values["filter_slope"]]
            / TIME_CONSTANTS_S[self.values["time_constant"]]
        )

    def outputs(self) -> tuple[float, float, float, float]:
        wiring = self.wiring
        bw = self.enbw_Hz()
        current = self.values["amplitude_V"] / float(self.settings["series_resistor_ohm"])
        v = wiring.hall_voltage_V(current, bw, dc_coupled=False)
        noise_y = wiring.rng.normal(0.0, 4.07e-9 * math.sqrt(bw))
        phase = math.radians(self.values["phase_deg"])
        x = v * math.cos(phase) + noise_y * math.sin(phase)
        y = -v * math.sin(phase) + noise_y * math.cos(phase)
        return x, y, math.hypot(x, y), math.degrees(math.atan2(y, x))

    def all_values(self) -> list[float]:
        x, y, r, theta = self.outputs()
        noise = 4.07e-9 * math.sqrt(self.enbw_Hz())
        return [
            x,
            y,
            r,
            theta,
            0.0,
            0.0,
            0.0,
            0.0,
            noise,
            noise,
            x,
            y,
            self.values["phase_deg"],
            self.values["amplitude_V"],
            0.0,
            self.values["frequency_Hz"],
            self.values["frequency_Hz"],
        ]

    def journal_state(self) -> dict[str, Any]:
        return {
            "amplitude_V": self.values["amplitude_V"],
            "frequency_Hz": self.values["frequency_Hz"],
        }
