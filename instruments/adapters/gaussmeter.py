"""Gaussmeters that close the loop of a field source (setting ``gaussmeter:`` of a magnet).

The station file names the gaussmeter inside the magnet's settings::

    settings:
      gaussmeter: {driver: lakeshore425, address: "ASRL/dev/ttyUSB0::INSTR"}

Readings are in tesla: the meter is put in tesla units when it is opened.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pymeasure.instruments.lakeshore import LakeShore425

from instruments.adapters.common import count_transactions, read_value
from instruments.drivers.lakeshore475 import LakeShore475
from instruments.roles import Role

# Largest field either Hall probe meter shows (LakeShore 425 / 475 top range: 3.5 T).
FIELD_RANGE_T = 3.5

GAUSSMETER_DRIVERS: dict[str, type[Any]] = {
    "lakeshore425": LakeShore425,
    "lakeshore475": LakeShore475,
}


@dataclass
class GaussmeterSpec:
    """The ``gaussmeter:`` mapping: driver key, VISA address, optional fixed range index."""

    driver: str
    address: str
    range_index: int | None = None

    @classmethod
    def parse(cls, owner: str, spec: dict[str, Any]) -> GaussmeterSpec:
        unknown = set(spec) - {"driver", "address", "range_index"}
        if unknown or "driver" not in spec or "address" not in spec:
            raise ValueError(
                f"{owner}: setting gaussmeter must be {{driver, address[, range_index]}}, "
                f"got {sorted(map(str, spec))}"
            )
        if spec["driver"] not in GAUSSMETER_DRIVERS:
            raise ValueError(
                f"{owner}: setting gaussmeter names an unknown driver {spec['driver']!r}; "
                f"known: {', '.join(sorted(GAUSSMETER_DRIVERS))}"
            )
        return cls(str(spec["driver"]), str(spec["address"]), spec.get("range_index"))


class Gaussmeter:
    """A field readback in tesla; its transactions count in the owning role."""

    def __init__(self, driver: Any, owner: Role, range_index: int | None = None) -> None:
        self.driver = driver
        self.owner = owner
        self.range_index = range_index
        self.link = count_transactions(owner, driver)

    @classmethod
    def open(cls, spec: GaussmeterSpec, visa_library: str, owner: Role) -> Gaussmeter:
        driver = GAUSSMETER_DRIVERS[spec.driver](spec.address, visa_library=visa_library)
        meter = cls(driver, owner, spec.range_index)
        meter.configure()
        return meter

    def configure(self) -> None:
        """Tesla units; autorange unless a fixed range index is given."""
        self.driver.unit = "T"
        if self.range_index is None:
            if isinstance(self.driver, LakeShore475):
                self.driver.auto_range_enabled = True
            else:
                self.driver.auto_range()
        else:
            self.driver.write(f"RANGE {int(self.range_index)}")

    def field_T(self) -> float:
        return read_value(self.owner, "field", lambda: self.driver.field, FIELD_RANGE_T, self.link)

    def close(self) -> None:
        self.driver.adapter.close()


class ClosesTheLoop:
    """For magnets: open the gaussmeter named in setting ``gaussmeter`` (if any) with the
    magnet, inside :class:`~instruments.adapters.common.OpensDriver`'s ``open``."""

    name: str
    settings: Any
    gaussmeter: Gaussmeter | None

    def _open_companions(self, visa_library: str) -> None:
        if self.settings.gaussmeter:
            spec = GaussmeterSpec.parse(self.name, self.settings.gaussmeter)
            self.gaussmeter = Gaussmeter.open(spec, visa_library, self)  # type: ignore[arg-type]
