"""The station loader never raises anything but a one-line StationError naming the file, whatever
the YAML holds: wrong types anywhere, missing keys, syntax errors, binary junk."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from labctl.errors import StationError
from labctl.station import load_station

STATIONS = Path(__file__).resolve().parents[1] / "labctl" / "stations"
BASE = yaml.safe_load((STATIONS / "simulated_synapse_array.yaml").read_text())

junk = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**20), 10**20)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=12)
    | st.sampled_from(["GPIB0::24::INSTR", "gate", "hall", "router", "@py", "keithley2400"]),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            out += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            out += _paths(value, (*prefix, index))
    return out


PATHS = _paths(BASE)[1:]
FIXTURE = HealthCheck.function_scoped_fixture  # tmp_path is rewritten by every example


def _assert_one_line(path: Path, exc: StationError) -> None:
    message = str(exc)
    assert message.startswith(str(path)), message
    assert "\n" not in message, message
    assert "Traceback" not in message


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    edits=st.lists(
        st.tuples(st.sampled_from(PATHS), st.sampled_from(["set", "delete"]), junk),
        min_size=1,
        max_size=3,
    )
)
def test_wrong_types_and_missing_keys_anywhere(tmp_path: Path, edits: list[Any]) -> None:
    data: Any = BASE
    for path, action, value in edits:
        try:
            data = _apply(data, path, action, value)
        except (KeyError, IndexError, TypeError):
            continue  # an earlier edit removed or replaced that branch
    target = tmp_path / "fuzz.yaml"
    target.write_text(yaml.safe_dump(data, allow_unicode=True))
    try:
        load_station(target)
    except StationError as exc:
        _assert_one_line(target, exc)


def _apply(data: Any, path: tuple[Any, ...], action: str, value: Any) -> Any:
    data = yaml.safe_load(yaml.safe_dump(data))
    parent = data
    for part in path[:-1]:
        parent = parent[part]
    if action == "delete" and isinstance(parent, dict):
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    return data


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(position=st.integers(0, 2000), garbage=st.binary(min_size=1, max_size=40), cut=st.booleans())
def test_syntax_errors_and_binary_junk(
    tmp_path: Path, position: int, garbage: bytes, cut: bool
) -> None:
    text = (STATIONS / "simulated_synapse_array.yaml").read_bytes()
    position %= len(text)
    corrupted = text[:position] + garbage + (b"" if cut else text[position:])
    target = tmp_path / "junk.yaml"
    target.write_bytes(corrupted)
    try:
        load_station(target)
    except StationError as exc:
        _assert_one_line(target, exc)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "expected a mapping at the top"),
        (b"\x00\xff\xfe binary", "cannot read the file"),
        (b"- a\n- b\n", "expected a mapping at the top, got list"),
        (b"instruments: [\n", "YAML syntax error at line"),
        (b"name: x\nname: y\n", "duplicate key 'name'"),
    ],
)
def test_degenerate_files(tmp_path: Path, content: bytes, expected: str) -> None:
    target = tmp_path / "station.yaml"
    target.write_bytes(content)
    with pytest.raises(StationError) as info:
        load_station(target)
    _assert_one_line(target, info.value)
    assert expected in str(info.value)


def test_a_directory_and_a_missing_file(tmp_path: Path) -> None:
    for target, expected in ((tmp_path, "cannot read the file"), (tmp_path / "no.yaml", "No such")):
        with pytest.raises(StationError) as info:
            load_station(target)
        _assert_one_line(target, info.value)
        assert expected in str(info.value)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_an_unreadable_file(tmp_path: Path) -> None:
    target = tmp_path / "station.yaml"
    target.write_text((STATIONS / "simulated.yaml").read_text())
    target.chmod(0)
    try:
        with pytest.raises(StationError, match="cannot read the file: Permission denied"):
            load_station(target)
    finally:
        target.chmod(0o600)
