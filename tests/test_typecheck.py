"""The protocols type-check against the role contracts (``make typecheck``): pyright, with the
project's configuration (``[tool.pyright]`` in pyproject.toml: standard mode), reports no error
in ``protocols/``, and it does catch a wrong call on a role (the check is not vacuous).

One pyright run covers both (about 40 s: pyright loads numpy, pandas and scipy once). The pip
``pyright`` package bundles pyright itself but needs Node.js: it uses ``node`` from PATH and
otherwise downloads one on its first run (network). Where pyright cannot start, the tests skip.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]

PROBE = """\
from labctl.api import Run


def probe(run: Run) -> None:
    run.station.gate.ramp_to("x")  # GateSource.ramp_to takes a float
    run.station.gate.no_such_method()
"""


def _pyright() -> str:
    exe = Path(sys.executable).parent / "pyright"
    found = str(exe) if exe.exists() else shutil.which("pyright")
    if found is None:
        pytest.skip("pyright is not installed (pip install -e '.[dev]')")
    return found


@pytest.fixture(scope="module")
def diagnostics(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[dict[str, Any]]]:
    """pyright's errors, by file: protocols/ and a probe file with wrong role calls."""
    exe = _pyright()
    # No check for a newer pyright release (a network request) and no warnings on stdout.
    env = {**os.environ, "PYRIGHT_PYTHON_IGNORE_WARNINGS": "1"}
    try:
        started = subprocess.run(
            [exe, "--version"], capture_output=True, text=True, timeout=120, env=env
        )
    except subprocess.TimeoutExpired:
        pytest.skip("pyright did not start within 120 s (fetching Node.js without network?)")
    if started.returncode != 0:
        pytest.skip(
            "pyright cannot start (it needs Node.js: node on PATH, or network to fetch it "
            f"on its first run): {(started.stderr or started.stdout).strip()[-300:]}"
        )
    probe = tmp_path_factory.mktemp("typecheck") / "probe_role_call.py"
    probe.write_text(PROBE)
    done = subprocess.run(
        [exe, "--outputjson", "-p", str(ROOT), str(ROOT / "protocols"), str(probe)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=600,
        env=env,
    )
    try:
        report = json.loads(done.stdout)
    except json.JSONDecodeError:
        pytest.fail(f"pyright gave no JSON report (exit {done.returncode}): {done.stderr[-2000:]}")
    checked = report.get("summary", {}).get("filesAnalyzed", 0)
    assert checked > len(list((ROOT / "protocols").rglob("*.py"))), report.get("summary")
    errors: dict[str, list[dict[str, Any]]] = {"protocols": [], "probe": []}
    for d in report.get("generalDiagnostics", []):
        if d.get("severity") != "error":
            continue
        key = "probe" if Path(d["file"]).resolve() == probe.resolve() else "protocols"
        errors[key].append(d)
    return errors


def test_protocols_have_no_type_errors(diagnostics: dict[str, list[dict[str, Any]]]) -> None:
    found = [
        f"{Path(d['file']).relative_to(ROOT)}:{d['range']['start']['line'] + 1}: {d['message']}"
        for d in diagnostics["protocols"]
    ]
    assert not found, "pyright errors (run `make typecheck`):\n" + "\n".join(found)


def test_pyright_catches_a_wrong_role_call(diagnostics: dict[str, list[dict[str, Any]]]) -> None:
    rules = {d.get("rule") for d in diagnostics["probe"]}
    assert "reportArgumentType" in rules, diagnostics["probe"]  # ramp_to("x")
    assert "reportAttributeAccessIssue" in rules, diagnostics["probe"]  # no_such_method()
