"""Errors that reach the user as one readable line (the CLI prints them without a traceback)."""

from __future__ import annotations


class LabctlError(Exception):
    """An error the user can act on; its message is complete on its own."""


class StationError(LabctlError):
    """A station file that does not validate: the message names the file, the key and what was
    expected."""

    def __init__(self, path: str, key: str, problem: str) -> None:
        self.path, self.key, self.problem = path, key, problem
        where = f"{path}: {key}: " if key else f"{path}: "
        super().__init__(where + problem)

    def __reduce__(self) -> tuple[type, tuple[str, str, str]]:
        return type(self), (self.path, self.key, self.problem)


class ParamError(LabctlError):
    """A protocol parameter that does not validate."""


class RunAborted(LabctlError):
    """The run was aborted (Ctrl-C, SIGTERM or an abort request)."""
