"""Transactions per role of each scenario's clean run, measured once per session."""

from __future__ import annotations

from pathlib import Path

import pytest
from harness import transaction_counts

_COUNTS: dict[str, dict[str, int]] = {}


@pytest.fixture
def counts(tmp_path_factory: pytest.TempPathFactory):
    def of(scenario: str) -> dict[str, int]:
        if scenario not in _COUNTS:
            tmp: Path = tmp_path_factory.mktemp(f"count-{scenario}")
            _COUNTS[scenario] = transaction_counts(scenario, tmp)
        return _COUNTS[scenario]

    return of
