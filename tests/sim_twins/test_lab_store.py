"""The simulated lab outlives its process: a dead owner's lab is taken over, state and time."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import pyvisa

from labctl.clock import VirtualClock, use_clock
from sim_backend import lab as lab_module
from sim_backend import open_labs
from sim_backend.lab import is_pure_query
from sim_backend.open_labs import get_lab


@pytest.fixture
def persisted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("LABSIM_PERSIST", "1")
    monkeypatch.setenv("LABSIM_STATE_DIR", str(tmp_path))
    return tmp_path


def _die(lab: lab_module.Lab) -> None:
    """What kill -9 does to the lab's owner: its lock goes, its files stay, nothing is closed."""
    assert lab.store is not None
    os.close(lab.store._lock_fd)
    os.close(lab.store._log_fd)
    lab.store.closed = True
    open_labs._LABS.clear()


def _open(rm: pyvisa.ResourceManager, address: str) -> pyvisa.resources.MessageBasedResource:
    inst = rm.open_resource(address)
    inst.read_termination = inst.write_termination = "\n"  # type: ignore[union-attr]
    return inst  # type: ignore[return-value]


def test_a_dead_owners_lab_is_taken_over_with_its_state_and_time(persisted: Path) -> None:
    with use_clock(VirtualClock()) as clock:
        rm = pyvisa.ResourceManager("@labsim")
        gate, bop = _open(rm, "GPIB0::24::INSTR"), _open(rm, "GPIB0::6::INSTR")
        gate.write(":SOUR:VOLT:LEV 0.25")
        gate.write(":OUTP ON")
        bop.write("FUNC:MODE CURR")
        bop.write("CURR 1.5")
        bop.write("OUTP ON")
        clock.sleep(30.0)
        gate.query(":READ?")
        old = get_lab()
        old.store.snapshot(old)  # type: ignore[union-attr]
        bop.write("CURR 2.0")  # after the snapshot: only in the log
        clock.sleep(5.0)
        bop.query("MEAS:CURR?")
        state, t_s = old.state(), old.t_s
        magnetization = np.array(old.chip.m, copy=True) if hasattr(old.chip, "m") else None
        _die(old)
    with use_clock(VirtualClock(start_s=t_s - 100.0)) as later:  # a clock behind the lab
        new = get_lab()
        assert new is not old
        assert later.now() >= t_s  # the taker's clock caught up: lab time never goes back
        assert new.state() == state
        assert new.state()["instruments"]["bop"]["current_A"] == 2.0
        if magnetization is not None:
            assert np.array_equal(np.asarray(new.chip.m), magnetization)
        rm = pyvisa.ResourceManager("@labsim")
        assert float(_open(rm, "GPIB0::24::INSTR").query(":SOUR:VOLT:LEV?")) == 0.25


def test_the_chips_hidden_state_survives_a_snapshot(persisted: Path) -> None:
    with use_clock(VirtualClock()) as clock:
        lab = get_lab()
        clock.sleep(3.0)
        lab.sync()
        lab.store.snapshot(lab)  # type: ignore[union-attr]
        chip_before = pickle.dumps(lab.chip)
        _die(lab)
        taken = get_lab()
    assert pickle.dumps(taken.chip) == chip_before


def test_a_clean_close_powers_the_lab_off(persisted: Path) -> None:
    lab = get_lab()
    assert list(persisted.glob("*.snap"))
    open_labs.forget_labs()
    assert not list(persisted.iterdir())
    assert get_lab() is not lab


def test_a_live_owners_lab_is_not_taken(persisted: Path) -> None:
    """Another process owning the default lab (alive) leaves this one a fresh lab of its own."""
    script = textwrap.dedent(
        """
        import sys, pyvisa
        from sim_backend.open_labs import get_lab
        get_lab()
        print("ready", flush=True)
        sys.stdin.read()
        """
    )
    owner = subprocess.Popen(
        [sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert owner.stdout is not None and owner.stdout.readline().strip() == "ready"
        lab = get_lab()
        assert len(list(persisted.glob("*.lock"))) == 2  # its own store beside the owner's
        assert lab.store is not None
    finally:
        owner.communicate("")
    assert len(list(persisted.glob("*.lock"))) == 1  # the owner closed cleanly


def test_only_state_changing_messages_are_logged() -> None:
    assert is_pure_query(":SOUR:VOLT:LEV?", True)
    assert is_pure_query("OUTP? 1;*IDN?", True)
    assert is_pure_query("print(smua.measure.i())", True)
    assert not is_pure_query(":SOUR:VOLT:LEV 0.1", False)
    assert not is_pure_query(":SOUR:VOLT:LEV 0.1;*OPC?", True)
    assert not is_pure_query("smua.source.levelv = 1", False)


def test_a_state_directory_others_can_write_is_refused(persisted: Path) -> None:
    persisted.chmod(0o777)
    try:
        with pytest.warns(UserWarning, match="must belong to you"):
            lab = get_lab()
        assert lab.store is None
    finally:
        persisted.chmod(0o700)


def test_a_forked_child_neither_keeps_nor_writes_the_parents_lab(persisted: Path) -> None:
    lab = get_lab()
    pid = os.fork()
    if pid == 0:  # the child: its copy of the lab is in memory only
        os._exit(0 if get_lab().store is None else 1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert lab.store is not None and list(persisted.glob("*.snap"))
