"""The import-linter contracts of docs/architecture.md hold (checked on the installed tree)."""

import os
from pathlib import Path

from importlinter.cli import lint_imports

ROOT = Path(__file__).resolve().parents[1]


def test_layering_contracts_hold() -> None:
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        assert lint_imports(config_filename=str(ROOT / "pyproject.toml"), no_cache=True) == 0
    finally:
        os.chdir(cwd)
