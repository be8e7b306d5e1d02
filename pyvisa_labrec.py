"""Thin shim so that pyvisa finds the ``@labrec`` backend: ``"<library>@labrec"`` records the
VISA traffic of ``<library>`` (see :mod:`labctl.recording.visa_recorder`)."""

from labctl.recording.visa_recorder import WRAPPER_CLASS, RecordingVisaLibrary

__all__ = ["WRAPPER_CLASS", "RecordingVisaLibrary"]
