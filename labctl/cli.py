"""The ``labctl`` command line. Errors exit non-zero with one readable line (``--debug`` for a
traceback); every command that produces a result accepts ``--json``."""

# Start-up: building the parser (``labctl --help``) must not import numpy, pandas, qcodes,
# scipy, scikit-learn, Qt or the engine (numpy alone is 0.4-0.6 s, the goal is 0.5 s;
# tests/test_cli_startup.py). This module and the modules it imports at module level keep those
# imports inside the functions that use them; the learning rules' options come from numpy-free
# declarations (protocols/learning/rule_settings.py).

from __future__ import annotations

import argparse
import logging
import os
import signal
import sqlite3
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from labctl import __version__
from labctl.cli_live import add_live_option
from labctl.cli_live import register as register_live
from labctl.cli_output import emit, fmt, param_help, params_lines, result_lines
from labctl.cli_replay import register as register_replay
from labctl.data import export_run, list_runs, load_run, resolve_db
from labctl.database import describe
from labctl.errors import LabctlError
from labctl.params import describe_params
from labctl.plugins import entry_points
from labctl.protocol import ProtocolSpec, available_protocols, find_protocol
from labctl.server.cli import register as register_server

# as labctl.cli_run's, which imports the engine (qcodes, pandas): imported by the commands that run
EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_ABORTED = 0, 1, 2, 130
COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {}
# commands that never import numpy (plain SQLite): see import_numpy_uninterrupted
WITHOUT_NUMPY: set[str] = set()


def command(name: str, numpy: bool = True) -> Callable[[Callable[[argparse.Namespace], int]], Any]:
    """Register a handler; ``numpy=False`` for one that never imports numpy (it then starts
    without loading it, see :func:`import_numpy_uninterrupted`)."""

    def register(fn: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
        COMMANDS[name] = fn
        if not numpy:
            WITHOUT_NUMPY.add(name)
        return fn

    return register


def import_numpy_uninterrupted() -> None:
    """numpy, with Ctrl-C held back while it loads: a KeyboardInterrupt inside its C extension's
    import comes out as an ImportError ("_multiarray_umath failed to import"), and a second
    import then fails with "cannot load module more than once". Every command that may import
    numpy (all but those registered with ``numpy=False``, and every plugin command) gets it
    here, before its handler; a Ctrl-C held back is delivered when the mask is lifted, as a
    KeyboardInterrupt, and ends the command as 'interrupted'. Not at start-up: ``--help`` and
    ``runs`` do not need numpy (0.4-0.6 s)."""
    if "numpy" in sys.modules:
        return
    if not hasattr(signal, "pthread_sigmask"):  # Windows: no signal masks
        import numpy

        return
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        import numpy  # noqa: F401
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


# ------------------------------------------------------------------------ run / demo
def _protocol_parser(spec: ProtocolSpec) -> argparse.ArgumentParser:
    # no abbreviations: on a bench, "--step" must not quietly mean "--step-T"
    parser = argparse.ArgumentParser(
        prog=f"labctl run {spec.name}", description=spec.doc, allow_abbrev=False
    )
    for info in describe_params(spec.params_type):
        parser.add_argument(
            info.option,
            dest=info.name,
            default=None,
            metavar=info.type.__name__.upper(),
            help=param_help(info),
        )
    return parser


@command("run")
def cmd_run(args: argparse.Namespace) -> int:
    from labctl.cli_run import report, run_protocol

    spec = find_protocol(args.protocol)
    parser = _protocol_parser(spec)
    # the common options may also come after the protocol name
    parser.add_argument("--json", action="store_true", dest="_json", help=argparse.SUPPRESS)
    parser.add_argument("--debug", action="store_true", dest="_debug", help=argparse.SUPPRESS)
    parser.add_argument("--db", default=None, dest="_db", help=argparse.SUPPRESS)
    parser.add_argument("--station", default=None, dest="_station", help=argparse.SUPPRESS)
    add_live_option(parser)
    values = vars(parser.parse_args(args.params))
    common = {k: values.pop(k) for k in ("_live", "_json", "_debug", "_db", "_station")}
    args.live = getattr(args, "live", False) or common["_live"]
    args.json = args.json or common["_json"]
    args.debug = args.debug or common["_debug"]
    args.db = common["_db"] or args.db
    args.station = common["_station"] or args.station
    return report(args, run_protocol(args, spec, values))


@command("demo")
def cmd_demo(args: argparse.Namespace) -> int:
    """A Hall loop on the built-in simulated station."""
    from labctl.cli_run import report, run_protocol

    args.station = None
    return report(args, run_protocol(args, find_protocol("hall-loop"), {}))


# ------------------------------------------------------------------------ data
@command("runs", numpy=False)
def cmd_runs(args: argparse.Namespace) -> int:
    runs = list_runs(resolve_db(args.db))

    def text() -> str:
        if not runs:
            return f"no runs in {resolve_db(args.db)}"
        rows = [f"{'run':>5}  {'protocol':<24}{'status':<12}{'points':>8}  started"]
        rows += [
            f"{r.run_id:>5}  {r.protocol:<24}{r.status:<12}{r.points:>8}  {r.started}" for r in runs
        ]
        return "\n".join(rows)

    emit(args, {"db": str(resolve_db(args.db)), "runs": [r.as_dict() for r in runs]}, text)
    return EXIT_OK


@command("show")
def cmd_show(args: argparse.Namespace) -> int:
    info, frame = load_run(resolve_db(args.db), args.run)

    def text() -> str:
        lines = [
            f"run {info.run_id}: {info.protocol} ({info.status}), "
            f"{info.points} points, {info.started}"
        ]
        lines += ending(info.status, info.metadata)
        lines.append("parameters:")
        lines += params_lines(info.protocol, info.params)
        lines.append("result:")
        lines += result_lines(info.protocol, info.result)
        return "\n".join(lines)

    emit(args, {**info.as_dict(), "columns": list(frame.columns)}, text)
    return EXIT_OK


def ending(status: str, metadata: dict[str, Any]) -> list[str]:
    """How and why a run ended: status and reason, last checkpoint, safe-state report."""
    reason = metadata.get("reason") or metadata.get("error") or ""
    if status == "running":
        reason = "still running (or its process is gone)"
    lines = [f"ended: {status}" + (f": {reason}" if reason else "")]
    last = metadata.get("last_checkpoint") or {}
    if last:
        where = f"{last.get('points', 0)} points"
        if "t_s" in last:
            where += f", {fmt(float(last['t_s']))} s into the run"
        if "total" in last:
            message = f" ({last['message']})" if last.get("message") else ""
            where += f", progress {fmt(last['done'])}/{fmt(last['total'])}{message}"
        lines.append(f"last checkpoint: {where}")
    safe = metadata.get("safe_state")
    if safe:
        lines += [f"safe state: {line}" for line in safe]
    elif status not in ("running",) and "safe_state" in metadata:
        lines.append("safe state: no instrument was open")
    return lines


@command("export")
def cmd_export(args: argparse.Namespace) -> int:
    path = export_run(resolve_db(args.db), args.run, args.format, Path(args.out))
    emit(args, {"run_id": args.run, "format": args.format, "path": str(path)}, lambda: str(path))
    return EXIT_OK


# ------------------------------------------------------------------------ station / listing
@command("station")
def cmd_station(args: argparse.Namespace) -> int:
    from instruments.roles import Window
    from labctl.station import describe_instrument, load_station

    if args.action == "new":
        from labctl.station_template import cmd_station_new

        return cmd_station_new(args)
    station = load_station(args.file)
    summary = station.summary()

    def text() -> str:
        lines = [
            f"{station.path}: OK: station {station.name!r}, VISA {station.visa_library}, "
            f"{station.clock} clock, {len(station.instruments)} instrument"
            + ("s" if len(station.instruments) != 1 else "")
        ]
        for name, spec in station.instruments.items():
            lines.append(f"  {name:<12} {spec.role:<7} {describe_instrument(spec)}")
            if spec.limits is not None and spec.limits.spec():  # what every run is held to
                units = {k: unit for k, (_, unit) in spec.limits.spec().items()}
                held = ", ".join(
                    f"{k} {v}" if isinstance(v, Window) else f"{k} {v:g} {units[k]}"
                    for k, v in vars(spec.limits).items()
                )
                lines.append(f"  {'':<12} limits: {held}")
        return "\n".join(lines)

    emit(args, summary, text)
    return EXIT_OK


@command("protocols")
def cmd_protocols(args: argparse.Namespace) -> int:
    found = available_protocols()
    payload = {
        name: {
            "doc": spec.doc,
            "params": {
                i.name: {"default": i.default, "unit": i.unit, "low": i.low, "high": i.high}
                for i in describe_params(spec.params_type)
            },
        }
        for name, spec in sorted(found.items())
    }
    emit(args, payload, lambda: "\n".join(f"{n:<24}{s.doc}" for n, s in sorted(found.items())))
    return EXIT_OK


@command("drivers")
def cmd_drivers(args: argparse.Namespace) -> int:
    from instruments.registry import list_companions, list_drivers
    from labctl.results import table

    drivers, companions = list_drivers(), list_companions()

    def text() -> str:
        rows = [[d.key, d.role, d.library, d.model] for d in drivers]
        rows += [[c.key, c.kind, c.library, f"{c.model} ({c.setting})"] for c in companions]
        return "\n".join(table(["driver", "role", "library", "model"], rows, indent=""))

    payload = {
        "drivers": [d.as_dict() for d in drivers],
        "companions": [c.as_dict() for c in companions],
    }
    emit(args, payload, text)
    return EXIT_OK


# ------------------------------------------------------------------------ parser
class RunHelp(argparse.Action):
    """``labctl run --help``: the options, then every installed protocol with its summary.
    The protocols load only here (they import numpy): building the parser stays light."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any) -> None:
        kwargs.pop("default", None)
        super().__init__(option_strings, argparse.SUPPRESS, nargs=0, default=argparse.SUPPRESS,
                         **kwargs)  # fmt: skip

    def __call__(self, parser: argparse.ArgumentParser, *_: Any, **__: Any) -> None:
        parser.epilog = protocols_epilog()
        parser.print_help()
        parser.exit()


def protocols_epilog() -> str:
    """The protocols as ``labctl run --help`` lists them, and two examples."""
    try:
        docs = {name: spec.doc for name, spec in available_protocols().items()}
    except LabctlError:  # a broken plugin: the names at least
        docs = {ep.name: "" for ep in entry_points(group="labctl.protocols")}
    width = max((len(n) for n in docs), default=0) + 2
    lines = ["protocols (labctl run PROTOCOL --help: its options, units, bounds, defaults):"]
    lines += [f"  {name:<{width}}{doc}".rstrip() for name, doc in sorted(docs.items())]
    lines += [
        "",
        "examples:",
        "  labctl run hall-loop --field-max-T 0.06 --dwell-s 0.5",
        "  labctl run gate-program --target-hc-T 0.03 --live",
        "  labctl run hall-loop --station STATION.yaml --json",
    ]
    return "\n".join(lines)


def common_options(defaults: bool) -> argparse.ArgumentParser:
    """The options every command takes, before or after its name. Only the main parser holds
    their defaults: a sub-parser's defaults would overwrite what was given before the
    sub-command (``labctl --db X.db run ...``), so sub-parsers set them only when given."""
    common = argparse.ArgumentParser(add_help=False)

    def default(value: Any) -> Any:
        return value if defaults else argparse.SUPPRESS

    common.add_argument(
        "--json", action="store_true", default=default(False), help="print one JSON object"
    )
    common.add_argument("--debug", action="store_true", default=default(False), help="tracebacks")
    common.add_argument(
        "--db",
        default=default(None),
        help="SQLite database (default $LABCTL_DB or ./labdata/labctl.db)",
    )
    return common


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="labctl",
        description=__doc__,
        parents=[common_options(defaults=True)],
        allow_abbrev=False,
    )
    common = common_options(defaults=False)
    parser.add_argument("--version", action="version", version=f"labctl {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser(
        "run",
        parents=[common],
        help="run a protocol (labctl run --help lists them)",
        description="Run a protocol on a station and store every point in the database.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        add_help=False,
    )
    p.add_argument("-h", "--help", action=RunHelp, help="show this help (and the protocols)")
    p.add_argument("protocol", help="the protocol to run (listed below)")
    p.add_argument("--station", default=None, help="station file (default: the simulated bench)")
    add_live_option(p, dest="live")
    p.add_argument(
        "params",
        nargs=argparse.REMAINDER,
        help="the protocol's options (--name value; labctl run PROTOCOL --help lists them)",
    )
    sub.add_parser("demo", parents=[common], help="a Hall loop on the simulated station")
    sub.add_parser("runs", parents=[common], help="list runs")
    p = sub.add_parser("show", parents=[common], help="show one run")
    p.add_argument("run", type=int)
    p = sub.add_parser("export", parents=[common], help="export a run")
    p.add_argument("run", type=int)
    p.add_argument("--format", choices=("csv", "netcdf"), default="csv")
    p.add_argument("--out", default="export", help="output folder")
    p = sub.add_parser("station", parents=[common], help="station files")
    p.add_argument(
        "action",
        choices=("check", "new"),
        help="check: validate a station file; new: write a commented template for a real bench",
    )
    p.add_argument(
        "file",
        nargs="?",
        default=None,
        help="check: default the built-in simulated station; new: default my_bench.yaml",
    )
    sub.add_parser("protocols", parents=[common], help="list protocols")
    sub.add_parser("drivers", parents=[common], help="list supported instrument models")
    for register in (register_live, register_replay, register_server):
        COMMANDS.update(register(sub, common))
    COMMANDS.update(register_plugin_commands(sub, common))
    return parser


COMMAND_GROUP = "labctl.commands"


def register_plugin_commands(
    subparsers: Any, common: argparse.ArgumentParser
) -> dict[str, Callable[[argparse.Namespace], int]]:
    """Sub-commands that belong to protocols, the simulator or a user's package: each entry point
    of the ``labctl.commands`` group names a ``register(subparsers, common)`` function that adds
    its parsers and returns ``{command: handler}``. Registering imports the module, so such
    modules keep their module-level imports light and import heavy packages in the handler."""
    handlers: dict[str, Callable[[argparse.Namespace], int]] = {}
    for ep in sorted(entry_points(group=COMMAND_GROUP), key=lambda ep: ep.name):
        try:
            handlers.update(ep.load()(subparsers, common))
        except Exception as exc:  # a broken plugin names itself and does not hide the others
            print(
                f"labctl: warning: command entry point {ep.name!r} ({ep.value}) failed to "
                f"load: {type(exc).__name__}: {exc}",
                file=sys.stderr,
            )
    return handlers


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.debug else logging.INFO,
        format="labctl: %(message)s",
        stream=sys.stderr,
    )
    logging.getLogger("pyvisa").setLevel(logging.WARNING)
    logging.getLogger("qcodes").setLevel(logging.WARNING)
    # pymeasure says "Initializing <model>." for every instrument it makes; labctl's bench says
    # once per instrument which one it opened, with its name in the station and its address
    logging.getLogger("pymeasure").setLevel(logging.WARNING)
    try:
        if args.command not in WITHOUT_NUMPY:
            import_numpy_uninterrupted()
        return COMMANDS[args.command](args)
    except LabctlError as exc:
        if args.debug:
            raise
        print(f"labctl: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("labctl: interrupted", file=sys.stderr)
        return EXIT_ABORTED
    except BrokenPipeError:  # `labctl show 3 | head`: the reader has gone, nothing to say
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except sqlite3.Error as exc:  # whatever the path checks could not foresee
        if args.debug:
            raise
        print(f"labctl: error: {describe(resolve_db(args.db), exc)}", file=sys.stderr)
        return EXIT_FAILED
    except Exception as exc:
        if args.debug:
            raise
        print(
            f"labctl: error: {type(exc).__name__}: {exc} (rerun with --debug for details)",
            file=sys.stderr,
        )
        return EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
