"""``@labsim``: a pyvisa backend whose resources are the twins of a simulated lab.

``pyvisa.ResourceManager("@labsim")`` opens the built-in default lab,
``ResourceManager("path/to/lab.yaml@labsim")`` a lab file, ``ResourceManager("chip.yaml@labsim")``
the built-in lab with the chip of a chip parameter file, and ``PYVISA_LIBRARY=@labsim`` makes
it the default backend. The library path is the lab file's real path, so pyvisa keeps one
library — and this module one :class:`~sim_backend.lab.Lab` — per lab file per process.

The class is deliberately *not* named ``SimVisaLibrary``: qcodes special-cases that name
(pyvisa-sim) by skipping ``clear()`` at init and the AMI 430 greeting. Under any other name
qcodes treats the backend as a real bench, which is what the twins reproduce.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pyvisa import constants, errors, highlevel, rname
from pyvisa.util import LibraryPath

from sim_backend.lab import Lab
from sim_backend.open_labs import default_lab_path, get_lab
from sim_backend.visa.session import LabSession

SC = constants.StatusCode


class LabSimVisaLibrary(highlevel.VisaLibraryBase):
    """A pure-Python VISA library backed by a :class:`~sim_backend.lab.Lab`."""

    sessions: dict[int, Any]

    @staticmethod
    def get_library_paths() -> Iterable[LibraryPath]:
        return (LibraryPath(str(default_lab_path()), "labsim default lab"),)

    @staticmethod
    def get_debug_info() -> dict[str, str]:
        return {"Backend": "labsim", "Default lab": str(default_lab_path())}

    def _init(self) -> None:
        path = str(self.library_path)
        if not Path(path).exists():
            raise OSError(f"labsim: no lab file at {path!r}")
        self.sessions = {}
        self.lab_path = str(Path(path).resolve())
        get_lab(self.lab_path)  # validate the lab file now, not at the first open

    @property
    def lab(self) -> Lab:
        return get_lab(self.lab_path)

    def _register(self, obj: object) -> int:
        session = random.randint(1_000_000, 9_999_999)
        while session in self.sessions:
            session = random.randint(1_000_000, 9_999_999)
        self.sessions[session] = obj
        return session

    # --- resource manager ------------------------------------------------------------------
    def open_default_resource_manager(self) -> tuple[int, SC]:
        return self._register(self), SC.success

    def list_resources(self, session: int, query: str = "?*::INSTR") -> tuple[str, ...]:
        resources = rname.filter(tuple(self.lab.twins), query)
        if resources:
            return tuple(resources)
        raise errors.VisaIOError(SC.error_resource_not_found.value)

    def open(
        self,
        session: int,
        resource_name: str,
        access_mode: constants.AccessModes = constants.AccessModes.no_lock,
        open_timeout: int = constants.VI_TMO_IMMEDIATE,
    ) -> tuple[int, SC]:
        try:
            parsed = rname.parse_resource_name(resource_name)
        except rname.InvalidResourceName:
            return 0, self.handle_return_value(None, SC.error_invalid_resource_name)
        twin = self.lab.twins.get(str(parsed))
        if twin is None:
            return 0, self.handle_return_value(None, SC.error_resource_not_found)
        return self._register(LabSession(session, parsed, self.lab, twin)), SC.success

    def close(self, session: int) -> SC:
        if self.sessions.pop(session, None) is None:
            return SC.error_invalid_object
        return SC.success

    # --- I/O -------------------------------------------------------------------------------
    def _session(self, session: int) -> LabSession:
        sess = self.sessions.get(session)
        if not isinstance(sess, LabSession):
            raise errors.InvalidSession()
        return sess

    def read(self, session: int, count: int) -> tuple[bytes, SC]:
        data, status = self._session(session).read(count)
        if status < 0:
            return data, self.handle_return_value(session, status)
        return data, status

    def write(self, session: int, data: bytes) -> tuple[int, SC]:
        count, status = self._session(session).write(data)
        if status < 0:
            return count, self.handle_return_value(session, status)
        return count, status

    def clear(self, session: int) -> SC:
        return self.handle_return_value(session, self._session(session).clear())

    def flush(self, session: int, mask: constants.BufferOperation) -> SC:
        return self.handle_return_value(session, self._session(session).flush(int(mask)))

    def read_stb(self, session: int) -> tuple[int, SC]:
        value, status = self._session(session).read_stb()
        return value, self.handle_return_value(session, status)

    def assert_trigger(self, session: int, protocol: constants.TriggerProtocol) -> SC:
        return self.handle_return_value(session, self._session(session).assert_trigger())

    def get_attribute(self, session: int, attribute: Any) -> tuple[Any, SC]:
        sess = self.sessions.get(session)
        if not isinstance(sess, LabSession):
            return 0, SC.error_invalid_object
        return sess.get_attribute(attribute)

    def set_attribute(self, session: int, attribute: Any, attribute_state: Any) -> SC:
        sess = self.sessions.get(session)
        if not isinstance(sess, LabSession):
            return SC.error_invalid_object
        return sess.set_attribute(attribute, attribute_state)

    # --- no-ops a real bench accepts -----------------------------------------------------------
    def lock(self, session: int, lock_type: Any, timeout: int, requested_key: Any = None):
        return "", SC.success

    def unlock(self, session: int) -> SC:
        return SC.success

    def gpib_control_ren(self, session: int, mode: Any) -> SC:
        return SC.success

    def enable_event(self, session: int, event_type: Any, mechanism: Any, context: Any = None):
        return SC.success

    def disable_event(self, session: int, event_type: Any, mechanism: Any) -> SC:
        return SC.success

    def discard_events(self, session: int, event_type: Any, mechanism: Any) -> SC:
        return SC.success

    def install_visa_handler(self, *args: Any, **kwargs: Any) -> Any:  # pragma: no cover
        raise errors.VisaIOError(SC.error_nonsupported_operation.value)
