"""Thin shim so that pyvisa finds the ``@labserver`` backend: ``"tcp://HOST:PORT@labserver"``
uses the instruments of a labctl instrument server (see :mod:`labctl.server.client`)."""

from labctl.server.client import ServerVisaLibrary

WRAPPER_CLASS = ServerVisaLibrary

__all__ = ["WRAPPER_CLASS", "ServerVisaLibrary"]
