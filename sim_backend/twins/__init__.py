"""Instrument twins: one class per model, answering the real command set.

``MODELS`` maps the model names used in lab files to the twin classes.
"""

from __future__ import annotations

from sim_backend.commands.base import InstrumentError, Twin
from sim_backend.twins.ami430 import AMI430
from sim_backend.twins.keithley2182a import Keithley2182A
from sim_backend.twins.keithley2400 import Keithley2400
from sim_backend.twins.keithley2450 import Keithley2450
from sim_backend.twins.keithley2636b import Keithley2636B
from sim_backend.twins.keithley6221 import Keithley6221
from sim_backend.twins.keithley_switch import Keithley707B, Keithley3706A
from sim_backend.twins.kepco_bop import KepcoBOP
from sim_backend.twins.keysight33500b import Keysight33500B
from sim_backend.twins.lakeshore643 import LakeShore643
from sim_backend.twins.lakeshore_gaussmeter import LakeShore475, LakeShoreGaussmeter
from sim_backend.twins.sr830 import SR830
from sim_backend.twins.sr860 import SR860
from sim_backend.twins.yokogawa_gs200 import YokogawaGS200

MODELS: dict[str, type[Twin]] = {
    cls.model: cls
    for cls in (
        Keithley2400,
        SR830,
        KepcoBOP,
        LakeShoreGaussmeter,
        Keithley2450,
        Keithley2636B,
        YokogawaGS200,
        SR860,
        Keithley6221,
        Keithley2182A,
        LakeShore643,
        AMI430,
        LakeShore475,
        Keysight33500B,
        Keithley707B,
        Keithley3706A,
    )
}

__all__ = ["MODELS", "InstrumentError", "Twin"]
