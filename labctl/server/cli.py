"""``labctl server start|status|stop``: the instrument server of a station.

``start`` runs the server in the background (``--foreground``: in this process) on loopback,
port 5557 unless told; another bind address needs ``--allow-remote`` and is announced with a
warning. Clients find it through a station file naming it::

    server: tcp://127.0.0.1:5557      # the server's own instruments, through it

Module-level imports stay light: ``labctl --help`` builds this parser.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from labctl.errors import LabctlError
from labctl.server import wire

Handler = Callable[[argparse.Namespace], int]
START_TIMEOUT_S = 120.0  # imports and the lab: seconds, more on a loaded machine


def _address(args: argparse.Namespace) -> wire.Address:
    return wire.Address.parse(f"{args.bind}:{args.port}", "--bind/--port")


def cmd_server(args: argparse.Namespace) -> int:
    from labctl.cli_output import emit

    address = _address(args)
    if args.action == "start":
        return _start(args, address)
    if args.action == "watch":
        return _watch(args)
    state = wire.read_state(address.port) or {}
    token = args.token or os.environ.get(wire.ENV_TOKEN) or state.get("token")
    if not token:
        raise LabctlError(
            f"no instrument server on port {address.port} of this host "
            f"(no state file {wire.state_path(address.port)}); start one with "
            "`labctl server start`"
        )
    from labctl.server.client import Connection

    connection = Connection(wire.Address(address.host, address.port), token, "labctl-cli")
    try:
        if args.action == "status":
            status = connection.call("status", timeout_s=5.0)[0]
            status.pop("t", None)
            emit(args, status, lambda: _status_text(status))
            return 0
        connection.call("stop", timeout_s=10.0)
        _wait_gone(address.port, state.get("pid"))
        emit(
            args,
            {"stopped": address.url},
            lambda: f"stopped the instrument server at {address.url}",
        )
        return 0
    finally:
        connection.close()


def _watch(args: argparse.Namespace) -> int:
    from labctl.server.monitor import watch_magnet
    from labctl.station import load_station

    if not args.station:
        raise LabctlError("server watch: --station names the station file that names the server")
    # Ctrl-C and SIGTERM set the loop's stop event rather than raise, from before the first
    # call to the server: pyzmq retries a poll that a signal interrupted, and a
    # KeyboardInterrupt raised in it was lost (the monitor went on reading)
    stop = threading.Event()
    stops = (signal.SIGINT, signal.SIGTERM)
    previous = {number: signal.signal(number, lambda *_: stop.set()) for number in stops}
    try:
        station = load_station(args.station)
        watch_magnet(
            station,
            every_s=args.every,
            count=args.count,
            on_reading=lambda reading: print(reading.line(), flush=True),
            stop=stop,
        )
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
    return 0


def _status_text(status: dict[str, Any]) -> str:
    holder = status.get("holder") or "nobody (free)"
    instruments = ", ".join(status.get("instruments") or []) or "none open yet"
    up = f"pid {status['pid']}, up {status['up_s']:.0f} s"
    where = f"{status['station_file']}, {status['visa_library']}"
    return "\n".join(
        [
            f"instrument server {status['address']} ({up})",
            f"  station      {status['station']} ({where})",
            f"  write lock   {holder}",
            f"  clients      {status['clients']}, {status['requests']} requests",
            f"  instruments  {instruments}",
        ]
    )


def _wait_gone(port: int, pid: Any, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and wire.read_state(port) is not None:
        time.sleep(0.05)


def _start(args: argparse.Namespace, address: wire.Address) -> int:
    if not wire.is_loopback(address.host):
        if not args.allow_remote:
            raise LabctlError(
                f"--bind {address.host}: not a loopback address; other hosts could reach the "
                "bench. Add --allow-remote to mean it"
            )
        print(
            f"labctl: warning: the instrument server listens on {address.url}: other hosts can "
            "reach it (each client still needs the token)",
            file=sys.stderr,
        )
    argv = [args.station or "", address.host, str(address.port)]
    argv += ["--allow-remote"] if args.allow_remote else []
    if args.foreground:
        from labctl.server.__main__ import main

        return main(argv)
    existing = wire.read_state(address.port)
    if existing is not None:
        raise LabctlError(
            f"an instrument server already runs on port {address.port} "
            f"(pid {existing.get('pid')}); `labctl server stop` first, or --port"
        )
    log_path = wire.state_dir() / f"{address.port}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "labctl.server", *argv],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            start_new_session=True,  # a Ctrl-C in this terminal must not stop the bench's server
            close_fds=True,
        )
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        state = wire.read_state(address.port)
        if state is not None and state.get("pid") == proc.pid:
            print(
                f"instrument server for {state['station_name']} at {state['address']} "
                f"(pid {proc.pid}); token in {wire.state_path(address.port)}, log in {log_path}"
            )
            return 0
        if proc.poll() is not None:
            tail = log_path.read_text(errors="replace").strip().splitlines()[-1:]
            raise LabctlError(f"the instrument server did not start: {' '.join(tail)}")
        time.sleep(0.1)
    raise LabctlError(
        f"the instrument server did not start within {START_TIMEOUT_S:g} s; see {log_path}"
    )


def register(subparsers: Any, common: argparse.ArgumentParser) -> dict[str, Handler]:
    """Add ``server`` to the ``labctl`` parser."""
    p = subparsers.add_parser(
        "server",
        parents=[common],
        help="the instrument server: one process owns the station's instruments",
        description="start|status|stop an instrument server; watch the magnet through it. "
        "Clients name it in a station file (server: tcp://127.0.0.1:5557); a run holds its "
        "write lock, others may query.",
    )
    p.add_argument("action", choices=("start", "status", "stop", "watch"))
    p.add_argument("--station", default=None, help="station file (default: the simulated bench)")
    p.add_argument("--bind", default=wire.LOOPBACK, help="address to listen on (default: loopback)")
    p.add_argument("--port", type=int, default=wire.DEFAULT_PORT)
    p.add_argument(
        "--allow-remote",
        action="store_true",
        help="allow a non-loopback --bind: other hosts can then reach the bench",
    )
    p.add_argument("--token", default=None, help="status/stop: the token (default: state file)")
    p.add_argument("--foreground", action="store_true", help="start: serve in this process")
    p.add_argument("--every", type=float, default=0.5, help="watch: seconds between readings")
    p.add_argument("--count", type=int, default=0, help="watch: readings (0: until Ctrl-C)")
    return {"server": cmd_server}
