"""Every benchmark of ``scripts/`` in one table: figure, value, anchor, ratio, goal, met.

Each benchmark script exposes ``figures(quick)`` (``scripts/benchlib.py``); this runs each one in
a fresh interpreter of its own (so that one benchmark's imports, thread pools and JIT caches do
not colour the next one's), collects the figures as JSON and prints them together. Ratios are
against anchors measured in the same run of the same script. Never an assertion.

    python scripts/bench_all.py            # full sizes (several minutes)
    python scripts/bench_all.py --quick    # smaller sizes, the same figures
    python scripts/bench_all.py --json     # the figures as JSON
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

from benchlib import Figure, table

SCRIPTS = Path(__file__).resolve().parent
# In the order a user meets them: start-up, the bench's engine and twins, the chip, training,
# studies on Dask, the instrument server.
BENCHMARKS = (
    "bench_startup",
    "bench_engine",
    "bench_sim",
    "bench_recording",
    "bench_lab_store",
    "bench_chip",
    "bench_train",
    "bench_study",
    "bench_server",
)

_CHILD = """
import json, sys
sys.path.insert(0, {scripts!r})
import {name} as bench
figures = bench.figures(quick={quick!r})
sys.stdout.write("\\n@@figures@@" + json.dumps([f.as_dict() for f in figures]) + "\\n")
"""


def run_benchmark(name: str, quick: bool) -> tuple[list[Figure], str]:
    """The figures of ``scripts/<name>.py``, measured in a fresh interpreter; or an error line."""
    code = _CHILD.format(scripts=str(SCRIPTS), name=name, quick=quick)
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=SCRIPTS.parent
    )
    marker = "@@figures@@"
    out = proc.stdout
    if proc.returncode != 0 or marker not in out:
        last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        return [], f"{name}: failed (exit {proc.returncode}): {last}"
    rows = json.loads(out[out.rindex(marker) + len(marker) :])
    fields = Figure.__dataclass_fields__
    return [Figure(**{k: v for k, v in row.items() if k in fields}) for row in rows], ""


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smaller sizes, the same figures")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    ap.add_argument(
        "--only", nargs="+", choices=BENCHMARKS, default=BENCHMARKS, help="these benchmarks"
    )
    args = ap.parse_args()
    figures: list[Figure] = []
    errors: list[str] = []
    started = time.perf_counter()
    for name in args.only:
        print(f"running {name} ...", file=sys.stderr, flush=True)
        got, error = run_benchmark(name, args.quick)
        figures += got
        if error:
            errors.append(error)
    if args.json:
        print(json.dumps([f.as_dict() for f in figures], indent=2))
    else:
        print(table(figures))
        took_s = time.perf_counter() - started
        print(f"({len(figures)} figures in {took_s:.0f} s, python {sys.version.split()[0]})")
    for error in errors:
        print(error, file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
