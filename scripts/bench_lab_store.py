"""What outliving the process costs (issue 11, item 3), in one run, as ratios to anchors.

(a) µs per twin query and per state-changing command through pyvisa ``@labsim`` (best of 7
    interleaved rounds: the machine is shared, single rounds vary 2x), with the lab store off
    (``LABSIM_PERSIST=0``, the anchor) and on (default): a query writes nothing, a command
    appends one log line, a snapshot (pickled lab) is taken at most every 2 s; and the store's
    own work per message, timed alone.
(b) one snapshot, and one takeover of a dead owner's lab (load + replay of the log).
(c) the supervisor: wall time ``execute`` spends to spawn it and release it, against the
    anchor of spawning ``python -c pass``; and its own start-up (imports) in CPU seconds.

(d) with ``--kill``: ``labctl run hall-loop`` killed (-9) with the magnet energised; seconds
    until the instruments' own state (the lab journal) is safe, and until the run reads
    "interrupted" (requirement: safe within 10 s).

Run: ``python scripts/bench_lab_store.py [n] [--kill]``; ``figures()`` (for
``scripts/bench_all.py``) gives (a)'s ratios and one (d). Never an assertion: run it, read it.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pyvisa
from benchlib import Figure

from labctl.clock import VirtualClock, use_clock
from labctl.supervisor import start_supervisor
from sim_backend import open_labs


def _resource(address: str) -> pyvisa.resources.MessageBasedResource:
    inst = pyvisa.ResourceManager("@labsim").open_resource(address)
    inst.read_termination = inst.write_termination = "\n"  # type: ignore[union-attr]
    return inst  # type: ignore[return-value]


def _per_op_us(op: object, n: int) -> float:
    for i in range(20):
        op(i)  # type: ignore[operator]
    start = time.perf_counter()
    for i in range(n):
        op(i)  # type: ignore[operator]
    return (time.perf_counter() - start) / n * 1e6


def twin_costs(persist: bool, n: int) -> dict[str, float]:
    os.environ["LABSIM_PERSIST"] = "1" if persist else "0"
    open_labs.forget_labs()
    with use_clock(VirtualClock()):
        gate, lockin = _resource("GPIB0::24::INSTR"), _resource("GPIB0::8::INSTR")
        gate.write(":OUTP ON")
        out = {
            "query 2400 :READ?": _per_op_us(lambda i: gate.query(":READ?"), n),
            "query SR830 OUTP? 1": _per_op_us(lambda i: lockin.query("OUTP? 1"), n),
            "command 2400 :SOUR:VOLT:LEV": _per_op_us(
                lambda i: gate.write(f":SOUR:VOLT:LEV {0.001 * (i % 100):.3f}"), n
            ),
        }
        gate.write(":OUTP OFF")
    return out


def added_work_us(n: int) -> dict[str, float]:
    """The store's own work per message, timed alone (immune to the noise of whole queries)."""
    os.environ["LABSIM_PERSIST"] = "1"
    open_labs.forget_labs()
    lab = open_labs.get_lab()
    store, twin = lab.store, lab.by_name["gate_smu"]
    assert store is not None
    store._snap_wall_s = float("inf")  # no snapshot inside the timing

    def query(i: int) -> None:
        store.note_time(float(i))
        lab.after_command(twin, ":READ?", True)

    def command(i: int) -> None:
        store.note_time(float(i))
        lab.after_command(twin, ":SOUR:VOLT:LEV 0.001", False)

    lab.journal = None
    out = {"query": _per_op_us(query, n), "command": _per_op_us(command, n)}
    store._snap_wall_s = 0.0
    open_labs.forget_labs()
    return out


def store_costs(n: int) -> dict[str, float]:
    os.environ["LABSIM_PERSIST"] = "1"
    open_labs.forget_labs()
    with use_clock(VirtualClock()):
        gate = _resource("GPIB0::24::INSTR")
        lab = open_labs.get_lab()
        assert lab.store is not None
        start = time.perf_counter()
        for _ in range(20):
            lab.store.snapshot(lab)
        snapshot_ms = (time.perf_counter() - start) / 20 * 1e3
        for i in range(n):  # a log to replay
            gate.write(f":SOUR:VOLT:LEV {0.001 * (i % 100):.3f}")
        store = lab.store
        os.close(store._lock_fd)  # what kill -9 does to the owner
        os.close(store._log_fd)
        store.closed = True
        open_labs._LABS.clear()
        start = time.perf_counter()
        open_labs.get_lab()
        takeover_ms = (time.perf_counter() - start) * 1e3
    open_labs.forget_labs()
    return {"snapshot (ms)": snapshot_ms, f"takeover, {n}-line log (ms)": takeover_ms}


def supervisor_costs(repeats: int) -> dict[str, float]:
    start = time.perf_counter()
    for _ in range(repeats):
        subprocess.run([sys.executable, "-c", "pass"], check=True)
    bare_ms = (time.perf_counter() - start) / repeats * 1e3
    spawn = release = 0.0
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(repeats):
            t0 = time.perf_counter()
            sup = start_supervisor("station.yaml", "@labsim", Path(tmp) / "x.db", 1)
            t1 = time.perf_counter()
            time.sleep(3.0)  # a run: the supervisor imports meanwhile
            t2 = time.perf_counter()
            sup.release()
            t3 = time.perf_counter()
            sup.proc.wait()  # reaped, so that its CPU time is counted
            spawn, release = spawn + (t1 - t0), release + (t3 - t2)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_s = (after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime) / repeats
    return {
        "python -c pass, spawn + exit (ms, anchor)": bare_ms,
        "execute: spawn the supervisor (ms)": spawn / repeats * 1e3,
        "execute: release it at the end (ms)": release / repeats * 1e3,
        "supervisor CPU per run (s)": cpu_s,
    }


def kill_9_latency_s() -> dict[str, float]:
    import json
    import signal

    from labctl.data import list_runs

    tmp = Path(tempfile.mkdtemp(prefix="labsim-kill-"))
    journal, db = tmp / "state.json", tmp / "k.db"
    env = {**os.environ, "LABSIM_PERSIST": "1", "LABSIM_STATE_DIR": str(tmp / "labsim")}
    env.update(LABSIM_STATE_FILE=str(journal), LABCTL_SUPERVISE="1")

    def bop() -> dict[str, object]:
        try:
            return json.loads(journal.read_text())["instruments"]["bop"]
        except (OSError, ValueError):
            return {}

    cmd = [sys.executable, "-c", "from labctl.cli import main; main()", "run", "hall-loop"]
    proc = subprocess.Popen([*cmd, "--db", str(db)], env=env, cwd=tmp, stderr=subprocess.DEVNULL)
    while not (bop().get("output") and abs(float(bop().get("current_A", 0.0))) > 0.5):  # type: ignore[arg-type]
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    t0 = time.monotonic()
    while bop().get("output") or float(bop().get("current_A", 1.0)) != 0.0:  # type: ignore[arg-type]
        time.sleep(0.02)
    safe_s = time.monotonic() - t0
    while not [
        r for r in list_runs(db) if r.status == "interrupted" and "safe_state" in r.metadata
    ]:
        time.sleep(0.05)
    return {"kill -9 -> safe state (s)": safe_s, "kill -9 -> run marked (s)": time.monotonic() - t0}


def figures(quick: bool = False) -> list[Figure]:
    """(a) store on against off, per operation, and (d) once: kill -9 to the safe state."""
    n, rounds = (500, 3) if quick else (2000, 7)
    os.environ["LABSIM_STATE_DIR"] = tempfile.mkdtemp(prefix="labsim-bench-")
    runs = [(twin_costs(False, n), twin_costs(True, n)) for _ in range(rounds)]  # interleaved
    out = []
    for key in runs[0][0]:
        off, on = min(r[0][key] for r in runs), min(r[1][key] for r in runs)
        goal, limit = ("<= 1.1x", 1.1) if key.startswith("query") else ("<= 1.25x", 1.25)
        out.append(
            Figure(
                f"lab store on: {key}", on, "us/op", "lab store off (LABSIM_PERSIST=0)", off,
                goal, on <= limit * off, f"best of {rounds} interleaved rounds of {n}",
            )
        )  # fmt: skip
    safe_s = kill_9_latency_s()["kill -9 -> safe state (s)"]
    out.append(
        Figure(
            "kill -9 mid hall-loop -> safe state", safe_s, "s", "-", None, "<= 10 s",
            safe_s <= 10.0, "magnet energised; read from the instruments' own state",
        )
    )  # fmt: skip
    return out


def main() -> None:
    args = [a for a in sys.argv[1:] if a != "--kill"]
    if "--kill" in sys.argv:
        for _ in range(3):
            print("(d)", "; ".join(f"{k}: {v:.2f}" for k, v in kill_9_latency_s().items()))
        return
    n = int(args[0]) if args else 2000
    os.environ["LABSIM_STATE_DIR"] = tempfile.mkdtemp(prefix="labsim-bench-")
    runs = [(twin_costs(False, n), twin_costs(True, n)) for _ in range(7)]  # interleaved
    off = {k: min(r[0][k] for r in runs) for k in runs[0][0]}
    on = {k: min(r[1][k] for r in runs) for k in runs[0][1]}
    print(f"(a) µs per operation, n={n}, best of 7  store off (anchor)  store on  ratio")
    for key in off:
        print(f"    {key:30s} {off[key]:12.1f} {on[key]:12.1f} {on[key] / off[key]:8.2f}")
    added = added_work_us(20 * n)
    print("    the store's own work: " + ", ".join(f"{k} {v:.2f} µs" for k, v in added.items()))
    print("(b)", "; ".join(f"{k}: {v:.2f}" for k, v in store_costs(n).items()))
    costs = supervisor_costs(3)
    anchor = costs["python -c pass, spawn + exit (ms, anchor)"]
    print("(c)")
    for key, value in costs.items():
        ratio = f"  ({value / anchor:.2f}x anchor)" if key.startswith("execute") else ""
        print(f"    {key:44s} {value:8.2f}{ratio}")


if __name__ == "__main__":
    main()
