"""The virtual lab integrates the chip only when something can have changed what a message sees.

A gate source's leakage reading does not depend on the chip's magnetic state: it costs no
integration however much time passes. A Hall reading integrates the chip up to now, unless the
previous reading integrated it within a tenth of the reading's averaging time and no drive
changed since (the instrument cannot tell those instants apart). A drive change always
integrates first, so every integrated stretch has
constant drives: one integration over it is the same physics as many.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import pyvisa

from labctl.clock import VirtualClock, use_clock
from sim_backend.chip.chip import VirtualChip
from sim_backend.lab import Lab

SMU, LOCKIN = "GPIB0::24::INSTR", "GPIB0::8::INSTR"


@pytest.fixture
def advances(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[float]]:
    """The times the lab's chip is integrated to."""
    seen: list[float] = []
    original = VirtualChip.advance_to

    def recording(self: VirtualChip, t_s: float) -> None:
        if t_s > self.t_s:
            seen.append(t_s)
        original(self, t_s)

    monkeypatch.setattr(VirtualChip, "advance_to", recording)
    yield seen


def _open(rm: pyvisa.ResourceManager, address: str) -> pyvisa.resources.MessageBasedResource:
    return rm.open_resource(address, read_termination="\n", write_termination="\n")  # type: ignore[return-value]


def test_a_leakage_reading_costs_no_integration(lab: Lab, rm, advances: list[float]) -> None:
    with use_clock(VirtualClock()) as clock:
        smu = _open(rm, SMU)
        smu.write(":SOUR:FUNC VOLT;:SOUR:VOLT 1;:SENS:CURR:PROT 1e-6;:OUTP ON")
        advances.clear()
        for _ in range(50):
            clock.sleep(0.1)
            assert float(smu.query(":READ?").split(",")[1]) > 0  # the gate leaks
        assert advances == []
        x0 = float(lab.chip.x[0])
        smu.write(":OUTP OFF")  # a drive change: the chip catches up first, in one step
        assert advances == [lab.t_s]
    assert lab.chip.t_s == lab.t_s
    assert float(lab.chip.x[0]) > x0  # the 5 s at 1 V moved x


def test_a_hall_reading_integrates_unless_within_its_resolution(
    lab: Lab, rm, advances: list[float]
) -> None:
    with use_clock(VirtualClock()) as clock:
        lockin = _open(rm, LOCKIN)
        lockin.write("OFLT 6;OFSL 3")  # 10 ms, 24 dB/oct: ENBW 7.8 Hz, averaging time 64 ms
        advances.clear()
        clock.sleep(1.0)
        lockin.query("OUTP? 1")
        assert advances == [lab.t_s]
        clock.sleep(0.005)  # within a tenth of 64 ms: the same state, a fresh noise draw
        first, second = float(lockin.query("OUTP? 1")), float(lockin.query("OUTP? 1"))
        assert first != second
        assert len(advances) == 1
        clock.sleep(0.01)  # 15 ms since the last integration: beyond the resolution
        lockin.query("OUTP? 1")
        assert advances[-1] == lab.t_s and len(advances) == 2
        bop = _open(rm, "GPIB0::6::INSTR")
        bop.write("FUNC:MODE CURR;VOLT 30;CURR 0.5;OUTP 1")  # a drive change: catches up
        clock.sleep(0.001)
        lockin.query("OUTP? 1")  # so a reading right after it integrates, resolution or not
        assert advances[-1] == lab.t_s
