"""``labctl server watch``: a monitor of the magnet next to a run, through the instrument server.

It reads what the field supply is programmed to (its current setpoint and output state: queries
only, nothing measured and nothing written), so it may run while another client holds the
bench, and the run's data are those it would have taken alone. The field shown is the
calibrated estimate ``coil_T_per_A · I + remanence_T`` of the station's settings.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from labctl.clock import WallClock
from labctl.errors import LabctlError
from labctl.station import Station


@dataclass(frozen=True)
class MagnetReading:
    t_s: float  # wall-clock seconds since the epoch
    current_A: float
    output_on: bool
    field_T: float  # calibrated estimate from the programmed current

    def line(self) -> str:
        clock = time.strftime("%H:%M:%S", time.localtime(self.t_s))
        state = "on " if self.output_on else "off"
        return (
            f"{clock}  output {state}  I = {self.current_A:+.4f} A  "
            f"µ0H ≈ {self.field_T * 1e3:+.2f} mT"
        )


def watch_magnet(
    station: Station,
    every_s: float = 0.5,
    count: int = 0,
    on_reading: Callable[[MagnetReading], None] | None = None,
    stop: threading.Event | None = None,
) -> list[MagnetReading]:
    """Read the station's field supply every ``every_s`` (``count`` readings; 0: until
    ``stop`` is set or Ctrl-C)."""
    specs = [spec for spec in station.instruments.values() if spec.role == "field"]
    if not specs:
        raise LabctlError(f"{station.path}: no instrument in the role 'field' to watch")
    spec = specs[0]
    observe = getattr(spec.adapter, "observe", None)
    if observe is None:
        raise LabctlError(
            f"{station.path}: instruments.{spec.name}: {spec.driver} cannot be watched "
            "(its adapter has no read-only view)"
        )
    magnet = observe(
        name=spec.name,
        address=spec.address,
        visa_library=station.visa_library,
        settings=spec.settings,
        limits=spec.limits,
        timebase=WallClock(),
    )
    readings: list[MagnetReading] = []
    stop = stop or threading.Event()
    try:
        while not stop.is_set() and (count <= 0 or len(readings) < count):
            current_A, output_on = magnet.programmed()
            field_T = spec.settings.coil_T_per_A * current_A + spec.settings.remanence_T
            reading = MagnetReading(time.time(), current_A, output_on, field_T)
            readings.append(reading)
            if on_reading is not None:
                on_reading(reading)
            stop.wait(every_s)
    finally:
        magnet.close()
    return readings
