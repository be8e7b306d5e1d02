"""Thin shim so that pyvisa finds the ``@labsim`` backend (pyvisa imports ``pyvisa_<name>``)."""

from sim_backend.visa import WRAPPER_CLASS, LabSimVisaLibrary

__all__ = ["WRAPPER_CLASS", "LabSimVisaLibrary"]
