"""The state journal: the lab's instrument and chip state, rewritten after every change.

When ``LABSIM_STATE_FILE`` names a file, the lab rewrites it (atomically: temp file + rename)
whenever a command changed what it records — per twin its output, level, field or crosspoints;
for the chip its field and gate voltages. A test can then read the final bench state of a
subprocess that was killed.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

ENV_VAR = "LABSIM_STATE_FILE"


class StateJournal:
    """Writes a JSON snapshot when it differs from the last one written."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._last: dict[str, Any] | None = None

    @classmethod
    def from_env(cls) -> StateJournal | None:
        target = os.environ.get(ENV_VAR)
        return cls(target) if target else None

    def record(self, state: dict[str, Any]) -> None:
        if state == self._last:
            return
        self._last = state
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(state, indent=1, sort_keys=True, default=_plain))
        os.replace(tmp, self.path)


def _plain(value: Any) -> Any:
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, set | frozenset | tuple):
        return sorted(value)
    return str(value)
