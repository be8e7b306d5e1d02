"""A plain pyvisa script with third-party drivers (pymeasure Keithley 2400, qcodes SR830):
no labctl in it. The test records it with ``PYVISA_LIBRARY=@labrec`` and replays it with
``PYVISA_LIBRARY=<file>@labreplay``. Usage: ``python third_party_script.py [gate_V]``."""

import sys

from pymeasure.instruments.keithley import Keithley2400
from qcodes.instrument_drivers.stanford_research import SR830

gate_V = float(sys.argv[1]) if len(sys.argv) > 1 else 0.5
smu = Keithley2400("GPIB0::24::INSTR")
smu.apply_voltage(compliance_current=1e-6)
smu.source_voltage = gate_V
smu.enable_source()
print("gate current", smu.current)
lockin = SR830("lockin", "GPIB0::8::INSTR")
print("lockin", lockin.X(), lockin.Y(), lockin.R(), lockin.time_constant())
lockin.close()
smu.shutdown()
