"""American Magnetics Model 430 programmer (TCP socket, port 7180): the superconducting magnet.

Sends the greeting banner (two lines) to a connection whose first action is a read, ends replies
with CR LF, and runs the magnet's state machine: ``CONF:FIELD:TARG``, ``CONF:RAMP:RATE:FIELD
1,rate,upper``, ``RAMP``, ``PAUSE``, ``ZERO``; ``STATE?`` (1 ramping, 2 holding, 3 paused, …,
7 quench, 8 at zero), ``FIELD:MAG?``, ``QU?``, ``PERS?``, ``PS:INST?`` answer numbers. Units
follow ``CONF:FIELD:UNITS`` (0 kG, 1 T) and ``CONF:RAMP:RATE:UNITS`` (0 per s, 1 per min).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from sim_backend.commands.base import InstrumentError
from sim_backend.commands.numbers import parse_float, parse_int
from sim_backend.commands.params import Bool, Float, Int
from sim_backend.commands.scpi import SCPI_BASE, Call, ScpiTree, ScpiTwin

tree = ScpiTree(SCPI_BASE)


def _magnet_call(twin: AMI430, action: Callable[[], None]) -> None:
    try:
        action()
    except ValueError as err:
        raise InstrumentError(-222, f"Data out of range; {err}") from None
    except RuntimeError as err:
        raise InstrumentError(-221, f"Settings conflict; {err}") from None


@tree.command(":CONFigure:FIELD:TARGet")
def _target(twin: AMI430, call: Call) -> None:
    field_T = parse_float(call.one()) * twin.field_scale_T()
    _magnet_call(twin, lambda: twin.magnet.set_target(field_T, twin.t_s))


@tree.command(":CONFigure:CURRent:TARGet")
def _target_i(twin: AMI430, call: Call) -> None:
    field_T = parse_float(call.one()) * twin.coil_T_per_A
    _magnet_call(twin, lambda: twin.magnet.set_target(field_T, twin.t_s))


@tree.query(":FIELD:TARGet")
def _target_q(twin: AMI430, call: Call) -> str:
    return f"{twin.magnet.target_T / twin.field_scale_T():.10f}"


@tree.query(":CURRent:TARGet")
def _target_iq(twin: AMI430, call: Call) -> str:
    return f"{twin.magnet.target_T / twin.coil_T_per_A:.10f}"


@tree.query(":FIELD:MAGnet")
def _field(twin: AMI430, call: Call) -> str:
    return f"{twin.magnet.field_at(twin.t_s) / twin.field_scale_T():.10f}"


@tree.query(":CURRent:MAGnet")
def _current(twin: AMI430, call: Call) -> str:
    return f"{twin.magnet.field_at(twin.t_s) / twin.coil_T_per_A:.10f}"


tree.add(":CURRent:SUPPly", query=_current)


def _rate(per: str) -> Any:
    def setter(twin: AMI430, call: Call) -> None:
        if len(call.args) < 2:
            raise InstrumentError(-109)
        segment = parse_int(call.args[0], 1, 10)
        rate = parse_float(call.args[1], 0.0)
        if segment != 1:
            return
        scale = twin.field_scale_T() if per == "FIELD" else twin.coil_T_per_A
        rate_T_per_s = rate * scale / twin.time_scale_s()
        _magnet_call(twin, lambda: twin.magnet.set_ramp_rate(rate_T_per_s, twin.t_s))

    def query(twin: AMI430, call: Call) -> str:
        scale = twin.field_scale_T() if per == "FIELD" else twin.coil_T_per_A
        rate = twin.magnet.ramp_rate_T_per_s * twin.time_scale_s() / scale
        upper = twin.current_limit_A * twin.coil_T_per_A / scale
        return f"{rate:.10f},{upper:.4f}"

    return setter, query


for _per in ("FIELD", "CURRent"):
    _set, _query = _rate(_per)
    tree.add(f":CONFigure:RAMP:RATE:{_per}", setter=_set)
    tree.add(f":RAMP:RATE:{_per}", query=_query)  # RAMP:RATE:FIELD:1? (suffix on FIELD)


@tree.command(":CONFigure:COIL")
def _coil(twin: AMI430, call: Call) -> None:
    twin.coil_T_per_A = parse_float(call.one(), 1e-6, 1e3) * twin.field_scale_T()


@tree.query(":COIL")
def _coil_q(twin: AMI430, call: Call) -> str:
    return f"{twin.coil_T_per_A / twin.field_scale_T():.6f}"


@tree.command(":CONFigure:CURRent:LIMit")
def _limit(twin: AMI430, call: Call) -> None:
    twin.current_limit_A = parse_float(call.one(), 0.0, 200.0)


tree.add(":CURRent:LIMit", query=lambda twin, call: f"{twin.current_limit_A:.4f}")
tree.setting(":CONFigure:FIELD:UNITS", "field_units", Int(0, 1, 0), query=False)
tree.add(":FIELD:UNITS", query=lambda twin, call: str(twin.values["field_units"]))
tree.setting(":CONFigure:RAMP:RATE:UNITS", "rate_units", Int(0, 1, 0), query=False)
tree.add(":RAMP:RATE:UNITS", query=lambda twin, call: str(twin.values["rate_units"]))
tree.setting(":CONFigure:RAMP:RATE:SEGments", "segments", Int(1, 10, 1), query=False)
tree.add(":RAMP:RATE:SEGments", query=lambda twin, call: str(twin.values["segments"]))
tree.setting(":CONFigure:VOLTage:LIMit", "voltage_limit_V", Float(0.0, 20.0, 2.0), query=False)
tree.add(":VOLTage:LIMit", query=lambda twin, call: f"{twin.values['voltage_limit_V']:.4f}")
tree.add(":VOLTage:SUPPly", query=lambda twin, call: "0.0000")
tree.add(":VOLTage:MAGnet", query=lambda twin, call: "0.0000")
tree.setting(":CONFigure:PSwitch", "ps_installed", Bool(), query=False)
tree.add(":PSwitch:INSTalled", query=lambda twin, call: "1" if twin.values["ps_installed"] else "0")
tree.add(
    ":PSwitch",
    setter=lambda twin, call: twin.heater(Bool().parse(call.one())),
    query=lambda twin, call: "1" if twin.ps_on else "0",
)
tree.setting(":CONFigure:PSwitch:CURRent", "ps_current_mA", Float(0, 125, 20.0), query=False)
tree.add(":PSwitch:CURRent", query=lambda twin, call: f"{twin.values['ps_current_mA']:.1f}")
tree.setting(":CONFigure:PSwitch:HTIMe", "ps_heat_s", Int(5, 120, 20), query=False)
tree.add(":PSwitch:HTIMe", query=lambda twin, call: str(twin.values["ps_heat_s"]))
tree.setting(":CONFigure:PSwitch:CTIMe", "ps_cool_s", Int(5, 3600, 20), query=False)
tree.add(":PSwitch:CTIMe", query=lambda twin, call: str(twin.values["ps_cool_s"]))
tree.add(":PERSistent", query=lambda twin, call: "0")


@tree.query(":STATE")
def _state(twin: AMI430, call: Call) -> str:
    return str(int(twin.magnet.state_at(twin.t_s)))


@tree.command(":RAMP")
def _ramp(twin: AMI430, call: Call) -> None:
    _magnet_call(twin, lambda: twin.magnet.ramp(twin.t_s))


@tree.command(":PAUSE")
def _pause(twin: AMI430, call: Call) -> None:
    _magnet_call(twin, lambda: twin.magnet.pause(twin.t_s))


@tree.command(":ZERO")
def _zero(twin: AMI430, call: Call) -> None:
    _magnet_call(twin, lambda: twin.magnet.zero(twin.t_s))


@tree.command(":QUench")
def _quench(twin: AMI430, call: Call) -> None:
    if not Bool().parse(call.one()):
        _magnet_call(twin, lambda: twin.magnet.reset_quench(twin.t_s))


@tree.query(":QUench")
def _quench_q(twin: AMI430, call: Call) -> str:
    return "1" if int(twin.magnet.state_at(twin.t_s)) == 7 else "0"


class AMI430(ScpiTwin):
    """An AMI 430 running the superconducting magnet named in its wiring."""

    model = "ami430"
    idn = "AMERICAN MAGNETICS INC.,MODEL 430,{serial},2.55"
    reply_terminator = "\r\n"
    greeting = ("American Magnetics Model 430 IP Interface", "Hello.")
    interrupts_queries = False
    tree = tree
    defaults: ClassVar[dict[str, Any]] = {
        "serial": "430-1234",
        "coil_T_per_A": 0.1,
        "current_limit_A": 80.0,
    }

    def reset(self) -> None:
        super().reset()
        self.coil_T_per_A = float(self.settings["coil_T_per_A"])
        self.current_limit_A = float(self.settings["current_limit_A"])
        self.ps_on = False

    @property
    def magnet(self) -> Any:
        return self.wiring.magnet()

    @property
    def t_s(self) -> float:
        return self.clock.now_s()

    def field_scale_T(self) -> float:
        """Tesla per field unit: 0.1 in kilogauss, 1 in tesla."""
        return 1.0 if self.values["field_units"] == 1 else 0.1

    def time_scale_s(self) -> float:
        return 1.0 if self.values["rate_units"] == 0 else 60.0

    def heater(self, on: bool) -> None:
        if on and not self.values["ps_installed"]:
            raise InstrumentError(-221, "Settings conflict; no persistent switch installed")
        self.ps_on = on

    def journal_state(self) -> dict[str, Any]:
        magnet = self.magnet
        return {
            "target_T": magnet.target_T,
            "state": int(magnet.state_at(self.t_s)),
            "ramp_rate_T_per_s": magnet.ramp_rate_T_per_s,
        }
