"""Thin shim so that pyvisa finds the ``@labreplay`` backend: ``"<file>[#run]@labreplay"``
answers from a recording (see :mod:`labctl.recording.visa_replay`)."""

from labctl.recording.visa_replay import WRAPPER_CLASS, ReplayVisaLibrary

__all__ = ["WRAPPER_CLASS", "ReplayVisaLibrary"]
