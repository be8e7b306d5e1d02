"""The command line starts without its heavy packages (issue 13: ``labctl --help`` took 3 s).

Building the parser loads every ``labctl.commands`` entry point; none of that may import numpy,
pandas, qcodes, scikit-learn, scipy, Qt or the engine: they load in the handlers that use them.
``train``'s options come from the learning rules' declarations (numpy-free: the parameter
dataclasses live apart from the rule classes, which import numpy, 0.4-0.6 s), so ``--help``
builds the whole parser without numpy. ``labctl runs`` reads the runs table with SQLite alone:
no qcodes, no numpy. No wall times here (they depend on the machine): what is imported, checked
in a fresh interpreter. ``scripts/bench_startup.py`` prints the times.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

HEAVY = (
    "numpy",
    "pandas",
    "qcodes",
    "sklearn",
    "scipy",
    "PySide6",
    "pyqtgraph",
    "matplotlib",
    "labctl.engine",
    "numba",  # the device model's compiled laws (0.3 s, more if a cache is cold): simulator only
)


def _imported_after(code: str) -> list[str]:
    probe = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout
    loaded = set(json.loads(out.strip().splitlines()[-1]))
    return sorted(m for m in HEAVY if m in loaded)


def test_building_the_parser_imports_no_heavy_package() -> None:
    code = "import labctl.cli\nparser = labctl.cli.build_parser()"
    assert _imported_after(code) == []


def test_the_parser_still_gets_the_training_options_when_used() -> None:
    code = (
        "import labctl.cli\n"
        "parser = labctl.cli.build_parser()\n"
        "args = parser.parse_args(['train', '--rule', 'device', '--seed', '3'])\n"
        "assert (args.rule, args.seed, args.epochs) == ('device', 3, 20), args\n"
        "assert any(o.option == '--flip-threshold' for o in args.rule_options)"
    )
    assert _imported_after(code) == []  # the rules' declarations, not their classes


def test_the_training_options_are_in_the_help() -> None:
    code = (
        "import contextlib, io, labctl.cli\n"
        "out = io.StringIO()\n"
        "with contextlib.redirect_stdout(out), contextlib.suppress(SystemExit):\n"
        "    labctl.cli.build_parser().parse_args(['train', '--help'])\n"
        "assert '--flip-threshold' in out.getvalue() and '--m-meta' in out.getvalue()"
    )
    assert _imported_after(code) == []


def test_listing_runs_imports_neither_qcodes_nor_pandas(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    from labctl.database import connect

    connect(db).close()  # an empty runs database, as qcodes makes it
    code = f"from labctl.cli import main\nassert main(['--db', {str(db)!r}, 'runs']) == 0"
    assert _imported_after(code) == []


def test_making_a_rule_imports_its_class_and_numpy_then() -> None:
    code = (
        "import sys\n"
        "from protocols.learning.registry import find_rule, make_rule\n"
        "spec = find_rule('device')\n"
        "assert 'numpy' not in sys.modules and spec.param('flip_threshold') is not None\n"
        "rule = make_rule('device', flip_threshold='0.03')\n"
        "assert rule.cfg.flip_threshold == 0.03 and type(rule) is spec.cls"
    )
    assert _imported_after(code) == ["numpy"]
