"""``labctl train`` and ``labctl study``: hardware-in-the-loop training from the command line,
registered through the ``labctl.commands`` entry point.

Both run the ``train`` protocol through the engine (every run is stored in the database with
its points, result and figures; the safe state is reached on every exit)::

    labctl train --rule device --tasks permuted-digits:5 --hidden 256 --epochs 20 --seed 0 \\
        [--flip-threshold 0.03 ...] [--path fast|instrument|software] [--station FILE] [--json]
    labctl study --rules none meta-adam device --seeds 0 1 2 --m-meta 5 10 --out study

The ``--rule`` choices and one option per rule parameter (with its unit, bounds and default in
``--help``) come from the rule registry (:mod:`.registry`), so a rule shipped in another package
gets its options too. A parameter's option applies to the rules that declare it; one whose name
is taken by a training option is prefixed with the rule (MESU's ``batch``: ``--mesu-batch``). In
``study`` every rule parameter takes several values: the grid is rules × seeds × the values of
each rule's own parameters.

``--path fast`` (default) trains on the vectorised virtual chip (``virtual_chip_fast.yaml``),
``instrument`` on the routed synapse array over the twins (``simulated_synapse_array.yaml``,
16 devices: use a tiny network such as ``--tasks permuted-iris:2 --hidden 2``), ``software``
keeps the weights on the host (the reference). ``--station`` replaces the built-in station.
``study`` writes ``<out>.csv`` (one row per run), ``<out>.md`` (mean ± std over seeds) and
``<out>.png`` (ACC and BWT against rule and preset, with the spread over seeds). It runs its cells
on Dask (:mod:`.study_runs`): a local cluster on loopback, one worker per core (``--workers N``),
or the scheduler of ``--scheduler tcp://HOST:PORT`` / ``$LABCTL_SCHEDULER``; every cell is one
run in the database (``--db``), the chip seed is the run's seed, ``--presets`` adds the chip
preset as a grid axis, and the cells completed by an earlier run of the same study are skipped.
Cells on a station with instruments (``--path instrument``, a real bench) run one at a time.

Module-level imports stay light (every ``labctl`` start loads this module): the engine, pandas
and the training code are imported by the handlers.
"""

from __future__ import annotations

import argparse
import itertools
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from labctl.cli_output import param_help
from labctl.errors import ParamError

from .registry import (
    DEFAULT_RULE,
    DEFAULT_STUDY_RULES,
    RuleSpec,
    available_rules,
    check_settings,
    settings_text,
)

PATH_STATIONS = {
    "fast": "virtual_chip_fast.yaml",
    "instrument": "simulated_synapse_array.yaml",
    "software": "virtual_chip_fast.yaml",  # opened but unused: weights on the host
}
TRAINING_OPTIONS = (
    "rule", "rules", "seed", "seeds", "out", "tasks", "hidden", "epochs", "batch", "lr",
    "path", "station", "json", "debug", "db", "help", "presets", "scheduler", "workers", "bind",
    "dashboard",
)  # fmt: skip


@dataclass(frozen=True)
class RuleOption:
    """One command-line option for a rule parameter: the rules declaring it, by name."""

    option: str
    dest: str
    param: str
    rules: tuple[str, ...]


def _rule_options(rules: dict[str, RuleSpec]) -> list[RuleOption]:
    by_param: dict[str, list[str]] = {}
    for name, spec in rules.items():
        for info in spec.params:
            by_param.setdefault(info.name, []).append(name)
    out = []
    for param, owners in by_param.items():
        if param.lower() in TRAINING_OPTIONS:  # e.g. MESU's batch: --mesu-batch
            for rule in owners:
                option = f"--{rule}-{param}".replace("_", "-")
                out.append(RuleOption(option, f"rule__{rule}__{param}", param, (rule,)))
        else:
            option = "--" + param.replace("_", "-")
            out.append(RuleOption(option, f"rule__{param}", param, tuple(owners)))
    return out


def _option_help(opt: RuleOption, rules: dict[str, RuleSpec]) -> str:
    """``[rules] help (unit) [low, high]; default X``, once if every rule declares it alike."""
    infos = {rule: rules[rule].param(opt.param) for rule in opt.rules}
    texts = {rule: param_help(info) for rule, info in infos.items() if info is not None}
    if len({t.rsplit("; default", 1)[0] for t in texts.values()}) == 1:
        first = next(iter(texts.values())).rsplit("; default", 1)[0]
        defaults: dict[str, list[str]] = {}
        for rule, info in infos.items():
            if info is not None:
                defaults.setdefault(f"{info.default}", []).append(rule)
        if len(defaults) == 1:
            return f"[{', '.join(opt.rules)}] {first}; default {next(iter(defaults))}"
        listed = ", ".join(f"{d} ({', '.join(r)})" for d, r in defaults.items())
        return f"[{', '.join(opt.rules)}] {first}; default {listed}"
    return "; ".join(f"[{rule}] {text}" for rule, text in texts.items())


def _metavar(opt: RuleOption, rules: dict[str, RuleSpec]) -> str:
    info = rules[opt.rules[0]].param(opt.param)
    return "VALUE" if info is None else info.type.__name__.upper()


def _training_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--tasks", default="permuted-digits:5", help="task sequence family[:n]")
    p.add_argument("--hidden", type=int, nargs="+", default=[256], help="hidden layer widths")
    p.add_argument("--epochs", type=int, default=20, help="epochs per task")
    p.add_argument("--batch", type=int, default=100)
    p.add_argument("--lr", type=float, default=0.005)
    p.add_argument("--path", choices=tuple(PATH_STATIONS), default="fast")
    p.add_argument("--station", default=None, help="station file (replaces --path's station)")


def _add_rule_options(
    p: argparse.ArgumentParser, options: list[RuleOption], rules: dict[str, RuleSpec], grid: bool
) -> None:
    group = p.add_argument_group(
        "rule parameters" + (" (several values: one grid point each)" if grid else ""),
        "each applies to the rules named in brackets; unset: the rule's default",
    )
    for opt in options:
        group.add_argument(
            opt.option,
            dest=opt.dest,
            default=None,
            nargs="+" if grid else None,
            metavar=_metavar(opt, rules),
            help=_option_help(opt, rules).replace("%", "%%"),
        )


def register(
    subparsers: Any, common: argparse.ArgumentParser
) -> dict[str, Callable[[argparse.Namespace], int]]:
    """Add ``train`` and ``study`` to the ``labctl`` sub-commands; returns their handlers."""
    rules = available_rules()
    options = _rule_options(rules)
    names = tuple(rules)
    p = subparsers.add_parser(
        "train", parents=[common], help="train a network on the chip", allow_abbrev=False
    )
    listed = "; ".join(f"{n}: {spec.doc.rstrip('.')}" for n, spec in rules.items() if spec.doc)
    p.add_argument("--rule", default=DEFAULT_RULE, choices=names, help=f"learning rule ({listed})")
    p.add_argument("--seed", type=int, default=0)
    _training_options(p)
    _add_rule_options(p, options, rules, grid=False)
    p.set_defaults(rule_options=options)
    p = subparsers.add_parser(
        "study", parents=[common], help="rules × seeds × settings table", allow_abbrev=False
    )
    p.add_argument("--rules", nargs="+", choices=names, default=list(DEFAULT_STUDY_RULES))
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--out", default="study", help="output stem for .csv, .md and .png")
    p.add_argument(
        "--presets", nargs="+", default=None, metavar="PRESET",
        help="chip presets of the virtual chip, one grid axis (e.g. ptco_gdox_hall; a wrong "
        "name lists them; default: the station's)",
    )  # fmt: skip
    p.add_argument(
        "--scheduler", default=None, metavar="tcp://HOST:PORT",
        help="a running Dask scheduler (default: $LABCTL_SCHEDULER, else a local cluster "
        "on loopback with one worker per core)",
    )  # fmt: skip
    p.add_argument(
        "--workers", type=int, default=None,
        help="worker processes of the local cluster (default: one per core)",
    )  # fmt: skip
    p.add_argument(
        "--bind", default="127.0.0.1", metavar="HOST",
        help="the local cluster's scheduler address (default: loopback; another one warns)",
    )  # fmt: skip
    p.add_argument(
        "--dashboard", default=None, metavar="HOST:PORT",
        help="serve the local cluster's Dask dashboard there (needs bokeh; default: off)",
    )  # fmt: skip
    _training_options(p)
    _add_rule_options(p, options, rules, grid=True)
    p.set_defaults(rule_options=options)
    return {"train": cmd_train, "study": cmd_study}


def _given(args: argparse.Namespace) -> dict[RuleOption, Any]:
    return {
        o: getattr(args, o.dest) for o in args.rule_options if getattr(args, o.dest) is not None
    }


def _checked(
    command: str, rule: str, given: dict[RuleOption, str], refuse_foreign: bool
) -> dict[str, Any]:
    """The options of ``given`` that ``rule`` declares, checked against its bounds (one line
    naming the option and the bound); an option of another rule is refused if asked."""
    mine = {o: v for o, v in given.items() if rule in o.rules}
    if refuse_foreign:
        for o in given.keys() - mine.keys():
            raise ParamError(
                f"labctl {command}: {o.option} is a parameter of {', '.join(o.rules)}, "
                f"not of rule {rule!r}"
            )
    where = f"labctl {command}: rule {rule}"
    try:
        check_settings(rule, {o.param: v for o, v in mine.items()}, where, settable_only=True)
    except ParamError as exc:
        message = str(exc)
        for o in mine:  # name the option as typed (--mesu-batch, not --batch)
            message = message.replace(f"parameter --{o.param.replace('_', '-')} ", f"{o.option} ")
        raise ParamError(message) from None
    return {o.param: v for o, v in mine.items()}


def _raw_params(
    args: argparse.Namespace, rule: str, seed: int, settings: dict[str, Any]
) -> dict[str, Any]:
    return {
        "rule": rule,
        "tasks": args.tasks,
        "hidden": [float(h) for h in args.hidden],
        "epochs": args.epochs,
        "batch": args.batch,
        "lr": args.lr,
        "seed": seed,
        "settings": settings_text(settings),
        "on_chip": args.path != "software",
    }


def _run(args: argparse.Namespace, raw: dict[str, Any]) -> Any:
    from labctl.cli_run import run_protocol
    from labctl.protocol import find_protocol
    from labctl.station import builtin_station

    args.station = args.station or str(builtin_station(PATH_STATIONS[args.path]))
    return run_protocol(args, find_protocol("train"), raw)


def cmd_train(args: argparse.Namespace) -> int:
    from labctl.cli_run import report

    settings = _checked("train", args.rule, _given(args), refuse_foreign=True)
    return report(args, _run(args, _raw_params(args, args.rule, args.seed, settings)))


def _grid(args: argparse.Namespace) -> list[tuple[str, int, dict[str, Any]]]:
    """(rule, seed, settings) for every run: rules × seeds × each rule's own parameter values."""
    given = _given(args)
    unused = [o.option for o in given if not set(o.rules) & set(args.rules)]
    if unused:
        raise ParamError(
            f"labctl study: {', '.join(unused)} belongs to none of the rules "
            f"{', '.join(args.rules)}"
        )
    runs = []
    for rule in args.rules:
        values = _checked_grid(rule, given)
        combos = [dict(zip(values, c, strict=True)) for c in itertools.product(*values.values())]
        runs += [(rule, seed, settings) for seed in args.seeds for settings in combos]
    return runs


def _checked_grid(rule: str, given: dict[RuleOption, list[str]]) -> dict[str, list[str]]:
    mine = {o: vs for o, vs in given.items() if rule in o.rules}
    for o, vs in mine.items():
        for v in vs:
            _checked("study", rule, {o: v}, refuse_foreign=False)
    return {o.param: list(vs) for o, vs in mine.items()}


def _check_presets(presets: list[str] | None) -> None:
    from labctl.physics.params import preset_names

    known = preset_names()
    for preset in presets or []:
        if preset not in known:
            raise ParamError(
                f"labctl study: --presets {preset}: unknown chip preset; expected one of "
                f"{', '.join(known)}"
            )


def cmd_study(args: argparse.Namespace) -> int:
    import json
    from functools import partial

    import pandas as pd

    from labctl.cli_output import emit
    from labctl.cli_run import EXIT_FAILED, EXIT_OK
    from labctl.cluster import open_client
    from labctl.data import resolve_db
    from labctl.station import builtin_station

    from .study_figure import study_figure
    from .study_runs import make_cell, run_cells
    from .table import BY_RULE, result_row, write_study

    station = args.station or str(builtin_station(PATH_STATIONS[args.path]))
    _check_presets(args.presets)
    grid = _grid(args)
    cells = [
        make_cell(_raw_params(args, rule, seed, settings), station, preset)
        for preset in args.presets or [None]
        for rule, seed, settings in grid
    ]
    settings_of = [settings for _ in args.presets or [None] for _, _, settings in grid]
    db = resolve_db(args.db)
    client = partial(open_client, args.scheduler, args.workers, args.bind, args.dashboard)
    runs = run_cells(cells, db, client, progress=None if not args.json else False)
    failed = [r for r in runs if r.status != "completed"]
    for r in failed:
        p = r.cell.params
        print(
            f"labctl: study: {p['rule']} seed {p['seed']} {p['settings']}: run {r.run_id} "
            f"{r.status}: {r.error}",
            file=sys.stderr,
        )
    if failed:
        return EXIT_FAILED
    rows = []
    for run, settings in zip(runs, settings_of, strict=True):
        converted = check_settings(str(run.cell.params["rule"]), settings)
        row = result_row(run.result, converted, bool(run.result["on_chip"]))
        rows.append({**row, **run.chip, "run_id": run.run_id, "resumed": run.resumed})
    df = pd.DataFrame(rows)
    by = (*BY_RULE, "preset") if args.presets else BY_RULE
    csv, md = write_study(df, Path(args.out), by)
    figure = study_figure(df, Path(args.out).with_suffix(".png"))
    table = md.read_text()
    runs_json = df.to_json(orient="records")
    assert runs_json is not None  # no path given: to_json returns the text
    payload = {
        "runs": json.loads(runs_json),
        "csv": str(csv),
        "md": str(md),
        "figure": str(figure),
        "db": str(db),
        "resumed": sum(1 for r in runs if r.resumed),
    }
    resumed = payload["resumed"]
    note = f"{len(df)} runs in {db}" + (f" ({resumed} done before: skipped)" if resumed else "")
    files = f"table: {md}  runs: {csv}  figure: {figure}"
    emit(args, payload, lambda: f"{table}\n{note}\n{files}")
    return EXIT_OK
