"""Keithley 2636B dual-channel SourceMeter (TSP): ``smua`` is the gate source, ``smub`` unwired.

``smua.source.levelv = 1``, ``smua.source.limiti = 1e-6``, ``smua.source.output = 1``,
``print(smua.measure.i())``; ``print(smua.measure.i(), status.measurement.instrument.smua.
condition)`` answers value TAB status (bit 0 voltage compliance, bit 1 current compliance);
``print(localnode.model)`` answers ``2636B``; ``print(errorqueue.next())`` answers
``code<TAB>message<TAB>severity<TAB>node``.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

from sim_backend.commands.tsp import Node, TspTwin, prop
from sim_backend.twins.smu import SmuCore

_SOURCE_ATTRS = {"levelv": "level_V", "leveli": "level_A", "limitv": "limit_V", "limiti": "limit_A"}


class Keithley2636B(TspTwin):
    """A 2636B; channel A drives the wired terminal."""

    model = "keithley2636b"
    idn = "Keithley Instruments Inc., Model 2636B, {serial}, 4.0.0"
    defaults: ClassVar[dict[str, Any]] = {"serial": "4099876"}

    def reset(self) -> None:
        if not hasattr(self, "smus"):
            self.smus = {
                "smua": SmuCore(self.wiring, f"{self.name}.smua"),
                "smub": SmuCore(self.wiring.unwired("smub"), f"{self.name}.smub"),
            }
        for core in self.smus.values():
            core.reset()
            core.limit_A, core.limit_V = 0.1, 20.0
        super().reset()

    def environment(self) -> Node:
        env = super().environment()
        env.fields["localnode"] = Node(
            {
                "model": "2636B",
                "linefreq": 60.0,
                "serialno": self.serial,
                "revision": "4.0.0",
                "description": "Keithley Instruments SMU 2636B",
            }
        )
        instrument = Node()
        for name, core in self.smus.items():
            env.fields[name] = self._smu_node(core)
            instrument.fields[name] = Node(
                {"condition": prop(lambda core=core: float(self._condition(core)))}
            )
        env.fields["status"].fields["measurement"] = Node(
            {"instrument": instrument, "condition": 0.0}
        )
        return env

    @staticmethod
    def _condition(core: SmuCore) -> int:
        if not core.tripped:
            return 0
        return 2 if core.func == "VOLT" else 1

    def _smu_node(self, core: SmuCore) -> Node:
        extra_source: dict[str, Any] = {
            "rangev": 2.0,
            "rangei": 1e-3,
            "autorangev": 1.0,
            "autorangei": 1.0,
            "delay": -1.0,
            "offmode": 0.0,
            "highc": 0.0,
            "settling": 0.0,
        }
        extra_measure: dict[str, Any] = {
            "rangev": 2.0,
            "rangei": 1e-3,
            "autorangev": 1.0,
            "autorangei": 1.0,
            "autozero": 2.0,
            "count": 1.0,
            "delay": -1.0,
            "filter": Node({"enable": 0.0}),
        }

        def set_source(key: str, value: Any) -> None:
            if key in _SOURCE_ATTRS:
                setattr(core, _SOURCE_ATTRS[key], float(value))
            elif key == "func":
                core.func = "VOLT" if float(value) == 1 else "CURR"
            elif key == "output":
                core.on = float(value) != 0
            else:
                extra_source[key] = value
                source.fields[key] = value
                return
            core.apply()

        source = Node(
            {
                **{k: prop(lambda a=a: getattr(core, a)) for k, a in _SOURCE_ATTRS.items()},
                "func": prop(lambda: 1.0 if core.func == "VOLT" else 0.0),
                "output": prop(lambda: 1.0 if core.on else 0.0),
                "compliance": prop(lambda: bool(core.tripped)),
                **extra_source,
            },
            on_set=set_source,
        )

        def set_measure(key: str, value: Any) -> None:
            if key == "nplc":
                core.nplc = max(0.001, min(25.0, float(value)))
            else:
                measure.fields[key] = value

        buffers = {
            n: Node(
                {
                    "clear": lambda: None,
                    "n": 0.0,
                    "appendmode": 0.0,
                    "collectsourcevalues": 0.0,
                    "collecttimestamps": 0.0,
                }
            )
            for n in ("nvbuffer1", "nvbuffer2")
        }

        def reading(kind: str) -> Any:
            def measure_now(*buffers_: Any) -> Any:
                v, i, _ = core.measure()
                if kind == "v":
                    return v
                if kind == "i":
                    return i
                if kind == "r":
                    return v / i if i else math.inf
                if kind == "p":
                    return v * i
                return (i, v)

            return measure_now

        measure = Node(
            {
                "nplc": prop(lambda: core.nplc),
                "v": reading("v"),
                "i": reading("i"),
                "r": reading("r"),
                "p": reading("p"),
                "iv": reading("iv"),
                **extra_measure,
            },
            on_set=set_measure,
        )

        def reset_channel() -> None:
            core.reset()
            core.limit_A, core.limit_V = 0.1, 20.0

        return Node(
            {
                "source": source,
                "measure": measure,
                "sense": 0.0,
                **buffers,
                "reset": reset_channel,
                "abort": lambda: None,
                "OUTPUT_ON": 1.0,
                "OUTPUT_OFF": 0.0,
                "OUTPUT_DCVOLTS": 1.0,
                "OUTPUT_DCAMPS": 0.0,
                "OUTPUT_HIGH_Z": 2.0,
                "OUTPUT_ZERO": 1.0,
                "OUTPUT_NORMAL": 0.0,
                "SENSE_LOCAL": 0.0,
                "SENSE_REMOTE": 1.0,
                "SENSE_CALA": 3.0,
                "AUTORANGE_ON": 1.0,
                "AUTORANGE_OFF": 0.0,
                "AUTORANGE_FOLLOW_LIMIT": 2.0,
                "AUTOZERO_OFF": 0.0,
                "AUTOZERO_ONCE": 1.0,
                "AUTOZERO_AUTO": 2.0,
            }
        )

    def force_compliance(self) -> None:
        self.smus["smua"].force_compliance()

    def journal_state(self) -> dict[str, Any]:
        return {name: core.state() for name, core in self.smus.items()}
