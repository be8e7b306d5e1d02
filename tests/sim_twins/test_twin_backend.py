"""The ``@labsim`` pyvisa backend: resource manager, terminations, timeouts, status, paths."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import pyvisa
from pyvisa import constants

from labctl.clock import VirtualClock, use_clock
from sim_backend.labs import describe_lab
from sim_backend.open_labs import default_lab_path, get_lab

SMU = "GPIB0::24::INSTR"


def test_default_lab_lists_every_interface(rm: pyvisa.ResourceManager) -> None:
    resources = rm.list_resources("?*")
    assert SMU in resources
    assert any(r.startswith("ASRL") for r in resources)
    assert any(r.endswith("::SOCKET") for r in resources)
    assert set(rm.list_resources()) <= set(resources)  # default query: ?*::INSTR


def test_library_reports_the_real_lab_path(rm: pyvisa.ResourceManager) -> None:
    assert Path(str(rm.visalib.library_path)) == default_lab_path()
    assert type(rm.visalib).__name__ != "SimVisaLibrary"  # qcodes treats it as a real bench


def test_lab_file_path_and_one_lab_per_path(tmp_path: Path) -> None:
    lab_file = tmp_path / "bench.yaml"
    lab_file.write_text(default_lab_path().read_text())
    rm = pyvisa.ResourceManager(f"{lab_file}@labsim")
    smu = rm.open_resource(SMU)
    smu.write(":SOUR:VOLT 0.25")
    again = pyvisa.ResourceManager(f"{lab_file}@labsim").open_resource(SMU)
    assert float(again.query(":SOUR:VOLT?")) == pytest.approx(0.25)
    other = pyvisa.ResourceManager("@labsim").open_resource(SMU)
    assert float(other.query(":SOUR:VOLT?")) == 0.0  # a different lab file is another bench


def test_pyvisa_library_env_var_selects_labsim() -> None:
    code = "import pyvisa; print(type(pyvisa.ResourceManager().visalib).__name__)"
    env = {**os.environ, "PYVISA_LIBRARY": "@labsim"}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "LabSimVisaLibrary"


@pytest.mark.parametrize("termination", ["\n", "\r\n"])
def test_write_terminations_accepted_and_replies_end_cleanly(
    rm: pyvisa.ResourceManager, termination: str
) -> None:
    smu = rm.open_resource(SMU, write_termination=termination, read_termination="\n")
    assert smu.query("*IDN?").startswith("KEITHLEY")
    raw = rm.open_resource(SMU)
    raw.write_raw(b"*IDN?\r\n")
    assert raw.read_raw().endswith(b"J\n")


def test_reply_follows_the_clients_termination_character(rm: pyvisa.ResourceManager) -> None:
    smu = rm.open_resource(SMU, read_termination="\r")
    assert smu.query("*OPC?") == "1"


def test_query_without_reply_times_out_promptly(rm: pyvisa.ResourceManager) -> None:
    smu = rm.open_resource(SMU, timeout=60_000)
    smu.write(":SOUR:VOLT 1")  # write-only: no reply
    clock = VirtualClock(start_s=1e6)
    with use_clock(clock), pytest.raises(pyvisa.VisaIOError) as err:
        smu.read()
    assert err.value.error_code == constants.StatusCode.error_timeout
    assert clock.now() == pytest.approx(1e6 + 60.0)  # the virtual clock waited the timeout


def test_read_stb_clear_and_trigger(rm: pyvisa.ResourceManager) -> None:
    smu = rm.open_resource(SMU)
    smu.write("NOT:A:COMMAND")
    assert smu.read_stb() & 4  # error available
    smu.write("*IDN?")
    assert smu.read_stb() & 16  # message available
    smu.clear()
    assert not smu.read_stb() & 16
    smu.assert_trigger()
    assert smu.query("SYST:ERR?").startswith("-113")
    assert smu.query("SYST:ERR?") == '0,"No error"\n'


def test_unread_reply_is_interrupted_by_the_next_query(rm: pyvisa.ResourceManager) -> None:
    smu = rm.open_resource(SMU, read_termination="\n")
    smu.write("*IDN?")
    assert smu.query("*OPC?") == "1"
    assert smu.query("SYST:ERR?").startswith("-410")


def test_closing_a_pymeasure_instrument_keeps_the_manager_open(quiet: None) -> None:
    from pymeasure.instruments.keithley import Keithley2400

    a = Keithley2400(SMU, visa_library="@labsim")
    b = Keithley2400(SMU, visa_library="@labsim")
    a.adapter.close()
    assert b.id.startswith("KEITHLEY")


def test_unknown_resource_is_not_found(rm: pyvisa.ResourceManager) -> None:
    with pytest.raises(pyvisa.VisaIOError):
        rm.open_resource("GPIB0::30::INSTR")


def test_describe_lab_lists_addresses_models_and_wiring() -> None:
    info = describe_lab()
    by_address = {i["address"]: i for i in info["instruments"]}
    assert by_address[SMU]["model"] == "keithley2400"
    assert by_address[SMU]["wiring"] == {"terminal": "gate"}
    assert info["chip"]["n_devices"] == get_lab().chip.n_devices


def test_labctl_sim_list_prints_addresses_models_and_wiring(capsys, tmp_path) -> None:
    from labctl.cli import main

    assert main(["sim", "list", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    models = {i["address"]: i["model"] for i in info["instruments"]}
    assert len(models) == 16 and models["ASRL1::INSTR"] == "lakeshore643"
    assert {i["name"]: i["wiring"] for i in info["instruments"]}["matrix707b"] == {
        "matrix": {"rows": {"A": "gate", "B": "pulse", "C": "readout"}}
    }
    assert main(["sim", "list"]) == 0
    text = capsys.readouterr().out
    assert "TCPIP0::127.0.0.1::7180::SOCKET" in text and "ami430" in text
    # the wiring as key=value (issue 16: it printed as a Python dict), nested maps flattened
    assert "coil=electromagnet" in text and "{'" not in text and "None" not in text
    assert "matrix: rows: A=gate B=pulse C=readout" in text
    lab_file = tmp_path / "one.yaml"
    lab_file.write_text(
        "name: one\nchip: {preset: cofeb_mgo_mtj, n_devices: 2}\ninstruments:\n"
        "  meter: {address: 'GPIB0::5::INSTR', model: keithley2400, wiring: {terminal: readout}}\n"
    )
    assert main(["sim", "list", "--json", "--lab", str(lab_file)]) == 0
    info = json.loads(capsys.readouterr().out)
    assert Path(info["file"]).resolve() == lab_file.resolve()
    assert info["instruments"] == [
        {
            "name": "meter",
            "address": "GPIB0::5::INSTR",
            "model": "keithley2400",
            "wiring": {"terminal": "readout"},
            "settings": {},
        }
    ]


def test_labctl_sim_comes_from_the_simulator_entry_point(tmp_path, capsys) -> None:
    from importlib.metadata import entry_points

    from labctl.cli import main

    commands = {ep.name: ep.value for ep in entry_points(group="labctl.commands")}
    assert commands["sim"] == "sim_backend.cli:register"
    missing = tmp_path / "no_such_lab.yaml"
    assert main(["sim", "list", "--lab", str(missing)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and str(missing) in err[0] and err[0].startswith("labctl: error:")
