"""Benchmark hardware-in-the-loop training: fast-path wall time and instrument transactions.

Prints ratios against anchors measured in the same run (never absolute timing claims):

0. **As installed**: ``labctl train`` run as a user runs it (the console script in a
   subprocess, no ``OPENBLAS_NUM_THREADS``/``OMP_NUM_THREADS``/``LABCTL_BLAS_THREADS`` in its
   environment) against the same run (protocol, station, options, seed) executed in this
   process; the training wall times (``wall_time_s`` of the result) are compared, best of
   ``--installed-repeats``. Goal ≤ 1.1×: labctl sizes BLAS's thread pool itself
   (``protocols/learning/threads.py``), so no entry point depends on the environment. The
   accuracies must be equal. The BLAS thread setting (outside and during training) is printed,
   and the same ratio in CPU time of the training thread (``cpu_time_s``; on a shared machine
   the wall ratio moves with the load of other processes, the CPU ratio much less). Where the
   extra went: BLAS's default pool (fixed by ``threads.py``) and, in a fresh process, page
   faults on every step's temporaries until glibc's heap settled (+15-20 % CPU; fixed by
   ``protocols/learning/heap.py``). What a user waits for outside the training
   (``installed_process_wall_s``: interpreter start, imports, scikit-learn's dataset, the
   station, figures) is not in ``wall_time_s`` of either side.
1. **Fast path**: wall time of the ``device`` rule on the vectorised virtual chip
   (``sim_backend.fast_array``) over the wall time of the pure-software reference
   (``meta-adam``, no array) on the same network, tasks, epochs and seed (best of
   ``--repeats``). Goal ≤ 1.2× (P5). The same ratio in CPU time of the training thread is printed
   too: on a shared machine it moves less with the load of other processes.
2. **Instrument path**: the ``train`` protocol run by the engine on the station
   ``labctl/stations/simulated_synapse_array.yaml`` (the ``synapse_array`` role over the
   3706A, 33500B, 2450 and SR860 twins through pyvisa ``@labsim``; 16 devices, so a 4-2-3
   network on ``permuted-iris:2``). Transactions per training step against the minimum the
   rule needs: the rule's device operations — one start-up read of every synapse, its write
   pulses, the read-back of exactly the written devices, its gate pulses — each at the cost of
   one such operation on this bench, measured on the same station after the run (routing
   included; a gate pulse includes the gate source's safe ramp). Everything above that (full
   re-reads, repeated routing, queries) is overhead. Goal ≤ 1.2×.

    python scripts/bench_train.py               # all three parts
    python scripts/bench_train.py --json

:func:`figures` gives the three ratios in ``scripts/benchlib.py``'s form (``quick=True``: 5
epochs per task and fewer repeats, for ``bench_all``).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from threadpoolctl import threadpool_info  # ships with scikit-learn

sys.path.insert(0, str(Path(__file__).resolve().parent))  # benchlib, run as a script or imported
from benchlib import Figure, table

from labctl.bench import open_bench
from labctl.clock import VirtualClock, use_clock
from labctl.engine import execute
from labctl.params import build_params
from labctl.protocol import find_protocol
from labctl.station import builtin_station, load_station
from protocols.learning import make_tasks, train_sequence
from protocols.learning.rule_settings import DeviceRuleConfig
from protocols.learning.tasks import n_synapses
from protocols.learning.threads import ENV_VAR, sized_blas
from sim_backend.fast_array import make_fast_array

ROOT = Path(__file__).resolve().parents[1]
STATION = ROOT / "labctl" / "stations" / "simulated_synapse_array.yaml"
THREAD_ENV = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", ENV_VAR)
GOALS = {"installed": 1.1, "fast_path": 1.2, "instrument": 1.2}


def thread_setting() -> dict[str, Any]:
    """BLAS libraries and their thread counts: as loaded, and while labctl trains."""

    def describe() -> str:
        infos = [i for i in threadpool_info() if i["user_api"] == "blas"]
        return ", ".join(f"{i['internal_api']} {i['num_threads']} thread(s)" for i in infos)

    outside = describe()
    with sized_blas():
        during = describe()
    given = {k: os.environ[k] for k in THREAD_ENV if k in os.environ}
    return {
        "blas_outside_training": outside or "none loaded",
        "blas_during_training": during or "none loaded",
        "thread_env_of_this_process": " ".join(f"{k}={v}" for k, v in given.items()) or "none",
    }


def _labctl_script() -> list[str]:
    """The installed ``labctl`` console script next to this interpreter (else on PATH)."""
    script = Path(sys.executable).with_name("labctl")
    return [str(script)] if script.exists() else ["labctl"]


def installed(args: argparse.Namespace) -> dict[str, Any]:
    """``labctl train`` in a subprocess with no thread variables against the same run here."""
    options = [
        "--rule", "device", "--tasks", args.tasks, "--epochs", str(args.epochs),
        "--seed", str(args.seed), "--hidden", *map(str, args.hidden),
    ]  # fmt: skip
    env = {k: v for k, v in os.environ.items() if k not in THREAD_ENV}
    spec = find_protocol("train")
    raw = {
        "rule": "device",
        "tasks": args.tasks,
        "hidden": [float(h) for h in args.hidden],
        "epochs": args.epochs,
        "seed": args.seed,
    }
    station = load_station(builtin_station("virtual_chip_fast.yaml"))  # `--path fast`
    sub_s, here_s, sub_total_s, here_total_s, sub_cpu_s, here_cpu_s = [], [], [], [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.installed_repeats):  # interleaved: both see the same load
            t0 = time.perf_counter()
            done = subprocess.run(
                [*_labctl_script(), "--json", "--db", f"{tmp}/sub{i}.db", "train", *options],
                env=env, capture_output=True, text=True, check=False,
            )  # fmt: skip
            sub_total_s.append(time.perf_counter() - t0)
            if done.returncode != 0:
                raise SystemExit(f"labctl train failed: {done.stderr.strip()}")
            sub = json.loads(done.stdout)["result"]
            t0 = time.perf_counter()
            params = build_params(spec.params_type, raw, "train")
            outcome = execute(
                spec, params, station, Path(tmp) / f"here{i}.db", handle_signals=False
            )
            here_total_s.append(time.perf_counter() - t0)
            if outcome.status != "completed":
                raise SystemExit(f"in-process train: run {outcome.status}: {outcome.error}")
            here = outcome.result
            sub_s.append(sub["wall_time_s"])
            here_s.append(here["wall_time_s"])
            sub_cpu_s.append(sub["cpu_time_s"])
            here_cpu_s.append(here["cpu_time_s"])
    return {
        "installed_command": "labctl train " + " ".join(options),
        "installed_train_s": min(sub_s),
        "in_process_train_s": min(here_s),
        "installed_over_in_process": min(sub_s) / min(here_s),
        "installed_train_cpu_s": min(sub_cpu_s),
        "in_process_train_cpu_s": min(here_cpu_s),
        "installed_over_in_process_cpu": min(sub_cpu_s) / min(here_cpu_s),
        "installed_process_wall_s": min(sub_total_s),
        "in_process_run_wall_s": min(here_total_s),
        "installed_acc_pct": sub["average_accuracy_pct"],
        "in_process_acc_pct": here["average_accuracy_pct"],
    }


def fast_path(args: argparse.Namespace) -> dict[str, Any]:
    tasks = make_tasks(args.tasks, args.seed)
    common: dict[str, Any] = dict(
        hidden=tuple(args.hidden), epochs=args.epochs, seed=args.seed, curves=False
    )
    n = n_synapses(tasks, args.hidden)
    ref_s, fast_s, ref_cpu_s, fast_cpu_s = [], [], [], []
    for _ in range(args.repeats):  # interleaved: both see the same machine load
        t0 = time.thread_time()
        ref = train_sequence(tasks, "meta-adam", **common)
        t1 = time.thread_time()
        fast = train_sequence(tasks, "device", array=make_fast_array(n, seed=args.seed), **common)
        fast_cpu_s.append(time.thread_time() - t1)
        ref_cpu_s.append(t1 - t0)
        ref_s.append(ref.wall_time_s)
        fast_s.append(fast.wall_time_s)
    return {
        "tasks": args.tasks,
        "sizes": ref.sizes,
        "epochs": args.epochs,
        "steps": ref.steps,
        "reference_meta_adam_s": min(ref_s),
        "fast_path_device_s": min(fast_s),
        "fast_over_reference": min(fast_s) / min(ref_s),
        "reference_cpu_s": min(ref_cpu_s),
        "fast_path_cpu_s": min(fast_cpu_s),
        "fast_over_reference_cpu": min(fast_cpu_s) / min(ref_cpu_s),
        "reference_acc_pct": ref.average_accuracy_pct,
        "fast_path_acc_pct": fast.average_accuracy_pct,
    }


def _operation_costs(station_path: Path) -> dict[str, float]:
    """Transactions of one read, one write pulse and one gate pulse of the device rule on this
    bench (each on a fresh device, so routing is included), averaged over 4 devices."""
    cfg = DeviceRuleConfig()
    clock = VirtualClock()
    with use_clock(clock):  # the twins follow the station clock (gate pulse durations)
        return _measure_costs(station_path, cfg, clock)


def _measure_costs(station_path: Path, cfg: DeviceRuleConfig, clock: VirtualClock) -> dict:
    bench = open_bench(load_station(station_path), clock)
    try:
        array = bench.array
        ops = {
            "read": lambda d: array.read([d]),
            "write": lambda d: array.write([d], 1, cfg.write_amplitude_V, cfg.write_width_s),
            "gate": lambda d: array.consolidate([d], cfg.gate_voltage_V, cfg.gate_duration_s),
        }
        costs = {}
        for name, op in ops.items():
            before = array.transactions
            for device in range(4):
                op(device)
            costs[name] = (array.transactions - before) / 4
        return costs
    finally:
        bench.safe_state()
        bench.close()


def instrument_path(args: argparse.Namespace) -> dict[str, Any]:
    spec = find_protocol("train")
    raw = {
        "rule": "device",
        "tasks": "permuted-iris:2",
        "hidden": [2],
        "epochs": args.instrument_epochs,
        "batch": 40,
        "lr": 0.05,  # a 14-synapse network needs larger steps to flip within a few epochs
        "seed": args.seed,
    }
    params = build_params(spec.params_type, raw, "train")
    with tempfile.TemporaryDirectory() as tmp:
        outcome = execute(
            spec, params, load_station(STATION), Path(tmp) / "bench.db", handle_signals=False
        )
    if outcome.status != "completed":
        raise SystemExit(f"instrument path: run {outcome.status}: {outcome.error}")
    costs = _operation_costs(STATION)  # after the run: the calibration pulses touch devices 0-3
    res = outcome.result
    cost, steps = res["device_cost"], res["steps"]
    n = n_synapses(make_tasks(raw["tasks"], args.seed), raw["hidden"])
    needed_reads = n + cost["write_pulses"]
    minimum = (
        needed_reads * costs["read"]
        + cost["write_pulses"] * costs["write"]
        + cost["consolidation_pulses"] * costs["gate"]
    )
    return {
        "station": STATION.name,
        "instrument_sizes": res["sizes"],
        "instrument_steps": steps,
        "tx_per_read": costs["read"],
        "tx_per_write": costs["write"],
        "tx_per_gate_pulse": costs["gate"],
        "reads": cost["reads"],
        "reads_needed": needed_reads,
        "write_pulses": cost["write_pulses"],
        "consolidation_pulses": cost["consolidation_pulses"],
        "router_operations": cost["router_operations"],
        "transactions": cost["transactions"],
        "transactions_per_step": cost["transactions"] / steps,
        "minimum_transactions_per_step": minimum / steps,
        "transactions_over_minimum": cost["transactions"] / minimum,
    }


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--tasks", default="permuted-digits:5")
    p.add_argument("--hidden", type=int, nargs="+", default=[256])
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--repeats", type=int, default=5, help="best of N times")
    p.add_argument("--instrument-epochs", type=int, default=5)
    p.add_argument("--installed-repeats", type=int, default=3, help="best of N, part 0")
    p.add_argument("--skip-installed", action="store_true", help="leave out part 0")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    return p


def measure(args: argparse.Namespace) -> dict[str, Any]:
    """The three parts' measurements, with the BLAS thread setting."""
    os.environ.setdefault("LABCTL_RECORD", "0")  # the bench counts transactions, not traffic
    # no thread limit here: the training sizes BLAS itself, as for every user
    report = thread_setting()
    if not args.skip_installed:
        report.update(installed(args))
    report.update(fast_path(args))
    report.update(instrument_path(args))
    return report


def figures_of(report: dict[str, Any], args: argparse.Namespace) -> list[Figure]:
    threads = (
        f"BLAS {report['blas_during_training']} while training "
        f"({report['blas_outside_training']} outside; no thread variables)"
    )
    size = f"{args.tasks}, hidden {args.hidden}, {args.epochs} epochs/task, seed {args.seed}"
    out = []
    if "installed_train_s" in report:
        ratio = report["installed_over_in_process"]
        out.append(
            Figure(
                name="labctl train as installed / same run in-process",
                value=report["installed_train_s"],
                unit="s",
                anchor="the same run in bench_train's process",
                anchor_value=report["in_process_train_s"],
                goal=f"<= {GOALS['installed']}x",
                met=ratio <= GOALS["installed"],
                note=f"training wall time, best of {args.installed_repeats}; {size}; CPU-time "
                f"ratio {report['installed_over_in_process_cpu']:.2f}x; {threads}",
            )
        )
    out.append(
        Figure(
            name="P5 HIL fast path (device on fast_array) / numpy reference (meta-adam)",
            value=report["fast_path_device_s"],
            unit="s",
            anchor="meta-adam, pure software",
            anchor_value=report["reference_meta_adam_s"],
            goal=f"<= {GOALS['fast_path']}x",
            met=report["fast_over_reference"] <= GOALS["fast_path"],
            note=f"best of {args.repeats}; {size}; CPU-time ratio "
            f"{report['fast_over_reference_cpu']:.2f}x; {threads}",
        )
    )
    out.append(
        Figure(
            name="instrument path transactions / minimum",
            value=report["transactions_per_step"],
            unit="tx/step",
            anchor="the rule's device operations at this bench's cost",
            anchor_value=report["minimum_transactions_per_step"],
            goal=f"<= {GOALS['instrument']}x",
            met=report["transactions_over_minimum"] <= GOALS["instrument"],
            note=f"{report['station']}, permuted-iris:2, hidden 2, {args.instrument_epochs} epochs",
        )
    )
    return out


def figures(quick: bool = False) -> list[Figure]:
    """Part 0 (installed / in-process), P5 (fast path / reference) and the instrument path's
    transactions / minimum; ``quick``: 5 epochs per task, fewer repeats."""
    argv = ["--epochs", "5", "--repeats", "2", "--installed-repeats", "2"] if quick else []
    argv += ["--instrument-epochs", "2"] if quick else []
    args = _parser().parse_args(argv)
    return figures_of(measure(args), args)


def main(argv: list[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    report = measure(args)
    if args.json:
        print(json.dumps(report))
        return
    for key, value in report.items():
        print(f"{key:>32}: {value:.4g}" if isinstance(value, float) else f"{key:>32}: {value}")
    print(
        f"\nBLAS threads: {report['blas_outside_training']} outside training, "
        f"{report['blas_during_training']} while training "
        f"(${ENV_VAR} to change; thread variables here: {report['thread_env_of_this_process']})"
    )
    if not args.skip_installed:
        same = report["installed_acc_pct"] == report["in_process_acc_pct"]
        print(
            f"labctl train accuracy, installed and in-process: {'identical' if same else 'DIFFERS'}"
        )
    print()
    print(table(figures_of(report, args)))


if __name__ == "__main__":
    main()
