from dataclasses import dataclass

import pytest

from labctl.errors import ParamError
from labctl.params import build_params, describe_params, param


@dataclass(frozen=True)
class P:
    field_max_T: float = param(0.1, unit="T", low=0, high=2)
    n: int = param(3, low=1)
    mode: str = param("a", choices=("a", "b"))
    live: bool = param(False)
    levels_V: list[float] = param((1.0, 2.0), unit="V", low=0)


def test_defaults_and_conversion() -> None:
    p = build_params(P, {"field_max_T": "0.5", "n": "7", "live": "yes"}, "x")
    assert (p.field_max_T, p.n, p.mode, p.live) == (0.5, 7, "a", True)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"field_max_T": "3"}, "--field-max-T = '3': expected a value <= 2 in T"),
        ({"field_max_T": "abc"}, "expected a finite number in T"),
        ({"n": "0"}, "--n = '0': expected a value >= 1"),
        ({"n": "1.5"}, "expected an integer"),
        ({"mode": "c"}, "expected one of a, b"),
        ({"nope": 1}, "unknown parameter(s) nope"),
        ({"field_max_T": "nan"}, "expected a finite number"),
        ({"live": "maybe"}, "--live = 'maybe': expected true or false"),
        (
            {"levels_V": "1,nan"},
            "--levels-V = '1,nan': expected comma-separated finite numbers in V",
        ),
        ({"levels_V": "1,x"}, "expected comma-separated finite numbers in V"),
        ({"levels_V": "1,-2"}, "expected a value >= 0 in V"),
    ],
)
def test_errors_name_the_parameter(values: dict, message: str) -> None:
    with pytest.raises(ParamError) as info:
        build_params(P, values, "proto")
    assert message in str(info.value) and str(info.value).startswith("proto:")


def test_describe() -> None:
    infos = {i.name: i for i in describe_params(P)}
    assert infos["field_max_T"].unit == "T" and infos["field_max_T"].option == "--field-max-T"
