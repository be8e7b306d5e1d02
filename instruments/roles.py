"""Role interfaces: what protocols program against.

A role is a small, typed interface over one job on the bench (apply a gate voltage, set a
field, read a Hall voltage ...). Concrete adapters in :mod:`instruments.adapters` implement a
role on top of a driver (pymeasure's, qcodes' or ours). Protocols import this module only, so a
protocol never knows which instrument model, or whether a real bench, is behind a role.

Units are SI floats; names carry the unit where it is not obvious (``field_T``, ``width_s``).

Safety lives here, not in protocols: every role checks its limits *before* anything is sent and
refuses an out-of-limit request with a :class:`LimitError` naming the instrument, the quantity,
the value and the limit. Nothing is ever clipped. Every role knows its safe state.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar, Protocol, runtime_checkable

import numpy as np


# --------------------------------------------------------------------------- errors
class SafetyError(RuntimeError):
    """A request or an event that the bench's safety rules do not allow."""


class LimitError(SafetyError, ValueError):
    """A setpoint outside the limits of the station file. Raised before anything is sent."""

    def __init__(self, instrument: str, quantity: str, value: float, limit: str) -> None:
        self.instrument, self.quantity, self.value, self.limit = instrument, quantity, value, limit
        super().__init__(
            f"{instrument}: refused {quantity} = {value:g}: outside the limit {limit} "
            "set in the station file (nothing was sent)"
        )

    def __reduce__(self) -> tuple[type, tuple[str, str, float, str]]:  # copy/pickle keep fields
        return type(self), (self.instrument, self.quantity, self.value, self.limit)


class ComplianceTrip(SafetyError):
    """The instrument hit its compliance (e.g. a leaking gate dielectric)."""


class FieldNotReached(RuntimeError):
    """A closed-loop field source did not reach its target within tolerance."""


class InstrumentError(RuntimeError):
    """The instrument reported an error; the message is the instrument's own.

    ``codes`` are the instrument's error codes (SCPI ``-113`` ...), when it gave any.
    """

    kind = "instrument error"

    def __init__(self, instrument: str, message: str, codes: tuple[int, ...] = ()) -> None:
        self.instrument, self.message, self.codes = instrument, message, tuple(codes)
        super().__init__(f"{instrument}: {self.kind}: {message}")

    def __reduce__(self) -> tuple[type, tuple[str, str, tuple[int, ...]]]:
        return type(self), (self.instrument, self.message, self.codes)


class BadReply(InstrumentError):
    """A reply failed validation (terminator, format, the instrument's range) on every try."""

    kind = "bad reply"


class ConnectionLost(InstrumentError):
    """The VISA session to the instrument is gone (open the resource again to recover)."""

    kind = "connection lost"


# --------------------------------------------------------------------------- time
@runtime_checkable
class Timebase(Protocol):
    """The station clock as roles see it (labctl passes its clock; roles never import labctl)."""

    def now(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


# --------------------------------------------------------------------------- limits
@dataclass(frozen=True)
class Window:
    """A closed interval ``[low, high]`` of a quantity with a unit."""

    low: float
    high: float
    unit: str

    def __post_init__(self) -> None:
        if not self.low <= self.high:
            raise ValueError(f"window low {self.low} is above high {self.high}")

    def __str__(self) -> str:
        return f"[{self.low:g}, {self.high:g}] {self.unit}"

    def contains(self, value: float) -> bool:
        return bool(self.low <= value <= self.high)

    def check(self, instrument: str, quantity: str, value: float) -> float:
        """Return ``value`` if inside, else raise :class:`LimitError`."""
        if not np.isfinite(value) or not self.contains(value):
            raise LimitError(instrument, quantity, value, str(self))
        return float(value)


def check_max(instrument: str, quantity: str, value: float, maximum: float, unit: str) -> float:
    """Refuse ``value`` above ``maximum`` (for magnitudes: compliance, ramp rates)."""
    if not np.isfinite(value) or value > maximum:
        raise LimitError(instrument, quantity, value, f"<= {maximum:g} {unit}")
    return float(value)


@dataclass(frozen=True)
class Limits:
    """Base of the per-role limit sets read from the station file.

    Field metadata: ``unit`` (str) and ``kind``: ``"window"`` (a ``[low, high]`` pair),
    ``"positive"`` (a number > 0). The station loader validates the YAML against these fields
    and names the key path on error.
    """

    @classmethod
    def spec(cls) -> dict[str, tuple[str, str]]:
        """``{key: (kind, unit)}`` for every limit of this role."""
        return {f.name: (f.metadata["kind"], f.metadata["unit"]) for f in fields(cls)}


def _window(unit: str, low: float, high: float) -> Any:
    return field(default=Window(low, high, unit), metadata={"kind": "window", "unit": unit})


def _positive(unit: str, default: float) -> Any:
    return field(default=default, metadata={"kind": "positive", "unit": unit})


@dataclass(frozen=True)
class GateLimits(Limits):
    voltage_V: Window = _window("V", -2.0, 2.0)
    compliance_A: float = _positive("A", 1e-6)
    ramp_V_per_s: float = _positive("V/s", 10.0)
    pulse_duration_s: Window = _window("s", 1e-3, 3600.0)


@dataclass(frozen=True)
class FieldLimits(Limits):
    field_T: Window = _window("T", -0.5, 0.5)
    ramp_T_per_s: float = _positive("T/s", 1.0)
    current_A: Window = _window("A", -10.0, 10.0)


@dataclass(frozen=True)
class ReadoutLimits(Limits):
    excitation_A: Window = _window("A", 0.0, 1e-3)


@dataclass(frozen=True)
class PulseLimits(Limits):
    amplitude_V: Window = _window("V", -10.0, 10.0)
    width_s: Window = _window("s", 1e-9, 1e-2)
    count: Window = _window("pulses", 1, 1e6)


@dataclass(frozen=True)
class RouterLimits(Limits):
    pass


@dataclass(frozen=True)
class ArrayLimits(Limits):
    """What a synaptic array may do to its devices, whatever carries the pulses.

    Checked by the array before the first device of a batch is touched. A write amplitude is
    a magnitude whose sign the polarity gives, so both signs must lie in ``write_amplitude_V``.
    An array built on other roles (router, pulse, gate) checks their limits too. The default
    gate window stays well below the oxide breakdown of the Pt/Co/GdOx presets (8 V ± 5 %).
    """

    write_amplitude_V: Window = _window("V", -6.0, 6.0)
    write_width_s: Window = _window("s", 1e-9, 1e-3)
    gate_voltage_V: Window = _window("V", -3.0, 3.0)
    gate_duration_s: Window = _window("s", 0.0, 60.0)
    field_T: Window = _window("T", -0.3, 0.3)  # global field pulses (arrays offering them)


# --------------------------------------------------------------------------- roles
class Role(ABC):
    """Common part of every role: a name, a safe state, a snapshot, a transaction count."""

    role: ClassVar[str] = ""
    limits_type: ClassVar[type[Limits]] = Limits

    def __init__(self, name: str, limits: Limits, timebase: Timebase) -> None:
        self.name = name
        self.limits = limits
        self.timebase = timebase
        self.transactions = 0  # instrument transactions issued through this role
        self.reply_retries = 0  # replies that failed validation and were asked again
        self.links: list[Any] = []  # guarded VISA connections (instruments.adapters.common.Link)

    @abstractmethod
    def safe_state(self) -> str:
        """Bring the instrument to its safe state; return one line saying what was done."""

    def snapshot(self) -> dict[str, Any]:
        """A JSON-serialisable description for the run's metadata."""
        return {"name": self.name, "role": self.role, "class": type(self).__name__}

    def close(self) -> None:  # noqa: B027 - optional hook, nothing to release by default
        """Release the connection (after ``safe_state``)."""

    def check_health(self) -> None:  # noqa: B027 - roles without a link have nothing to poll
        """Raise :class:`InstrumentError` (or :class:`ComplianceTrip`) if the instrument
        reports an error or a trip. Costs no message while the instruments are healthy."""

    def reconnect(self) -> str:
        """Open every connection of this role again (a new session on the same address)."""
        for link in self.links:
            link.reconnect()
        if not self.links:
            return "no connection of its own to reconnect"
        return "reconnected " + ", ".join(f"{link.address}" for link in self.links)


class GateSource(Role):
    """A gate-voltage source with a current compliance (SourceMeter, GS200 ...)."""

    role = "gate"
    limits_type = GateLimits
    limits: GateLimits

    @property
    @abstractmethod
    def voltage_V(self) -> float:
        """The programmed gate voltage."""

    @abstractmethod
    def ramp_to(self, voltage_V: float) -> None:
        """Ramp the output to ``voltage_V`` at the station's ramp rate (output enabled)."""

    @abstractmethod
    def set_compliance(self, current_A: float) -> None:
        """Set the current compliance (refused above the station limit)."""

    @abstractmethod
    def leakage_current_A(self) -> float:
        """Measure the gate current."""

    @abstractmethod
    def tripped(self) -> bool:
        """True when the source is in compliance."""

    #: Seconds between compliance checks during a pulse's plateau; None: checked when the
    #: plateau is reached and at its end only (adapters take it from their settings).
    trip_check_s: float | None = None

    def pulse(self, voltage_V: float, duration_s: float) -> float:
        """Hold ``voltage_V`` for ``duration_s`` (ramping in and out), watching for a trip.

        The compliance is checked when the plateau is reached (a leaking or breaking
        dielectric shows at once), every ``trip_check_s`` during it if set, and at its end.
        Returns the leakage current measured at the end of the plateau. On a compliance trip
        the pulse stops at once, the source is brought to its safe state and
        :class:`ComplianceTrip` is raised.
        """
        self.limits.voltage_V.check(self.name, "gate voltage", voltage_V)
        self.limits.pulse_duration_s.check(self.name, "gate pulse duration", duration_s)
        self._ramp_to_plateau(voltage_V)
        self._stop_if_tripped(voltage_V, 0.0, duration_s)
        elapsed_s, check_s = 0.0, self.trip_check_s
        if check_s is not None and check_s > 0:
            while duration_s - elapsed_s > check_s:
                self.timebase.sleep(check_s)
                elapsed_s += check_s
                self._stop_if_tripped(voltage_V, elapsed_s, duration_s)
        self.timebase.sleep(duration_s - elapsed_s)
        leak_A = self.leakage_current_A()
        self._stop_if_tripped(voltage_V, duration_s, duration_s, leak_A)
        self.ramp_to(0.0)
        return leak_A

    def _ramp_to_plateau(self, voltage_V: float) -> None:
        """Ramp to a pulse's plateau (the pulse checks the compliance itself, at once)."""
        self.ramp_to(voltage_V)

    def _stop_if_tripped(
        self, voltage_V: float, elapsed_s: float, duration_s: float, leak_A: float | None = None
    ) -> None:
        if self.tripped():
            action = self.safe_state()
            leak = f" (leakage {leak_A:.3g} A)" if leak_A is not None else ""
            raise ComplianceTrip(
                f"{self.name}: compliance trip during a {voltage_V:g} V gate pulse, "
                f"{elapsed_s:g} s into {duration_s:g} s{leak}: pulse stopped; {action}"
            )


class FieldSource(Role):
    """A magnet supply, closed loop on a gaussmeter when there is one."""

    role = "field"
    limits_type = FieldLimits
    limits: FieldLimits

    @abstractmethod
    def set_field(self, field_T: float) -> float:
        """Ramp to ``field_T`` at the station's ramp rate; return the measured field in T."""

    @abstractmethod
    def field_T(self) -> float:
        """The measured field (gaussmeter) or the calibrated estimate without one."""


class HallReadout(Role):
    """Hall or TMR readout: lock-in, delta mode, or a 4-wire SourceMeter."""

    role = "hall"
    limits_type = ReadoutLimits
    limits: ReadoutLimits

    @property
    @abstractmethod
    def excitation_A(self) -> float:
        """The excitation current through the device (rms for AC readout)."""

    @abstractmethod
    def read_voltage(self) -> float:
        """The Hall (or device) voltage in V, after the instrument's settling time."""

    def read_resistance(self) -> float:
        """Transverse (Hall) or device resistance in ohm: voltage / excitation."""
        return self.read_voltage() / self.excitation_A


class PulseSource(Role):
    """Write pulses: one or a burst, software-triggered."""

    role = "pulse"
    limits_type = PulseLimits
    limits: PulseLimits

    @abstractmethod
    def pulse(self, amplitude_V: float, width_s: float, count: int = 1) -> None:
        """Fire ``count`` pulses of ``amplitude_V`` and ``width_s``."""


class Router(Role):
    """A switch matrix connecting instrument terminals to device terminals."""

    role = "router"
    limits_type = RouterLimits

    @abstractmethod
    def connect(self, terminal: str, device: int) -> None:
        """Connect instrument ``terminal`` (e.g. ``"gate"``) to ``device`` (break-before-make)."""

    @abstractmethod
    def disconnect_all(self) -> None:
        """Open every crosspoint."""

    @abstractmethod
    def connections(self) -> dict[str, int]:
        """Which device each instrument terminal is connected to."""


@dataclass
class OperationCounts:
    """What a :class:`SynapseArray` has done, for the device-cost report.

    The one definition for every array (routed over instruments or the vectorised virtual chip).
    """

    reads: int = 0
    write_pulses: int = 0
    consolidation_pulses: int = 0
    router_operations: int = 0
    transactions: int = 0
    energy_J: float = 0.0

    def as_dict(self) -> dict[str, float]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


class DeviceIndexError(IndexError, ValueError):
    """A device index outside the array (an IndexError, and a ValueError like other bad input)."""


class SynapseArray(Role):
    """Batched operations over the devices of a synaptic array.

    ``read`` returns the binary weights (+1 up, -1 down) of ``indices``, one per index, in
    order; ``write`` sends one write pulse per device in ``indices`` toward ``polarity`` (+1/-1,
    per device or one for all); ``consolidate`` sends a gate pulse raising the hidden state.
    ``counts`` tallies the cost. An empty ``write`` or ``consolidate`` does nothing and costs
    nothing; an empty ``read`` returns no weight and counts no read.

    Bad requests are refused before the first device of the batch is touched: an index outside
    ``0..n_devices-1`` (:class:`DeviceIndexError`), a polarity other than ±1, and a pulse outside
    the station's :class:`ArrayLimits` (:class:`LimitError`, never clipped). The checks below are
    the one home of those rules; every implementation calls them.
    """

    role = "array"
    limits_type = ArrayLimits
    limits: ArrayLimits

    def __init__(self, name: str, limits: ArrayLimits, timebase: Timebase) -> None:
        super().__init__(name, limits, timebase)
        self.counts = OperationCounts()

    @property
    @abstractmethod
    def n_devices(self) -> int: ...

    @abstractmethod
    def read(self, indices: Sequence[int] | np.ndarray) -> np.ndarray: ...

    @abstractmethod
    def write(
        self,
        indices: Sequence[int] | np.ndarray,
        polarity: int | np.ndarray,
        amplitude_V: float,
        width_s: float,
    ) -> None: ...

    @abstractmethod
    def consolidate(
        self, indices: Sequence[int] | np.ndarray, voltage_V: float, duration_s: float
    ) -> None: ...

    # ------------------------------------------------------------------ shared checks
    def device_indices(self, indices: Sequence[int] | np.ndarray | range) -> np.ndarray:
        """``indices`` as a flat integer array, refused if any is not a device of the array."""
        idx = np.asarray(indices, dtype=np.intp).ravel()
        if idx.size:
            n = self.n_devices
            bad = idx[(idx < 0) | (idx >= n)] if (idx.min() < 0 or idx.max() >= n) else idx[:0]
            if bad.size:
                raise DeviceIndexError(
                    f"{self.name}: no device {int(bad[0])} (device index out of range 0..{n - 1})"
                )
        return idx

    def check_polarity(self, polarity: int | np.ndarray) -> None:
        if not np.all(np.abs(np.asarray(polarity)) == 1):
            raise ValueError(f"{self.name}: write polarity must be +1 or -1, got {polarity!r}")

    def check_write(self, amplitude_V: float, width_s: float) -> None:
        """Refuse a write pulse outside the limits (either sign: the polarity picks it)."""
        self.limits.write_amplitude_V.check(self.name, "write amplitude", abs(amplitude_V))
        self.limits.write_amplitude_V.check(self.name, "write amplitude", -abs(amplitude_V))
        self.limits.write_width_s.check(self.name, "write pulse width", width_s)

    def check_consolidation(self, voltage_V: float, duration_s: float) -> None:
        self.limits.gate_voltage_V.check(self.name, "consolidation gate voltage", voltage_V)
        self.limits.gate_duration_s.check(self.name, "consolidation duration", duration_s)


ROLE_TYPES: dict[str, type[Role]] = {
    r.role: r for r in (GateSource, FieldSource, HallReadout, PulseSource, Router, SynapseArray)
}
