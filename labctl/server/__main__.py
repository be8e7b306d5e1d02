"""``python -m labctl.server STATION HOST PORT [--allow-remote]``: run an instrument server in
this process until stopped (``labctl server start`` starts it so, in the background). The
token comes from ``$LABCTL_SERVER_TOKEN`` (never the command line: others can read that), else a
new one; the state file says where the server is and holds the token."""

from __future__ import annotations

import logging
import os
import sys

from labctl.errors import LabctlError
from labctl.server import wire


def main(argv: list[str]) -> int:
    logging.basicConfig(level=logging.INFO, format="labctl server: %(message)s", stream=sys.stderr)
    logging.getLogger("pyvisa").setLevel(logging.WARNING)
    station_path, host, port = argv[0], argv[1], int(argv[2])
    allow_remote = "--allow-remote" in argv[3:]
    token = os.environ.pop(wire.ENV_TOKEN, "") or wire.new_token()
    try:
        from labctl.server.host import InstrumentServer
        from labctl.station import load_station
        from labctl.transport import check_reachable

        station = load_station(station_path or None)
        check_reachable(station)  # a network instrument nobody answers at: one line, now
        server = InstrumentServer(
            station, wire.Address(host, port), token, allow_remote=allow_remote
        )
    except LabctlError as exc:
        print(f"labctl server: error: {exc}", file=sys.stderr)
        return 2
    state = {
        "address": server.address.url,
        "token": token,
        "pid": os.getpid(),
        "station": station.path,
        "station_name": station.name,
    }
    wire.write_state(port, state)
    logging.getLogger(__name__).info("serving %s on %s", station.name, server.address.url)
    try:
        server.serve()
    finally:
        wire.remove_state(port, os.getpid())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
