"""The lab's state outside the process: a restorable store, and a readable journal.

Real instruments outlive the program that talks to them; so does the virtual lab. Two faces:

- :class:`LabStore` keeps a *restorable* state so that another process can take the lab over
  when its owner dies (``kill -9``, a crash): a full snapshot (the pickled lab: twins, magnets,
  routing, chip with its hidden state, lab time) plus an append-only log of the state-changing
  messages since that snapshot. Pure queries are never written, so a twin query stays
  in-process and costs nothing extra; a state-changing message costs one small ``os.write``
  (the page cache survives a killed process); a snapshot is taken at most every
  ``SNAPSHOT_EVERY_S`` of wall time and cuts the log. The owner holds an ``flock`` on its lock
  file for as long as it lives: the kernel drops it when the process dies, which is how a new
  process knows a lab was orphaned (no pid guessing). A process that closes its lab cleanly
  deletes the store: the next one starts from the lab file, as before.
- :class:`StateJournal` (``LABSIM_STATE_FILE``) writes a JSON view of the outputs, levels,
  fields and crosspoints whenever it changes, for tests and people to read.

``LABSIM_PERSIST=0`` turns the store off (the test suite does, for a fresh lab per test);
``LABSIM_STATE_DIR`` chooses where stores live (default ``$XDG_RUNTIME_DIR/labsim`` or
``<tmp>/labsim-<uid>``).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import mmap
import os
import pickle
import struct
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ENV_VAR = "LABSIM_STATE_FILE"
PERSIST_ENV = "LABSIM_PERSIST"
DIR_ENV = "LABSIM_STATE_DIR"
SNAPSHOT_EVERY_S = 2.0
SNAPSHOT_EVERY_ENTRIES = 20_000
_TIME = struct.Struct("d")


class StateJournal:
    """Writes a JSON snapshot when it differs from the last one written."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._last: dict[str, Any] | None = None

    @classmethod
    def from_env(cls) -> StateJournal | None:
        target = os.environ.get(ENV_VAR)
        return cls(target) if target else None

    def record(self, state: dict[str, Any]) -> None:
        if state == self._last:
            return
        self._last = state
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(state, indent=1, sort_keys=True, default=_plain))
        os.replace(tmp, self.path)


def _plain(value: Any) -> Any:
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, set | frozenset | tuple):
        return sorted(value)
    return str(value)


# --- the restorable store ------------------------------------------------------------------------
def persistence_on() -> bool:
    return os.environ.get(PERSIST_ENV, "1").strip().lower() not in ("0", "false", "no", "off")


def state_dir() -> Path:
    chosen = os.environ.get(DIR_ENV)
    if chosen:
        return Path(chosen)
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime and Path(runtime).is_dir():
        return Path(runtime) / "labsim"
    return Path(tempfile.gettempdir()) / f"labsim-{os.getuid()}"


def lab_key(lab_path: str | Path) -> str:
    """Stores are per lab file: its name and a digest of its real path and its text (an edited
    lab file is a different bench: its old store is not taken over)."""
    real = Path(lab_path).resolve()
    digest = hashlib.sha1(str(real).encode() + b"\0" + real.read_bytes()).hexdigest()[:12]
    return f"{real.stem}-{digest}"


@dataclass
class Orphan:
    """A dead owner's store, now locked by us: the snapshot and the messages logged after it."""

    lab: Any
    entries: list[tuple[float, str, str]]
    reached_s: float  # the latest lab time the dead owner saw (queries included)


class LabStore:
    """One owner's store: ``<stem>.lock`` (held), ``.snap`` (pickle), ``.log`` (JSON lines),
    ``.time`` (the lab time reached, in a shared memory map: a store per query, no syscall)."""

    def __init__(self, stem: Path, lock_fd: int) -> None:
        self.stem = stem
        self._lock_fd = lock_fd
        self._log_fd = os.open(self._path(".log"), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        time_fd = os.open(self._path(".time"), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            if os.fstat(time_fd).st_size < 8:
                os.ftruncate(time_fd, 8)
            self._time = mmap.mmap(time_fd, 8)
        finally:
            os.close(time_fd)
        self._seq = 0
        self._snap_seq = 0
        self._snap_wall_s = 0.0
        self.closed = False

    def _path(self, suffix: str) -> Path:
        return self.stem.with_name(self.stem.name + suffix)

    # --- ownership ---------------------------------------------------------------------------
    @classmethod
    def create(cls, lab_path: str | Path) -> LabStore:
        folder = _private_dir()
        stem = folder / f"{lab_key(lab_path)}.{os.getpid()}-{time.time_ns() % 10**9}"
        fd = os.open(stem.with_name(stem.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX)
        return cls(stem, fd)

    @classmethod
    def take_orphan(cls, lab_path: str | Path) -> tuple[LabStore, Orphan] | None:
        """Lock and load the most recently active store of ``lab_path`` whose owner is gone."""
        folder = _private_dir()
        locks = sorted(folder.glob(f"{lab_key(lab_path)}.*.lock"), key=_activity, reverse=True)
        for lock in locks:
            try:
                fd = os.open(lock, os.O_RDWR)
            except OSError:
                continue
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:  # its owner lives
                os.close(fd)
                continue
            stem = lock.with_suffix("")
            try:
                orphan = _load(stem)
            except Exception:  # torn or foreign: not a lab we can take over
                orphan = None
            if orphan is None:
                _remove(stem)
                os.close(fd)
                continue
            store = cls(stem, fd)
            store._seq = store._snap_seq = getattr(orphan.lab, "_store_seq", 0) + len(
                orphan.entries
            )
            return store, orphan
        return None

    # --- writing -----------------------------------------------------------------------------
    def note_time(self, t_s: float) -> None:
        """The lab reached ``t_s`` (a taker must not start behind it)."""
        _TIME.pack_into(self._time, 0, t_s)

    def log(self, twin_name: str, t_s: float, message: str) -> None:
        """One state-changing message, appended in a single write (no fsync: a killed process
        leaves its writes in the page cache; only a power cut loses them, as with the bench)."""
        self._seq += 1
        line = json.dumps([self._seq, t_s, twin_name, message], separators=(",", ":")) + "\n"
        os.write(self._log_fd, line.encode())

    def due(self) -> bool:
        return (
            time.monotonic() - self._snap_wall_s > SNAPSHOT_EVERY_S
            or self._seq - self._snap_seq > SNAPSHOT_EVERY_ENTRIES
        )

    def snapshot(self, lab: Any) -> None:
        """Replace the snapshot (atomically), then cut the log: entries carry sequence numbers,
        so a crash between the two never replays a message the snapshot already holds."""
        lab._store_seq = self._seq
        data = pickle.dumps(lab, protocol=pickle.HIGHEST_PROTOCOL)
        snap = self._path(".snap")
        tmp = self._path(".snap.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(tmp, snap)
        os.ftruncate(self._log_fd, 0)
        self._snap_seq = self._seq
        self._snap_wall_s = time.monotonic()

    def disown(self) -> None:
        """In a forked child: let go of the parent's files without touching them (the parent
        still owns the lab; the child's copy lives in memory only)."""
        if not self.closed:
            self.closed = True
            os.close(self._log_fd)
            os.close(self._lock_fd)
            self._time.close()

    def close(self) -> None:
        """A clean close powers the virtual lab off: its store is deleted."""
        if self.closed:
            return
        self.closed = True
        os.close(self._log_fd)
        self._time.close()
        _remove(self.stem)
        os.close(self._lock_fd)


def _private_dir() -> Path:
    """The state directory, made if missing; refused unless it is ours alone: snapshots are
    pickles, and a pickle from someone else is code from someone else."""
    folder = state_dir()
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    info = folder.stat()
    if info.st_uid != os.getuid() or info.st_mode & 0o022:
        raise PermissionError(
            f"labsim: the state directory {folder} must belong to you and be writable by you "
            f"alone (set {DIR_ENV} elsewhere, or {PERSIST_ENV}=0)"
        )
    return folder


def _activity(lock: Path) -> float:
    stem = lock.with_suffix("")
    times = [
        p.stat().st_mtime
        for p in (lock, *(Path(f"{stem}{s}") for s in (".snap", ".log")))
        if p.exists()
    ]
    return max(times, default=0.0)


def _load(stem: Path) -> Orphan | None:
    snap = Path(f"{stem}.snap")
    if not snap.exists():
        return None
    lab = pickle.loads(snap.read_bytes())
    first = getattr(lab, "_store_seq", 0)
    entries: list[tuple[float, str, str]] = []
    log = Path(f"{stem}.log")
    if log.exists():
        for line in log.read_text(errors="replace").splitlines():
            try:
                seq, t_s, name, message = json.loads(line)
            except (ValueError, TypeError):
                continue  # a line torn by the kill
            if seq > first:
                entries.append((float(t_s), str(name), str(message)))
    reached_s = float(getattr(lab, "t_s", 0.0))
    clock = Path(f"{stem}.time")
    if clock.exists() and clock.stat().st_size >= 8:
        reached_s = max(reached_s, _TIME.unpack(clock.read_bytes()[:8])[0])
    return Orphan(lab, entries, reached_s)


def _remove(stem: Path) -> None:
    for suffix in (".snap", ".snap.tmp", ".log", ".time", ".lock"):
        try:
            os.unlink(f"{stem}{suffix}")
        except FileNotFoundError:
            pass
