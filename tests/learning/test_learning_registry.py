"""The rule registry: rules found through the ``labctl.rules`` entry points declare their
parameters, and ``labctl train``/``study`` build their options from them."""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path

import numpy as np
import pytest

from labctl.cli import main
from labctl.errors import ParamError
from labctl.params import build_params, param
from labctl.protocol import find_protocol
from protocols.learning import cli as learning_cli
from protocols.learning import comparison, registry, study, table
from protocols.learning.declaration import RuleDeclaration
from protocols.learning.rule import Rule

ROOT = Path(__file__).resolve().parents[2]


def _parsers() -> tuple[dict[str, argparse.ArgumentParser], dict]:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--json", action="store_true")
    common.add_argument("--debug", action="store_true")
    common.add_argument("--db", default=None)
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command")
    handlers = learning_cli.register(sub, common)
    return sub.choices, handlers


def _options(p: argparse.ArgumentParser) -> dict[str, argparse.Action]:
    return {s: a for a in p._actions for s in a.option_strings}


def test_the_built_in_rules_come_from_the_entry_point_group() -> None:
    eps = {ep.name: ep for ep in entry_points(group=registry.RULE_GROUP)}
    assert set(eps) >= {"none", "meta-adam", "mesu", "device"}
    for name, ep in eps.items():
        spec = registry.find_rule(name)
        declared = ep.load()  # a declaration (numpy-free), naming its class
        assert isinstance(declared, RuleDeclaration) and declared.config_type is spec.config_type
        assert spec.cls is declared.load() and spec.cls.name == name
        assert all(p.name not in registry.TRAINING_SETTINGS for p in spec.params)
    assert "m_meta" not in {p.name for p in registry.find_rule("none").params}  # pinned at 0


def test_every_rule_parameter_is_an_option_with_unit_bounds_and_default() -> None:
    parsers, _ = _parsers()
    train = _options(parsers["train"])
    study = _options(parsers["study"])
    assert tuple(train["--rule"].choices) == tuple(registry.rule_names())
    for name, spec in registry.available_rules().items():
        for info in spec.params:
            prefixed = f"--{name}-{info.option[2:]}"  # a name taken by a training option
            option = prefixed if prefixed in train else info.option
            assert option in train and option in study, (name, info.name)
            text = train[option].help
            listed = re.search(rf"{re.escape(str(info.default))} \([^)]*\b{name}\b", text)
            assert text.endswith(f"default {info.default}") or listed, (option, text)
            assert name in text.split("]")[0]  # the rules it applies to, in brackets
            if info.unit:
                assert f"({info.unit})" in text, (option, text)
            if info.low is not None:
                assert re.search(rf"\[{info.low:g}, ", text), (option, text)
            assert study[option].nargs == "+"  # a study grid axis
    assert "--mesu-batch" in train  # MESU's batch would shadow the training's --batch


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--flip-threshold", "-1"], "--flip-threshold = '-1': expected a value >= 1e-06"),
        (["--gate-duration-s", "1e5"], "--gate-duration-s = '1e5': expected a value <= 3600 in s"),
        (["--max-level", "2.5"], "--max-level = '2.5': expected an integer"),
        (["--task-moments", "forget"], "expected one of reset, keep, keep_v"),
        (["--m-meta", "5"], "--m-meta is a parameter of meta-adam, not of rule 'device'"),
    ],
)
def test_a_bad_rule_value_is_one_line_naming_the_option_and_the_bound(
    argv: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "never.db"
    code = main(["train", "--rule", "device", *argv, "--db", str(db)])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and message in err, err
    assert not db.exists()  # refused before any run


def test_the_train_protocol_checks_the_rule_settings_it_is_given() -> None:
    spec = find_protocol("train")
    ok = build_params(spec.params_type, {"rule": "meta-adam", "settings": "m_meta=5"}, "train")
    assert ok.rule_settings() == {"m_meta": 5.0}
    with pytest.raises(ParamError, match=r"--m-meta = '-2': expected a value >= 0"):
        build_params(spec.params_type, {"rule": "meta-adam", "settings": "m_meta=-2"}, "train")
    with pytest.raises(ParamError, match="m_meta is not a parameter of rule 'device'"):
        build_params(spec.params_type, {"rule": "device", "settings": "m_meta=5"}, "train")
    for rule, key in (("device", "lr"), ("none", "m_meta")):  # set by --lr; pinned at 0
        with pytest.raises(ParamError, match=f"{key} is not a parameter of rule '{rule}'"):
            build_params(spec.params_type, {"rule": rule, "settings": f"{key}=0.1"}, "train")
    lists = build_params(
        spec.params_type, {"rule": "device", "settings": "level_write_V=3.25,3.5"}, "train"
    )
    assert lists.rule_settings() == {"level_write_V": (3.25, 3.5)}


def test_the_study_grid_is_rules_by_seeds_by_each_rule_s_own_values() -> None:
    parsers, _ = _parsers()
    args = parsers["study"].parse_args(
        ["--rules", "none", "meta-adam", "device", "--seeds", "0", "1",
         "--m-meta", "5", "10", "--flip-threshold", "0.02", "0.03", "0.04",
         "--write-amplitude-V", "3.5"]
    )  # fmt: skip
    runs = learning_cli._grid(args)
    per_rule = {r: sum(1 for rule, _, _ in runs if rule == r) for r in args.rules}
    assert per_rule == {"none": 2, "meta-adam": 2 * 2, "device": 2 * 3}
    assert {s["write_amplitude_V"] for _, _, s in runs} == {"3.5"}  # shared by all three
    assert ("device", 1, {"flip_threshold": "0.04", "write_amplitude_V": "3.5"}) in runs
    bad = parsers["study"].parse_args(["--rules", "none", "device", "--m-meta", "5"])
    with pytest.raises(ParamError, match="--m-meta belongs to none of the rules none, device"):
        learning_cli._grid(bad)
    out = parsers["study"].parse_args(["--rules", "meta-adam", "--m-meta", "5", "-1"])
    with pytest.raises(ParamError, match="--m-meta = '-1': expected a value >= 0"):
        learning_cli._grid(out)


@dataclass
class _GainConfig:
    lr: float = param(0.005, low=1e-6, high=1.0, help="step size")
    gain_V: float = param(1.0, unit="V", low=0.0, high=2.0, help="write gain")


class _GainRule(Rule):
    """A user's rule: flips every device whose gradient asks for it."""

    name = "gain-test"
    config_type = _GainConfig

    def _init_state(self) -> None:
        pass

    def step_flat(self, grad: np.ndarray) -> None:
        self.sync_signs(-grad * self.store.flat, self.cfg.gain_V, 2e-8)


def test_a_rule_registered_outside_labctl_gets_its_own_options(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(registry._REGISTERED, "gain-test", _GainRule)
    parsers, handlers = _parsers()
    train = _options(parsers["train"])
    assert "gain-test" in train["--rule"].choices
    assert train["--gain-V"].help == "[gain-test] write gain (V) [0, 2]; default 1.0"
    args = parsers["train"].parse_args(["--rule", "gain-test", "--gain-V", "3"])
    with pytest.raises(ParamError, match=r"--gain-V = '3': expected a value <= 2 in V"):
        handlers["train"](args)


def test_the_learning_command_module_imports_light() -> None:
    code = (
        "import sys, protocols.learning.cli; "
        "print(sorted(m for m in ('pandas', 'sklearn', 'qcodes', 'scipy') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_no_engine_file_names_a_rule() -> None:
    names = [n for n in registry.rule_names() if n != "none"]  # "none" is an English word
    files = [*sorted((ROOT / "labctl").rglob("*.py")), ROOT / "protocols" / "train.py"]
    for path in files:
        text = path.read_text()
        for name in names:
            assert f'"{name}"' not in text and f"'{name}'" not in text, (path, name)
        assert "rule ==" not in text, path
    assert not (ROOT / "labctl" / "cli_train.py").exists()


def test_one_table_builder_for_every_study() -> None:
    assert study.aggregate is table.aggregate and study.write_study is table.write_study
    assert comparison.format_table is table.format_table
    script = (ROOT / "scripts" / "study_metaplasticity.py").read_text()
    assert "format_table" in script and "def format_table" not in script


@dataclass
class _OtherConfig:
    lr: float = param(0.005, low=1e-6, high=1.0, help="step size")


def test_a_declared_rule_loads_its_class_only_when_made_and_must_match_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # the declaration names _GainRule, whose parameters are _GainConfig: a declaration with
    # other parameters is refused when the class loads, naming the rule
    good = RuleDeclaration("gain-test", _GainConfig, f"{__name__}:_GainRule", doc="gain")
    bad = RuleDeclaration("gain-test", _OtherConfig, f"{__name__}:_GainRule")
    monkeypatch.setattr(registry, "_FOUND", {"gain-test": good})
    spec = registry.find_rule("gain-test")
    assert spec.doc == "gain" and spec.param("gain_V") is not None
    assert spec.cls is _GainRule
    monkeypatch.setattr(registry, "_FOUND", {"gain-test": bad})
    with pytest.raises(TypeError, match=r"'gain-test'.*not those of its declaration"):
        registry.make_rule("gain-test")
