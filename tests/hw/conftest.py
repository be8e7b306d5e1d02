"""Real-bench tests: skipped unless ``--device-address`` is given.

    pytest tests/hw -m hw --device-driver keithley2400 --device-address GPIB0::24::INSTR \
        [--visa-library=@py] [--device-settings '{"nplc": 1}'] [--device-limits '{...}']

Each test opens the one instrument named by ``--device-driver`` with the station defaults
(limits at their defaults — small and safe — unless ``--device-limits`` gives some; a
window is ``[low, high]``), exercises it briefly and leaves it in its safe state.
"""

from __future__ import annotations

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("labctl hardware")
    group.addoption("--device-address", default=None, help="VISA address of the device under test")
    group.addoption("--device-driver", default=None, help="registry key, e.g. keithley2400")
    group.addoption(
        "--visa-library", default="", help="pyvisa library: --visa-library=@py ('=' needed)"
    )
    group.addoption("--device-settings", default="{}", help="JSON settings for the adapter")
    group.addoption(
        "--device-limits", default="{}", help='JSON station limits, e.g. {"compliance_A": 1e-3}'
    )
