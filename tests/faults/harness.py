"""Run a protocol on a simulated station with one fault armed, and judge the outcome.

Shared by the fault test suite and ``scripts/fault_table.py``. The verdict comes from the
instruments' own state (the twins of the virtual lab) and from the database, never from what
labctl says about itself.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyvisa

from labctl.clock import VirtualClock, use_clock
from labctl.data import load_run
from labctl.engine import RunOutcome, execute
from labctl.params import build_params
from labctl.protocol import find_protocol
from labctl.station import Station, load_station
from sim_backend import faults
from sim_backend.open_labs import forget_labs

STATIONS = Path(__file__).resolve().parents[2] / "labctl" / "stations"
KINDS = faults.KINDS
REMANENCE_LIMIT_T = 0.005  # field left by the electromagnet's remanence, at most

# (station file, protocol, small parameters): each role of the station is exercised.
SCENARIOS: dict[str, tuple[str, str, dict[str, Any]]] = {
    "default": (
        "simulated.yaml",
        "gate-program",
        {"max_pulses": 1, "loops_per_verify": 1, "step_T": 0.01, "amplitude_V": 1.0},
    ),
    "delta": (
        "simulated_gs200_dc.yaml",
        "gate-program",
        {"max_pulses": 1, "loops_per_verify": 1, "step_T": 0.01, "amplitude_V": 1.0},
    ),
    "array": (
        "simulated_array.yaml",
        "array-map",
        {"devices": [0, 5], "step_T": 0.01},
    ),
}


@dataclass
class Verdict:
    """What happened to one run with one fault."""

    station: str
    role: str
    address: str
    kind: str
    at: int
    fired: int
    outcome: RunOutcome
    unsafe: list[str]  # instruments (twins) not in their safe state after the run
    stored: int  # points in the database
    points_ok: bool  # every stored value finite and physically plausible
    metadata: dict[str, Any]

    @property
    def safe(self) -> bool:
        return not self.unsafe

    @property
    def retries(self) -> int:
        return int(self.metadata.get("reply_retries", 0) or 0)

    @property
    def reconnected(self) -> bool:
        said = [*self.outcome.safe_state, self.outcome.error or ""]
        return any("reconnected" in line for line in said)

    def row(self) -> list[str]:
        message = (self.outcome.error or "").replace("\n", " ")
        return [
            self.station,
            self.role,
            self.kind,
            str(self.at),
            "yes" if self.fired else "no",
            self.outcome.status,
            "yes" if self.safe else "NO: " + ",".join(self.unsafe),
            ("reconnected " if self.reconnected else "") + f"retries {self.retries}",
            f"{self.stored}/{self.outcome.points}",
            message[:110],
        ]


def role_addresses(station: Station) -> dict[str, str]:
    """Role name -> VISA address, companions too (``magnet.gaussmeter``, ``hall.2182a``)."""
    out: dict[str, str] = {}
    for name, spec in station.instruments.items():
        out[name] = spec.address
        settings = spec.settings
        meter = getattr(settings, "gaussmeter", None)
        if meter:
            out[f"{name}.gaussmeter"] = meter["address"]
        nvm = getattr(settings, "nanovoltmeter_address", None)
        if nvm:
            out[f"{name}.2182a"] = nvm
    return out


def lab():
    return pyvisa.ResourceManager("@labsim").visalib.lab  # type: ignore[attr-defined]


def settled_state(clock: VirtualClock) -> dict[str, Any]:
    """The lab's state at the run clock's now, one second after the run ended (twins only
    advance when spoken to; a coil current decays with L/R)."""
    the_lab = lab()
    with use_clock(clock):
        clock.sleep(1.0)
        the_lab.sync()
    return the_lab.state()


def unsafe_instruments(state: dict[str, Any]) -> list[str]:
    """Twins whose own state is not safe: an output on, a magnet current, an AWG output."""
    bad = []
    for name, inst in state["instruments"].items():
        channels = [inst] + [inst[ch] for ch in ("smua", "smub") if isinstance(inst.get(ch), dict)]
        if any(ch.get("output") is True for ch in channels):
            bad.append(name)
        elif any(inst.get("outputs", []) or []):
            bad.append(name)
        elif abs(float(inst.get("output_A", 0.0) or 0.0)) > 1e-9:
            bad.append(name)
        elif inst.get("closed"):
            bad.append(name)
    chip = state["chip"]
    if any(abs(v) > 1e-9 for v in chip["gate_V"]):
        bad.append("chip gate")
    if abs(chip["field_T"]) > REMANENCE_LIMIT_T:
        bad.append(f"chip field {chip['field_T'] * 1e3:.3g} mT")
    return bad


def plausible(value: Any, column: str) -> bool:
    """A stored value is finite and within what the bench can produce (|V| < 10 mV Hall
    voltage, |B| < 1 T, ...): a truncated or garbled reply parsed as a number is not."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        return True  # non-numeric columns (labels) are not readings
    if not math.isfinite(v):
        return math.isnan(v)  # NaN marks "not measured" in analysis columns
    if column.startswith("v_") and column.endswith("_V"):
        return abs(v) < 0.01
    if column.endswith("_T"):
        return abs(v) < 1.0
    return True


def transaction_counts(scenario: str, tmp_path: Path) -> dict[str, int]:
    """Transactions per role (and companion) in a run without faults: a fault that never
    fires (probability 0) on each address counts them."""
    station_file, protocol, values = SCENARIOS[scenario]
    forget_labs()
    faults.clear()
    station = load_station(STATIONS / station_file)
    counters = {
        role: faults.inject(address, "timeout", probability=0.0)
        for role, address in role_addresses(station).items()
    }
    spec = find_protocol(protocol)
    lab()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            execute(
                spec,
                build_params(spec.params_type, values, protocol),
                station,
                tmp_path / f"count-{scenario}.db",
                handle_signals=False,
            )
    finally:
        faults.clear()
    return {role: fault.seen for role, fault in counters.items()}


def run_with_fault(
    scenario: str, role: str, kind: str, at: int, tmp_path: Path, *, fresh: bool = True
) -> Verdict:
    """Run the scenario's protocol with ``kind`` armed on ``role`` at transaction ``at``."""
    station_file, protocol, values = SCENARIOS[scenario]
    if fresh:
        forget_labs()
    faults.clear()
    station = load_station(STATIONS / station_file)
    address = role_addresses(station)[role]
    spec = find_protocol(protocol)
    params = build_params(spec.params_type, values, protocol)
    lab()  # create the lab before arming: transactions count from the run's first message
    fault = faults.inject(address, kind, at=at, code=-222, message="Data out of range")
    db = tmp_path / f"{scenario}-{role}-{kind}-{at}.db"
    clock = VirtualClock()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            outcome = execute(spec, params, station, db, handle_signals=False, clock=clock)
    finally:
        faults.clear()
    info, points = load_run(db, outcome.run_id)
    ok = all(plausible(v, c) for c in points.columns for v in points[c])
    return Verdict(
        scenario,
        role,
        address,
        kind,
        at,
        fault.fired,
        outcome,
        unsafe_instruments(settled_state(clock)),
        len(points),
        ok,
        dict(getattr(info, "metadata", {}) or {}),
    )
