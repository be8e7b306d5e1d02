"""The ``@labsim`` pyvisa backend (see :mod:`sim_backend.visa.library`)."""

from sim_backend.visa.library import LabSimVisaLibrary

WRAPPER_CLASS = LabSimVisaLibrary

__all__ = ["WRAPPER_CLASS", "LabSimVisaLibrary"]
