"""Conventions every driver and adapter follows: registry, contract, docstrings, units."""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import pkgutil
import re
from typing import Any

import pytest
from pymeasure.instruments import Instrument
from pymeasure.instruments.agilent import Agilent33500
from pymeasure.instruments.ami import AMI430
from pymeasure.instruments.keithley import Keithley2400, Keithley2450, Keithley2600, Keithley6221
from pymeasure.instruments.srs import SR830, SR860
from pymeasure.instruments.yokogawa import YokogawaGS200
from pymeasure.test import expected_protocol

import instruments.adapters
import instruments.adapters.common
import instruments.drivers
import instruments.roles
from instruments.drivers.keithley6221_pulse import Keithley6221PulseDelta
from instruments.drivers.keithley_tsp_switch import Keithley707B, Keithley3706A
from instruments.drivers.kepco_bop import KepcoBOP
from instruments.drivers.lakeshore643 import LakeShore643
from instruments.registry import DRIVERS, list_drivers, load_adapter
from instruments.roles import ROLE_TYPES

INIT_2400 = [(":FORMAT:ELEMENTS VOLTAGE, CURRENT, RESISTANCE, TIME, STATUS", None)]
AMI_BANNER = [(None, "American Magnetics Model 430"), (None, "Hello.")]
# driver key -> (driver class, what its constructor exchanges, settings overrides, limits kw)
FAKE_TRANSPORT: dict[str, tuple[type[Instrument], list, dict[str, Any], dict[str, Any]]] = {
    "keithley2400": (Keithley2400, INIT_2400, {}, {}),
    "keithley2450": (Keithley2450, [], {}, {}),
    "keithley2636b": (Keithley2600, [], {}, {}),
    "yokogawa_gs200": (YokogawaGS200, [], {"compliance_A": 1e-3}, {"compliance_A": 1e-3}),
    "kepco_bop": (KepcoBOP, [], {}, {}),
    "lakeshore643": (LakeShore643, [], {}, {}),
    "ami430": (AMI430, AMI_BANNER, {}, {}),
    "sr830": (SR830, [], {}, {}),
    "sr860": (SR860, [], {}, {}),
    "keithley6221_2182a": (Keithley6221, [], {}, {}),
    "keithley2400_4wire": (Keithley2400, INIT_2400, {}, {}),
    "keysight33500b": (Agilent33500, [], {}, {}),
    "keithley6221_pulse": (Keithley6221PulseDelta, [], {}, {}),
    "keithley707b": (Keithley707B, [], {}, {}),
    "keithley3706a": (Keithley3706A, [], {}, {}),
}
UNIT_SUFFIX = re.compile(
    r"_(A|V|s|T|ohm|Hz|dB|W|J|K|T_per_A|T_per_s|V_per_s|A_per_s)$|^(nplc|interval_plc)$"
)
DIMENSIONLESS = {"period_factor", "settle_time_constants"}


def modules(package) -> list[Any]:
    return [
        importlib.import_module(f"{package.__name__}.{m.name}")
        for m in pkgutil.iter_modules(package.__path__)
    ]


def test_registry_is_complete_and_loads() -> None:
    assert set(FAKE_TRANSPORT) | {"synapse_array"} == set(DRIVERS)
    assert [d.key for d in list_drivers()] == sorted(DRIVERS, key=lambda k: (DRIVERS[k].role, k))
    with pytest.raises(KeyError, match="known drivers"):
        load_adapter("keithley9999")


@pytest.mark.parametrize("key", sorted(DRIVERS))
def test_adapter_follows_the_station_contract(key: str) -> None:
    info = DRIVERS[key]
    cls = load_adapter(key)
    assert issubclass(cls, ROLE_TYPES[info.role])
    assert info.library in ("pymeasure", "qcodes", "labctl")
    assert dataclasses.is_dataclass(cls.settings_type)
    cls.settings_type()  # every setting has a default
    params = inspect.signature(cls.open).parameters
    for name in ("name", "address", "visa_library", "settings", "limits", "timebase"):
        assert params[name].kind is inspect.Parameter.KEYWORD_ONLY, name
    assert not inspect.isabstract(cls)
    assert cls.__doc__ and inspect.getmodule(cls).__doc__


@pytest.mark.parametrize("key", sorted(DRIVERS))
def test_settings_names_carry_units(key: str) -> None:
    for f in dataclasses.fields(load_adapter(key).settings_type):
        if "float" in str(f.type):
            assert UNIT_SUFFIX.search(f.name) or f.name in DIMENSIONLESS, f"{key}: {f.name}"


@pytest.mark.parametrize("key", sorted(FAKE_TRANSPORT))
def test_construction_on_a_fake_transport_sends_nothing(clock, key: str) -> None:
    driver_cls, init, settings_kw, limits_kw = FAKE_TRANSPORT[key]
    cls: Any = load_adapter(key)
    settings = cls.settings_type(**settings_kw)
    with expected_protocol(driver_cls, init) as driver:
        adapter = cls(
            name="x",
            driver=driver,
            settings=settings,
            limits=cls.limits_type(**limits_kw),
            timebase=clock,
        )
        assert adapter.transactions == 0
        assert adapter.snapshot()["name"] == "x"


def test_every_driver_descriptor_documents_its_type_and_unit() -> None:
    for module in modules(instruments.drivers):
        assert module.__doc__, module.__name__
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__ != module.__name__:
                continue
            assert cls.__doc__, cls.__name__
            for name, attr in vars(cls).items():
                if isinstance(attr, property) and not name.startswith("_"):
                    doc = attr.__doc__ or ""
                    assert re.search(r"\((float|int|bool|str|tuple|list|ints)", doc), (
                        f"{cls.__name__}.{name}: docstring must give the type: {doc!r}"
                    )


def test_every_adapter_module_is_documented() -> None:
    for module in modules(instruments.adapters):
        assert module.__doc__, module.__name__


class _Driver:
    def __init__(self, address: str, visa_library: str) -> None:
        self.address, self.visa_library, self.closed = address, visa_library, False


class _FailingAdapter(instruments.adapters.common.OpensDriver):
    driver_type = _Driver

    def __init__(self, *, name: str, driver: Any, settings: Any, limits: Any, timebase: Any):
        self.name, self.driver = name, driver

    def configure(self) -> None:
        raise instruments.roles.InstrumentError(self.name, '-113,"Undefined header"')

    def close(self) -> None:
        self.driver.closed = True


def test_open_closes_the_driver_again_when_configure_fails() -> None:
    opened: list[_Driver] = []

    class Recording(_FailingAdapter):
        @classmethod
        def _connect(cls, address: str, visa_library: str, settings: Any) -> Any:
            opened.append(super()._connect(address, visa_library, settings))
            return opened[-1]

    with pytest.raises(instruments.roles.InstrumentError, match="-113"):
        Recording.open(
            name="gate", address="GPIB0::5::INSTR", visa_library="@labsim", settings=None,
            limits=None, timebase=None,
        )  # fmt: skip
    assert [(d.address, d.closed) for d in opened] == [("GPIB0::5::INSTR", True)]
