"""The instrument server (labctl/server): one process owns the simulated bench's sessions; runs,
a monitor and plain pyvisa scripts use them through ``@labserver`` on loopback.

Real parts: the server is ``labctl server start`` in its own process (ZeroMQ on 127.0.0.1),
the bench is the @labsim lab in that process, the run is the engine with its qcodes database,
the monitor is ``labctl server watch`` in a third process.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import pyvisa
import zmq

from labctl.data import load_run
from labctl.engine import execute
from labctl.errors import LabctlError
from labctl.params import build_params
from labctl.protocol import find_protocol
from labctl.recording.libspec import forget_library
from labctl.server import wire
from labctl.server.client import BenchRefused
from labctl.server.host import InstrumentServer
from labctl.station import load_station
from sim_backend.open_labs import forget_labs

ROOT = Path(__file__).parents[2]
LABCTL = [sys.executable, "-m", "labctl.cli_main"]
# a short loop: 81 points, enough for the field to go through both coercive fields
LOOP = {"field_max_T": 0.04, "step_T": 0.002, "dwell_s": 0.05, "saturate_s": 0.2}
START_S = 120.0  # a server's start on a loaded 2-core machine (7 s when idle)


@dataclass
class Server:
    address: wire.Address
    state: dict
    station_file: Path
    env: dict[str, str]

    @property
    def library(self) -> str:
        return f"{self.address.url}@labserver"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((wire.LOOPBACK, 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """``labctl server start`` on a free loopback port, a station file naming it, and
    ``labctl server stop`` at the end: one server for the module (a start costs seconds). The
    first test of the file finds its lab fresh (the monitor test compares data with a run on a
    fresh bench); the others do not depend on the lab's history."""
    tmp_path = tmp_path_factory.mktemp("server")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(wire.ENV_DIR, str(tmp_path / "servers"))
        patch.delenv(wire.ENV_TOKEN, raising=False)
        env = {**os.environ, "LABSIM_PERSIST": "0", "LABCTL_SUPERVISE": "0"}
        port = free_port()
        started = subprocess.run(
            [*LABCTL, "server", "start", "--port", str(port)],
            env=env,
            capture_output=True,
            text=True,
            timeout=START_S,
        )
        assert started.returncode == 0, started.stderr
        assert f"tcp://127.0.0.1:{port}" in started.stdout
        state = wire.read_state(port)
        assert state is not None
        station_file = tmp_path / "served.yaml"
        station_file.write_text(f"server: tcp://127.0.0.1:{port}\n")
        try:
            yield Server(wire.Address(wire.LOOPBACK, port), state, station_file, env)
        finally:
            stopped = subprocess.run(
                [*LABCTL, "server", "stop", "--port", str(port)],
                env=env,
                capture_output=True,
                text=True,
                timeout=START_S,
            )
            if stopped.returncode != 0:  # never leave a server behind
                os.kill(int(state["pid"]), signal.SIGKILL)
            assert stopped.returncode == 0, stopped.stderr
            assert wire.read_state(port) is None  # its state file (and token) went with it


def hall_loop(station_file: Path | None, db: Path):
    spec = find_protocol("hall-loop")
    loaded = load_station(station_file)
    return execute(
        spec, build_params(spec.params_type, LOOP, spec.name), loaded, db, supervise=False
    )


def points(db: Path):
    return load_run(db, 1)[1]


# --- the goal: a monitor next to a run, same data ---------------------------------------------
def test_monitor_reads_magnet_while_hall_loop_runs_with_identical_data(
    server: Server, tmp_path: Path
) -> None:
    alone = hall_loop(None, tmp_path / "alone.db")  # the same bench, no server, no monitor
    assert alone.status == "completed", alone.error
    forget_labs()  # the served run's clock starts where this one's did

    monitor = subprocess.Popen(
        [*LABCTL, "server", "watch", "--station", str(server.station_file), "--every", "0.02"],
        env=server.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert monitor.stdout is not None
        first = monitor.stdout.readline()  # reading before the run starts
        assert "output" in first, first + monitor.stderr.read() if monitor.stderr else ""
        served = hall_loop(server.station_file, tmp_path / "served.db")
    finally:
        monitor.send_signal(signal.SIGINT)
        out, err = monitor.communicate(timeout=30)
    assert served.status == "completed", served.error
    readings = [first, *out.splitlines()]
    assert "refused" not in err, err
    # the monitor saw the run: the supply on, at currents of the sweep
    on = [line for line in readings if "output on" in line]
    assert on, readings
    currents = {line.split("I = ")[1].split()[0] for line in on}
    assert len(currents) >= 2, on
    # and the run took exactly the data it takes alone
    a, b = points(tmp_path / "alone.db"), points(tmp_path / "served.db")
    assert len(a) == 2 * round(2 * LOOP["field_max_T"] / LOOP["step_T"]) + 1
    assert a.equals(b), a.compare(b) if a.shape == b.shape else (a.shape, b.shape)
    assert served.result["coercive_field_T"] == alone.result["coercive_field_T"]


# --- security ------------------------------------------------------------------------------------
def test_client_without_the_token_is_refused(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    context = zmq.Context.instance()
    sock = context.socket(zmq.REQ)
    sock.setsockopt(zmq.LINGER, 0)
    sock.connect(server.address.url)
    try:
        for frames in (
            wire.request("not-the-token", "station"),
            wire.request("", "status"),
            [b'{"op": "station"}'],  # no token frame at all
        ):
            sock.send_multipart(frames)
            assert sock.poll(10_000)
            header, payload = sock.recv_multipart()
            assert json.loads(header) == {"refused": "token refused: this server needs its token"}
            assert payload == b""  # not a byte of the station or the bench
    finally:
        sock.close()
    # a pyvisa client with a wrong token: refused at once, one line
    monkeypatch.setenv(wire.ENV_TOKEN, "not-the-token")
    forget_library(server.address.url)  # pyvisa keeps one client per library string
    with pytest.raises(BenchRefused, match=r"tcp://127\.0\.0\.1:\d+: token refused"):
        pyvisa.ResourceManager(server.library)
    # a station file naming the server: one line naming the file and key
    with pytest.raises(LabctlError, match=r"served\.yaml: server: .*token refused"):
        load_station(server.station_file)
    # with the token (the state file of this host's server) the same client works
    monkeypatch.delenv(wire.ENV_TOKEN)
    rm = pyvisa.ResourceManager(server.library)
    try:
        kepco = rm.open_resource("GPIB0::6::INSTR", read_termination="\n")
        assert kepco.query("*IDN?").startswith("KEPCO,BOP")
    finally:
        rm.close()
    assert oct(Path(wire.state_path(server.address.port)).stat().st_mode & 0o777) == "0o600"


def _listening(pid: int) -> list[tuple[str, str]]:
    """(family, local address hex) of every TCP socket process ``pid`` listens on."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            link = os.readlink(fd)
        except OSError:
            continue
        if link.startswith("socket:["):
            inodes.add(link[8:-1])
    found = []
    for family in ("tcp", "tcp6"):
        for row in Path(f"/proc/{pid}/net/{family}").read_text().splitlines()[1:]:
            cols = row.split()
            if cols[3] == "0A" and cols[9] in inodes:  # 0A: LISTEN
                found.append((family, cols[1].split(":")[0]))
    return found


@pytest.mark.skipif(not Path("/proc/self/net/tcp").exists(), reason="needs Linux /proc")
def test_nothing_listens_on_a_non_loopback_address_unless_asked(
    server: Server, tmp_path: Path
) -> None:
    listening = _listening(int(server.state["pid"]))
    assert listening == [("tcp", "0100007F")]  # 127.0.0.1, nothing else (no IPv6, no 0.0.0.0)
    # another address: refused before anything binds, by the CLI and by the server itself
    port = free_port()
    refused = subprocess.run(
        [*LABCTL, "server", "start", "--bind", "0.0.0.0", "--port", str(port)],
        env=server.env,
        capture_output=True,
        text=True,
        timeout=START_S,
    )
    assert refused.returncode == 2
    assert refused.stderr.strip().splitlines() == [
        "labctl: error: --bind 0.0.0.0: not a loopback address; other hosts could reach the "
        "bench. Add --allow-remote to mean it"
    ]
    assert wire.read_state(port) is None
    station = load_station(None)
    with pytest.raises(LabctlError, match=r"not a loopback address.*--allow-remote"):
        InstrumentServer(station, wire.Address("0.0.0.0", port), "token")
    with socket.socket() as probe:  # and the port is still free: nothing was bound
        probe.bind((wire.LOOPBACK, port))


# --- the write lock ------------------------------------------------------------------------------
HOLDER = textwrap.dedent(
    """
    import sys
    from labctl.server.client import hold_bench
    with hold_bench(sys.argv[1], "run of hall-loop in another process"):
        print("held", flush=True)
        sys.stdin.readline()
    print("released", flush=True)
    """
)


def _holder(server: Server) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, server.library],
        env=server.env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stdout.readline() == "held\n"
    return proc


def test_second_protocol_is_refused_while_a_run_holds_the_bench_and_readers_may_query(
    server: Server, tmp_path: Path
) -> None:
    holder = _holder(server)
    try:
        with pytest.raises(BenchRefused) as refused:
            hall_loop(server.station_file, tmp_path / "second.db")
        message = str(refused.value)
        assert "\n" not in message
        assert "the bench is held by run of hall-loop in another process (pid" in message
        assert "try again when it ends" in message
        assert not (tmp_path / "second.db").exists() or points_count(tmp_path / "second.db") == 0
        status = subprocess.run(
            [*LABCTL, "server", "status", "--port", str(server.address.port)],
            env=server.env,
            capture_output=True,
            text=True,
            timeout=START_S,
        )
        assert status.returncode == 0, status.stderr
        assert "write lock   run of hall-loop in another process (pid" in status.stdout
        stop = subprocess.run(
            [*LABCTL, "server", "stop", "--port", str(server.address.port)],
            env=server.env,
            capture_output=True,
            text=True,
            timeout=START_S,
        )
        assert stop.returncode == 2
        assert "not stopped: the bench is held by run of hall-loop in another" in stop.stderr
        # a reader: queries pass, a write is refused and never reaches the instrument
        rm = pyvisa.ResourceManager(server.library)
        try:
            kepco = rm.open_resource("GPIB0::6::INSTR", read_termination="\n")
            before = kepco.query("CURR?")
            with pytest.raises(BenchRefused, match=r"'CURR 1' refused: the bench is held by"):
                kepco.write("CURR 1")
            assert kepco.query("CURR?") == before
        finally:
            rm.close()
    finally:
        assert holder.stdin is not None
        holder.stdin.write("\n")
        holder.stdin.flush()
        holder.wait(timeout=30)
    # released: the next protocol runs
    assert hall_loop(server.station_file, tmp_path / "after.db").status == "completed"


def points_count(db: Path) -> int:
    try:
        return len(points(db))
    except LabctlError:
        return 0


def test_a_protocol_waits_for_the_bench_with_server_wait_s(server: Server, tmp_path: Path) -> None:
    holder = _holder(server)
    waiting = tmp_path / "waiting.yaml"
    waiting.write_text(f"server: {{address: '{server.address.url}', wait_s: 60}}\n")

    def release_soon() -> None:
        time.sleep(1.0)
        assert holder.stdin is not None
        holder.stdin.write("\n")
        holder.stdin.flush()

    threading.Thread(target=release_soon, daemon=True).start()
    t0 = time.monotonic()
    outcome = hall_loop(waiting, tmp_path / "waited.db")
    assert outcome.status == "completed", outcome.error
    assert time.monotonic() - t0 >= 1.0
    holder.wait(timeout=30)


def test_a_lock_whose_holder_died_is_taken_back(server: Server) -> None:
    holder = _holder(server)
    holder.kill()  # kill -9: no release
    holder.wait(timeout=30)
    rm = pyvisa.ResourceManager(server.library)
    try:
        kepco = rm.open_resource("GPIB0::6::INSTR", read_termination="\n")
        kepco.write("CURR 0.5")  # the dead holder's lock does not block the bench
        assert float(kepco.query("CURR?")) == pytest.approx(0.5)
        kepco.write("CURR 0")
    finally:
        rm.close()


def test_a_served_run_killed_mid_run_reaches_the_safe_state_through_the_server(
    server: Server, tmp_path: Path
) -> None:
    """kill -9 of a run holding the bench: its supervisor (another process) takes the lock
    back from the dead run and brings the bench to its safe state through the same server."""
    db = tmp_path / "killed.db"
    run = subprocess.Popen(
        [*LABCTL, "run", "hall-loop", "--station", str(server.station_file), "--db", str(db)],
        env={**server.env, "LABCTL_SUPERVISE": "1"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + START_S
        while points_count(db) < 10:  # the run holds the bench and sweeps the field
            assert run.poll() is None and time.monotonic() < deadline
            time.sleep(0.5)
    finally:
        run.kill()
        run.wait(timeout=30)
    deadline = time.monotonic() + START_S
    # (a run whose process is gone reads "interrupted" at once: wait for the supervisor's word)
    while "safe_state" not in (info := load_run(db, 1)[0]).metadata:
        assert time.monotonic() < deadline, "the supervisor never finished the run"
        time.sleep(0.5)
    assert info.status == "interrupted"
    assert "the supervisor reached the safe state" in str(info.metadata.get("error"))
    magnet = [line for line in info.metadata["safe_state"] if line.startswith("magnet")]
    assert magnet and magnet[0].endswith("output off"), info.metadata["safe_state"]
    rm = pyvisa.ResourceManager(server.library)
    try:
        kepco = rm.open_resource("GPIB0::6::INSTR", read_termination="\n")
        assert kepco.query("OUTP?") == "0"
        assert float(kepco.query("CURR?")) == 0.0
        kepco.write("OUTP 0")  # and the dead run's lock is gone: anyone may write again
    finally:
        rm.close()


# --- bad input: one line naming the file and the key ---------------------------------------------
@pytest.mark.parametrize(
    ("text", "line"),
    [
        (
            "server: {adress: 'tcp://127.0.0.1:5557'}\n",
            "server.adress: unknown key; did you mean 'address'? expected one of address, "
            "token_file, wait_s",
        ),
        (
            "server: 127.0.0.1\n",
            "server.address: got '127.0.0.1'; expected tcp://HOST:PORT, e.g. tcp://127.0.0.1:5557",
        ),
        (
            "server: {address: 'tcp://127.0.0.1:5557', wait_s: -1}\n",
            "server.wait_s: got -1; expected seconds >= 0",
        ),
        (
            "server: tcp://127.0.0.1:5557\nvisa_library: '@py'\n",
            "visa_library: a station that names a server uses the server's library",
        ),
        (
            "server: {address: 'tcp://127.0.0.1:5557', token_file: missing.token}\n",
            "server.token_file: cannot read {dir}/missing.token: No such file or directory",
        ),
    ],
)
def test_a_bad_server_entry_is_one_line_naming_the_key(
    tmp_path: Path, text: str, line: str
) -> None:
    station = tmp_path / "served.yaml"
    station.write_text(text)
    with pytest.raises(LabctlError) as error:
        load_station(station)
    assert str(error.value) == f"{station}: " + line.format(dir=tmp_path)


def test_a_server_nobody_runs_is_one_line_at_once(tmp_path: Path) -> None:
    station = tmp_path / "served.yaml"
    station.write_text(f"server: tcp://127.0.0.1:{free_port()}\n")
    t0 = time.monotonic()
    with pytest.raises(
        LabctlError,
        match=r"served\.yaml: server: instrument server tcp://127\.0\.0\.1:\d+: "
        r"Connection refused; is it running\?",
    ):
        load_station(station)
    assert time.monotonic() - t0 < 10  # not ZeroMQ's silent wait for a peer


def test_a_server_gone_mid_session_is_one_line_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = free_port()
    monkeypatch.setenv(wire.ENV_DIR, str(tmp_path))
    env = {**os.environ, "LABSIM_PERSIST": "0"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "labctl.server", "", wire.LOOPBACK, str(port)],
        env=env,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + START_S
        while wire.read_state(port) is None:
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
        rm = pyvisa.ResourceManager(f"tcp://127.0.0.1:{port}@labserver")
        kepco = rm.open_resource("GPIB0::6::INSTR", read_termination="\n")
        assert kepco.query("OUTP?") == "0"
        proc.kill()  # kill -9: no goodbye
        proc.wait(timeout=30)
        t0 = time.monotonic()
        with pytest.raises(LabctlError, match=r"tcp://127\.0\.0\.1:\d+: Connection refused"):
            kepco.query("OUTP?")
        assert time.monotonic() - t0 < 10  # not the 60 s a busy server is given
    finally:
        if proc.poll() is None:
            proc.kill()


def test_a_station_with_its_own_instruments_through_the_server_keeps_the_bench_clock(
    server: Server, tmp_path: Path
) -> None:
    """A file that lists (some of) the server's instruments under its own names: they are
    reached through the server, on the bench's clock (virtual for the simulated lab)."""
    station = tmp_path / "narrow.yaml"
    station.write_text(
        f"server: {server.address.url}\n"
        "instruments:\n"
        "  coil:\n"
        "    driver: kepco_bop\n"
        "    address: 'GPIB0::6::INSTR'\n"
        "    role: field\n"
        "    limits: {field_T: [-0.1, 0.1], ramp_T_per_s: 1.0, current_A: [-6.0, 6.0]}\n"
        "    settings: {coil_T_per_A: 0.03, remanence_T: 0.002}\n"
    )
    loaded = load_station(station)
    assert loaded.clock == "virtual"
    assert loaded.visa_library == server.library
    assert list(loaded.instruments) == ["coil"]
    assert loaded.instruments["coil"].limits.field_T.high == 0.1
