"""Stanford Research SR830 lock-in amplifier: the AC Hall readout.

The sine output (``SLVL``, V rms) drives the routed Hall cross through the series resistor set
in the lab file (``series_resistor_ohm``, taken ≫ the cross's R_xx, so I = SLVL/R_series); the
input measures V_xy of that cross at the reference frequency over the equivalent noise
bandwidth of the output filter (``OFLT``, ``OFSL``). The output filter's settling lag is not
modelled: a reading is the value for the state at that instant.
Both ``OUTP? 1`` (qcodes) and ``OUTP?1`` (pymeasure) work, as do ``SLVL0.500;`` and ``SRAT ?``.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

from sim_backend.commands.base import InstrumentError
from sim_backend.commands.mnemonic import COMMON, Mnemonics, MnemonicTwin
from sim_backend.commands.numbers import parse_float, parse_int

TIME_CONSTANTS_S = [k * 10.0**e for e in range(-5, 5) for k in (1, 3)]
SENSITIVITIES_V = [k * 10.0**e for e in range(-9, 1) for k in (2, 5, 10)][:27]
ENBW_FACTOR = (1 / 4, 1 / 8, 3 / 32, 5 / 64)  # ENBW·τ for 6, 12, 18, 24 dB/oct

table = Mnemonics(COMMON)
table.real("PHAS", "phase_deg", -360.0, 729.99, 0.0, "{:.2f}")
table.integer("FMOD", "ref_source", 0, 1, 1)
table.real("FREQ", "frequency_Hz", 0.001, 102000.0, 1000.0, "{:.4f}")
table.integer("RSLP", "ref_slope", 0, 2, 0)
table.integer("HARM", "harmonic", 1, 19999, 1)
table.real("SLVL", "amplitude_V", 0.004, 5.0, 1.0, "{:.3f}")
table.integer("ISRC", "input", 0, 3, 0)
table.integer("IGND", "ground", 0, 1, 0)
table.integer("ICPL", "coupling", 0, 1, 0)
table.integer("ILIN", "line_filter", 0, 3, 0)
table.integer("SENS", "sensitivity", 0, 26, 22)
table.integer("RMOD", "reserve", 0, 2, 1)
table.integer("OFLT", "time_constant", 0, 19, 10)
table.integer("OFSL", "filter_slope", 0, 3, 1)
table.integer("SYNC", "sync_filter", 0, 1, 0)
table.integer("OUTX", "interface", 0, 1, 0)
table.integer("OVRM", "override_remote", 0, 1, 1)
table.integer("SRAT", "sample_rate", 0, 14, 4)
table.integer("SEND", "buffer_mode", 0, 1, 1)
table.integer("TSTR", "trigger_starts", 0, 1, 0)
table.integer("FAST", "fast_mode", 0, 2, 0)
table.integer("LOCL", "local", 0, 2, 0)
table.integer("KCLK", "key_click", 0, 1, 1)
table.integer("ALRM", "alarm", 0, 1, 1)
table.integer("ERRE", "error_enable", 0, 255, 0)
table.integer("LIAE", "lia_enable", 0, 255, 0)
table.indexed("AUXV", "aux_out_V", 4, -10.5, 10.5, 0.0)
table.defaults["display"] = [[0, 0], [0, 0]]
table.defaults["offset_expand"] = [[0.0, 0], [0.0, 0], [0.0, 0]]


def _args(args: list[str], n: int) -> list[str]:
    if len(args) < n or any(a == "" for a in args[:n]):
        raise InstrumentError(-109)
    if len(args) > n:
        raise InstrumentError(-108)
    return args


@table.query("OUTP")
def _outp(twin: SR830, args: list[str]) -> str:
    i = parse_int(_args(args, 1)[0], 1, 4)
    return f"{twin.outputs()[i - 1]:.6e}"


@table.query("OUTR")
def _outr(twin: SR830, args: list[str]) -> str:
    i = parse_int(_args(args, 1)[0], 1, 2)
    x, y, r, _theta = twin.outputs()
    return f"{(x if twin.values['display'][i - 1][0] == 0 else r) if i == 1 else y:.6e}"


@table.query("SNAP")
def _snap(twin: SR830, args: list[str]) -> str:
    if not 2 <= len(args) <= 6:
        raise InstrumentError(-109 if len(args) < 2 else -108)
    x, y, r, theta = twin.outputs()
    values = {1: x, 2: y, 3: r, 4: theta, 9: twin.values["frequency_Hz"], 10: x, 11: y}
    for k in range(4):
        values[5 + k] = 0.0
    out = []
    for a in args:
        key = parse_int(a, 1, 11)
        out.append(f"{values[key]:.6e}")
    return ",".join(out)


@table.query("OAUX")
def _oaux(twin: SR830, args: list[str]) -> str:
    parse_int(_args(args, 1)[0], 1, 4)
    return f"{twin.wiring.rng.normal(0.0, 1e-4):.4f}"


@table.command("DDEF")
def _ddef(twin: SR830, args: list[str]) -> None:
    ch, disp, ratio = _args(args, 3)
    c = parse_int(ch, 1, 2)
    twin.values["display"][c - 1] = [parse_int(disp, 0, 4), parse_int(ratio, 0, 2)]


@table.query("DDEF")
def _ddef_q(twin: SR830, args: list[str]) -> str:
    c = parse_int(_args(args, 1)[0], 1, 2)
    d, r = twin.values["display"][c - 1]
    return f"{d},{r}"


@table.command("OEXP")
def _oexp(twin: SR830, args: list[str]) -> None:
    ch, offset, expand = _args(args, 3)
    c = parse_int(ch, 1, 3)
    twin.values["offset_expand"][c - 1] = [parse_float(offset, -105, 105), parse_int(expand, 0, 2)]


@table.query("OEXP")
def _oexp_q(twin: SR830, args: list[str]) -> str:
    c = parse_int(_args(args, 1)[0], 1, 3)
    off, exp = twin.values["offset_expand"][c - 1]
    return f"{off:.2f},{exp}"


@table.command("AOFF")
def _aoff(twin: SR830, args: list[str]) -> None:
    parse_int(_args(args, 1)[0], 1, 3)


@table.query("LIAS")
def _lias(twin: SR830, args: list[str]) -> str:
    _x, _y, r, _ = twin.outputs()
    overload = r > SENSITIVITIES_V[twin.values["sensitivity"]]
    status = (4 if overload else 0) | (1 if overload else 0)
    if args and args[0]:
        return str((status >> parse_int(args[0], 0, 7)) & 1)
    return str(status)


@table.query("ERRS")
def _errs(twin: SR830, args: list[str]) -> str:
    status = 0
    if args and args[0]:
        return str((status >> parse_int(args[0], 0, 7)) & 1)
    return str(status)


@table.query("SPTS")
def _spts(twin: SR830, args: list[str]) -> str:
    return str(len(twin.buffer))


@table.query("TRCA")
def _trca(twin: SR830, args: list[str]) -> str:
    ch, start, count = _args(args, 3)
    c, s, n = parse_int(ch, 1, 2), parse_int(start, 0), parse_int(count, 1)
    rows = twin.buffer[s : s + n]
    if s + n > len(twin.buffer):
        raise InstrumentError(-222)
    return ",".join(f"{row[c - 1]:.6e}" for row in rows) + ","


def _noop(twin: SR830, args: list[str]) -> None:
    return None


for _head in ("AGAN", "ARSV", "APHS", "PAUS", "FPOP", "SSET", "RSET"):
    table.add(_head, setter=_noop)


@table.command("STRT")
def _strt(twin: SR830, args: list[str]) -> None:
    twin.storing = True


@table.command("STRD")
def _strd(twin: SR830, args: list[str]) -> None:
    twin.storing = True


@table.command("REST")
def _rest(twin: SR830, args: list[str]) -> None:
    twin.buffer.clear()
    twin.storing = False


@table.command("TRIG")
def _trig(twin: SR830, args: list[str]) -> None:
    twin.trigger()


class SR830(MnemonicTwin):
    """An SR830 reading the Hall voltage of the routed device."""

    model = "sr830"
    idn = "Stanford_Research_Systems,SR830,s/n{serial},ver1.07 "
    table = table
    defaults: ClassVar[dict[str, Any]] = {"serial": "86013", "series_resistor_ohm": 10_000.0}

    def reset(self) -> None:
        super().reset()
        self._series_ohm = float(self.settings["series_resistor_ohm"])
        self.buffer: list[tuple[float, float]] = []
        self.storing = False

    def excitation_A(self) -> float:
        """Rms current of the sine output through the series resistor (≫ the device's R_xx)."""
        return self.values["amplitude_V"] / self._series_ohm

    def enbw_Hz(self) -> float:
        tau = TIME_CONSTANTS_S[self.values["time_constant"]]
        return ENBW_FACTOR[self.values["filter_slope"]] / tau

    def outputs(self) -> tuple[float, float, float, float]:
        """X, Y, R (V rms) and θ (deg) of the demodulated input now."""
        wiring = self.wiring
        bw = self.enbw_Hz()
        v = wiring.hall_voltage_V(self.excitation_A(), bw, dc_coupled=False)
        noise_y = wiring.rng.normal(0.0, 4.07e-9 * math.sqrt(bw))
        phase = math.radians(self.values["phase_deg"])
        x = v * math.cos(phase) + noise_y * math.sin(phase)
        y = -v * math.sin(phase) + noise_y * math.cos(phase)
        return x, y, math.hypot(x, y), math.degrees(math.atan2(y, x))

    def trigger(self) -> None:
        if self.storing:
            x, y, _, _ = self.outputs()
            self.buffer.append((x, y))

    def journal_state(self) -> dict[str, Any]:
        return {
            "amplitude_V": self.values["amplitude_V"],
            "frequency_Hz": self.values["frequency_Hz"],
            "time_constant_s": TIME_CONSTANTS_S[self.values["time_constant"]],
        }
