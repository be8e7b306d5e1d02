"""The learning rules by name: found through the ``labctl.rules`` entry-point group.

A rule is a :class:`~.rule.Rule` subclass whose ``config_type`` is a dataclass of
:func:`labctl.params.param` fields (unit, bounds, help), like a protocol's parameters. A package
ships its own rule by naming, in its ``pyproject.toml``, either the class or a
:class:`~.declaration.RuleDeclaration` of it::

    [project.entry-points."labctl.rules"]
    my-rule = "my_package.rules:MyRule"     # the entry point's name is the rule's ``name``
    my-rule = "my_package.settings:MY_RULE" # or: its declaration, in a module without numpy

Every ``labctl`` start reads the rules' parameters (``train``'s options): an entry point that
names a class imports the class's module (numpy, 0.4-0.6 s); one that names a declaration
imports only the declaration's module, and the class is imported when a rule is made. The
built-in rules are declared in :mod:`.rule_settings`.

``labctl train``/``study`` build their ``--rule`` choices and one option per rule parameter from
this registry, and :func:`make_rule` checks every setting against the declared bounds, so no
other module needs to know which rules exist. :func:`register` adds a rule in-process (a
notebook, a test) without packaging it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from labctl.errors import ParamError
from labctl.params import ParamInfo, build_params, describe_params
from labctl.params import parse_settings_text as parse_settings_text  # re-exported
from labctl.params import settings_text as settings_text  # re-exported
from labctl.plugins import entry_points

from .declaration import RuleDeclaration

if TYPE_CHECKING:
    from .rule import Rule

RULE_GROUP = "labctl.rules"
DEFAULT_RULE = "device"  # the physical rule: what the chip is for
# `labctl study` without --rules: the baseline, the software reference and the physical rule
DEFAULT_STUDY_RULES = ("none", "meta-adam", DEFAULT_RULE)
# set by the training itself (``train_sequence(lr=...)`` passes it to every rule): not a rule option
TRAINING_SETTINGS = ("lr",)

_REGISTERED: dict[str, type[Rule]] = {}
_FOUND: dict[str, RuleDeclaration | type[Rule]] | None = None


@dataclass(frozen=True)
class RuleSpec:
    """One rule as the CLI and the protocol see it: its settable parameters, without importing
    its implementation (:attr:`cls` does, when a rule is made)."""

    name: str
    params: tuple[ParamInfo, ...]  # without the fixed ones and those the training sets
    doc: str
    config_type: type
    fixed: Mapping[str, Any]
    load: Callable[[], type[Rule]]

    @property
    def cls(self) -> type[Rule]:
        """The implementing class (imports it: numpy and the training code)."""
        return self.load()

    def param(self, name: str) -> ParamInfo | None:
        return next((p for p in self.params if p.name == name), None)


def register(cls: type[Rule]) -> type[Rule]:
    """Make ``cls`` available by its ``name`` in this process (class decorator)."""
    _check(cls.name, cls, f"{cls.__module__}.{cls.__qualname__}")
    _REGISTERED[cls.name] = cls
    return cls


def _check(name: str, cls: Any, where: str, declared: RuleDeclaration | None = None) -> None:
    from .rule import Rule  # numpy: only once a class is at hand

    if not (isinstance(cls, type) and issubclass(cls, Rule)):
        raise TypeError(f"learning rule {name!r} ({where}): expected a Rule subclass, got {cls!r}")
    if cls.name != name:
        raise TypeError(f"learning rule {name!r} ({where}): the class is named {cls.name!r}")
    if not dataclasses.is_dataclass(cls.config_type):
        raise TypeError(f"learning rule {name!r} ({where}): config_type must be a dataclass")
    if declared is not None and (
        cls.config_type is not declared.config_type or cls.fixed != dict(declared.fixed)
    ):
        raise TypeError(
            f"learning rule {name!r} ({where}): the class's parameters are not those of its "
            f"declaration (declare the class with `declaration=`)"
        )


def _check_declaration(name: str, declared: RuleDeclaration, where: str) -> None:
    if declared.name != name:
        raise TypeError(f"learning rule {name!r} ({where}): declared as {declared.name!r}")
    if not dataclasses.is_dataclass(declared.config_type):
        raise TypeError(f"learning rule {name!r} ({where}): config_type must be a dataclass")


def _found() -> dict[str, RuleDeclaration | type[Rule]]:
    global _FOUND
    if _FOUND is None:
        found: dict[str, RuleDeclaration | type[Rule]] = {}
        for ep in entry_points(group=RULE_GROUP):
            loaded = ep.load()
            where = f"entry point {ep.value}"
            if isinstance(loaded, RuleDeclaration):
                _check_declaration(ep.name, loaded, where)
            else:
                _check(ep.name, loaded, where)
            found[ep.name] = loaded
        _FOUND = found
    return _FOUND


def _rules() -> dict[str, RuleDeclaration | type[Rule]]:
    return {**_found(), **_REGISTERED}


def rule_names() -> list[str]:
    return sorted(_rules())


def _loader(name: str, declared: RuleDeclaration) -> Callable[[], type[Rule]]:
    def load() -> type[Rule]:
        cls = declared.load()
        _check(name, cls, f"implementation {declared.implementation}", declared)
        return cls

    return load


def _given(cls: type[Rule]) -> Callable[[], type[Rule]]:
    return lambda: cls


def _spec(name: str, entry: RuleDeclaration | type[Rule]) -> RuleSpec:
    if isinstance(entry, RuleDeclaration):
        config_type, fixed, doc = entry.config_type, dict(entry.fixed), entry.doc
        load = _loader(name, entry)
    else:
        config_type, fixed = entry.config_type, dict(entry.fixed)
        doc = (entry.__doc__ or "").strip().splitlines()[0] if entry.__doc__ else ""
        load = _given(entry)
    hidden = set(fixed) | set(TRAINING_SETTINGS)
    params = tuple(p for p in describe_params(config_type) if p.name not in hidden)
    return RuleSpec(name, params, doc, config_type, fixed, load)


def find_rule(name: str) -> RuleSpec:
    rules = _rules()
    if name not in rules:
        raise ValueError(f"unknown rule {name!r}; known: {', '.join(sorted(rules))}")
    return _spec(name, rules[name])


def available_rules() -> dict[str, RuleSpec]:
    return {name: _spec(name, cls) for name, cls in sorted(_rules().items())}


def check_settings(
    name: str, settings: Mapping[str, Any], where: str = "", settable_only: bool = False
) -> dict[str, Any]:
    """``settings`` of rule ``name`` converted (strings from a command line) and checked against
    the declared types and bounds; only the given keys are returned. Refuses an unknown key or a
    value out of bounds with one :class:`ParamError` line naming the option and the bound.
    ``settable_only``: also refuse the parameters a user does not set (those the training sets,
    ``lr``, and those a variant pins, ``none``'s ``m_meta``) instead of accepting them."""
    spec = find_rule(name)
    where = where or f"rule {name}"
    if settable_only:
        known = {p.name for p in spec.params}
    else:
        known = {p.name for p in describe_params(spec.config_type)}
    unknown = sorted(set(settings) - known)
    if unknown:
        offered = ", ".join(p.name for p in spec.params) or "none"
        raise ParamError(
            f"{where}: {', '.join(unknown)} is not a parameter of rule {name!r}; "
            f"its parameters: {offered}"
        )
    given = {k: v for k, v in settings.items() if k not in spec.fixed}
    built = build_params(spec.config_type, given, where)
    return {k: _like(getattr(built, k), v) for k, v in given.items()}


def _like(converted: Any, given: Any) -> Any:
    """The converted value, in the type the caller gave when it was already a Python value (a
    tuple stays a tuple, an int an int): the rule then sees exactly what it was given."""
    if isinstance(given, str):
        return tuple(converted) if isinstance(converted, list) else converted
    return given


def make_rule(name: str, **settings: Any) -> Rule:
    """A rule by name (``meta-adam``, ``none``, ``mesu``, ``device`` or a package's own) with
    keyword settings, checked against the rule's declared parameters."""
    spec = find_rule(name)
    return spec.cls(**{**settings, **check_settings(name, settings)})
