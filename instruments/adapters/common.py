"""Plumbing shared by the role adapters: guarded transport (counting, reply validation,
retries, health polls, reconnection), error queues, ramps.

Nothing here knows an instrument model. Time is always taken through the role's
:class:`~instruments.roles.Timebase` (a virtual clock under simulation), never ``time.sleep``.
"""

from __future__ import annotations

import logging
import math
import re
import warnings
from collections.abc import Callable
from typing import Any, ClassVar, Protocol, TypeVar

import pyvisa
from pyvisa import constants

from instruments.roles import BadReply, ConnectionLost, InstrumentError, Role, Timebase

log = logging.getLogger("instruments")

A = TypeVar("A", bound="Configurable")

MAX_QUEUED_ERRORS = 32  # an error queue longer than this is reported as it stands


REPLY_RETRIES = 2  # a bad reply is asked again this many times before the run fails
STB_ERROR_AVAILABLE = 1 << 2  # IEEE 488.2 / SCPI status byte: error/event queue not empty
_TERMINATION_WARNING = "doesn't end with termination"
# A reply element (IEEE 488.2 response data, or a TSP print) starts with a sign, a digit, a
# point, a letter, a quote or a bracket; ``#`` only as a block or non-decimal header.
_ELEMENT_START = re.compile(r"""^(?:$|[-+.0-9A-Za-z_"'(\[{*:/]|#[0-9BHQbhq])""")
_ELEMENT_SPLIT = re.compile(r"[,;\t]")
ERROR_QUERIES = ("SYST:ERR?", "SYSTEM:ERROR?", "print(errorqueue.next())")
ESR_BITS = {2: "query error", 3: "device-specific error", 4: "execution error", 5: "command error"}


class Link:
    """One VISA connection of a role (its own driver or a companion), guarded.

    Every write is counted in the role; every reply is checked for its terminator (pyvisa
    only *warns* when it is missing), unprintable characters and the reply grammar before the
    driver parses it. A bad or missing reply is asked again (the query re-sent on a cleared
    input buffer) up to :data:`REPLY_RETRIES` times, each retry logged; then :class:`BadReply`
    names the role, model, address, command and reply. A lost connection raises
    :class:`ConnectionLost` at once; :meth:`reconnect` opens a new session on the address.
    """

    def __init__(self, role: Role, driver: Any) -> None:
        self.role, self.driver, self.adapter = role, driver, driver.adapter
        self.model = type(driver).__name__
        self.address = str(getattr(self.adapter.connection, "resource_name", "?"))
        self.command: str | None = None  # the last command written
        self.reply: str | None = None  # the last reply read (even a bad one)
        # The error-queue query this instrument answers, learnt from the adapter's own use.
        self.error_query: str | None = None
        self._write = self.adapter.write
        self._write_bytes = self.adapter.write_bytes
        self._read = self.adapter.read
        self.adapter.write = self.write
        self.adapter.write_bytes = self.write_bytes
        self.adapter.read = self.read

    def describe(self) -> str:
        return f"{self.role.name} ({self.role.role}, {self.model} @ {self.address})"

    # --- transport -------------------------------------------------------------------------
    def write(self, command: str, **kwargs: Any) -> None:
        self.role.transactions += 1
        self.command = command
        if self.error_query is None and command.strip().upper() in ERROR_QUERIES:
            self.error_query = command.strip()
        self._lost_guard(self._write, command, **kwargs)

    def write_bytes(self, content: bytes, **kwargs: Any) -> None:
        self.role.transactions += 1
        self.command = content.decode("latin-1", errors="replace")
        self._lost_guard(self._write_bytes, content, **kwargs)

    def read(self, **kwargs: Any) -> str:
        command = self.command
        for attempt in range(REPLY_RETRIES + 1):
            reply, why = self._read_checked(**kwargs)
            if why is None:
                return reply
            if attempt == REPLY_RETRIES or command is None:
                break
            self.role.reply_retries += 1
            log.warning(
                "%s: bad reply to %r: %r (%s); asking again (%d/%d)",
                self.describe(),
                command,
                reply,
                why,
                attempt + 1,
                REPLY_RETRIES,
            )
            self._discard_input()
            self.write(command)
        raise BadReply(
            self.role.name,
            f"{self.model} @ {self.address} ({self.role.role}): bad reply to {command!r}: "
            f"{reply!r} ({why}), {REPLY_RETRIES + 1} tries",
        )

    def _read_checked(self, **kwargs: Any) -> tuple[str, str | None]:
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                reply = self._lost_guard(self._read, **kwargs)
        except pyvisa.VisaIOError as exc:
            if exc.error_code == constants.StatusCode.error_timeout:
                self.reply = ""
                return "", "no reply before the timeout"
            raise
        self.reply = reply
        if any(_TERMINATION_WARNING in str(w.message) for w in caught):
            return reply, "no terminator: the reply is cut short"
        return reply, reply_problem(reply)

    def _lost_guard(self, call: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        try:
            return call(*args, **kwargs)
        except pyvisa.VisaIOError as exc:
            if exc.error_code == constants.StatusCode.error_connection_lost:
                raise ConnectionLost(
                    self.role.name, f"{self.model} @ {self.address}: connection lost"
                ) from exc
            raise

    def _discard_input(self) -> None:
        try:
            self.adapter.connection.flush(constants.BufferOperation.discard_read_buffer)
        except Exception:  # a stale reply left behind is caught by the next check anyway
            pass

    # --- health and reconnection -------------------------------------------------------------
    def error_pending(self) -> bool:
        """Serial poll (no message sent): does the status byte say an error is queued?"""
        try:
            stb = int(self._lost_guard(self.adapter.connection.read_stb))
        except (pyvisa.VisaIOError, NotImplementedError, AttributeError):
            return False  # no serial poll on this interface: the next query shows errors
        return bool(stb & STB_ERROR_AVAILABLE)

    def reconnect(self) -> None:
        """Open a new VISA session on the same address (same terminations and timeout)."""
        old = self.adapter.connection
        options = {
            "read_termination": old.read_termination,
            "write_termination": old.write_termination,
            "timeout": old.timeout,
        }
        try:
            old.close()
        except Exception:  # a dropped session may refuse to close: it is abandoned
            pass
        self.adapter.connection = self.adapter.manager.open_resource(self.address, **options)


def count_transactions(role: Role, driver: Any) -> Link:
    """Guard ``driver``'s connection (see :class:`Link`) and attach it to ``role``.

    Works on pymeasure instruments (their ``adapter``) by wrapping the adapter's ``write``,
    ``write_bytes`` and ``read`` on the instance, so the driver itself stays unchanged.
    """
    link = Link(role, driver)
    role.links.append(link)
    return link


def reply_problem(reply: str) -> str | None:
    """Why ``reply`` cannot be an instrument's answer, or None."""
    if any(not (c.isprintable() or c in "\t\r\n") for c in reply):
        return "unprintable characters"
    for element in _ELEMENT_SPLIT.split(reply):
        if not _ELEMENT_START.match(element.strip()):
            return f"malformed element {element.strip()!r}"
    return None


def read_value(
    role: Role, quantity: str, read: Callable[[], Any], bound: float, link: Link | None = None
) -> float:
    """``read()`` as a float within ``±bound`` (the instrument's own range), else asked again.

    A reply that parses to no number, a non-finite one, or one beyond what the instrument can
    show (an overload, a value past its range) is retried like a malformed reply, then fails
    with :class:`BadReply` naming the command and reply. Nothing invalid is returned.
    ``link``: the connection the reading comes from (default: the role's own driver).
    """
    last = link if link is not None else (role.links[0] if role.links else None)
    why = ""
    for attempt in range(REPLY_RETRIES + 1):
        try:
            value = float(read())
        except (ValueError, TypeError, IndexError) as exc:
            why = f"not a number ({exc})"
        else:
            if not math.isfinite(value):
                why = f"{value!r} is not finite"
            elif abs(value) > bound:
                why = f"{value:g} is beyond the instrument's range ±{bound:g}"
            else:
                return value
        where = last.describe() if last is not None else role.name
        command = last.command if last is not None else None
        reply = last.reply if last is not None else None
        if attempt < REPLY_RETRIES:
            role.reply_retries += 1
            log.warning(
                "%s: %s reading rejected: reply %r to %r: %s; asking again (%d/%d)",
                where,
                quantity,
                reply,
                command,
                why,
                attempt + 1,
                REPLY_RETRIES,
            )
            continue
        model_at = f"{last.model} @ {last.address}" if last is not None else "?"
        raise BadReply(
            role.name,
            f"{model_at} ({role.role}): {quantity} reading rejected: reply {reply!r} to "
            f"{command!r}: {why}, {REPLY_RETRIES + 1} tries",
        )
    raise AssertionError("unreachable")


def check_health(role: Role, check_errors: Callable[[], None] | None = None) -> None:
    """Serial-poll each link of ``role``; when an error is queued, read it and raise it.

    ``check_errors`` reads the role's error queue (raising :class:`InstrumentError`); when the
    status byte says an error is queued but the queue tells nothing, that is raised too.
    """
    for k, link in enumerate(role.links):
        if not link.error_pending():
            continue
        if k == 0 and check_errors is not None:
            check_errors()
        where = f"{role.name} ({link.model} @ {link.address})"
        if link.error_query is not None:
            drain_error_queue(where, link.driver.ask, link.error_query)
        # No error queue known: the standard event register says what kind of error.
        try:
            esr = int(float(link.driver.ask("*ESR?")))
        except (ValueError, InstrumentError):
            esr = 0
        kinds = [f"{name} (bit {bit})" for bit, name in ESR_BITS.items() if esr & (1 << bit)]
        raise InstrumentError(
            where,
            "the status byte reports an error"
            + (f"; *ESR? = {esr}: {', '.join(kinds)}" if kinds else ""),
        )


def parse_error_entry(reply: str) -> tuple[int, str]:
    """Split an error-queue entry into (code, message).

    SCPI answers ``-113,"Undefined header"``; TSP's ``print(errorqueue.next())`` answers
    ``-113<TAB>Undefined header<TAB>...``.
    """
    text = reply.strip()
    separator = "\t" if "\t" in text else ","
    code_text, _, rest = text.partition(separator)
    message = rest.split("\t")[0].strip().strip('"')
    try:
        code = int(float(code_text))
    except ValueError as exc:
        raise InstrumentError("?", f"unreadable error-queue entry {reply!r}") from exc
    return code, message


def drain_error_queue(name: str, ask: Callable[[str], str], query: str = "SYST:ERR?") -> None:
    """Read the error queue until it is empty; raise the instrument's own messages, if any."""
    entries: list[str] = []
    codes: list[int] = []
    for _ in range(MAX_QUEUED_ERRORS):
        reply = ask(query)
        try:
            code, message = parse_error_entry(reply)
        except InstrumentError as exc:
            raise InstrumentError(name, str(exc).split(": ", 2)[-1]) from None
        if code == 0:
            break
        entries.append(f'{code},"{message}"')
        codes.append(code)
    if entries:
        raise InstrumentError(name, "; ".join(entries), tuple(codes))


def ramp(
    timebase: Timebase,
    start: float,
    stop: float,
    rate_per_s: float,
    max_step: float,
    min_step_s: float,
    apply: Callable[[float], None],
) -> int:
    """Step from ``start`` to ``stop`` at ``rate_per_s``; return the number of steps applied.

    The staircase waits one step time before each step, so step ``k`` of ``n`` lands at
    ``t0 + k·T/n`` with ``T = |stop - start| / rate``: the staircase lies on the line of the
    configured rate and the last step arrives at exactly ``T``. Steps are at most
    ``max_step`` (in the ramped unit) and at least ``min_step_s`` apart. When the instrument is
    slower than the schedule the ramp falls behind (slower, never faster, than the rate).
    """
    distance = abs(stop - start)
    if distance == 0.0:
        return 0
    if not rate_per_s > 0.0:
        raise ValueError(f"ramp rate must be positive, got {rate_per_s!r}")
    duration_s = distance / rate_per_s
    step_s = max(max_step / rate_per_s, min_step_s)
    n_steps = max(1, math.ceil(duration_s / step_s - 1e-9))
    t0_s = timebase.now()
    for k in range(1, n_steps + 1):
        wait_s = t0_s + duration_s * k / n_steps - timebase.now()
        if wait_s > 0.0:
            timebase.sleep(wait_s)
        apply(stop if k == n_steps else start + (stop - start) * k / n_steps)
    return n_steps


def positive(owner: str, key: str, value: float) -> float:
    """Refuse a non-positive setting (a configuration error, not a limit)."""
    if not (math.isfinite(value) and value > 0.0):
        raise ValueError(f"{owner}: setting {key} must be a positive number, got {value!r}")
    return float(value)


def one_of(owner: str, key: str, value: float, allowed: list[float]) -> int:
    """Index of ``value`` in ``allowed`` (relative tolerance 1e-6); refuse anything else."""
    for index, candidate in enumerate(allowed):
        if math.isclose(value, candidate, rel_tol=1e-6):
            return index
    raise ValueError(
        f"{owner}: setting {key} = {value!r} is not one the instrument offers: "
        f"{', '.join(f'{a:g}' for a in allowed)}"
    )


class Configurable(Protocol):
    """What :func:`configured` needs of an adapter."""

    def configure(self) -> None: ...

    def close(self) -> None: ...


def configured(adapter: A, prepare: Callable[[], None] | None = None) -> A:
    """``adapter`` after ``prepare()`` (companion instruments) and ``configure()``; if either
    fails, the adapter is closed and the error propagates: no half-configured instrument is
    left connected. A connection lost while configuring is opened again and the instrument
    brought to its safe state first; the error's ``safe_state`` attribute says so."""
    try:
        if prepare is not None:
            prepare()
        adapter.configure()
    except ConnectionLost as exc:
        exc.safe_state = _reconnect_to_safe_state(adapter)  # type: ignore[attr-defined]
        adapter.close()
        raise
    except Exception:
        adapter.close()
        raise
    return adapter


def _reconnect_to_safe_state(adapter: Any) -> str:
    try:
        reconnected = adapter.reconnect()
        return f"{reconnected}; {adapter.safe_state()}"
    except Exception as exc:  # the open error is what the user needs; this one is logged
        log.warning("%s: safe state after reconnecting failed: %s", adapter.name, exc)
        return f"FAILED to reach the safe state after reconnecting: {exc}"


class OpensDriver:
    """``open()`` for adapters constructed as ``cls(name=, driver=, settings=, limits=,
    timebase=)``: connect ``driver_type`` on the address (``_connect`` may do more), then
    :func:`configured`. Put it before the role base (and after mixins that override
    ``_open_companions``) so its ``open`` is the one used."""

    driver_type: ClassVar[Any] = None

    @classmethod
    def _connect(cls, address: str, visa_library: str, settings: Any) -> Any:
        if cls.driver_type is None:
            raise TypeError(f"{cls.__name__}: set driver_type or override _connect")
        return cls.driver_type(address, visa_library=visa_library)

    def _open_companions(self, visa_library: str) -> None:
        """Instruments the adapter needs beside its driver (e.g. a magnet's gaussmeter)."""

    def check_health(self) -> None:
        """Serial-poll the instrument(s); read and raise a queued error (see
        :func:`check_health`)."""
        check_health(self, getattr(self, "_check_errors", None))  # type: ignore[arg-type]

    @classmethod
    def open(
        cls,
        *,
        name: str,
        address: str,
        visa_library: str,
        settings: Any,
        limits: Any,
        timebase: Timebase,
    ) -> Any:
        driver = cls._connect(address, visa_library, settings)
        adapter = cls(name=name, driver=driver, settings=settings, limits=limits, timebase=timebase)  # type: ignore[call-arg]
        return configured(adapter, lambda: adapter._open_companions(visa_library))
