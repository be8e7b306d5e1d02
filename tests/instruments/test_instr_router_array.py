"""Keithley 707B / 3706A router (TSP) and the synapse array built on four roles."""

from __future__ import annotations

import numpy as np
import pytest
from pymeasure.test import expected_protocol

from instruments.adapters.router_keithley_switch import (
    Keithley707BRouter,
    KeithleySwitchRouter,
    SwitchSettings,
)
from instruments.adapters.synapse_array import RoutedSynapseArray, SynapseArraySettings
from instruments.drivers.keithley_tsp_switch import Keithley707B
from instruments.roles import (
    ArrayLimits,
    GateLimits,
    GateSource,
    HallReadout,
    InstrumentError,
    LimitError,
    PulseLimits,
    PulseSource,
    ReadoutLimits,
    Router,
    RouterLimits,
)

EMPTY = ("print(errorqueue.next())", "0\tQueue Is Empty\t0\t0")


def router(driver, clock, **settings) -> KeithleySwitchRouter:
    return Keithley707BRouter(
        name="matrix",
        driver=driver,
        settings=SwitchSettings(**settings),
        limits=RouterLimits(),
        timebase=clock,
    )


def test_driver_refuses_lua_in_channel_names() -> None:
    with expected_protocol(Keithley707B, []) as switch, pytest.raises(ValueError):
        switch.close_channels('1A01") os.exit() --')


def test_configure_opens_all_and_verifies(clock) -> None:
    pairs = [("*CLS", None), ('channel.open("allslots")', None), EMPTY]
    pairs += [('print(channel.getclose("allslots"))', "nil")]
    with expected_protocol(Keithley707B, pairs) as switch:
        router(switch, clock).configure()


def test_break_before_make_never_puts_two_terminals_on_one_device(clock) -> None:
    getclose = 'print(channel.getclose("allslots"))'
    pairs = [
        ('channel.close("1C01")', None),
        EMPTY,
        (getclose, "1C01"),
        # the pulse terminal goes to device 0: the hall terminal leaves it first
        ('channel.open("1C01")', None),
        ('channel.close("1B01")', None),
        EMPTY,
        (getclose, "1B01"),
        (getclose, "1B01"),
    ]
    with expected_protocol(Keithley707B, pairs) as switch:
        matrix = router(switch, clock)
        matrix.connect("hall", 0)
        matrix.connect("hall", 0)  # already there: nothing sent
        matrix.connect("pulse", 0)
        assert matrix.connections() == {"pulse": 0}
    assert matrix.operations == 2


def test_verify_catches_a_crosspoint_that_did_not_close(clock) -> None:
    pairs = [('channel.close("1A03")', None), EMPTY]
    pairs += [('print(channel.getclose("allslots"))', "nil")]
    with expected_protocol(Keithley707B, pairs) as switch:
        with pytest.raises(InstrumentError, match=r"closed crosspoints \[\], expected \['1A03'\]"):
            router(switch, clock).connect("gate", 2)


def test_unknown_terminal_or_device_is_refused_before_anything_is_sent(clock) -> None:
    with expected_protocol(Keithley707B, []) as switch:
        matrix = router(switch, clock)
        with pytest.raises(ValueError, match="unknown terminal 'drain'"):
            matrix.connect("drain", 0)
        with pytest.raises(ValueError, match="no device 12"):
            matrix.connect("gate", 12)


def test_safe_state_opens_everything(clock) -> None:
    with expected_protocol(Keithley707B, [('channel.open("allslots")', None)]) as switch:
        assert router(switch, clock).safe_state() == "matrix: all crosspoints open"


# ------------------------------------------------------------------ synapse array on fakes
class FakeRouter(Router):
    n_devices = 4

    def __init__(self, clock) -> None:
        super().__init__("matrix", RouterLimits(), clock)
        self.closed: dict[str, int] = {}
        self.operations = 0
        self.log: list[tuple[str, int]] = []

    def connect(self, terminal: str, device: int) -> None:
        if self.closed.get(terminal) == device:
            return
        self.operations += 1
        self.transactions += 2
        self.closed = {t: d for t, d in self.closed.items() if d != device and t != terminal}
        self.closed[terminal] = device
        self.log.append((terminal, device))

    def disconnect_all(self) -> None:
        self.closed.clear()

    def connections(self) -> dict[str, int]:
        return dict(self.closed)

    def safe_state(self) -> str:
        self.disconnect_all()
        return "matrix open"


class FakePulse(PulseSource):
    def __init__(self, clock) -> None:
        super().__init__("awg", PulseLimits(), clock)
        self.pulses: list[tuple[float, float, int]] = []

    def pulse(self, amplitude_V: float, width_s: float, count: int = 1) -> None:
        self.transactions += 1
        self.pulses.append((amplitude_V, width_s, count))

    def safe_state(self) -> str:
        return "awg off"


class FakeGate(GateSource):
    def __init__(self, clock) -> None:
        super().__init__("smu", GateLimits(), clock)
        self.level = 0.0

    voltage_V = property(lambda self: self.level)

    def ramp_to(self, voltage_V: float) -> None:
        self.transactions += 1
        self.level = voltage_V

    def set_compliance(self, current_A: float) -> None: ...

    def leakage_current_A(self) -> float:
        return 1e-12

    def tripped(self) -> bool:
        return False

    def safe_state(self) -> str:
        return "smu at 0 V"


class FakeReadout(HallReadout):
    def __init__(self, clock, voltages_V) -> None:
        super().__init__("hall", ReadoutLimits(), clock)
        self.voltages_V = list(voltages_V)

    excitation_A = property(lambda self: 1e-6)

    def read_voltage(self) -> float:
        self.transactions += 1
        return self.voltages_V.pop(0)

    def safe_state(self) -> str:
        return "hall idle"


def make_array(clock, voltages_V=(1e-6, -1e-6, 2e-6)):
    parts = {
        "matrix": FakeRouter(clock),
        "awg": FakePulse(clock),
        "smu": FakeGate(clock),
        "hall": FakeReadout(clock, voltages_V),
    }
    settings = SynapseArraySettings(
        router="matrix", pulse="awg", gate="smu", readout="hall", device_resistance_ohm=500.0
    )
    array = RoutedSynapseArray.open(
        name="array",
        address="",
        visa_library="",
        settings=settings,
        limits=ArrayLimits(),
        timebase=clock,
        roles=parts,
    )
    return array, parts


def test_array_reads_binary_weights_through_the_router(clock) -> None:
    array, parts = make_array(clock)
    assert array.n_devices == 4
    assert array.read([0, 1, 3]).tolist() == [1, -1, 1]
    assert parts["matrix"].log == [("hall", 0), ("hall", 1), ("hall", 3)]
    assert array.counts.reads == 3
    assert array.counts.router_operations == 3
    assert array.counts.transactions == 3 * 2 + 3


def test_array_write_counts_pulses_and_energy(clock) -> None:
    array, parts = make_array(clock)
    array.write(np.array([2, 3]), np.array([1, -1]), 5.0, 1e-6)
    assert parts["awg"].pulses == [(5.0, 1e-6, 1), (-5.0, 1e-6, 1)]
    assert array.counts.write_pulses == 2
    assert array.counts.energy_J == pytest.approx(2 * 5.0**2 / 500.0 * 1e-6)


def test_array_consolidate_pulses_the_gate(clock) -> None:
    array, parts = make_array(clock)
    array.consolidate([1], 1.5, 10.0)
    assert parts["matrix"].log == [("gate", 1)]
    assert array.counts.consolidation_pulses == 1
    assert clock.sleeps_s == [10.0]
    assert parts["smu"].level == 0.0


def test_array_refuses_before_the_first_pulse(clock) -> None:
    array, parts = make_array(clock)
    with pytest.raises(LimitError, match="write amplitude"):
        array.write([0, 1], 1, 20.0, 1e-6)
    with pytest.raises(ValueError, match="no device 7"):
        array.read([7])
    assert parts["awg"].pulses == [] and parts["matrix"].log == []


def test_array_open_names_missing_roles(clock) -> None:
    with pytest.raises(ValueError, match="setting gate = 'smu' must name a GateSource"):
        RoutedSynapseArray.open(
            name="array",
            address="",
            visa_library="",
            settings=SynapseArraySettings(router="matrix", pulse="awg", gate="smu"),
            limits=ArrayLimits(),
            timebase=clock,
            roles={"matrix": FakeRouter(clock), "awg": FakePulse(clock)},
        )


def test_array_safe_state_covers_every_part(clock) -> None:
    array, _ = make_array(clock)
    line = array.safe_state()
    assert "smu at 0 V" in line and "awg off" in line
