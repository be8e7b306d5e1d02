"""Instrument twins: one class per model, answering the real command set.

``MODELS`` maps the model names used in lab files to the twin classes. It is found, not listed:
every module of this package is imported and each class that names its own ``model`` is a twin,
so adding a twin is adding its module (and wiring it into a lab file).
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil

from sim_backend.commands.base import InstrumentError, Twin


def find_models(package: str) -> dict[str, type[Twin]]:
    """Every twin class of the modules of ``package``, by model name (one class per name)."""
    models: dict[str, type[Twin]] = {}
    paths = importlib.import_module(package).__path__
    for info in sorted(pkgutil.iter_modules(paths), key=lambda m: m.name):
        module = importlib.import_module(f"{package}.{info.name}")
        for cls in vars(module).values():
            if (
                inspect.isclass(cls)
                and issubclass(cls, Twin)
                and cls.__module__ == module.__name__
                and "model" in vars(cls)
            ):
                other = models.setdefault(cls.model, cls)
                if other is not cls:
                    raise TypeError(
                        f"twin model {cls.model!r} is defined twice: "
                        f"{other.__module__}.{other.__qualname__} and "
                        f"{cls.__module__}.{cls.__qualname__}"
                    )
    return models


MODELS: dict[str, type[Twin]] = find_models(__name__)

__all__ = ["MODELS", "InstrumentError", "Twin"]
