"""The lab file: what is on the bench and how it is wired, validated on load.

A lab file is YAML::

    name: my-bench
    chip:                       # the virtual chip on the sample stage
      preset: ptco_gdox_hall    # or  params: my_chip.yaml  (path relative to this file)
      n_devices: 16
      seed: 1
    magnets:                    # name -> magnet; every magnet's field acts on the whole chip
      electromagnet: {kind: electromagnet, params: {...}}    # Electromagnet(**params)
      sc_magnet: {kind: superconducting, params: {...}}      # SuperconductingMagnet(**params)
    instruments:                # name -> instrument
      gate_smu:
        address: GPIB0::24::INSTR
        model: keithley2400     # see sim_backend.twins.MODELS
        wiring: {terminal: gate}          # gate | pulse | readout
        settings: {serial: "4105023"}     # per-model settings (see each twin's ``defaults``)
      bop:     {address: GPIB0::6::INSTR,  model: kepco_bop, wiring: {coil: electromagnet}}
      gauss:   {address: GPIB0::12::INSTR, model: lakeshore425, wiring: {probe: electromagnet}}
      ami:     {address: TCPIP0::localhost::7180::SOCKET, model: ami430,
                wiring: {magnet: sc_magnet}}
      matrix:  {address: GPIB0::16::INSTR, model: keithley707b,
                wiring: {matrix: {rows: {A: gate, B: pulse, C: readout}}}}
    faults:                     # optional, see sim_backend.faults
      - {resource: GPIB0::8::INSTR, kind: timeout, at: 5}

A chip parameter file (``labctl.physics``' format, what ``labctl calibrate`` writes) given where
a lab file is expected, ``chip.yaml@labsim``, opens the built-in lab with that chip.

Wiring keys: ``terminal`` (gate, pulse, readout) reaches devices through the switch matrix
(device 0 when no crosspoint is closed); ``coil`` names the magnet a current source drives;
``probe`` the magnet a gaussmeter reads (omit: the total field at the chip); ``magnet`` the
superconducting magnet an AMI 430 runs; ``matrix`` maps matrix rows to terminals and columns to
devices (``columns`` default: column n -> device n-1); ``voltmeter`` (6221) the name of the
2182A it triggers in delta mode. Every error names the file and the key.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from labctl.physics.params import ChipParams
from labctl.physics.yamlfile import load_yaml_mapping

TERMINALS = ("gate", "pulse", "readout")
WIRING_KEYS = ("terminal", "coil", "probe", "magnet", "matrix", "voltmeter")
MAGNET_KINDS = ("electromagnet", "superconducting")


class LabFileError(ValueError):
    """The lab file is malformed; the message names the file and the key."""


@dataclass
class InstrumentSpec:
    name: str
    address: str
    model: str
    wiring: dict[str, Any] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)


@dataclass
class MagnetSpec:
    name: str
    kind: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class ChipSpec:
    preset: str | None = "ptco_gdox_hall"
    params_file: Path | None = None
    n_devices: int = 16
    seed: int = 0


@dataclass
class LabSpec:
    path: Path
    name: str
    chip: ChipSpec
    magnets: dict[str, MagnetSpec]
    instruments: dict[str, InstrumentSpec]
    faults: list[dict[str, Any]]

    def by_address(self) -> dict[str, InstrumentSpec]:
        return {spec.address: spec for spec in self.instruments.values()}


def _need(cond: bool, where: str, what: str) -> None:
    if not cond:
        raise LabFileError(f"{where}: {what}")


def _mapping(value: Any, where: str) -> dict[str, Any]:
    _need(isinstance(value, dict), where, f"expected a mapping, got {value!r}")
    return value


def _lab_file_error(file: str, key: str, problem: str) -> LabFileError:
    return LabFileError(f"{file}: {key + ': ' if key else ''}lab file: {problem}")


def load_lab_file(path: str | Path) -> LabSpec:
    """Read and validate a lab file."""
    from sim_backend.twins import MODELS  # the registry of models, imported late

    path = Path(path)
    doc = load_yaml_mapping(path, _lab_file_error)  # the one YAML reader (YAML 1.2 floats)
    if is_chip_file(doc):
        return default_lab_with_chip(path)
    known = LAB_KEYS
    for key in doc:
        _need(key in known, f"{path}: {key}", f"unknown key (expected one of {sorted(known)})")

    chip_raw = _mapping(doc.get("chip", {}), f"{path}: chip")
    chip = ChipSpec()
    for key, value in chip_raw.items():
        where = f"{path}: chip.{key}"
        if key == "preset":
            _need(isinstance(value, str), where, "expected a preset name")
            chip.preset = value
        elif key == "params":
            _need(isinstance(value, str), where, "expected a path to a chip params file")
            chip.params_file = (path.parent / value).resolve()
            chip.preset = None
            _need(chip.params_file.exists(), where, f"no such file {chip.params_file}")
        elif key in ("n_devices", "seed"):
            _need(
                isinstance(value, int) and value >= (1 if key == "n_devices" else 0),
                where,
                "expected a non-negative integer",
            )
            setattr(chip, key, value)
        else:
            raise LabFileError(f"{where}: unknown key (expected preset, params, n_devices, seed)")

    magnets: dict[str, MagnetSpec] = {}
    for name, m in _mapping(doc.get("magnets", {}) or {}, f"{path}: magnets").items():
        where = f"{path}: magnets.{name}"
        m = _mapping(m, where)
        kind = m.get("kind")
        _need(kind in MAGNET_KINDS, f"{where}.kind", f"expected one of {list(MAGNET_KINDS)}")
        params = _mapping(m.get("params", {}) or {}, f"{where}.params")
        magnets[name] = MagnetSpec(name, kind, dict(params))

    instruments: dict[str, InstrumentSpec] = {}
    addresses: dict[str, str] = {}
    for name, inst in _mapping(doc.get("instruments", {}) or {}, f"{path}: instruments").items():
        where = f"{path}: instruments.{name}"
        inst = _mapping(inst, where)
        for key in inst:
            _need(
                key in ("address", "model", "wiring", "settings"),
                f"{where}.{key}",
                "unknown key (expected address, model, wiring, settings)",
            )
        address = inst.get("address")
        _need(
            isinstance(address, str) and "::" in address,
            f"{where}.address",
            f"expected a VISA resource name, got {address!r}",
        )
        _need(
            address not in addresses,
            f"{where}.address",
            f"{address} is already used by instrument {addresses.get(address)!r}",
        )
        addresses[address] = name
        model = inst.get("model")
        _need(
            model in MODELS,
            f"{where}.model",
            f"unknown model {model!r}, expected one of {sorted(MODELS)}",
        )
        wiring = _mapping(inst.get("wiring", {}) or {}, f"{where}.wiring")
        _check_wiring(wiring, magnets, f"{where}.wiring")
        settings = _mapping(inst.get("settings", {}) or {}, f"{where}.settings")
        defaults = MODELS[model].defaults
        for key in settings:
            _need(
                key in defaults or key == "serial",
                f"{where}.settings.{key}",
                f"unknown setting for {model} (expected one of {sorted(defaults)})",
            )
        instruments[name] = InstrumentSpec(name, address, model, dict(wiring), dict(settings))

    for name, inst in instruments.items():
        vm = inst.wiring.get("voltmeter")
        if vm is not None:
            _need(
                vm in instruments,
                f"{path}: instruments.{name}.wiring.voltmeter",
                f"no instrument named {vm!r}",
            )

    faults = doc.get("faults", []) or []
    _need(isinstance(faults, list), f"{path}: faults", "expected a list")
    for i, fault in enumerate(faults):
        _mapping(fault, f"{path}: faults[{i}]")
    return LabSpec(path, str(doc.get("name", path.stem)), chip, magnets, instruments, faults)


LAB_KEYS = frozenset({"name", "chip", "magnets", "instruments", "faults", "description"})
DEFAULT_LAB = Path(__file__).with_name("default.yaml")


def is_chip_file(doc: dict[str, Any]) -> bool:
    """A chip parameter file (keys of ``labctl.physics.ChipParams`` only, some that no lab
    file has) rather than a lab file."""
    keys = set(doc)
    chip_keys = {f.name for f in dataclasses.fields(ChipParams)}
    return bool(keys - LAB_KEYS) and keys <= chip_keys


def default_lab_with_chip(chip_file: Path) -> LabSpec:
    """The built-in lab with the chip of ``chip_file``: what ``chip.yaml@labsim`` opens, so a
    chip parameter file (from a calibration, say) is a bench without a lab file around it."""
    spec = load_lab_file(DEFAULT_LAB)
    spec.chip.params_file = Path(chip_file).resolve()
    spec.chip.preset = None
    spec.path = Path(chip_file)
    spec.name = f"{spec.name} with the chip of {Path(chip_file).name}"
    return spec


def _check_wiring(wiring: dict[str, Any], magnets: dict[str, MagnetSpec], where: str) -> None:
    for key, value in wiring.items():
        _need(key in WIRING_KEYS, f"{where}.{key}", f"unknown key (expected {list(WIRING_KEYS)})")
        if key == "terminal":
            _need(value in TERMINALS, f"{where}.terminal", f"expected one of {list(TERMINALS)}")
        elif key in ("coil", "probe", "magnet"):
            _need(value in magnets, f"{where}.{key}", f"no magnet named {value!r}")
        elif key == "matrix":
            m = _mapping(value, f"{where}.matrix")
            rows = _mapping(m.get("rows", {}), f"{where}.matrix.rows")
            for row, terminal in rows.items():
                _need(
                    terminal in TERMINALS,
                    f"{where}.matrix.rows.{row}",
                    f"expected one of {list(TERMINALS)}",
                )
            cols = _mapping(m.get("columns", {}) or {}, f"{where}.matrix.columns")
            for col, dev in cols.items():
                _need(
                    isinstance(dev, int) and dev >= 0,
                    f"{where}.matrix.columns.{col}",
                    "expected a device index",
                )
