"""Plumbing shared by the role adapters: transaction counting, error queues, ramps.

Nothing here knows an instrument model. Time is always taken through the role's
:class:`~instruments.roles.Timebase` (a virtual clock under simulation), never ``time.sleep``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, ClassVar, Protocol, TypeVar

from instruments.roles import InstrumentError, Role, Timebase

A = TypeVar("A", bound="Configurable")

MAX_QUEUED_ERRORS = 32  # an error queue longer than this is reported as it stands


def count_transactions(role: Role, driver: Any) -> None:
    """Count every write that ``driver`` sends (a query is one write + one read) in ``role``.

    Works on pymeasure instruments (their ``adapter``) by wrapping the adapter's ``write``
    and ``write_bytes`` on the instance, so the driver itself stays unchanged.
    """
    adapter = driver.adapter
    for method in ("write", "write_bytes"):
        original = getattr(adapter, method)

        def counted(*args: Any, _original: Callable[..., Any] = original, **kwargs: Any) -> Any:
            role.transactions += 1
            return _original(*args, **kwargs)

        setattr(adapter, method, counted)


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
    for _ in range(MAX_QUEUED_ERRORS):
        reply = ask(query)
        try:
            code, message = parse_error_entry(reply)
        except InstrumentError as exc:
            raise InstrumentError(name, str(exc).split(": ", 2)[-1]) from None
        if code == 0:
            break
        entries.append(f'{code},"{message}"')
    if entries:
        raise InstrumentError(name, "; ".join(entries))


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
    left connected."""
    try:
        if prepare is not None:
            prepare()
        adapter.configure()
    except Exception:
        adapter.close()
        raise
    return adapter


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
