"""Shared helpers of the virtual-chip tests."""

from __future__ import annotations

import dataclasses

import pytest

from sim_backend.chip import ChipParams, load_preset


@pytest.fixture
def hall() -> ChipParams:
    """The Pt/Co/GdOx Hall preset, with its variability."""
    return load_preset("ptco_gdox_hall")


@pytest.fixture
def uniform_hall(hall: ChipParams) -> ChipParams:
    """The Hall preset with every spread off and all devices starting up."""
    return dataclasses.replace(hall.without_variability(), m_init="up")
