"""The labs this process has open: one per lab file, outliving the process that made it.

pyvisa keeps one ``@labsim`` library per lab file, and this module one :class:`Lab` per lab file
per process (:func:`get_lab`). Instruments outlive their clients: unless ``LABSIM_PERSIST=0`` a
lab lives in a store (:mod:`sim_backend.labs.journal`), and a process that opens a lab whose
owner died takes it over, state and time included. Tests start from a fresh bench with
:func:`forget_labs`.
"""

from __future__ import annotations

import atexit
import os
import warnings
from pathlib import Path

from labctl.clock import catch_up_to, reset_virtual_time
from sim_backend import faults
from sim_backend.lab import Lab
from sim_backend.labs.journal import LabStore, persistence_on

_LABS: dict[str, Lab] = {}


def default_lab_path() -> Path:
    return Path(__file__).with_name("labs") / "default.yaml"


def get_lab(path: str | Path | None = None) -> Lab:
    """The process-wide lab for ``path`` (default lab when None), created on first use."""
    key = str(Path(path).resolve()) if path else str(default_lab_path())
    lab = _LABS.get(key)
    if lab is None:
        lab = _open_lab(key)
        _LABS[key] = lab
        faults.arm_from_lab(lab.spec.faults, key)
    return lab


def _open_lab(path: str) -> Lab:
    """The lab a dead process left behind (instruments outlive their clients), else a new
    one from the lab file; kept in a store unless ``LABSIM_PERSIST=0``."""
    if not persistence_on():
        return Lab.from_file(path)
    try:
        taken = LabStore.take_orphan(path)
        if taken is None:
            lab = Lab.from_file(path)
            lab.persist_to(LabStore.create(path))
            return lab
    except OSError as exc:  # a lab in memory only is still a lab: say so, do not fail
        warnings.warn(f"labsim: the lab will not outlive this process: {exc}", stacklevel=2)
        return Lab.from_file(path)
    store, orphan = taken
    lab = orphan.lab
    lab.replay(orphan.entries, orphan.reached_s)
    catch_up_to(lab.t_s)  # this process's clock must not run behind the lab it took over
    lab.persist_to(store)
    if lab.journal is not None:
        lab.journal.record(lab.state())
    return lab


def forget_labs() -> None:
    """Close every cached lab (tests: start from a fresh bench); with no lab left, virtual
    clocks may start from the epoch again (the same numbers whatever ran before)."""
    for lab in _LABS.values():
        lab.close()
    _LABS.clear()
    reset_virtual_time()


@atexit.register
def _close_labs_at_exit() -> None:
    for lab in _LABS.values():
        lab.close()


def _disown_labs_in_child() -> None:
    # a forked child shares the parent's lock and log: it must neither hold the parent's lab
    # alive after the parent died nor write into its log
    for lab in _LABS.values():
        if lab.store is not None:
            lab.store.disown()
            lab.store = None


os.register_at_fork(after_in_child=_disown_labs_in_child)
