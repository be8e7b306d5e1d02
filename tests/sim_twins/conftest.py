"""Shared fixtures of the twin tests: a fresh default lab per test, qcodes instruments closed."""

from __future__ import annotations

import warnings
from collections.abc import Iterator

import pytest
import pyvisa

from sim_backend import faults
from sim_backend.lab import Lab
from sim_backend.open_labs import forget_labs, get_lab


@pytest.fixture(autouse=True)
def fresh_lab() -> Iterator[None]:
    """Every test starts from a freshly powered-on default bench with no faults armed."""
    forget_labs()
    faults.clear()
    yield
    try:
        from qcodes.instrument import Instrument

        Instrument.close_all()
    except ImportError:  # pragma: no cover
        pass
    faults.clear()
    forget_labs()


@pytest.fixture
def lab() -> Lab:
    return get_lab()


@pytest.fixture
def rm() -> pyvisa.ResourceManager:
    return pyvisa.ResourceManager("@labsim")


@pytest.fixture
def quiet() -> Iterator[None]:
    """Third-party drivers emit deprecation chatter; keep the output readable."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield
