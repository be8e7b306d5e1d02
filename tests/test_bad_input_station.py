"""One bad value per station key: ``labctl station check`` exits 2 with one line naming the file,
the key path and what was expected (never a traceback), before any instrument is contacted."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from labctl.cli import main

STATIONS = Path(__file__).resolve().parents[1] / "labctl" / "stations"
HALL = yaml.safe_load((STATIONS / "simulated.yaml").read_text())
ARRAY = yaml.safe_load((STATIONS / "simulated_synapse_array.yaml").read_text())
DC = yaml.safe_load((STATIONS / "simulated_gs200_dc.yaml").read_text())
DELETE = object()


def _edit(base: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    data = yaml.safe_load(yaml.safe_dump(base))
    *parents, last = path.split(".")
    node = data
    for part in parents:
        node = node.setdefault(part, {})
    if value is DELETE:
        del node[last]
    else:
        node[last] = value
    return data


def check(tmp_path: Path, capsys: pytest.CaptureFixture[str], data: Any) -> str:
    path = tmp_path / "station.yaml"
    path.write_text(yaml.safe_dump(data) if not isinstance(data, str) else data)
    assert main(["station", "check", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert err.startswith(f"labctl: error: {path}: "), err
    return err


CASES = [
    # ---- top level
    (HALL, "name", ["a", "list"], "name: got ['a', 'list']; expected a string"),
    (HALL, "description", 3, "description: got 3; expected a string"),
    (HALL, "visa_library", DELETE, "visa_library: missing; expected one of @py, @ivi"),
    (HALL, "visa_library", "@gpib", "visa_library: got '@gpib'; expected one of @py"),
    (HALL, "clock", "fast", "clock: got 'fast'; expected 'virtual' or 'wall'"),
    (HALL, "instruments", DELETE, "instruments: expected a mapping of instrument names"),
    (HALL, "instruments", [], "instruments: expected a mapping of instrument names"),
    (HALL, "chip", "ptco", "chip: expected a mapping, got str"),
    (HALL, "instrument", {}, "instrument: unknown key; did you mean 'instruments'?"),
    # ---- instruments.<name>
    (HALL, "instruments.gate", "keithley2400", "instruments.gate: expected a mapping with"),
    (HALL, "instruments.gate.driver", DELETE, "gate.driver: missing; expected a non-empty string"),
    (
        HALL,
        "instruments.gate.driver",
        "keithly2400",
        "gate.driver: unknown driver 'keithly2400'; did you mean 'keithley2400'?",
    ),
    (HALL, "instruments.gate.driver", "nosuch.module:X", "gate.driver: cannot load class path"),
    (HALL, "instruments.gate.address", DELETE, "gate.address: missing; expected a non-empty"),
    (
        HALL,
        "instruments.gate.address",
        "GPIB0:24",
        "gate.address: got 'GPIB0:24': not a VISA resource name",
    ),
    (HALL, "instruments.gate.role", DELETE, "gate.role: missing; expected a non-empty string"),
    (HALL, "instruments.gate.role", "gates", "gate.role: unknown role 'gates'; expected one of"),
    (HALL, "instruments.gate.role", "field", "gate.role: driver 'keithley2400' plays the role"),
    (HALL, "instruments.gate.limits", [1, 2], "gate.limits: expected a mapping of limit names"),
    (HALL, "instruments.gate.settings", [1], "gate.settings: expected a mapping"),
    (HALL, "instruments.gate.lmits", {}, "gate.lmits: unknown key; did you mean 'limits'?"),
    # ---- limits of each role kind
    (
        HALL,
        "instruments.gate.limits.voltage_V",
        [-1e4, 1e4],
        "gate.limits.voltage_V: got -10000 V: beyond the rating of Keithley2400Gate; "
        "expected a limit within [-210, 210] V",
    ),
    (
        HALL,
        "instruments.gate.limits.voltage_V",
        [3, -3],
        "gate.limits.voltage_V: got [3, -3]; expected [low, high] in V",
    ),
    (
        HALL,
        "instruments.gate.limits.voltage_V",
        [float("-inf"), 1],
        "gate.limits.voltage_V: got [-inf, 1]; expected [low, high] in V, finite",
    ),
    (
        HALL,
        "instruments.gate.limits.compliance_A",
        5.0,
        "gate.limits.compliance_A: got 5 A: beyond the rating of Keithley2400Gate; "
        "expected a limit within <= 1.05 A",
    ),
    (
        HALL,
        "instruments.gate.limits.ramp_V_per_s",
        float("inf"),
        "gate.limits.ramp_V_per_s: got inf; expected a finite number in V/s",
    ),
    (HALL, "instruments.gate.limits.ramp_V_per_s", 0, "expected a positive number in V/s"),
    (
        HALL,
        "instruments.gate.limits.voltage",
        [-1, 1],
        "gate.limits.voltage: unknown limit for this role; did you mean 'voltage_V'?",
    ),
    (HALL, "instruments.magnet.limits.field_T", [0.3, "x"], "magnet.limits.field_T: got [0.3,"),
    (
        HALL,
        "instruments.magnet.limits.ramp_T_per_s",
        float("nan"),
        "magnet.limits.ramp_T_per_s: got nan; expected a finite number in T/s",
    ),
    (
        HALL,
        "instruments.magnet.settings.max_current_A",
        4.0,
        "magnet.limits.current_A: got -6 A: beyond the rating of KepcoBOPField; "
        "expected a limit within [-4, 4] A",
    ),
    (
        DC,
        "instruments.magnet.limits.current_A",
        [-100, 100],
        "magnet.limits.current_A: got -100 A: beyond the rating of LakeShore643Field",
    ),
    (HALL, "instruments.hall.limits.excitation_A", "1mA", "hall.limits.excitation_A: got '1mA'"),
    (
        ARRAY,
        "instruments.pulse.limits.amplitude_V",
        [-1, float("inf")],
        "pulse.limits.amplitude_V: got [-1, inf]; expected [low, high] in V, finite",
    ),
    (ARRAY, "instruments.pulse.limits.width_s", 1e-6, "pulse.limits.width_s: got 1e-06;"),
    (
        ARRAY,
        "instruments.pulse.limits.width_s",
        [1e-9, 1e-3],
        "pulse.limits.width_s: got 1e-09 s: beyond the rating of Keysight33500BPulse; "
        "expected a limit within [1.6e-08, 1e+06] s",
    ),
    (
        ARRAY,
        "instruments.pulse.limits.amplitude_V",
        [-20, 20],
        "pulse.limits.amplitude_V: got -20 V: beyond the rating of Keysight33500BPulse",
    ),
    (ARRAY, "instruments.pulse.limits.count", [10, 1], "pulse.limits.count: got [10, 1];"),
    (ARRAY, "instruments.router.limits.x", 1, "router.limits.x: unknown limit for this role"),
    (ARRAY, "instruments.array.limits.x", 1, "array.limits.x: unknown limit for this role"),
    # ---- settings of each role kind
    (
        HALL,
        "instruments.gate.settings.ramp_step_V",
        -0.01,
        "gate.settings.ramp_step_V: setting ramp_step_V must be a positive number, got -0.01",
    ),
    (HALL, "instruments.gate.settings.nplc", "fast", "gate.settings.nplc: got 'fast'; expected"),
    (
        HALL,
        "instruments.gate.settings.ramp_V_per_s",
        50.0,
        "gate.settings: refused gate ramp rate = 50: outside the limit <= 10 V/s",
    ),
    (
        HALL,
        "instruments.gate.settings.compliance_a",
        1e-6,
        "gate.settings.compliance_a: unknown setting for Keithley2400Gate; "
        "did you mean 'compliance_A'?",
    ),
    (
        HALL,
        "instruments.magnet.settings.coil_T_per_A",
        0.0,
        "magnet.settings.coil_T_per_A: setting coil_T_per_A must be a positive number",
    ),
    (
        HALL,
        "instruments.magnet.settings.tolerance_T",
        float("nan"),
        "magnet.settings.tolerance_T: got nan; expected a finite number",
    ),
    (
        HALL,
        "instruments.magnet.settings.gaussmeter",
        {"driver": "lakeshore999", "address": "GPIB0::12::INSTR"},
        "magnet.settings.gaussmeter: setting gaussmeter names an unknown driver 'lakeshore999'",
    ),
    (
        HALL,
        "instruments.magnet.settings.gaussmeter",
        {"driver": "lakeshore425", "address": "GPIB12"},
        "magnet.settings.gaussmeter.address: got 'GPIB12': not a VISA resource name",
    ),
    (
        HALL,
        "instruments.hall.settings.time_constant_s",
        0.2,
        "hall.settings.time_constant_s: setting time_constant_s = 0.2 is not one the "
        "instrument offers",
    ),
    (
        HALL,
        "instruments.hall.settings.excitation_A",
        0.01,
        "hall.settings: refused excitation current = 0.01: outside the limit [0, 0.001] A",
    ),
    (
        DC,
        "instruments.hall.settings.nanovoltmeter_address",
        "GPIB0:7",
        "hall.settings.nanovoltmeter_address: got 'GPIB0:7': not a VISA resource name",
    ),
    (ARRAY, "instruments.pulse.settings.channel", 3, "pulse.settings.channel: setting channel"),
    (ARRAY, "instruments.router.settings.slot", "one", "router.settings.slot: got 'one';"),
    (ARRAY, "instruments.router.settings.devices", "01", "router.settings.devices: got '01';"),
    (
        ARRAY,
        "instruments.array.settings.readout",
        "lockin",
        "array.settings.readout: names no instrument of the station: 'lockin'",
    ),
    (
        ARRAY,
        "instruments.array.settings.gate",
        "pulse",
        "array.settings.gate: 'pulse' plays the role 'pulse'; expected an instrument in the "
        "role 'gate'",
    ),
    (ARRAY, "instruments.array.settings.read_sign", 0, "array.settings.read_sign: setting"),
]


@pytest.mark.parametrize(
    ("base", "path", "value", "expected"),
    CASES,
    # DELETE by name, not by its repr (a memory address): the two xdist workers must collect
    # the same test ids
    ids=[f"{c[1]} deleted" if c[2] is DELETE else f"{c[1]}={c[2]!r}" for c in CASES],
)
def test_bad_station_key(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    base: Any,
    path: str,
    value: Any,
    expected: str,
) -> None:
    err = check(tmp_path, capsys, _edit(base, path, value))
    assert expected in err, err


def test_the_shipped_stations_pass(capsys: pytest.CaptureFixture[str]) -> None:
    for path in sorted(STATIONS.glob("*.yaml")):
        assert main(["station", "check", str(path)]) == 0, capsys.readouterr().err
