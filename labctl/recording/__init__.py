"""Record a run's VISA traffic, replay it strictly, re-run it on the twin.

- :mod:`~labctl.recording.visa_recorder` — ``@labrec``, the recording VISA library
- :mod:`~labctl.recording.visa_replay` — ``@labreplay``, the library that answers from a recording
- :mod:`~labctl.recording.hook` — recording on by default in labctl runs (:func:`recorder_for_run`)
- :mod:`~labctl.recording.replay` — ``labctl replay RUN`` (:func:`replay_run`)
- :mod:`~labctl.recording.twin` — ``labctl replay RUN --sim``
- :mod:`~labctl.recording.divergence` — the first divergence of a replay and its protocol line

Calibrating the twin from recorded runs is analysis: ``protocols.calibration``.

Imports are lazy: a plain pyvisa script using ``@labrec`` loads neither qcodes nor pandas.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_EXPORTS = {
    "recorder_for_run": "labctl.recording.hook",
    "RunRecorder": "labctl.recording.hook",
    "replay_run": "labctl.recording.replay",
    "load_recording": "labctl.recording.store",
    "traffic_frame": "labctl.recording.store",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'labctl.recording' has no attribute {name!r}")
