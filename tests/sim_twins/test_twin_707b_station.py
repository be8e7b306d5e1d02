"""The Keithley 707B matrix from a station file: ``labctl/stations/simulated_707b.yaml`` routes
devices of the default lab through the 707B twin over pyvisa ``@labsim`` (router adapter, TSP
driver, twin and chip all real); every expected value is read from the chip."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from labctl.bench import open_bench
from labctl.clock import VirtualClock, use_clock
from labctl.station import load_station
from sim_backend.open_labs import get_lab

STATION = Path(__file__).parents[2] / "labctl" / "stations" / "simulated_707b.yaml"


def test_the_707b_station_routes_each_device_through_the_matrix() -> None:
    station = load_station(STATION)
    assert station.instruments["router"].driver == "keithley707b"
    clock = VirtualClock()
    with use_clock(clock):
        bench = open_bench(station, clock)
        try:
            lab = get_lab()
            matrix = lab.twins[station.instruments["router"].address]
            assert matrix.model == "keithley707b"
            bench["router"].connect("hall", 7)
            assert matrix.journal_state()["closed"] == ["1C08"]  # row C, column 8 = device 7
            assert lab.routed("readout").tolist() == [7]

            devices = np.arange(12)
            unwired_before = lab.chip.m[12:].copy()
            pattern = np.where(devices % 4 == 1, 1, -1)
            bench["array"].write(devices, pattern, 6.0, 1e-6)
            np.testing.assert_array_equal(lab.chip.m[:12], pattern)
            np.testing.assert_array_equal(bench["array"].read(devices), pattern)
            np.testing.assert_array_equal(lab.chip.m[12:], unwired_before)  # no column
        finally:
            safe = bench.safe_state()
            bench.close()
    assert any("all crosspoints open" in line for line in safe), safe
    assert matrix.journal_state()["closed"] == []
    assert lab.routed("readout").tolist() == [0]  # nothing closed: the single-cross bench
