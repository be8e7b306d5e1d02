"""``labctl station new``: a commented station file for a real bench, to edit and check.

The template (``labctl/templates/station.yaml``) is a valid station as written: a Kepco BOP
magnet closed on a Lake Shore 425, an SR830 lock-in and a Keithley 2400 gate on ``@py``, with
a pulse source, a switch matrix and a synaptic array commented out. Its comments name the
drivers of each role and what each limit and setting means.
"""

from __future__ import annotations

import argparse
from importlib import resources
from pathlib import Path

from labctl.errors import LabctlError

DEFAULT_FILE = "my_bench.yaml"


def template_text() -> str:
    """The commented station template shipped with labctl."""
    return (resources.files("labctl") / "templates" / "station.yaml").read_text(encoding="utf-8")


def write_station_template(path: str | Path) -> Path:
    """Write the template to ``path``; an existing file is never overwritten."""
    target = Path(path)
    if target.exists():
        raise LabctlError(
            f"{target}: already exists; not overwritten (give another file name, or move it)"
        )
    if not target.parent.is_dir():
        raise LabctlError(f"{target}: folder {target.parent} does not exist")
    text = template_text().replace("my_bench.yaml", target.name)
    try:
        with target.open("x", encoding="utf-8") as out:
            out.write(text)
    except OSError as exc:
        raise LabctlError(f"{target}: cannot write: {exc.strerror or exc}") from None
    return target


def cmd_station_new(args: argparse.Namespace) -> int:
    from labctl.cli_output import emit

    path = write_station_template(args.file or DEFAULT_FILE)

    def text() -> str:
        return (
            f"wrote {path}: a station file for a real bench (Kepco BOP magnet with a Lake Shore "
            "425, SR830 lock-in, Keithley 2400 gate; a pulse source, a switch matrix and an "
            "array commented out)\n"
            f"next: edit its drivers, addresses and limits, then `labctl station check {path}`"
        )

    emit(args, {"file": str(path)}, text)
    return 0
