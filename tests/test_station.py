"""Station files: every error names the file, the key path and what was expected."""

from __future__ import annotations

from pathlib import Path

import pytest

from labctl.cli import main
from labctl.errors import StationError
from labctl.station import default_station_path, load_station

GOOD = """\
name: t
visa_library: "@labsim"
instruments:
  gate:
    driver: keithley2400
    address: "GPIB0::24::INSTR"
    role: gate
    limits: {voltage_V: [-2, 2], compliance_A: 1.0e-6, ramp_V_per_s: 5}
  hall:
    driver: sr830
    address: "GPIB0::8::INSTR"
    role: hall
"""


def _load(tmp_path: Path, text: str):
    path = tmp_path / "station.yaml"
    path.write_text(text)
    return load_station(path)


def _error(tmp_path: Path, text: str) -> StationError:
    with pytest.raises(StationError) as info:
        _load(tmp_path, text)
    message = str(info.value)
    assert message.startswith(str(tmp_path / "station.yaml"))
    return info.value


def test_good_station_loads(tmp_path: Path) -> None:
    station = _load(tmp_path, GOOD)
    assert set(station.instruments) == {"gate", "hall"}
    gate = station.instruments["gate"]
    assert gate.limits.voltage_V.high == 2 and gate.limits.ramp_V_per_s == 5


def test_default_station_loads() -> None:
    station = load_station(None)
    assert station.visa_library.endswith("@labsim") and station.clock == "virtual"
    assert {s.role for s in station.instruments.values()} >= {"gate", "field", "hall"}
    assert load_station(default_station_path()).name == station.name


def test_unknown_driver(tmp_path: Path) -> None:
    e = _error(tmp_path, GOOD.replace("driver: keithley2400", "driver: keithley9999"))
    assert e.key == "instruments.gate.driver"
    assert "unknown driver 'keithley9999'" in str(e) and "keithley2400" in str(e)


def test_missing_address(tmp_path: Path) -> None:
    e = _error(tmp_path, GOOD.replace('    address: "GPIB0::24::INSTR"\n', ""))
    assert e.key == "instruments.gate.address" and "missing" in str(e)


def test_limit_of_wrong_type(tmp_path: Path) -> None:
    e = _error(tmp_path, GOOD.replace("voltage_V: [-2, 2]", "voltage_V: two"))
    assert e.key == "instruments.gate.limits.voltage_V"
    assert "expected [low, high] in V" in str(e)


def test_limit_of_wrong_sign(tmp_path: Path) -> None:
    e = _error(tmp_path, GOOD.replace("compliance_A: 1.0e-6", "compliance_A: -1.0e-6"))
    assert e.key == "instruments.gate.limits.compliance_A"
    assert "expected a positive number in A" in str(e)


def test_window_upside_down(tmp_path: Path) -> None:
    e = _error(tmp_path, GOOD.replace("voltage_V: [-2, 2]", "voltage_V: [2, -2]"))
    assert "low <= high" in str(e)


def test_unknown_limit_key(tmp_path: Path) -> None:
    e = _error(tmp_path, GOOD.replace("ramp_V_per_s: 5", "ramp_rate: 5"))
    assert e.key == "instruments.gate.limits.ramp_rate" and "ramp_V_per_s" in str(e)


def test_unknown_role(tmp_path: Path) -> None:
    e = _error(tmp_path, GOOD.replace("role: gate", "role: heater"))
    assert e.key == "instruments.gate.role" and "unknown role 'heater'" in str(e)


def test_role_driver_mismatch(tmp_path: Path) -> None:
    e = _error(tmp_path, GOOD.replace("role: hall", "role: gate"))
    assert e.key == "instruments.hall.role" and "plays the role 'hall'" in str(e)


def test_duplicate_names(tmp_path: Path) -> None:
    e = _error(
        tmp_path, GOOD + "  gate:\n    driver: keithley2400\n    address: X\n    role: gate\n"
    )
    assert "duplicate key 'gate'" in str(e) and "line 4" in str(e) and "again at line 13" in str(e)


def test_yaml_syntax_with_line_number(tmp_path: Path) -> None:
    e = _error(tmp_path, GOOD.replace("    role: hall", "    role: [hall"))
    assert "YAML syntax error at line" in str(e)


def test_unknown_setting(tmp_path: Path) -> None:
    e = _error(tmp_path, GOOD + "    settings: {time_konstant_s: 0.1}\n")
    assert e.key == "instruments.hall.settings.time_konstant_s"


def test_bad_visa_library(tmp_path: Path) -> None:
    e = _error(tmp_path, GOOD.replace('"@labsim"', '"@nonsense"'))
    assert e.key == "visa_library"


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(StationError, match="cannot read the file"):
        load_station(tmp_path / "nope.yaml")


def test_cli_station_check(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "s.yaml").write_text(GOOD)
    assert main(["station", "check", str(tmp_path / "s.yaml"), "--json"]) == 0
    assert '"driver": "keithley2400"' in capsys.readouterr().out
    (tmp_path / "bad.yaml").write_text(GOOD.replace("role: gate", "role: heater"))
    assert main(["station", "check", str(tmp_path / "bad.yaml")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "instruments.gate.role" in err and "Traceback" not in err


def test_a_limit_left_out_is_narrowed_to_the_rating(tmp_path: Path) -> None:
    """The pulse role's default width window starts at 1 ns, a 33500B's pulses at 16 ns (its
    driver's validator): a run on the station is held to the instrument's 16 ns; a window the
    file sets stays as written (the station check refuses one beyond the rating)."""
    pulse = '  pulse: {driver: keysight33500b, address: "GPIB0::10::INSTR", role: pulse%s}\n'
    default = _load(tmp_path, GOOD + pulse % "").instruments["pulse"].limits
    assert (default.width_s.low, default.width_s.high) == (16e-9, 1e-2)
    assert (default.amplitude_V.low, default.amplitude_V.high) == (-10.0, 10.0)  # within it
    given = ", limits: {width_s: [1.0e-7, 1.0e-3]}"
    limits = _load(tmp_path, GOOD + pulse % given).instruments["pulse"].limits
    assert (limits.width_s.low, limits.width_s.high) == (1e-7, 1e-3)
    six = '  pulse: {driver: keithley6221_pulse, address: "GPIB0::13::INSTR", role: pulse}\n'
    limits = _load(tmp_path, GOOD + six).instruments["pulse"].limits
    assert (limits.width_s.low, limits.width_s.high) == (50e-6, 1e-2)  # the 6221's 50 µs
