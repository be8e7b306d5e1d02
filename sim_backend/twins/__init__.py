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


def _find_models() -> dict[str, type[Twin]]:
    models: dict[str, type[Twin]] = {}
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
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


MODELS: dict[str, type[Twin]] = _find_models()

__all__ = ["MODELS", "InstrumentError", "Twin"]
