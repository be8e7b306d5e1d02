"""A fresh process trains without paying page faults for every step's temporaries (issue 13:
``labctl train`` as installed ran 1.11-1.18× the same run repeated in a warm process): training
keeps glibc's freed heap for reuse (:mod:`protocols.learning.heap`). Counted in minor page
faults of the first training in a fresh interpreter, not in wall time."""

from __future__ import annotations

import json
import platform
import subprocess
import sys

import pytest

from protocols.learning import heap

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc",
    reason="glibc's mallopt only",
)

FIRST_TRAINING = """
import json, resource, sys
from protocols.learning import heap, make_tasks, train_sequence
if sys.argv[1] == "off":
    heap._kept = False  # as if glibc had refused: its default thresholds
tasks = make_tasks("permuted-digits:2", 0)
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
result = train_sequence(tasks, "meta-adam", hidden=(256,), epochs=4, seed=0)
faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before
print(json.dumps([faults, heap.keep_heap(), result.average_accuracy_pct]))
"""


def _first_training(mode: str) -> tuple[int, bool, float]:
    out = subprocess.run(
        [sys.executable, "-c", FIRST_TRAINING, mode], capture_output=True, text=True, check=True
    )
    faults, kept, acc = json.loads(out.stdout.strip().splitlines()[-1])
    return faults, kept, acc


def test_the_first_training_in_a_fresh_process_reuses_its_heap() -> None:
    faults, kept, acc = _first_training("on")
    default_faults, default_kept, default_acc = _first_training("off")
    assert kept and not default_kept
    assert acc == default_acc  # where memory comes from changes nothing in the results
    assert faults * 4 < default_faults, (faults, default_faults)


def test_keep_heap_is_once_per_process_and_yields_to_glibc_s_variables(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(heap, "_kept", None)
    monkeypatch.setenv("MALLOC_TRIM_THRESHOLD_", "1000000")
    assert heap.keep_heap() is False  # the user's own setting stands
    monkeypatch.delenv("MALLOC_TRIM_THRESHOLD_")
    assert heap.keep_heap() is False  # decided once per process
    monkeypatch.setattr(heap, "_kept", None)
    assert heap.keep_heap() is True
