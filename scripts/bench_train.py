r"""Benchmark hardware-in-the-loop training: fast-path wall time and instrument transactions.

Prints ratios against anchors measured in the same run (never absolute timing claims):

1. wall time of the rule on an array (the fast path: a vectorised virtual chip exposed as a
   SynapseArray) over the wall time of the pure-software reference (``meta-adam`` without an
   array) on the same network, tasks, epochs and seed. Goal ≤ 1.5×.
2. instrument transactions per training step over the minimum the rule needs: one transaction
   per read/write/consolidate call the rule's store makes (one write + one read-back per step
   that flips anything, the consolidation batches, the full reads). Goal ≤ 1.2×.

The array is plugged in with ``--array`` as ``package.module:factory`` or
``path/to/file.py:factory``; it is called as ``factory(n_devices, seed=seed)``. Without it only
the software side runs. Example with the in-test fake array::

    python scripts/bench_train.py --rule device \\
        --array tests/learning/fake_array.py:FakeSynapseArray
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import itertools
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from threadpoolctl import threadpool_limits  # ships with scikit-learn

from protocols.learning import make_tasks, train_sequence
from protocols.learning.train import TrainResult


def load_factory(spec: str) -> Callable[..., Any]:
    """``module:attr`` or ``file.py:attr`` → the callable."""
    target, _, attr = spec.rpartition(":")
    if not target or not attr:
        raise SystemExit(f"--array must be module:factory or file.py:factory, not {spec!r}")
    if target.endswith(".py"):
        path = Path(target).resolve()
        mod_spec = importlib.util.spec_from_file_location(path.stem, path)
        if mod_spec is None or mod_spec.loader is None:
            raise SystemExit(f"cannot load {path}")
        module = importlib.util.module_from_spec(mod_spec)
        sys.modules[path.stem] = module
        mod_spec.loader.exec_module(module)
    else:
        module = importlib.import_module(target)
    return getattr(module, attr)


def _n_devices(sizes: list[int]) -> int:
    return sum(a * b for a, b in itertools.pairwise(sizes))


def bench(args: argparse.Namespace) -> dict[str, Any]:
    tasks = make_tasks(args.tasks, args.seed)
    common = dict(hidden=tuple(args.hidden), epochs=args.epochs, batch=args.batch, seed=args.seed)
    common["curves"] = False

    def best_of(fn: Callable[[], TrainResult]) -> TrainResult:
        runs = [fn() for _ in range(args.repeats)]
        return min(runs, key=lambda r: r.wall_time_s)

    reference = best_of(lambda: train_sequence(tasks, "meta-adam", **common))
    software_rule = best_of(lambda: train_sequence(tasks, args.rule, **common))
    report: dict[str, Any] = {
        "tasks": args.tasks,
        "sizes": reference.sizes,
        "epochs": args.epochs,
        "steps": reference.steps,
        "reference_meta_adam_s": reference.wall_time_s,
        "reference_acc_pct": reference.average_accuracy_pct,
        f"{args.rule}_software_s": software_rule.wall_time_s,
        f"{args.rule}_software_over_reference": software_rule.wall_time_s / reference.wall_time_s,
    }
    if args.array:
        factory = load_factory(args.array)
        n = _n_devices(reference.sizes)
        on_array = best_of(
            lambda: train_sequence(tasks, args.rule, array=factory(n, seed=args.seed), **common)
        )
        cost = on_array.device_cost
        minimum = cost["rule_array_calls"]
        report.update(
            {
                f"{args.rule}_array_s": on_array.wall_time_s,
                "fast_path_over_reference": on_array.wall_time_s / reference.wall_time_s,
                "array_acc_pct": on_array.average_accuracy_pct,
                "transactions": cost["transactions"],
                "transactions_per_step": cost["transactions"] / on_array.steps,
                "minimum_transactions_per_step": minimum / on_array.steps,
                "transactions_over_minimum": cost["transactions"] / max(minimum, 1),
                "write_pulses": cost["write_pulses"],
                "reads": cost["reads"],
                "consolidation_pulses": cost["consolidation_pulses"],
            }
        )
    return report


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--tasks", default="permuted-digits:5")
    p.add_argument("--rule", default="device")
    p.add_argument("--hidden", type=int, nargs="+", default=[256])
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--batch", type=int, default=100)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--repeats", type=int, default=3, help="best of N wall times")
    p.add_argument("--array", default=None, help="module:factory or file.py:factory")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument(
        "--blas-threads",
        type=int,
        default=1,
        help="BLAS threads (the matrices are small: threads only add contention)",
    )
    args = p.parse_args(argv)
    with threadpool_limits(limits=args.blas_threads):
        report = bench(args)
    if args.json:
        print(json.dumps(report))
        return
    for key, value in report.items():
        print(f"{key:>36}: {value:.4g}" if isinstance(value, float) else f"{key:>36}: {value}")
    if "fast_path_over_reference" in report:
        ratio = report["fast_path_over_reference"]
        print(f"\nfast path / software reference: {ratio:.2f}× (goal ≤ 1.5×)")
        print(f"transactions / minimum: {report['transactions_over_minimum']:.2f}× (goal ≤ 1.2×)")


if __name__ == "__main__":
    main()
