"""kill -9 loses nothing older than the flush interval, and the database stays readable."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from labctl.data import list_runs, load_run

TESTS = Path(__file__).parent

SCRIPT = textwrap.dedent(
    """
    import sys, time
    from dataclasses import dataclass
    from pathlib import Path
    from labctl.api import Run, param, protocol
    from labctl.engine import execute
    from labctl.params import build_params
    from labctl.protocol import spec_of
    from labctl.station import load_station

    progress = open(sys.argv[2], "w", buffering=1)

    @dataclass(frozen=True)
    class P:
        n: int = param(10_000_000)

    @protocol("forever", columns={"i": ""})
    def forever(run: Run, p: P) -> None:
        for i in range(p.n):
            run.record(i=i)
            if i % 200 == 0:
                progress.write(f"{i} {time.time()}\\n")
                time.sleep(0.01)

    execute(spec_of(forever), build_params(P, {}, "forever"), load_station(sys.argv[3]),
            Path(sys.argv[1]))
    """
)


def test_kill_9_loses_nothing_older_than_one_second(tmp_path: Path) -> None:
    db, progress = tmp_path / "k.db", tmp_path / "progress.txt"
    env = {**os.environ, "PYTHONPATH": str(TESTS)}
    proc = subprocess.Popen(
        [sys.executable, "-c", SCRIPT, str(db), str(progress), str(TESTS / "stations/fake.yaml")],
        env=env,
    )
    try:
        deadline = time.time() + 60
        while time.time() < deadline:
            lines = progress.read_text().split() if progress.exists() else []
            if len(lines) >= 2 and time.time() - float(lines[1]) > 2.5:
                break
            time.sleep(0.1)
        else:
            raise AssertionError("the recording subprocess never got going")
        killed_at = time.time()
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    logged = [line.split() for line in progress.read_text().splitlines() if line.strip()]
    older = [int(i) for i, t in logged if float(t) <= killed_at - 1.0]
    assert older, "no progress logged more than 1 s before the kill"
    runs = list_runs(db)  # the database opens after a kill -9
    assert len(runs) == 1
    _, frame = load_run(db, runs[0].run_id)
    assert len(frame) >= max(older) + 1
    assert list(frame["i"][: max(older) + 1]) == list(range(max(older) + 1))
