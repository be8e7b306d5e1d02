"""The instrument server's cost per query (issue 15), in one run.

(a) µs per ``CURR?`` of the simulated Kepco BOP through ``labctl server`` (``@labserver``,
    another process on loopback) against the same query on a direct ``@labsim`` session in this
    process: the overhead is their difference (goal: at most 1 ms, under the time a GPIB or
    USBTMC query of a real instrument takes by itself, so a served bench runs at the
    instruments' pace).
(b) The transports considered, as a bare round trip to an echo in another process on loopback:
    pyzmq (REQ/ROUTER, token + JSON header, what the server uses) against Pyro5 (a proxy call,
    serpent serializer) when Pyro5 is installed. pyvisa-proxy was read, not run: it binds every
    interface and unpickles (dill) whatever a client sends, with no token: unfit for a bench
    shared on a network.
(c) (not ``quick``) a whole hall-loop through the server against the same loop direct.

Run: ``python scripts/bench_server.py [--quick]``. Never an assertion: run it, read it.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import pyvisa
from benchlib import Figure, best_of, per_query_us, table

from labctl.server import wire

ROOT = Path(__file__).resolve().parents[1]
QUERY = "CURR?"
RESOURCE = "GPIB0::6::INSTR"
OVERHEAD_GOAL_US = 1000.0

ZMQ_ECHO = textwrap.dedent(
    """
    import sys, zmq
    sock = zmq.Context().socket(zmq.ROUTER)
    sock.bind(f"tcp://127.0.0.1:{sys.argv[1]}")
    print("ready", flush=True)
    while True:
        ident, empty, token, header, payload = sock.recv_multipart()
        sock.send_multipart([ident, empty, header, payload])
    """
)
PYRO_ECHO = textwrap.dedent(
    """
    import sys, Pyro5.api
    @Pyro5.api.expose
    class Echo:
        def query(self, token, resource, command):
            return command
    daemon = Pyro5.api.Daemon(host="127.0.0.1", port=int(sys.argv[1]))
    daemon.register(Echo(), objectId="echo")
    print("ready", flush=True)
    daemon.requestLoop()
    """
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _spawn(code: str, port: int, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", code, str(port)], stdout=subprocess.PIPE, text=True, env=env
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    return proc


def _start_server(state_dir: str) -> tuple[subprocess.Popen[bytes], wire.Address]:
    port = _free_port()
    env = {**os.environ, wire.ENV_DIR: state_dir, "LABSIM_PERSIST": "0", "LABCTL_SUPERVISE": "0"}
    os.environ[wire.ENV_DIR] = state_dir  # this process's clients find the token there
    proc = subprocess.Popen(
        [sys.executable, "-m", "labctl.server", "", "127.0.0.1", str(port)],
        env=env,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while wire.read_state(port) is None:
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("the instrument server did not start")
        time.sleep(0.05)
    return proc, wire.Address("127.0.0.1", port)


def _query_us(library: str, n: int, repeats: int) -> float:
    rm = pyvisa.ResourceManager(library)
    try:
        res = rm.open_resource(RESOURCE, read_termination="\n", write_termination="\n")
        return min(per_query_us(res, QUERY, n, warmup=20) for _ in range(repeats))
    finally:
        rm.close()


def _zmq_round_trip_us(port: int, n: int, repeats: int) -> float:
    import zmq

    sock = zmq.Context.instance().socket(zmq.REQ)
    sock.connect(f"tcp://127.0.0.1:{port}")
    frames = wire.request("token", "write", b"CURR?\n", c="bench", s=1)

    def burst() -> None:
        for _ in range(n):
            sock.send_multipart(frames)
            sock.recv_multipart()

    try:
        burst()
        return best_of(burst, repeats) / n * 1e6
    finally:
        sock.close(linger=0)


def _pyro_round_trip_us(port: int, n: int, repeats: int) -> float:
    import Pyro5.api

    proxy = Pyro5.api.Proxy(f"PYRO:echo@127.0.0.1:{port}")

    def burst() -> None:
        for _ in range(n):
            proxy.query("token", RESOURCE, "CURR?\n")

    try:
        burst()
        return best_of(burst, repeats) / n * 1e6
    finally:
        proxy._pyroRelease()


def _hall_loop_s(station_file: Path | None, db: Path) -> float:
    from labctl.engine import execute
    from labctl.params import build_params
    from labctl.protocol import find_protocol
    from labctl.station import load_station

    spec = find_protocol("hall-loop")
    params = build_params(spec.params_type, {}, spec.name)
    t0 = time.perf_counter()
    outcome = execute(spec, params, load_station(station_file), db, supervise=False)
    assert outcome.status == "completed", outcome.error
    return time.perf_counter() - t0


def figures(quick: bool = False) -> list[Figure]:
    logging.getLogger("labctl").setLevel(logging.ERROR)  # no safe-state lines between figures
    n, repeats = (200, 3) if quick else (1000, 5)
    out: list[Figure] = []
    with tempfile.TemporaryDirectory() as tmp:
        server, address = _start_server(tmp)
        try:
            direct_us = served_us = float("inf")
            for _ in range(repeats):  # in turns: a busy moment hits both alike
                direct_us = min(direct_us, _query_us("@labsim", n, 1))
                served_us = min(served_us, _query_us(f"{address.url}@labserver", n, 1))
            overhead_us = served_us - direct_us
            out.append(
                Figure(
                    "server per-query overhead",
                    overhead_us,
                    "µs",
                    "direct @labsim query",
                    direct_us,
                    f"<= {OVERHEAD_GOAL_US:g} µs",
                    overhead_us <= OVERHEAD_GOAL_US,
                    f"{QUERY} of the Kepco BOP twin, best of {repeats} x {n}; through the "
                    f"server {served_us:.0f} µs per query",
                )
            )
            if not quick:
                from sim_backend.open_labs import forget_labs

                station = Path(tmp) / "served.yaml"
                station.write_text(f"server: {address.url}\n")
                direct_s = served_s = float("inf")
                for k in range(2):  # in turns, best of 2: the first run pays the imports
                    forget_labs()
                    direct_s = min(direct_s, _hall_loop_s(None, Path(tmp) / f"direct{k}.db"))
                    forget_labs()
                    served_s = min(served_s, _hall_loop_s(station, Path(tmp) / f"served{k}.db"))
                out.append(
                    Figure(
                        "hall-loop through the server",
                        served_s,
                        "s",
                        "hall-loop direct",
                        direct_s,
                        "report",
                        True,
                        "321 points, default parameters, virtual clock, best of 2 in turns",
                    )
                )
        finally:
            server.terminate()
            server.wait(timeout=30)
    zmq_port = _free_port()
    zmq_echo = _spawn(ZMQ_ECHO, zmq_port)
    try:
        zmq_us = _zmq_round_trip_us(zmq_port, n, repeats)
    finally:
        zmq_echo.kill()
    pyro_us: float | None = None
    if importlib.util.find_spec("Pyro5") is not None:
        pyro_port = _free_port()
        pyro_echo = _spawn(PYRO_ECHO, pyro_port)
        try:
            pyro_us = _pyro_round_trip_us(pyro_port, n, repeats)
        finally:
            pyro_echo.kill()
    out.append(
        Figure(
            "pyzmq round trip (chosen)",
            zmq_us,
            "µs",
            "Pyro5 proxy call" if pyro_us is not None else "Pyro5: not installed",
            pyro_us,
            "<= Pyro5",
            pyro_us is None or zmq_us <= pyro_us,
            "echo in another process on loopback, best of "
            f"{repeats} x {n}; pyvisa-proxy not run (binds all interfaces, unpickles requests)",
        )
    )
    return out


def main() -> None:
    print(table(figures(quick="--quick" in sys.argv)))


if __name__ == "__main__":
    main()
