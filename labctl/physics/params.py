"""Typed, documented parameters of a chip, loadable from and written to YAML (docs/physics.md §1–5).

A chip is one frozen :class:`ChipParams` holding one frozen section per idea (kinetics,
anisotropy, switching, readout, noise, gate, variability). Every field declares its unit and
bounds; the same checks run when a dataclass is built in code (``__post_init__``) and when a
YAML file is loaded, so an error always names the key path, the bad value and what was
expected — and, from a file, the file. Units are SI and carried in the names.
"""

from __future__ import annotations

import dataclasses
import math
import typing
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from labctl.physics.yamlfile import StrictLoader, load_yaml_mapping

PRESET_DIR = Path(__file__).with_name("presets")


class ChipParamsError(ValueError):
    """A chip parameter is unknown, of the wrong type, or out of its allowed range."""


def _p(
    default: Any,
    help: str,
    *,
    low: float | None = None,
    high: float | None = None,
    gt: float | None = None,
    choices: tuple[Any, ...] | None = None,
) -> Any:
    """A field with its help text and bounds (``low``/``high`` inclusive, ``gt`` strict)."""
    meta = {"help": help, "low": low, "high": high, "gt": gt, "choices": choices}
    return field(default=default, metadata=meta)


def _check(f: dataclasses.Field, hint: Any, value: Any, where: str) -> Any:
    """Return ``value`` coerced to the field's type, or raise naming ``where``."""
    optional = type(None) in typing.get_args(hint)
    base = next((a for a in typing.get_args(hint) if a is not type(None)), hint)
    if value is None:
        if optional:
            return None
        raise ChipParamsError(f"{where}: got null, expected a {_type_name(base)}")
    if base is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ChipParamsError(f"{where}: got {value!r}, expected a number")
        value = float(value)
        if not math.isfinite(value) and not (value == math.inf and f.metadata.get("high") is None):
            raise ChipParamsError(f"{where}: got {value!r}, expected a finite number")
    elif base is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ChipParamsError(f"{where}: got {value!r}, expected an integer")
    elif base is str:
        if not isinstance(value, str):
            raise ChipParamsError(f"{where}: got {value!r}, expected a string")
    m = f.metadata
    if m.get("choices") is not None and value not in m["choices"]:
        raise ChipParamsError(f"{where}: got {value!r}, expected one of {list(m['choices'])}")
    if m.get("gt") is not None and not value > m["gt"]:
        raise ChipParamsError(f"{where}: got {value!r}, expected > {m['gt']} (wrong sign/zero)")
    if m.get("low") is not None and value < m["low"]:
        raise ChipParamsError(f"{where}: got {value!r}, expected >= {m['low']}")
    if m.get("high") is not None and value > m["high"]:
        raise ChipParamsError(f"{where}: got {value!r}, expected <= {m['high']}")
    return value


def _type_name(t: Any) -> str:
    return {float: "number", int: "integer", str: "string"}.get(t, getattr(t, "__name__", str(t)))


class _Section:
    """Runs the field checks on construction so code-built params are validated too."""

    _key = ""

    def __post_init__(self) -> None:
        hints = typing.get_type_hints(type(self))
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            if dataclasses.is_dataclass(hints[f.name]):
                continue
            where = f"{self._key}.{f.name}" if self._key else f.name
            value = _check(f, hints[f.name], getattr(self, f.name), where)
            object.__setattr__(self, f.name, value)


@dataclass(frozen=True)
class KineticsParams(_Section):
    """Cabrera–Mott ion hopping: r(V, T) = A·exp(−E_a/k_B T)·sinh(|V|/V0) (docs/physics.md §1)."""

    _key = "kinetics"
    E_a_eV: float = _p(0.9, "activation energy (eV): 0.9 for O²⁻, 0.4 for H⁺", gt=0)
    V0_V: float = _p(0.15, "field-assist voltage scale V0 (V)", gt=0)
    A_per_s: float | None = _p(
        None, "prefactor of the oxidising direction (1/s); null: set from tau_ref_s", gt=0
    )
    tau_ref_s: float = _p(0.01, "time constant 1/r at V_ref_V, T_ref_K (s) when A is null", gt=0)
    V_ref_V: float = _p(3.0, "gate voltage magnitude at which tau_ref_s holds (V)", gt=0)
    T_ref_K: float = _p(300.0, "temperature at which tau_ref_s holds (K)", gt=0)
    asymmetry: float = _p(5.0, "A⁺/A⁻: oxidising over reducing prefactor (Pachat 2021)", gt=0)
    oxidising_polarity: int = _p(1, "sign of the gate voltage that raises x", choices=(1, -1))
    cycle_noise_rel: float = _p(
        0.07, "multiplicative cycle-to-cycle noise σ/µ on the rate of each gate pulse", low=0
    )
    tau_ret_s: float | None = _p(None, "retention relaxation time (s); null: non-volatile", gt=0)
    x_eq: float = _p(0.0, "equilibrium x the retention term relaxes to", low=0, high=1)


@dataclass(frozen=True)
class AnisotropyParams(_Section):
    """K_s(x), K_eff(x), M_s(x), H0(x), Δ(x) and the VCMA term (docs/physics.md §2)."""

    _key = "anisotropy"
    K_s_form: str = _p(
        "parabolic",
        "parabolic: K_s,max − a·(x − x_opt)²; linear: K_s0 + ΔK_s·x",
        choices=("parabolic", "linear"),
    )
    K_s_max_J_per_m2: float = _p(1.2e-3, "peak interface anisotropy (J/m²)", gt=0)
    K_s_curvature_J_per_m2: float = _p(5.92e-3, "curvature a of the parabolic K_s (J/m²)", low=0)
    x_opt: float = _p(0.55, "x of peak K_s (optimal oxidation)", low=0, high=1)
    K_s0_J_per_m2: float = _p(0.3e-3, "linear form: K_s at x = 0 (J/m²)")
    dK_s_J_per_m2: float = _p(0.75e-3, "linear form: K_s gain from x = 0 to 1 (J/m²)")
    t_F_m: float = _p(0.8e-9, "ferromagnet thickness (m)", gt=0)
    M_s0_A_per_m: float = _p(1.1e6, "saturation magnetisation of the unoxidised film (A/m)", gt=0)
    x_ox: float = _p(0.95, "x beyond which the moment falls linearly to 0 at x = 1", low=0, high=1)
    h0_T: float = _p(0.060, "µ0·H0 (T) at K_eff = K_eff,ref", gt=0)
    delta0: float = _p(50.0, "Δ at K_eff = K_eff,ref and T_ref_K", gt=0)
    K_eff_ref_J_per_m3: float | None = _p(
        None, "reference K_eff (J/m³); null: K_eff at x_init (so h0, δ0 are the initial ones)", gt=0
    )
    T_ref_K: float = _p(300.0, "temperature at which delta0 holds (Δ ∝ 1/T) (K)", gt=0)
    xi_J_per_V_m: float = _p(50e-15, "VCMA coefficient ξ (J/(V·m)), K_s += ξ·V/t_ox")
    t_ox_m: float = _p(3e-9, "gate oxide thickness (m)", gt=0)
    valid_M_s_rel: float = _p(
        0.3, "M_s/M_s0 below which a device is a dead synapse (signal lost)", low=0, high=1
    )


@dataclass(frozen=True)
class SwitchingParams(_Section):
    """Néel–Arrhenius field switching and SOT switching (docs/physics.md §3)."""

    _key = "switching"
    tau0_s: float = _p(1e-9, "attempt time τ0 (s)", gt=0)
    n_exponent: float = _p(2.0, "barrier exponent n: 2 macrospin, ~1 nucleation", gt=0)
    Jc0_A_per_m2: float = _p(3e11, "SOT critical current density at K_eff,ref (A/m²)", gt=0)
    channel_R_ohm: float = _p(1000.0, "resistance of the SOT channel (Ω)", gt=0)
    channel_width_m: float = _p(2e-6, "SOT channel width (m)", gt=0)
    channel_thickness_m: float = _p(5e-9, "SOT heavy-metal thickness (m)", gt=0)
    default_bias_sign: int = _p(1, "sign of the built-in H_x when none is applied", choices=(1, -1))
    Jc_c2c_rel: float = _p(0.05, "pulse-to-pulse spread σ/µ of Jc0 within a device", low=0)


@dataclass(frozen=True)
class ReadoutParams(_Section):
    """Anomalous-Hall and TMR readout (docs/physics.md §4)."""

    _key = "readout"
    R_AHE_ohm: float = _p(1.0, "anomalous Hall resistance at M_s0 (Ω)", gt=0)
    R_offset_rel: float = _p(0.3, "offsets drawn uniform in ±R_offset_rel·R_AHE", low=0, high=1)
    R_xx_ohm: float = _p(500.0, "longitudinal / Hall-probe resistance (Ω)", gt=0)
    R_P_ohm: float = _p(2000.0, "MTJ parallel resistance RA/area (Ω)", gt=0)
    TMR0: float = _p(1.5, "zero-bias TMR ratio (1.5 = 150 %)", low=0)
    V_h_V: float = _p(0.5, "bias at which the TMR halves (V)", gt=0)


@dataclass(frozen=True)
class NoiseParams(_Section):
    """Readout noise beyond Johnson (docs/physics.md §4)."""

    _key = "noise"
    flicker_corner_Hz: float = _p(10.0, "1/f corner of DC readout (Hz)", low=0)
    thermal_emf_mean_V: float = _p(2e-6, "mean thermal-EMF offset of the DC leads (V)")
    thermal_emf_rms_V: float = _p(0.5e-6, "rms of the thermal-EMF drift (V)", low=0)
    thermal_emf_tau_s: float = _p(300.0, "correlation time of the thermal-EMF drift (s)", gt=0)


@dataclass(frozen=True)
class GateParams(_Section):
    """Gate oxide leakage and breakdown."""

    _key = "gate"
    leakage_R_ohm: float = _p(1e11, "ohmic leakage resistance of an intact oxide (Ω)", gt=0)
    breakdown_V: float = _p(8.0, "|V| above which a device's oxide breaks for good (V)", gt=0)
    breakdown_slope_V: float = _p(0.3, "e-folding voltage of the pre-breakdown leakage (V)", gt=0)
    broken_R_ohm: float = _p(1e4, "leakage resistance of a broken oxide (Ω)", gt=0)


@dataclass(frozen=True)
class VariabilityParams(_Section):
    """Device-to-device spreads, drawn once per chip (docs/physics.md §5)."""

    _key = "variability"
    H0_rel: float = _p(0.07, "Gaussian σ/µ of H0", low=0, high=0.5)
    delta_rel: float = _p(0.07, "Gaussian σ/µ of Δ", low=0, high=0.5)
    A_sigma_ln: float = _p(0.4, "lognormal σ of the ion-rate prefactor A", low=0)
    R_AHE_rel: float = _p(0.04, "Gaussian σ/µ of R_AHE", low=0, high=0.5)
    x_init_sigma: float = _p(0.02, "Gaussian σ of the initial x", low=0, high=0.5)
    Jc0_rel: float = _p(0.05, "Gaussian σ/µ of Jc0", low=0, high=0.5)
    R_rel: float = _p(0.03, "Gaussian σ/µ of R_xx and R_P", low=0, high=0.5)
    breakdown_rel: float = _p(0.05, "Gaussian σ/µ of the breakdown voltage", low=0, high=0.5)


@dataclass(frozen=True)
class ChipParams(_Section):
    """Everything that defines a virtual chip. Sections are frozen dataclasses."""

    name: str = _p("custom", "free-text name of the chip")
    device_type: str = _p("hall", "readout: Hall cross or MTJ", choices=("hall", "mtj"))
    temperature_K: float = _p(300.0, "chip temperature (K)", gt=0)
    x_init: float = _p(0.35, "mean initial hidden state x", low=0, high=1)
    m_init: str = _p("random", "initial m of valid devices", choices=("random", "up", "down"))
    kinetics: KineticsParams = field(default_factory=KineticsParams)
    anisotropy: AnisotropyParams = field(default_factory=AnisotropyParams)
    switching: SwitchingParams = field(default_factory=SwitchingParams)
    readout: ReadoutParams = field(default_factory=ReadoutParams)
    noise: NoiseParams = field(default_factory=NoiseParams)
    gate: GateParams = field(default_factory=GateParams)
    variability: VariabilityParams = field(default_factory=VariabilityParams)

    def replace(self, **changes: Any) -> ChipParams:
        """A copy with top-level fields or whole sections replaced (``dataclasses.replace``)."""
        return dataclasses.replace(self, **changes)

    def without_variability(self) -> ChipParams:
        """A copy with every device-to-device and cycle-to-cycle spread set to zero."""
        zero = {f.name: 0.0 for f in dataclasses.fields(VariabilityParams)}
        return dataclasses.replace(
            self,
            variability=VariabilityParams(**zero),
            kinetics=dataclasses.replace(self.kinetics, cycle_noise_rel=0.0),
            switching=dataclasses.replace(self.switching, Jc_c2c_rel=0.0),
        )


def params_from_dict(data: Any, source: str = "<dict>") -> ChipParams:
    """Build :class:`ChipParams` from plain data; errors name ``source`` and the key path."""
    try:
        return _build(ChipParams, data, source, "")
    except ChipParamsError as err:
        msg = str(err)
        raise ChipParamsError(msg if msg.startswith(source) else f"{source}: {msg}") from None


def _build(cls: type, data: Any, source: str, prefix: str) -> Any:
    where = prefix or "top level"
    if not isinstance(data, dict):
        raise ChipParamsError(f"{source}: {where}: got {data!r}, expected a mapping of keys")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    kwargs: dict[str, Any] = {}
    for key, value in data.items():
        path = f"{prefix}.{key}" if prefix else str(key)
        if key not in fields:
            raise ChipParamsError(
                f"{source}: {path}: unknown key, expected one of {sorted(fields)}"
            )
        if dataclasses.is_dataclass(hints[key]):
            kwargs[key] = _build(hints[key], value, source, path)
        else:
            try:
                kwargs[key] = _check(fields[key], hints[key], value, path)
            except ChipParamsError as err:
                raise ChipParamsError(f"{source}: {err}") from None
    try:
        return cls(**kwargs)
    except ChipParamsError as err:
        raise ChipParamsError(f"{source}: {err}") from None


def _file_error(file: str, key: str, problem: str) -> ChipParamsError:
    if problem.startswith("cannot read"):
        return ChipParamsError(f"{file}: {problem.replace('the file', 'chip parameters')}")
    return ChipParamsError(f"{file}: not valid YAML ({problem})")


def load_chip_params(path: str | Path) -> ChipParams:
    """Load and validate a chip parameter YAML file (an empty file: every default)."""
    path = Path(path)
    data = load_yaml_mapping(path, _file_error, empty_ok=True)
    return params_from_dict(data, str(path))


def params_to_dict(params: ChipParams) -> dict[str, Any]:
    """Plain data (sections as mappings, in declaration order) that :func:`params_from_dict`
    reads back to an equal :class:`ChipParams`."""
    return dataclasses.asdict(params)


def write_chip_params(path: str | Path, params: ChipParams, header: Sequence[str] = ()) -> Path:
    """Write ``params`` as a chip parameter file every loader of the project reads back equal;
    ``header`` lines go first as YAML comments (what the values came from)."""
    path = Path(path)
    comments = "".join(f"# {line}\n" if line else "#\n" for line in header)
    text = comments + yaml.safe_dump(params_to_dict(params), sort_keys=False)
    if params_from_dict(yaml.load(text, Loader=StrictLoader), str(path)) != params:
        raise ChipParamsError(f"{path}: the parameters do not survive a YAML round trip")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def preset_names() -> list[str]:
    """Names of the bundled presets."""
    return sorted(p.stem for p in PRESET_DIR.glob("*.yaml"))


def load_preset(name: str) -> ChipParams:
    """A bundled preset by name (a file of ``presets/``: ``"ptco_gdox_hall"``, ...)."""
    path = PRESET_DIR / f"{name}.yaml"
    if not path.is_file():
        raise ChipParamsError(f"unknown chip preset {name!r}, expected one of {preset_names()}")
    return load_chip_params(path)
