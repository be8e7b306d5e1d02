"""Kepco BOP 36-12 bipolar power supply (SCPI): drives the electromagnet's coil.

In current mode the output current follows ``CURR`` unless the coil would need more than the
voltage limit ``VOLT`` (then it is limited to ``VOLT/R_coil``); in voltage mode the current is
``VOLT/R_coil`` limited by ``CURR``. ``FUNC:MODE?`` answers ``0`` (voltage) or ``1`` (current).
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

from sim_backend.commands.numbers import sci
from sim_backend.commands.params import Bool, Enum, Float
from sim_backend.commands.scpi import SCPI_BASE, Call, ScpiTree, ScpiTwin

V_MAX, I_MAX = 36.0, 12.0
tree = ScpiTree(SCPI_BASE)
tree.setting(":OUTPut[:STATe]", "output", Bool())
tree.setting(
    "[:SOURce]:CURRent[:LEVel][:IMMediate][:AMPLitude]",
    "current_A",
    Float(-I_MAX * 1.01, I_MAX * 1.01, 0.0),
)
tree.setting(
    "[:SOURce]:VOLTage[:LEVel][:IMMediate][:AMPLitude]",
    "voltage_V",
    Float(-V_MAX * 1.01, V_MAX * 1.01, 0.0),
)
tree.setting("[:SOURce]:CURRent:MODE", "current_mode", Enum("FIXed", "LIST", "TRANsient"))
tree.setting("[:SOURce]:VOLTage:MODE", "voltage_mode", Enum("FIXed", "LIST", "TRANsient"))
tree.setting(
    "[:SOURce]:CURRent[:LEVel]:TRIGgered[:AMPLitude]", "current_trig_A", Float(-I_MAX, I_MAX, 0.0)
)
tree.setting(
    "[:SOURce]:VOLTage[:LEVel]:TRIGgered[:AMPLitude]", "voltage_trig_V", Float(-V_MAX, V_MAX, 0.0)
)
_MODE = Enum("VOLTage", "CURRent")


@tree.command("[:SOURce]:FUNCtion:MODE")
def _mode(twin: KepcoBOP, call: Call) -> None:
    twin.change("mode", _MODE.parse(call.one()))


@tree.query("[:SOURce]:FUNCtion:MODE")
def _mode_q(twin: KepcoBOP, call: Call) -> str:
    return "1" if twin.values["mode"] == "CURR" else "0"


@tree.query(":MEASure[:SCALar]:CURRent[:DC]")
def _meas_i(twin: KepcoBOP, call: Call) -> str:
    return sci(twin.output_current_A() + twin.wiring.rng.normal(0.0, 1e-4), 5)


@tree.query(":MEASure[:SCALar]:VOLTage[:DC]")
def _meas_v(twin: KepcoBOP, call: Call) -> str:
    v = twin.output_current_A() * float(twin.settings["coil_resistance_ohm"])
    return sci(v + twin.wiring.rng.normal(0.0, 1e-3), 5)


@tree.query(":DIAGnostic:TST")
def _diag(twin: KepcoBOP, call: Call) -> str:
    return "0"


tree.add(":SYSTem:BEEP", setter=lambda twin, call: None)
tree.add(":INITiate[:IMMediate]", setter=lambda twin, call: None)


class KepcoBOP(ScpiTwin):
    """A Kepco BOP driving the coil of the magnet named in its wiring."""

    model = "kepco_bop"
    idn = "KEPCO,BOP 36-12,{serial},1.60-1.60"
    tree = tree
    defaults: ClassVar[dict[str, Any]] = {"serial": "E1234", "coil_resistance_ohm": 1.5}

    def reset(self) -> None:
        super().reset()
        self.values["mode"] = "VOLT"

    def output_current_A(self) -> float:
        """The current the supply pushes through the coil with the present settings."""
        if not self.values["output"]:
            return 0.0
        r = float(self.settings["coil_resistance_ohm"])
        if self.values["mode"] == "CURR":
            i = self.values["current_A"]
            i_max = abs(self.values["voltage_V"]) / r if r > 0 else math.inf
            return max(-i_max, min(i_max, i))
        i = self.values["voltage_V"] / r if r > 0 else 0.0
        i_lim = abs(self.values["current_A"])
        return max(-i_lim, min(i_lim, i))

    def on_change(self, key: str) -> None:
        if "coil" in self.wiring.connections:
            self.wiring.drive_coil(self.output_current_A())

    def journal_state(self) -> dict[str, Any]:
        return {
            "output": self.values["output"],
            "mode": self.values["mode"],
            "current_A": self.values["current_A"],
            "voltage_V": self.values["voltage_V"],
            "output_current_A": self.output_current_A(),
        }
