"""DC readouts: Keithley 2400 4-wire, Keithley 6221 + 2182A delta mode."""

from __future__ import annotations

import pytest
from pymeasure.instruments.keithley import Keithley2182, Keithley2400, Keithley6221
from pymeasure.test import expected_protocol

from instruments.adapters.readout_dc import (
    DCReadoutSettings,
    Keithley2400FourWireReadout,
    Keithley6221DeltaReadout,
)
from instruments.roles import InstrumentError, LimitError, ReadoutLimits

INIT_2400 = [(":FORMAT:ELEMENTS VOLTAGE, CURRENT, RESISTANCE, TIME, STATUS", None)]
NO_ERROR = ("SYST:ERR?", '0,"No error"')


def test_2400_four_wire_configure_and_read(clock) -> None:
    pairs = [
        *INIT_2400,
        ("*CLS", None),
        (":SYST:RSEN 1", None),
        (":SOURCE:FUNCTION CURR", None),
        (":SOURCE:CURRENT 0", None),
        (":SENSE:VOLTAGE:PROTECTION 2", None),
        (":SENSE:VOLTAGE:NPLCYCLES 1", None),
        (":SOURCE:CURRENT 1e-05", None),
        ("OUTPUT 1", None),
        NO_ERROR,
        (":MEASURE:VOLTAGE?", "1.5e-02,1e-05,1.5e3,1.0,0"),
    ]
    with expected_protocol(Keithley2400, pairs) as smu:
        readout = Keithley2400FourWireReadout(
            name="tmr",
            driver=smu,
            settings=DCReadoutSettings(),
            limits=ReadoutLimits(),
            timebase=clock,
        )
        readout.configure()
        assert readout.read_resistance() == pytest.approx(1500.0)


def test_excitation_above_the_limit_is_refused(clock) -> None:
    with expected_protocol(Keithley2400, INIT_2400) as smu, pytest.raises(LimitError):
        Keithley2400FourWireReadout(
            name="tmr",
            driver=smu,
            settings=DCReadoutSettings(excitation_A=0.01),
            limits=ReadoutLimits(),
            timebase=clock,
        )


def delta(source, meter, clock, **settings) -> Keithley6221DeltaReadout:
    return Keithley6221DeltaReadout(
        name="hall",
        driver=source,
        nanovoltmeter=meter,
        settings=DCReadoutSettings(**settings),
        limits=ReadoutLimits(),
        timebase=clock,
    )


def test_delta_configures_both_instruments_and_averages_the_buffer(clock) -> None:
    meter_pairs = [("*CLS", None), (":SENS:FUNC 'VOLT'", None), (":SENS:VOLT:NPLC 1", None)]
    meter_pairs += [NO_ERROR]
    source_pairs = [
        ("*CLS", None),
        (":SOUR:CURR:COMP 2", None),
        (":SOUR:DELT:HIGH 1e-05", None),
        (":SOUR:DELT:LOW -1e-05", None),
        (":SOUR:DELT:DELay 0.002", None),
        (":SOUR:DELT:COUN 2", None),
        ("TRAC:POIN 2", None),
        NO_ERROR,
        (":TRAC:CLE", None),
        (":SOUR:DELT:ARM", None),
        (":INIT:IMM", None),
        (":TRAC:DATA?", "1.0e-3,0.01,3.0e-3,0.07"),
        (":SOUR:SWE:ABOR", None),
    ]
    with (
        expected_protocol(Keithley6221, source_pairs) as source,
        expected_protocol(Keithley2182, meter_pairs) as meter,
    ):
        readout = delta(source, meter, clock, delta_cycles=2)
        readout.configure()
        assert readout.read_voltage() == pytest.approx(2.0e-3)
    assert clock.sleeps_s == pytest.approx([2 * 3 * (0.002 + 1 / 50)])
    assert readout.transactions == len(source_pairs) + len(meter_pairs)


def test_delta_empty_buffer_is_an_instrument_error(clock) -> None:
    pairs = [(":TRAC:CLE", None), (":SOUR:DELT:ARM", None), (":INIT:IMM", None)]
    pairs += [(":TRAC:DATA?", ""), (":SOUR:SWE:ABOR", None)]
    with expected_protocol(Keithley6221, pairs) as source:
        with pytest.raises(InstrumentError, match="delta buffer empty"):
            delta(source, None, clock).read_voltage()


def test_delta_open_needs_the_nanovoltmeter_address(clock) -> None:
    with pytest.raises(ValueError, match="nanovoltmeter_address"):
        Keithley6221DeltaReadout.open(
            name="hall",
            address="GPIB::12",
            visa_library="@sim",
            settings=DCReadoutSettings(),
            limits=ReadoutLimits(),
            timebase=clock,
        )
