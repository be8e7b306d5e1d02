"""The virtual bench: one chip, its magnets, and the instrument twins wired to them.

Like a real bench, the magnets' field acts on the whole chip, while the gate source, the pulse
source and the readout reach devices through the switch matrix (rows = instrument terminals,
columns = devices, as the lab file maps them; device 0 when no crosspoint is closed). Every twin
operation happens at ``labctl.clock.get_clock().now()``; the chip is brought there only when
something can have changed what the operation sees or does (:meth:`Lab.catch_up`): a reading of
the chip, a drive that changes (gate, crosspoints, pulse, coil, magnet command). A query whose
answer does not depend on the chip's state (a gate source's leakage, a gaussmeter's field, a
setting) costs no physics. The chip then integrates the whole elapsed interval in one call —
exact for drives held constant over it, which they are, since every drive change catches up
first. The field follows the magnets in steps bounded by how much the switching hazard can
change across one, at the step times the magnets give in closed form
(:mod:`sim_backend.field_steps`).

Twins never see the lab: each is given a clock (:class:`LabClock`) and its wiring
(:class:`Terminals`), the two collaborators :mod:`sim_backend.wiring` describes. The VISA session
brings the lab to "now" once per message (:meth:`Lab.sync`: the twins' clock and their ramps)
and hands the message over with :meth:`Lab.deliver`; the twin's physics calls then act at that
instant, and the first one that needs the chip integrates it there (at most once per instant).
"""

from __future__ import annotations

import itertools
import math
from pathlib import Path
from typing import Any

import numpy as np

from labctl.clock import VirtualClock, get_clock, use_clock
from sim_backend.commands.base import InstrumentError, Twin
from sim_backend.field_steps import field_steps
from sim_backend.labs.journal import LabStore, StateJournal
from sim_backend.labs.schema import InstrumentSpec, LabSpec, MagnetSpec, load_lab_file
from sim_backend.wiring import Ticker

# A reading samples the chip at its last integration when that is within this fraction of
# the reading's averaging time (Lab.read_instant_s).
READ_RESOLUTION = 0.1
OPEN_CIRCUIT_NOISE_V = 5e-9


def build_chip(lab: LabSpec, t0_s: float) -> Any:
    from sim_backend.chip import VirtualChip, load_chip_params

    spec = lab.chip
    if spec.params_file is not None:
        params = load_chip_params(spec.params_file)
        return VirtualChip(params, spec.n_devices, spec.seed, t0_s=t0_s)
    return VirtualChip.from_preset(
        spec.preset or "ptco_gdox_hall", spec.n_devices, spec.seed, t0_s=t0_s
    )


def build_magnet(spec: MagnetSpec, t0_s: float) -> Any:
    from sim_backend import magnets

    if spec.kind == "electromagnet":
        return magnets.Electromagnet(magnets.ElectromagnetParams(**spec.params), t0_s=t0_s)
    params = magnets.SuperconductingMagnetParams(**spec.params)
    return magnets.SuperconductingMagnet(params, t0_s=t0_s)


class Lab:
    """The bench state: chip, magnets, twins by VISA address, and the routing between them."""

    def __init__(self, spec: LabSpec, chip: Any = None, magnets: dict[str, Any] | None = None):
        from sim_backend.twins import MODELS

        self.spec = spec
        self.store: LabStore | None = None
        self._replaying = False
        self.t_s = get_clock().now()
        self.chip = chip if chip is not None else build_chip(spec, self.t_s)
        self.magnets: dict[str, Any] = (
            magnets
            if magnets is not None
            else {name: build_magnet(m, self.t_s) for name, m in spec.magnets.items()}
        )
        self.rng = np.random.default_rng(spec.chip.seed + 7919)
        self.chip_t_s = self.t_s  # how far field and chip are integrated (<= t_s)
        self._read_t_s: float | None = None  # chip_t_s, if a reading integrated it last
        self.field_T = self._total_field(self.t_s)
        if self.field_T:
            self.chip.set_field(self.field_T, self.t_s)
        self._gate_sources: dict[str, dict[str, float]] = {t: {} for t in ("gate", "pulse")}
        self._dc_bias: dict[str, float] = {}
        self._crosspoints: dict[str, set[tuple[str, int]]] = {}
        self._routes: dict[str, np.ndarray] | None = None
        self._tickers: dict[str, Ticker] = {}
        self.twins: dict[str, Twin] = {}
        self.by_name: dict[str, Twin] = {}
        clock = LabClock(self)
        for inst in spec.instruments.values():
            twin = MODELS[inst.model](inst.name, clock, Terminals(self, inst), inst.settings)
            self.twins[inst.address] = twin
            self.by_name[inst.name] = twin
        self.journal = StateJournal.from_env()
        if self.journal:
            self.journal.record(self.state())

    # --- outliving the process (sim_backend.labs.journal) -------------------------------------
    def __getstate__(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k not in ("journal", "store")}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self.__dict__.setdefault("chip_t_s", self.t_s)
        self.__dict__.setdefault("_read_t_s", None)
        self.journal = StateJournal.from_env()
        self.store = None

    def persist_to(self, store: LabStore) -> None:
        """Keep this lab's state in ``store`` from now on (a first snapshot at once)."""
        self.store = store
        store.snapshot(self)

    def replay(self, entries: list[tuple[float, str, str]], reached_s: float) -> None:
        """Re-run the state-changing messages a dead owner sent after its last snapshot, each
        at its own lab time (their replies went to the dead process and are dropped), then let
        time run on to ``reached_s``, the latest the dead owner saw."""
        clock = VirtualClock(start_s=self.t_s)
        self._replaying = True
        try:
            with use_clock(clock):
                for t_s, name, message in entries:
                    twin = self.by_name.get(name)
                    if twin is None:
                        continue
                    clock.advance_to(t_s)
                    self.sync()
                    self.deliver(twin, message)
                clock.advance_to(reached_s)
                self.sync()
        finally:
            self._replaying = False
        for twin in self.twins.values():
            # a new controller starts with a device clear: replies nobody will read are gone
            twin.device_clear()

    def close(self) -> None:
        """Power the virtual lab off: its store is deleted (a killed owner never gets here)."""
        if self.store is not None:
            self.store.close()
            self.store = None

    @classmethod
    def from_file(cls, path: str | Path) -> Lab:
        return cls(load_lab_file(path))

    def describe(self) -> dict[str, Any]:
        """What ``labctl sim list`` shows: file, chip, magnets, and per instrument its
        address, model and wiring (``sim_backend.labs.describe_spec``)."""
        from sim_backend.labs import describe_spec

        return describe_spec(self.spec)

    # --- time -----------------------------------------------------------------------------
    def sync(self) -> float:
        """Bring the lab's time to the clock's now; return now (never goes backwards).

        Ramping twins tick here (their outputs move with time). Field and chip follow lazily:
        :meth:`catch_up` integrates them when an operation needs them.
        """
        t1 = get_clock().now()
        t0 = self.t_s
        if t1 <= t0:
            return t0
        for twin in list(self._tickers.values()):
            twin.tick(t0, t1)
        self.t_s = t1
        if self.store is not None:
            self.store.note_time(t1)
        return t1

    def catch_up(self) -> None:
        """Integrate field and chip up to the lab's now (no-op when already there).

        Called before anything reads the chip or changes a drive, so the drives are constant
        over every interval the chip integrates: one call over a long quiet stretch is the
        same physics as many short ones (the kinetics step is exact, switching is drawn from
        the exact two-state solution at constant field).
        """
        self._read_t_s = None  # a drive may change next: no reading reuses an earlier state
        t1 = self.t_s
        t0 = self.chip_t_s
        if t1 <= t0:
            return
        self.chip_t_s = t1
        if self.magnets:
            self._follow_field(t0, t1)
        self.chip.advance_to(t1)

    def read_instant_s(self, bandwidth_Hz: float) -> float:
        """The instant a reading over ``bandwidth_Hz`` samples the chip at: now, or the instant
        the previous reading integrated the chip, if no drive changed since and that is within
        ``READ_RESOLUTION`` of the reading's averaging time 1/(2·Δf) (a boxcar of length T has
        ENBW 1/(2T)).

        An instrument that averages over T cannot tell the state now from the state a small
        fraction of T ago; re-integrating the chip for every such reading is work without a
        physical consequence. The skipped stretch has constant drives (a drive change catches
        up and ends the reuse), and the next integration covers it exactly. A reading just
        after a drive change always integrates. Its own noise is drawn per reading all the same.
        """
        last = self._read_t_s
        if (
            last is not None
            and bandwidth_Hz > 0
            and self.t_s - last <= READ_RESOLUTION / (2.0 * bandwidth_Hz)
        ):
            return last
        self.catch_up()
        self._read_t_s = self.t_s
        return self.t_s

    def _total_field(self, t_s: float) -> float:
        return float(sum(m.field_at(t_s) for m in self.magnets.values()))

    def _follow_field(self, t0: float, t1: float) -> None:
        b1 = self._total_field(t1)
        if abs(b1 - self.field_T) < 1e-9:
            return
        times = field_steps(self.chip, list(self.magnets.values()), t0, t1, self.field_T, b1)
        # each step holds the field's mean over it (Simpson on the closed-form field: the
        # step is short enough for the field to be nearly linear across it)
        b_a = self._total_field(times[0])
        for ta, tb in itertools.pairwise(times):
            b_b = self._total_field(tb)  # the next step's start: evaluated once
            b = (b_a + 4 * self._total_field(0.5 * (ta + tb)) + b_b) / 6
            b_a = b_b
            if b != self.field_T:
                self.chip.set_field(b, ta)
                self.field_T = b
        if b1 != self.field_T and abs(b1 - self.field_T) > 1e-6:
            self.chip.set_field(b1, t1)
            self.field_T = b1

    def ticking(self, twin: Ticker, on: bool) -> None:
        """Have ``twin.tick(t0, t1)`` called on every sync (a ramp in progress)."""
        if on:
            self._tickers[twin.name] = twin
        else:
            self._tickers.pop(twin.name, None)

    # --- routing -------------------------------------------------------------------------------
    def routed(self, terminal: str) -> np.ndarray:
        """Device indices a terminal reaches through the matrix (device 0 when none closed)."""
        if self._routes is None:
            self._routes = self._compute_routes()
        return self._routes.get(terminal, _NO_DEVICES)

    def _compute_routes(self) -> dict[str, np.ndarray]:
        if not any(self._crosspoints.values()):
            return {t: np.array([0]) for t in ("gate", "pulse", "readout")}
        routes: dict[str, set[int]] = {t: set() for t in ("gate", "pulse", "readout")}
        n = self.chip.n_devices
        for name, closed in self._crosspoints.items():
            matrix = self.spec.instruments[name].wiring.get("matrix", {})
            rows = {str(k).upper(): v for k, v in matrix.get("rows", {}).items()}
            cols = {int(k): int(v) for k, v in (matrix.get("columns") or {}).items()}
            for row, col in closed:
                terminal = rows.get(str(row).upper())
                device = cols.get(col, col - 1)
                if terminal is not None and 0 <= device < n:
                    routes[terminal].add(device)
        return {t: np.array(sorted(d), dtype=int) for t, d in routes.items()}

    def set_crosspoints(self, name: str, closed: set[tuple[str, int]]) -> None:
        self.catch_up()
        self._crosspoints[name] = set(closed)
        self._routes = None
        self._apply_gates()

    # --- gate ----------------------------------------------------------------------------------
    def drive_gate(self, name: str, terminal: str, on: bool, voltage_V: float) -> None:
        self.catch_up()
        drivers = self._gate_sources.setdefault(terminal, {})
        if on:
            others = [n for n in drivers if n != name]
            if others:
                raise InstrumentError(
                    -221, f"Settings conflict; {terminal} already driven by {others[0]}"
                )
            drivers[name] = float(voltage_V)
        else:
            drivers.pop(name, None)
        self._apply_gates()

    def _apply_gates(self) -> None:
        desired = np.zeros(self.chip.n_devices)
        for voltage in self._gate_sources.get("gate", {}).values():
            desired[self.routed("gate")] = voltage
        changed = np.flatnonzero(desired != np.asarray(self.chip.gate_V))
        if changed.size:
            self.chip.set_gate(changed, desired[changed], self.t_s)

    # --- readout -----------------------------------------------------------------------------
    def set_dc_bias(self, name: str, current_A: float) -> None:
        if current_A:
            self._dc_bias[name] = current_A
        else:
            self._dc_bias.pop(name, None)

    def dc_bias_A(self) -> float:
        return float(sum(self._dc_bias.values()))

    # --- messages and the journal -----------------------------------------------------------
    def deliver(self, twin: Twin, message: str) -> None:
        """Hand one message to a twin (the lab already synced), then journal what it changed."""
        self.after_command(twin, message, twin.handle_message(message))

    def after_command(self, twin: Twin, message: str = "", replied: bool = False) -> None:
        """Called after every message: the journal sees every change, the store only the
        messages that may change state (a pure query writes nothing)."""
        if self.store is not None and not self._replaying and not is_pure_query(message, replied):
            self.store.log(twin.name, self.t_s, message)
            if self.store.due():
                self.store.snapshot(self)
        if self.journal is not None:
            self.journal.record(self.state())

    def state(self) -> dict[str, Any]:
        """The journal snapshot: every twin's state and the chip's drives."""
        return {
            "instruments": {
                twin.name: {"address": address, "model": twin.model, **twin.journal_state()}
                for address, twin in self.twins.items()
            },
            "chip": {
                # the field now, whether or not the chip has been brought here yet
                "field_T": self._total_field(self.t_s) if self.magnets else float(self.field_T),
                "gate_V": [float(v) for v in np.asarray(self.chip.gate_V)],
            },
        }


_NO_DEVICES = np.array([], dtype=int)


def is_pure_query(message: str, replied: bool) -> bool:
    """A message that answered and whose every unit is a query (SCPI ``…?`` or TSP
    ``print(…)``): it cannot have changed what the store keeps."""
    if not replied:
        return False
    for unit in message.split(";"):
        unit = unit.strip()
        if not unit:
            continue
        head = unit.split(None, 1)[0]
        if not (head.endswith("?") or unit.startswith("print(")):
            return False
    return True


class LabClock:
    """A twin's clock: the lab instant of the message being handled, and ticks while ramping."""

    def __init__(self, lab: Lab) -> None:
        self._lab = lab

    def now_s(self) -> float:
        return self._lab.t_s

    def ticking(self, twin: Ticker, on: bool) -> None:
        self._lab.ticking(twin, on)


class Terminals:
    """A twin's wiring: what its output reaches on the chip, as the lab file wires it."""

    def __init__(self, lab: Lab, spec: InstrumentSpec, terminal: str | None = None) -> None:
        self._lab = lab
        self._spec = spec
        self.name = spec.name if terminal is None else f"{spec.name}:{terminal}"
        self.connections = spec.wiring
        self.terminal: str = terminal or spec.wiring.get("terminal", "gate")
        self.rng = lab.rng

    def unwired(self, channel: str) -> Terminals:
        """The wiring of a second output of the same instrument that is wired to nothing."""
        return Terminals(self._lab, self._spec, terminal=f"none:{channel}")

    def twin_named(self, name: str) -> Twin:
        return self._lab.by_name[name]

    # gate / any voltage source on a terminal
    def drive(self, on: bool, voltage_V: float) -> None:
        """Output state of a voltage source; raises -221 if another output drives the pin."""
        if self.terminal == "gate":
            self._lab.drive_gate(self.name, "gate", on, voltage_V)

    def routed(self) -> np.ndarray:
        return self._lab.routed(self.terminal)

    def leakage_at_A(self, voltage_V: float) -> float:
        """Current the load draws at ``voltage_V`` (gate: oxide leakage of routed devices)."""
        devices = self.routed()
        if self.terminal != "gate" or devices.size == 0:
            return 0.0
        if devices.size == 1:  # the common single-device case, without array overhead
            return self._lab.chip.gate_leakage_one_A(int(devices[0]), voltage_V)
        return float(np.sum(self._lab.chip.gate_leakage_at_A(devices, voltage_V)))

    def load_resistance_ohm(self) -> float:
        """Two-terminal resistance on a readout/pulse terminal (parallel of routed devices)."""
        devices = self.routed()
        if devices.size == 0:
            return math.inf
        self._lab.catch_up()  # an MTJ's resistance follows its state
        r = np.asarray(self._lab.chip.device_resistance_ohm(devices), dtype=float)
        return float(1.0 / np.sum(1.0 / r))

    # magnets
    def drive_coil(self, current_A: float) -> None:
        self._lab.catch_up()  # the magnet keeps no history: the field before now is used first
        t = self._lab.t_s
        self._lab.magnets[self.connections["coil"]].set_current(current_A, t)

    def magnet(self) -> Any:
        self._lab.catch_up()  # the caller may command it (a magnet keeps no history)
        return self._lab.magnets[self.connections["magnet"]]

    def field_T(self) -> float:
        t = self._lab.t_s
        probe = self.connections.get("probe")
        if probe is not None:
            return float(self._lab.magnets[probe].field_at(t))
        return self._lab._total_field(t)

    # readout
    def hall_voltage_V(self, current_A: float, bandwidth_Hz: float, dc_coupled: bool) -> float:
        devices = self._lab.routed("readout")
        if devices.size == 0:
            return float(self.rng.normal(0.0, OPEN_CIRCUIT_NOISE_V))
        t = self._lab.read_instant_s(bandwidth_Hz)
        chip = self._lab.chip
        if devices.size == 1:  # the common single-device readout, without the list
            return float(
                chip.hall_voltage_V(int(devices[0]), current_A, bandwidth_Hz, t, dc_coupled)
            )
        v = [
            chip.hall_voltage_V(int(d), current_A, bandwidth_Hz, t, dc_coupled=dc_coupled)
            for d in devices
        ]
        return float(sum(v) / len(v))

    def device_voltage_V(self, current_A: float, bandwidth_Hz: float) -> float:
        devices = self._lab.routed("readout")
        if devices.size == 0:
            return math.copysign(1e3, current_A) if current_A else 0.0
        t = self._lab.read_instant_s(bandwidth_Hz)
        chip = self._lab.chip
        v = [chip.device_voltage_V(int(d), current_A, bandwidth_Hz, t) for d in devices]
        return float(sum(v) / len(v))

    def set_dc_bias(self, current_A: float) -> None:
        self._lab.set_dc_bias(self.name, current_A)

    def dc_bias_A(self) -> float:
        return self._lab.dc_bias_A()

    # pulses
    def sot_pulse(self, amplitude_V: float, width_s: float, t_s: float | None = None) -> int:
        """One write pulse on the devices routed to this terminal; returns how many switched."""
        t = self._lab.t_s if t_s is None else t_s
        terminal = self.terminal if self.terminal in ("pulse", "readout") else "pulse"
        devices = self._lab.routed(terminal)
        if devices.size == 0 or amplitude_V == 0:
            return 0
        self._lab.catch_up()
        switched = self._lab.chip.sot_pulse(devices, amplitude_V, width_s, t)
        return int(np.count_nonzero(switched))

    def sot_pulse_current(self, current_A: float, width_s: float, t_s: float | None = None) -> int:
        """A current pulse: the SOT channel sees V = I·R_channel."""
        r = float(
            getattr(getattr(self._lab.chip.params, "switching", None), "channel_R_ohm", 1000.0)
        )
        return self.sot_pulse(current_A * r, width_s, t_s)

    # matrix
    def set_crosspoints(self, closed: set[tuple[str, int]]) -> None:
        self._lab.set_crosspoints(self.name, closed)
