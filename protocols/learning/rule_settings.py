"""The built-in learning rules' parameters and declarations, without their implementations.

The command line builds ``labctl train``'s and ``labctl study``'s options from these dataclasses
(unit, bounds, default, help) at every start, so this module imports no numpy (issue 13:
``labctl --help`` within 0.5 s); each rule's class, in its own module, is imported only when
a rule is made for training. The ``labctl.rules`` entry points name the declarations below.
What each parameter does is explained in the rule's module: :mod:`.meta_adam`, :mod:`.mesu`,
:mod:`.device_rule`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from labctl.params import param

from .declaration import RuleDeclaration


# ---------------------------------------------------------------- meta-adam, none (.meta_adam)
@dataclass
class MetaAdamConfig:
    lr: float = param(0.005, low=1e-6, high=1.0, help="Adam step size")
    m_meta: float = param(
        10.0, low=0, high=1000, help="metaplasticity strength (tune to network and steps)"
    )
    beta1: float = param(0.9, low=0, high=0.999999, help="Adam first-moment decay")
    beta2: float = param(0.999, low=0, high=0.999999, help="Adam second-moment decay")
    eps: float = param(1e-8, low=1e-12, high=1.0, help="Adam denominator offset")
    weight_decay: float = param(1e-7, low=0, high=1.0, help="L2 weight decay")
    # hidden weights start uniform in [−w/2, w/2] (reference default)
    init_width: float = param(0.1, low=0, high=10.0, help="width of the hidden weights at start")
    # used only with a chip attached (ptco_gdox_hall: P ≈ 0.999)
    write_amplitude_V: float = param(4.0, unit="V", low=0, high=10.0, help="write pulse amplitude")
    write_width_s: float = param(2e-8, unit="s", low=1e-10, high=1e-3, help="write pulse width")


META_ADAM = RuleDeclaration(
    "meta-adam",
    MetaAdamConfig,
    "protocols.learning.meta_adam:MetaAdam",
    doc="Adam_meta on host-side hidden weights; the binary weights are their signs.",
)
NONE = RuleDeclaration(
    "none",
    MetaAdamConfig,
    "protocols.learning.meta_adam:NoMeta",
    doc="The non-metaplastic baseline: Adam_meta with ``m_meta = 0``.",
    fixed={"m_meta": 0.0},
)


# ---------------------------------------------------------------- mesu (.mesu)
@dataclass
class MesuConfig:
    lr: float = param(0.0, low=0, high=1.0, help="unused: σ² is the learning rate")
    sigma_prior: float = param(0.2, low=1e-6, high=10.0, help="prior width σ_p")
    sigma_init: float = param(0.2, low=1e-6, high=10.0, help="initial width σ of every synapse")
    mu_prior: float = param(0.0, low=-10.0, high=10.0, help="prior mean µ_p")
    # µ starts uniform in [−w/2, w/2], signs those of the store
    mu_init_width: float = param(0.2, low=0, high=10.0, help="width of the initial means")
    memory_window: float = param(3e5, low=1.0, high=1e30, help="memory window N, in samples")
    # sets the scale of C and of the prior terms
    batch: int = param(100, low=1, high=100_000, help="samples per update")
    sample: bool = param(True, help="binary weights sign(µ + σε) (false: sign(µ))")
    eval_mean: bool = param(True, help="write sign(µ) back at every epoch end")
    write_amplitude_V: float = param(4.0, unit="V", low=0, high=10.0, help="write pulse amplitude")
    write_width_s: float = param(2e-8, unit="s", low=1e-10, high=1e-3, help="write pulse width")


MESU = RuleDeclaration(
    "mesu",
    MesuConfig,
    "protocols.learning.mesu:Mesu",
    doc="Bayesian metaplasticity: per-synapse σ² as learning rate, binary weights sign(µ [+σε]).",
)


# ---------------------------------------------------------------- device (.device_rule)
When = Literal["step", "epoch", "task"]
FieldWhen = Literal["task", "epoch"]
Moments = Literal["reset", "keep", "keep_v"]


@dataclass
class DeviceRuleConfig:
    lr: float = param(0.005, low=1e-6, high=1.0, help="Adam step size of the pressure")
    beta1: float = param(0.9, low=0, high=0.999999, help="Adam first-moment decay")
    beta2: float = param(0.999, low=0, high=0.999999, help="Adam second-moment decay")
    eps: float = param(1e-8, low=1e-12, high=1.0, help="Adam denominator offset")
    flip_threshold: float = param(
        0.025, low=1e-6, high=10.0, help="accumulated update toward a flip per write pulse"
    )
    consolidation_threshold: float = param(
        0.06, low=1e-6, high=10.0, help="accumulated agreeing update per consolidation credit"
    )
    consolidate_at: When = param(
        "epoch", help="when credits become gate pulses", choices=("step", "epoch", "task")
    )
    max_consolidation_pulses: int = param(
        8, low=1, high=1000, help="gate pulses per device and per consolidation batch"
    )
    # stay below the anisotropy peak: beyond it the device softens again
    max_level: int = param(4, low=0, high=1000, help="net gate pulses a device may hold")
    reset_on_failed_write: bool = param(True, help="reset the accumulator after a failed write")
    failure_backoff: float = param(
        2.0, low=1.0, high=100.0, help="flip threshold × this per consecutive failed write (1: off)"
    )
    max_backoff_steps: int = param(12, low=0, high=64, help="cap on the back-off steps")
    backoff_reset_at_task: bool = param(False, help="forget the back-off at task boundaries")
    erode_on_failed_write: bool = param(
        True, help="a failed write earns a de-consolidation (V < 0) gate pulse"
    )
    write_amplitude_V: float = param(3.5, unit="V", low=0, high=10.0, help="write pulse amplitude")
    write_width_s: float = param(2e-8, unit="s", low=1e-10, high=1e-3, help="write pulse width")
    gate_voltage_V: float = param(2.0, unit="V", low=0, high=10.0, help="gate pulse amplitude")
    gate_duration_s: float = param(
        0.7, unit="s", low=1e-6, high=3600.0, help="consolidation gate pulse duration"
    )
    # the reducing direction is ≈ 5× slower
    erosion_duration_s: float = param(
        2.4, unit="s", low=1e-6, high=3600.0, help="erosion (V < 0) gate pulse duration"
    )
    reset_level_on_flip: bool = param(False, help="a flipped device is eroded back to level 0")
    level_write_V: tuple[float, ...] = param(
        (), unit="V", low=0, high=10.0, help="write amplitude per level (empty: write_amplitude_V)"
    )
    frozen_level: int = param(
        0,
        low=0,
        high=1000,
        help="no write pulse to a device holding this many gate pulses (0: off)",
    )
    max_writes_per_task: int = param(
        0, low=0, high=1_000_000,
        help="write pulses a device may receive per task, an endurance budget (0: no limit)",
    )  # fmt: skip
    booked_failure_level: int = param(
        4, low=0, high=1000, help="from this level a write is booked as failed, no pulse (0: off)"
    )
    task_moments: Moments = param(
        "keep", help="moments at task boundaries", choices=("reset", "keep", "keep_v")
    )
    layer_consolidation_scale: tuple[float, ...] = param(
        (), low=0, high=1000.0, help="consolidation_threshold × this per layer (empty: 1)"
    )
    consolidate: bool = param(
        True, help="consolidate (false: the flip-when-asked baseline on the same accumulator)"
    )
    field_T: float = param(
        0.0, unit="T", low=-1.0, high=1.0, help="global-field neuromodulation amplitude (0: off)"
    )
    field_width_s: float = param(1e-6, unit="s", low=1e-9, high=1.0, help="field pulse width")
    field_at: FieldWhen = param(
        "task", help="field pulses at each task start after the first, or every epoch",
        choices=("task", "epoch"),
    )  # fmt: skip


DEVICE = RuleDeclaration(
    "device",
    DeviceRuleConfig,
    "protocols.learning.device_rule:DeviceRule",
    doc="Accumulate, write when a flip is asked, consolidate when the sign is confirmed.",
)
