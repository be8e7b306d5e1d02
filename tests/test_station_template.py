"""``labctl station new``: a commented station file for a real bench that checks as written,
names every supported driver of each role, and takes every protocol's defaults; and the README's
walk-through uses only station files that exist or that it writes first."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from instruments.adapters.gaussmeter import GAUSSMETER_DRIVERS
from instruments.registry import list_drivers
from labctl.cli import main
from labctl.errors import LabctlError
from labctl.params import build_params, check_station_limits
from labctl.protocol import available_protocols
from labctl.station import load_station
from labctl.station_template import template_text

ROOT = Path(__file__).parents[1]
OPTIONAL = re.compile(r"^#  ", re.MULTILINE)  # an optional instrument's line: "#" + its YAML


def cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    try:
        code = main(args)
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    assert "Traceback" not in err, err
    return code, out, err


def defaults_refused(station_path: Path) -> dict[str, str]:
    """Each protocol (and switching-probability mode) whose defaults the station refuses before
    a run, with the line; the others pass the role and limit checks a run starts with."""
    station = load_station(station_path)
    refused = {}
    for name, spec in sorted(available_protocols().items()):
        modes = ({}, {"mode": "amplitude"}, {"mode": "width"})
        for values in modes if name == "switching-probability" else ({},):
            params = build_params(spec.params_type, values, name)
            try:
                spec.check_station(params, station)
                check_station_limits(params, station, name)
            except LabctlError as exc:
                refused[" ".join([name, *values.values()])] = str(exc)
    return refused


def test_station_new_writes_a_template_that_checks(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bench_a.yaml"
    code, out, _ = cli(["station", "new", str(path)], capsys)
    assert code == 0 and f"wrote {path}" in out and f"labctl station check {path}" in out
    text = path.read_text()
    assert "bench_a.yaml" in text and "my_bench.yaml" not in text  # its own name in the hints
    code, out, _ = cli(["station", "check", str(path)], capsys)
    assert code == 0 and "OK" in out
    station = load_station(path)
    assert station.visa_library == "@py" and station.clock == "wall"  # a real bench, not the sim
    assert {s.role for s in station.instruments.values()} == {"field", "hall", "gate"}
    # every limit a run is held to is written out (none left to a default)
    raw = yaml.safe_load(text)
    for name, spec in station.instruments.items():
        assert set(raw["instruments"][name].get("limits", {})) == set(spec.limits.spec()), name
    refused = defaults_refused(path)
    assert set(refused) == {
        "switching-probability amplitude",
        "switching-probability width",
        "train",
    }
    assert all("\n" not in line and "has none" in line for line in refused.values())


def test_the_optional_instruments_check_once_uncommented(tmp_path: Path) -> None:
    text = template_text()
    assert len(OPTIONAL.findall(text)) > 10
    path = tmp_path / "full.yaml"
    path.write_text(OPTIONAL.sub("  ", text))
    station = load_station(path)
    assert {s.role for s in station.instruments.values()} == {
        "field", "hall", "gate", "pulse", "router", "array",
    }  # fmt: skip
    assert defaults_refused(path) == {}  # every protocol's defaults within its limits


def test_the_template_names_every_supported_driver() -> None:
    comments = "\n".join(
        line for line in template_text().splitlines() if line.lstrip().startswith("#")
    )
    named = set(re.findall(r"[a-z][a-z0-9_]+", comments))
    for driver in list_drivers():
        assert driver.key in named, driver.key
    assert set(GAUSSMETER_DRIVERS) <= named


def test_station_new_never_overwrites(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text("my edits\n")
    code, _, err = cli(["station", "new", str(path)], capsys)
    assert code == 2 and path.read_text() == "my edits\n"
    assert err.strip() == f"labctl: error: {path}: already exists; not overwritten " + (
        "(give another file name, or move it)"
    )
    code, _, err = cli(["station", "new", str(tmp_path / "no" / "such.yaml")], capsys)
    assert code == 2 and err.count("\n") == 1 and "does not exist" in err


def test_station_new_defaults_to_my_bench_yaml(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, _ = cli(["--json", "station", "new"], capsys)
    assert code == 0 and '"file": "my_bench.yaml"' in out
    assert load_station(tmp_path / "my_bench.yaml").name == "my-bench"


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"^```[^\n]*\n(.*?)^```", text, re.MULTILINE | re.DOTALL)
    return [line.split("#")[0].strip() for block in blocks for line in block.splitlines()]


def test_the_readme_uses_only_station_files_it_has_or_writes() -> None:
    written: set[str] = set()
    used = 0
    for command in readme_commands():
        words = command.split()
        if words[:3] == ["labctl", "station", "new"]:
            written.add(words[3] if len(words) > 3 else "my_bench.yaml")
            continue
        files = [w for i, w in enumerate(words) if words[i - 1] in ("--station", "check")]
        for name in files:
            used += 1
            assert name in written or (ROOT / name).is_file(), command
    assert used >= 3 and "my_bench.yaml" in written


def test_the_readme_keeps_two_setup_commands() -> None:
    make = [c for c in readme_commands() if c.startswith("make")]
    assert make == ["make demo", "make test"]
