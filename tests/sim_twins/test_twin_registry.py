"""Twins are found, not listed: a module with a class naming its ``model`` is a twin."""

from __future__ import annotations

import pytest

from sim_backend.commands.base import Twin
from sim_backend.twins import MODELS, find_models

NEW_TWIN = '''
from sim_backend.twins.keithley_switch import SwitchMatrix


class Keithley708B(SwitchMatrix):
    """A single-slot 708B with an 8x12 card."""

    model = "keithley708b_test"
    model_number = "708B"
    idn = "Keithley Instruments Inc., Model 708B, {serial}, 1.0"
'''


def test_every_model_of_the_bench_is_found() -> None:
    assert len(MODELS) == 16
    for name, cls in MODELS.items():
        assert issubclass(cls, Twin) and cls.model == name
        assert cls.__module__.startswith("sim_backend.twins.")


def test_a_new_module_is_a_new_twin_and_a_model_name_is_taken_once(
    tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = tmp_path / "more_twins"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "keithley708b.py").write_text(NEW_TWIN)
    monkeypatch.syspath_prepend(str(tmp_path))
    found = find_models("more_twins")
    assert list(found) == ["keithley708b_test"]  # the imported base class is not a twin
    assert found["keithley708b_test"].model_number == "708B"
    (package / "z_copy.py").write_text(NEW_TWIN)
    with pytest.raises(TypeError, match="'keithley708b_test' is defined twice"):
        find_models("more_twins")
