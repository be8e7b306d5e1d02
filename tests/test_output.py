"""What the command line prints (issue 16): every result type as text without Python reprs or
over-long numbers, progress bars that log lines never run into, the drivers list, the help of
``labctl run``, ``watch`` reporting as it follows, ``--live`` saying what it did."""

from __future__ import annotations

import dataclasses
import fcntl
import json
import os
import re
import select
import struct
import subprocess
import sys
import termios
import threading
import time
import typing
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import pytest

from labctl.cli import main
from labctl.protocol import spec_of
from labctl.results import Result, fmt_uncertain, render_result, result_type_of

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

PROTOCOLS = sorted(entry_points(group="labctl.protocols"), key=lambda ep: ep.name)
LABCTL = Path(sys.executable).parent / "labctl"
NUMBER = re.compile(r"(?<![\w.])[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?(?![\w.])")
REPRS = ("{'", "['", "np.", "array(", "float64", "None")


# ------------------------------------------------------------------------ result types
def significant_digits(number: str) -> int:
    """Significant digits of a printed float (``0.024988`` → 5, ``1.3398e-05`` → 5)."""
    mantissa = re.split("[eE]", number.lstrip("+-"))[0]
    digits = mantissa.replace(".", "").lstrip("0")
    return len(digits) if "." in mantissa else len(digits.rstrip("0"))


def leaks(text: str) -> list[str]:
    """Python reprs and floats with more than 6 significant digits in ``text``."""
    found = [r for r in REPRS if r in text]
    found += [
        n
        for n in NUMBER.findall(text)
        if ("." in n or "e" in n.lower()) and significant_digits(n) > 6
    ]
    return found


class Values:
    """Values for a declared field type, with every digit a float can carry and lists long or
    short: what a real run stores, at its worst for printing."""

    def __init__(self, n: int) -> None:
        self.n, self.i = n, 0

    def float(self) -> float:
        self.i += 1
        return (self.i + 1 / 7) * 10.0 ** (self.i % 9 - 6)  # 17 significant digits, 1e-6..1e2

    def floats(self) -> list[float]:
        return [self.float() for _ in range(self.n)]

    def plain_mapping(self) -> dict[str, Any]:
        return {
            "mean": self.float(),
            "std": float("nan"),
            "cv": self.float(),
            "values_T": self.floats(),
            "nested": {"x_V": self.float(), "label": "text", "missing": None},
            "empty": {},
        }

    def records(self) -> list[dict[str, Any]]:
        return [
            {
                "label": f"level {k}",
                "drive": self.floats(),
                "delta": self.float(),
                "programming": {"achieved_hc_T": self.float(), "pulses": 3},
            }
            for k in range(3)
        ]

    def of(self, hint: Any) -> Any:
        origin, args = typing.get_origin(hint), typing.get_args(hint)
        if isinstance(hint, type) and dataclasses.is_dataclass(hint):
            return self.instance(hint)
        if origin in (typing.Union, getattr(__import__("types"), "UnionType", None)):
            return self.of(next(a for a in args if a is not type(None)))
        if hint is bool:
            return True
        if hint is int:
            return 12345678
        if hint is float:
            return self.float()
        if hint is str:
            return "text"
        if origin in (list, tuple):
            inner = args[0] if args else Any
            if inner is float or inner is int:
                return self.floats()
            if typing.get_origin(inner) in (list, tuple):
                return [self.floats()[:5] for _ in range(5)]
            if isinstance(inner, type) and dataclasses.is_dataclass(inner):
                return [self.instance(inner) for _ in range(3)]
            if inner is str:
                return [f"task-{k}" for k in range(self.n)]
            return self.records()
        if origin is dict:
            if len(args) == 2 and typing.get_origin(args[1]) is list:
                return {"t_step_s": self.floats(), "hc_T": self.floats(), "n": self.floats()}
            return self.plain_mapping()
        return self.float()

    def instance(self, cls: type) -> Any:
        hints = typing.get_type_hints(cls)
        return cls(**{f.name: self.of(hints[f.name]) for f in dataclasses.fields(cls)})


@pytest.mark.parametrize("n", [3, 40], ids=["short", "long"])
@pytest.mark.parametrize("ep", PROTOCOLS, ids=[ep.name for ep in PROTOCOLS])
def test_every_result_type_prints_without_reprs_or_long_numbers(ep: Any, n: int) -> None:
    """Each protocol's declared result, filled with 17-digit floats, NaN, nested maps and
    lists of records, prints as tables: no ``{'``, no ``None``, no float with more than 6
    significant digits; the JSON the database keeps has every value whole."""
    from labctl.cli_output import result_lines

    result_type = result_type_of(spec_of(ep.load()).function)
    assert result_type is not None and issubclass(result_type, Result)
    stored = Values(n).instance(result_type).as_dict()
    text = "\n".join(result_lines(ep.name, stored))
    assert leaks(text) == [], f"{ep.name}:\n{text}"
    assert max(len(line) for line in text.splitlines()) <= 240, text
    whole = json.loads(json.dumps(stored))
    first_list = next((v for v in whole.values() if isinstance(v, list) and v), None)
    if n == 40 and first_list is not None and not isinstance(first_list[0], dict | list):
        assert len(first_list) == 40  # summarised in text only


def test_the_leak_check_itself_finds_leaks() -> None:
    assert leaks("curves = [{'label': 'as found', 'drive': [0.0045, 0.009000000000000001]}]")
    assert leaks("hc_T  0.0249875123  T") == ["0.0249875123"]
    assert leaks("hc_T  0.024988  T   1000 values, 1…1000  1e-09  3 × 2") == []


def test_parallel_lists_print_as_one_table() -> None:
    """A retention's hold times, Hc and amplitudes: one row per loop, a column each."""
    stored = {"bias_V": 0.0, "hold_s": [10.0, 246.47, 482.6], "hc_T": [0.025, 0.0251, 0.024]}
    lines = render_result(stored)
    assert any(line.split() == ["hold_s", "(s)", "hc_T", "(T)"] for line in lines), lines
    assert any(line.split() == ["246.47", "0.0251"] for line in lines), lines


def test_a_value_is_given_to_the_place_of_its_uncertainty() -> None:
    assert fmt_uncertain(0.0650093, 0.00179) == "0.0650 ± 0.0018"
    assert fmt_uncertain(57.3176, 2.01) == "57.3 ± 2.0"
    assert fmt_uncertain(2.95456e-07, 3.76e-08) == "2.95e-07 ± 3.8e-08"
    assert fmt_uncertain(1.02375123, 3.87e-06) == "1.02375 ± 3.9e-06"  # 6 digits at most
    assert fmt_uncertain(0.5, float("nan")) == "0.5"


# ------------------------------------------------------------------------ listings, help
def test_drivers_lists_every_model_with_the_gaussmeters(capsys: pytest.CaptureFixture[str]) -> None:
    from instruments.registry import DRIVERS, GAUSSMETERS

    assert main(["drivers"]) == 0
    text = capsys.readouterr().out
    listed = {line.split()[0] for line in text.splitlines()[1:]}
    assert listed == set(DRIVERS) | set(GAUSSMETERS)
    assert "Lake Shore 425 gaussmeter" in text and "Lake Shore 475 gaussmeter" in text
    assert main(["drivers", "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert {c["key"] for c in payload["companions"]} == {"lakeshore425", "lakeshore475"}
    assert {d["key"] for d in payload["drivers"]} == set(DRIVERS)


def test_run_help_lists_the_protocols_and_live(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["run", "--help"])
    assert exit_.value.code == 0
    text = capsys.readouterr().out
    assert "--live" in text
    for ep in PROTOCOLS:
        line = next((x for x in text.splitlines() if x.split()[:1] == [ep.name]), None)
        assert line is not None and len(line.split()) > 3, f"{ep.name} not listed:\n{text}"


def test_live_before_the_protocol_name_is_taken(tmp_path: Path) -> None:
    args = main.__globals__["build_parser"]().parse_args(["run", "--live", "hall-loop"])
    assert args.live and args.protocol == "hall-loop"


# ------------------------------------------------------------------------ progress
def _read_pty(cmd: list[str], env: dict[str, str], timeout_s: float = 240) -> str:
    """Run ``cmd`` with stdout and stderr on a 120×40 pseudo-terminal; everything it wrote."""
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=slave, stderr=slave, env=env)
    os.close(slave)
    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.5)
        if ready:
            try:
                data = os.read(master, 65536)
            except OSError:  # the child closed the terminal
                break
            if not data:
                break
            chunks.append(data)
        elif proc.poll() is not None:
            break
    proc.wait(timeout=30)
    os.close(master)
    return b"".join(chunks).decode("utf-8", "replace")


def test_log_lines_never_run_into_the_progress_bar(tmp_path: Path) -> None:
    """On a terminal the bar is drawn, every log line starts on a line of its own (the bar is
    cleared first), and the bar ends with a newline before the result."""
    env = {**os.environ, "LABCTL_SUPERVISE": "0", "TERM": "xterm"}
    cmd = [str(LABCTL), "run", "hall-loop", "--field-max-T", "0.04", "--step-T", "0.002"]
    out = _read_pty([*cmd, "--db", str(tmp_path / "p.db")], env)
    assert "hall-loop:" in out and "%|" in out, out  # the bar was drawn
    physical = out.replace("\r\n", "\n").split("\n")
    logs = 0
    for line in physical:
        if "labctl: " in line:
            logs += 1
            before = line[: line.index("labctl: ")]
            # what is left of the line before the log text once the terminal has applied \r:
            # nothing (a fresh line, or a bar cleared with \r + spaces + \r)
            assert before.split("\r")[-1] == "", repr(line)
    assert logs >= 6  # the run, three instruments opened, three safe-state lines
    result = next(line for line in physical if "(hall-loop): completed" in line)
    assert result.startswith("run "), repr(result)  # not after the bar on its line
    printed = out[out.index("(hall-loop): completed") :]
    assert leaks(printed) == [] and "coercive_field_T" in printed, printed
    assert out.count("opened magnet") == 1 and "Initializing" not in out


def test_progress_bar_interface(capsys: pytest.CaptureFixture[str]) -> None:
    """``ProgressBar(label)``, ``.update(done, total, message)``, ``.close()`` and the context
    manager; off when stderr is not a terminal, and ``say`` prints a plain line then."""
    from labctl.progress import ProgressBar, say

    with ProgressBar("quiet") as bar:
        assert not bar.enabled  # capsys: not a terminal
        bar.update(1, 2, "half")
    say("labctl: a line")
    assert capsys.readouterr().err == "labctl: a line\n"
    bar = ProgressBar("drawn", enabled=True, file=sys.stderr)
    bar.update(1, 4, "a quarter")
    say("labctl: above the bar")
    bar.update(4, 4, "all")
    bar.close()
    bar.close()  # idempotent
    err = capsys.readouterr().err
    assert "drawn: 100%" in err and "all" in err and err.endswith("\n")
    assert "\nlabctl: above the bar\n" in err.replace("\r", "\n")


# ------------------------------------------------------------------------ watch, --live
def test_watch_reports_while_it_follows_a_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Half-way through a run, the watch report says it is running, with points and the
    protocol's progress; once it has ended, the new status."""
    from labctl.cli_live import WatchReport
    from labctl.engine import execute
    from labctl.figures import gui_loop
    from labctl.params import build_params
    from labctl.protocol import find_protocol
    from labctl.station import load_station
    from labctl.watch import RunFollower

    spec = find_protocol("hall-loop")
    params = build_params(spec.params_type, {"field_max_T": 0.03, "step_T": 0.001}, "hall-loop")
    db = tmp_path / "w.db"
    halfway, go_on = threading.Event(), threading.Event()

    def progress(done: float, total: float, message: str) -> None:
        if done >= total / 2 and not halfway.is_set():
            time.sleep(0.2)  # past a flush: the checkpoint and the points are stored
            halfway.set()
            go_on.wait(60)

    def run() -> None:
        execute(spec, params, load_station(None), db, progress=progress, handle_signals=False,
                flush_interval_s=0.05, supervise=False)  # fmt: skip

    thread = threading.Thread(target=run)
    with gui_loop() as pump:
        thread.start()
        while not halfway.wait(0.05):
            pump()
        follower = RunFollower(db, 1)
        follower.poll()
        report = WatchReport(1, db, display=False, every_s=0.0)
        report(follower)
        go_on.set()
        while thread.is_alive():
            pump()
            thread.join(0.05)
    follower.poll()
    report(follower)
    report.close()
    follower.close()
    lines = capsys.readouterr().err.splitlines()
    assert lines[0].startswith("labctl: watch: following run 1 (hall-loop, running)")
    running = next(line for line in lines if "run 1 running:" in line)
    assert re.search(r"running: \d+ points, \d+ % \(field sweep\)", running), lines
    assert int(running.split("running: ")[1].split()[0]) > 0
    assert lines[-1].startswith("labctl: watch: run 1 ") and "completed" in lines[-1]


def test_live_without_a_display_says_what_it_did(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "live.db"
    args = ["run", "hall-loop", "--field-max-T", "0.03", "--step-T", "0.003", "--db", str(db)]
    assert main([*args, "--live"]) == 0
    err = capsys.readouterr().err
    assert "live: no display (QT_QPA_PLATFORM=offscreen)" in err
    saved = re.search(r"live: run 1 completed, (\d+) points plotted \(v_hall_V vs field_T\); "
                      r"last frame saved to (\S+)", err)  # fmt: skip
    assert saved is not None, err
    assert int(saved.group(1)) > 10 and Path(saved.group(2)).stat().st_size > 1000


def test_a_quantity_and_its_uncertainty_print_on_one_row() -> None:
    """``delta`` with ``delta_err``, ``H0_T`` with ``H0_err_T``: one row, the value to the
    place of its uncertainty; an undefined uncertainty says so."""
    stored = {"delta": 62.3612, "delta_err": 6.28, "H0_T": 0.0599451, "H0_err_T": 0.00532,
              "x50": 0.0255, "x50_err": float("nan"), "points": 5}  # fmt: skip
    lines = render_result(stored)
    rows = {line.split()[0]: line for line in lines[1:]}
    assert "62.4 ± 6.3" in rows["delta"] and "0.0599 ± 0.0053" in rows["H0_T"]
    assert rows["H0_T"].rstrip().endswith("T") and "0.0255 ± nan" in rows["x50"]
    assert not {"delta_err", "H0_err_T", "x50_err"} & set(rows)
    series = {
        "series": {"t_step_s": [1.3, 11.3], "hc_T": [0.024, 0.0228], "hc_sem_T": [5.6e-4, 6e-4]}
    }
    text = "\n".join(render_result(series))
    assert "0.02400 ± 0.00056" in text and "hc_sem_T" not in text, text  # columns too
