"""What travels between an instrument server and its clients, and where a server is found.

Every request is three ZeroMQ frames, ``[token, header, payload]``: the token is compared
(constant time) before anything else of the message is parsed, the header is JSON (an
operation and its arguments), the payload the raw bytes of a VISA write. A reply is
``[header, payload]``. Nothing is ever unpickled: a client cannot run code in the server.

A running server leaves a state file (``$LABCTL_SERVER_DIR`` or ``~/.labctl/servers``,
``<port>.json``, readable by its owner only) with its address, token and pid: ``labctl server
status|stop`` and clients on the same host find the token there; other clients are given it
(``$LABCTL_SERVER_TOKEN`` or the station's ``server.token_file``).
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from labctl.errors import LabctlError

DEFAULT_PORT = 5557
LOOPBACK = "127.0.0.1"
PROTOCOL_VERSION = 1
ENV_DIR = "LABCTL_SERVER_DIR"
ENV_TOKEN = "LABCTL_SERVER_TOKEN"
_ADDRESS = re.compile(r"^tcp://(?P<host>[^:/]+|\[[0-9a-fA-F:]+\]):(?P<port>\d{1,5})$")


def new_token() -> str:
    return secrets.token_urlsafe(24)


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback IP literals; a name is never trusted to be one."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class Address:
    host: str
    port: int

    @property
    def url(self) -> str:
        return f"tcp://{self.host}:{self.port}"

    @classmethod
    def parse(cls, text: str, where: str = "server address") -> Address:
        """``tcp://HOST:PORT`` (or ``HOST:PORT``), one clear line otherwise."""
        address = cls.read(text)
        if address is None:
            raise LabctlError(f"{where}: {cls.problem(text)}")
        return address

    @classmethod
    def read(cls, text: str) -> Address | None:
        url = str(text).strip()
        if not url.startswith("tcp://"):
            url = "tcp://" + url
        match = _ADDRESS.match(url)
        if match is None or not 0 < int(match["port"]) < 65536:
            return None
        return cls(match["host"], int(match["port"]))

    @staticmethod
    def problem(text: str) -> str:
        return f"got {text!r}; expected tcp://HOST:PORT, e.g. tcp://127.0.0.1:{DEFAULT_PORT}"


# --- messages ------------------------------------------------------------------------------------
def request(token: str, op: str, payload: bytes = b"", **args: Any) -> list[bytes]:
    return [token.encode(), json.dumps({"op": op, **args}).encode(), payload]


def reply(payload: bytes = b"", **fields: Any) -> list[bytes]:
    return [json.dumps(fields).encode(), payload]


def token_matches(given: bytes, token: str) -> bool:
    return secrets.compare_digest(given, token.encode())


# --- state files -------------------------------------------------------------------------------
def state_dir() -> Path:
    return Path(os.environ.get(ENV_DIR) or Path.home() / ".labctl" / "servers")


def state_path(port: int) -> Path:
    return state_dir() / f"{port}.json"


def write_state(port: int, state: dict[str, Any]) -> Path:
    """The server's state file, created readable by its owner only (it holds the token)."""
    path = state_path(port)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(state, handle)
    tmp.replace(path)
    return path


def read_state(port: int) -> dict[str, Any] | None:
    try:
        return json.loads(state_path(port).read_text())
    except (OSError, ValueError):
        return None


def remove_state(port: int, pid: int) -> None:
    state = read_state(port)
    if state is not None and state.get("pid") == pid:
        state_path(port).unlink(missing_ok=True)


def token_for(address: Address, given: str | None = None) -> str:
    """The token to present to ``address``: given, ``$LABCTL_SERVER_TOKEN``, or the state file
    of a server of this host on that port."""
    if given:
        return given
    if os.environ.get(ENV_TOKEN):
        return os.environ[ENV_TOKEN]
    state = read_state(address.port)
    if state is not None and state.get("token"):
        return str(state["token"])
    raise LabctlError(
        f"instrument server {address.url}: no token; set ${ENV_TOKEN} or the station's "
        f"server.token_file (a server of this host leaves it in {state_path(address.port)})"
    )
