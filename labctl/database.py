"""Opening the runs database: path checks with one readable line, and writes that several
processes can make at once without losing any.

Why qcodes alone gets "database is locked" with several writers: its ``atomic`` blocks start
with a plain (deferred) ``BEGIN``, so a transaction that reads before it writes (run creation
reads the run counter, then inserts) holds only a read lock when it asks to write. If another
connection wrote meanwhile, SQLite cannot upgrade that read transaction (it would deadlock, or
in WAL mode its snapshot is stale) and returns ``SQLITE_BUSY`` at once, without waiting on the
busy timeout. :func:`write` therefore opens every write transaction with ``BEGIN IMMEDIATE``
(the write lock is taken first, waiting on the busy timeout) and qcodes' own ``atomic`` blocks
nest inside it. A busy error that still gets through is retried a bounded number of times with
backoff; the caller keeps what it was writing until a write succeeds.

The database is in WAL mode: readers (``labctl runs``, ``labctl watch``) never block a writer,
nor a writer them. A new database is built in a temporary file and linked into place, so no
process ever sees a half-initialised schema.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from labctl.errors import LabctlError

log = logging.getLogger("labctl")
T = TypeVar("T")

BUSY_TIMEOUT_S = 10.0  # SQLite waits this long for another writer's lock
RETRIES = 6  # then bounded retries with backoff (a busy error that skipped the wait)
BACKOFF_S = 0.05
BACKOFF_MAX_S = 2.0
SQLITE_MAGIC = b"SQLite format 3\x00"


def check_path(db: Path, write: bool) -> None:
    """Raise one readable line if ``db`` cannot be a runs database (to write, if ``write``)."""
    db = Path(db)
    check_folder(db, write)
    if not db.exists():
        if not write:
            raise LabctlError(f"no database at {db} (run a protocol first, or pass --db)")
        return
    if db.is_dir():
        raise LabctlError(f"database {db} is a folder, not an SQLite file")
    try:
        with db.open("rb") as f:
            head = f.read(len(SQLITE_MAGIC))
    except OSError as exc:
        raise LabctlError(f"database {db}: cannot read it ({exc.strerror})") from None
    if head and head != SQLITE_MAGIC:
        raise LabctlError(f"database {db} is not an SQLite database")
    # A file without write permission is read-only for labctl (even for root, who could write).
    if write and (not db.stat().st_mode & 0o222 or not os.access(db, os.W_OK)):
        raise LabctlError(f"database {db} is read-only: cannot write a run to it")


def check_folder(db: Path, write: bool) -> None:
    """Raise one readable line if the folder of ``db`` cannot hold it."""
    for parent in Path(db).parents:
        if parent.exists():
            if not parent.is_dir():
                raise LabctlError(f"database {db}: {parent} is a file, not a folder")
            if write and not db.exists() and not os.access(parent, os.W_OK | os.X_OK):
                raise LabctlError(f"database {db}: cannot create it, folder {parent} is read-only")
            return


def describe(db: Path, exc: BaseException) -> str:
    """One line for an SQLite failure on ``db`` (the root cause, not qcodes' wrapper)."""
    cause = root_cause(exc)
    text = str(cause)
    if "readonly" in text or "read-only" in text:
        return f"database {db} is read-only: {text}"
    if "not a database" in text:
        return f"database {db} is not an SQLite database"
    if "unable to open" in text:
        return f"cannot open the database {db}: {text}"
    if is_busy(cause):
        return f"database {db} stayed locked by another process: {text}"
    return f"database {db}: {type(cause).__name__}: {text}"


def root_cause(exc: BaseException) -> BaseException:
    """The innermost cause (qcodes wraps SQLite errors in ``RuntimeError``)."""
    while exc.__cause__ is not None or exc.__context__ is not None:
        exc = exc.__cause__ or exc.__context__  # type: ignore[assignment]
    return exc


def is_busy(exc: BaseException) -> bool:
    cause = root_cause(exc)
    return isinstance(cause, sqlite3.OperationalError) and (
        "locked" in str(cause) or "busy" in str(cause)
    )


def retrying(fn: Callable[[], T], what: str) -> T:
    """``fn()``, retried ``RETRIES`` times after a busy/locked error with exponential backoff;
    other errors and the last busy one propagate."""
    delay_s, retries = BACKOFF_S, RETRIES
    for attempt in range(retries + 1):
        try:
            return fn()
        except Exception as exc:
            if not is_busy(exc) or attempt == retries:
                raise
            log.debug("%s: database busy, retry %d in %.2f s", what, attempt + 1, delay_s)
            time.sleep(delay_s)
            delay_s = min(delay_s * 2, BACKOFF_MAX_S)
    raise AssertionError("unreachable")


@contextmanager
def immediate(conn: Any) -> Iterator[Any]:
    """One write transaction that holds the write lock from its start; qcodes' ``atomic``
    blocks inside it join it instead of beginning their own (deferred) one."""
    conn.execute("BEGIN IMMEDIATE")
    conn.atomic_in_progress = True
    try:
        yield conn
    except BaseException:
        conn.rollback()
        raise
    else:
        conn.commit()
    finally:
        conn.atomic_in_progress = False


def write(conn: Any, fn: Callable[[], T], what: str) -> T:
    """Run ``fn`` (qcodes writes on ``conn``) in one immediate transaction, retried if busy.
    ``fn`` must be safe to repeat: a failed attempt is rolled back entirely."""

    def attempt() -> T:
        with immediate(conn):
            return fn()

    return retrying(attempt, what)


def connect(db: Path, write: bool = True) -> Any:
    """A qcodes connection to ``db`` (created, in WAL mode, if ``write`` and missing). Errors
    are one readable line naming the path."""
    from qcodes.dataset.sqlite.database import connect as qc_connect

    db = Path(db)
    check_path(db, write)
    try:
        if write and not db.exists():
            db.parent.mkdir(parents=True, exist_ok=True)
            _create(db)
        conn = retrying(lambda: qc_connect(str(db), read_only=not write), f"opening {db}")
        conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
        if write and conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
            try:  # an older database: WAL from now on (needs a moment alone with the file)
                conn.execute("PRAGMA journal_mode = WAL")
            except sqlite3.OperationalError:
                pass  # busy: it still works in its own mode
        return conn
    except LabctlError:
        raise
    except (sqlite3.Error, RuntimeError, OSError) as exc:
        raise LabctlError(describe(db, exc)) from None


def _create(db: Path) -> None:
    """Build the schema in a private file, then link it into place (if nobody was first)."""
    from qcodes.dataset.sqlite.database import connect as qc_connect

    tmp = db.with_name(f".{db.name}.{os.getpid()}.new")
    try:
        conn = qc_connect(str(tmp))
        conn.execute("PRAGMA journal_mode = WAL")
        conn.close()
        try:
            os.link(tmp, db)
        except FileExistsError:
            pass  # another process created it first: use theirs
        except OSError:  # no hard links here: the first to create it still wins
            with open(db, "xb") as f, open(tmp, "rb") as src:
                f.write(src.read())
    except FileExistsError:
        pass
    finally:
        for path in (tmp, Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
            path.unlink(missing_ok=True)
