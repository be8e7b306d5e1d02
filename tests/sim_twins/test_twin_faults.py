"""Fault injection: every kind, by transaction number, by probability, from the env var."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import pyvisa
from pyvisa import constants

from sim_backend import faults
from sim_backend.lab import Lab

SMU = "GPIB0::24::INSTR"


def test_timeout_at_a_transaction(rm) -> None:
    smu = rm.open_resource(SMU, read_termination="\n")
    faults.inject(SMU, "timeout", at=2)
    assert smu.query("*OPC?") == "1"
    with pytest.raises(pyvisa.VisaIOError) as err:
        smu.query("*OPC?")
    assert err.value.error_code == constants.StatusCode.error_timeout
    assert smu.query("*OPC?") == "1"


def test_garbled_and_truncated_replies(rm) -> None:
    smu = rm.open_resource(SMU, read_termination="\n")
    faults.inject("GPIB::24", "garbled", at=1)
    faults.inject(SMU, "truncated", at=2)
    idn = "KEITHLEY INSTRUMENTS INC.,MODEL 2400"
    assert not smu.query("*IDN?").startswith(idn)
    with pytest.warns(UserWarning):
        truncated = smu.query("*IDN?")  # no terminator: pyvisa warns
    assert idn.startswith(truncated[:10]) and len(truncated) < 60
    assert smu.query("*IDN?").startswith(idn)


def test_dropped_connection_until_reopened(rm) -> None:
    smu = rm.open_resource(SMU)
    faults.inject(SMU, "dropped", at=1)
    with pytest.raises(pyvisa.VisaIOError) as err:
        smu.write("*CLS")
    assert err.value.error_code == constants.StatusCode.error_connection_lost
    with pytest.raises(pyvisa.VisaIOError):
        smu.query("*IDN?")
    smu.close()
    assert rm.open_resource(SMU).query("*IDN?").startswith("KEITHLEY")


def test_instrument_error_code_and_compliance_trip(rm) -> None:
    smu = rm.open_resource(SMU, read_termination="\n")
    faults.inject(SMU, "error", at=1, code=-350, message="Queue overflow")
    smu.write(":SOUR:VOLT 1;:OUTP ON")
    assert smu.query("SYST:ERR?") == '-350,"Queue overflow"'
    faults.inject(SMU, "compliance", at=1)
    status = float(smu.query(":READ?").split(",")[4])
    assert int(status) & 8
    assert smu.query(":SENS:CURR:PROT:TRIP?") == "1"


def test_probability_is_seeded_and_reproducible(rm) -> None:
    smu = rm.open_resource(SMU, read_termination="\n", timeout=10)

    def pattern() -> list[bool]:
        faults.clear()
        faults.inject(SMU, "timeout", probability=0.3, seed=42)
        out = []
        for _ in range(40):
            try:
                smu.query("*OPC?")
                out.append(False)
            except pyvisa.VisaIOError:
                out.append(True)
        return out

    first = pattern()
    assert 4 <= sum(first) <= 20
    assert pattern() == first


def test_bad_fault_specs_are_refused() -> None:
    with pytest.raises(ValueError, match="kind"):
        faults.inject(SMU, "meltdown", at=1)
    with pytest.raises(ValueError, match="exactly one"):
        faults.inject(SMU, "timeout")


def test_faults_from_the_environment_in_a_subprocess(lab: Lab) -> None:
    code = (
        "import pyvisa\n"
        "smu = pyvisa.ResourceManager('@labsim').open_resource('GPIB0::24::INSTR', timeout=5)\n"
        "smu.read_termination = '\\n'\n"
        "print(smu.query('*OPC?'))\n"
        "try:\n    smu.query('*OPC?')\nexcept pyvisa.VisaIOError as e:\n    print('timeout')\n"
    )
    env = {
        **os.environ,
        faults.ENV_VAR: json.dumps([{"resource": SMU, "kind": "timeout", "at": 2}]),
    }
    out = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert out.stdout.split() == ["1", "timeout"]
