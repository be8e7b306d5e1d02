"""What every instrument twin shares: the IEEE 488.2 status model, error queue, output queue.

A twin is one simulated instrument. The VISA session hands it whole messages (one line each,
terminator stripped) through :meth:`Twin.handle_message`; the twin executes them on its wiring
and leaves its replies in :attr:`Twin.output`, from where the session frames and delivers them.
A twin is given its clock and its wiring (:mod:`sim_backend.wiring`); it never sees the lab.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from sim_backend.wiring import TwinClock, Wiring

# Standard SCPI error messages, by code (SCPI-99 vol. 2, chapter 21).
ERROR_MESSAGES: dict[int, str] = {
    0: "No error",
    -100: "Command error",
    -102: "Syntax error",
    -104: "Data type error",
    -108: "Parameter not allowed",
    -109: "Missing parameter",
    -113: "Undefined header",
    -114: "Header suffix out of range",
    -200: "Execution error",
    -221: "Settings conflict",
    -222: "Data out of range",
    -224: "Illegal parameter value",
    -230: "Data corrupt or stale",
    -241: "Hardware missing",
    -285: "Program syntax error",
    -286: "Program runtime error",
    -300: "Device-specific error",
    -350: "Queue overflow",
    -410: "Query INTERRUPTED",
    -420: "Query UNTERMINATED",
}

# Standard event status register bits.
ESR_OPC, ESR_QYE, ESR_DDE, ESR_EXE, ESR_CME, ESR_PON = 1, 4, 8, 16, 32, 128
QUEUE_DEPTH = 30


class InstrumentError(Exception):
    """Raised by a command handler: the twin queues ``code`` and sets the matching ESR bit."""

    def __init__(self, code: int, message: str | None = None) -> None:
        self.code = code
        self.message = message or ERROR_MESSAGES.get(code, "Device-specific error")
        super().__init__(f"{code},{self.message}")


def esr_bit_for(code: int) -> int:
    """The event-status bit an error code sets (IEEE 488.2 §11.5.1)."""
    if -199 <= code <= -100:
        return ESR_CME
    if -299 <= code <= -200:
        return ESR_EXE
    if -499 <= code <= -400:
        return ESR_QYE
    return ESR_DDE


class Twin:
    """Base class of every simulated instrument.

    Subclasses set :attr:`model`, :attr:`idn`, :attr:`reply_terminator` and implement
    :meth:`execute` (one whole message). Settings from the lab file arrive in ``settings``.
    """

    model: ClassVar[str] = "generic"
    #: ``*IDN?`` answer; ``{serial}`` is filled from the lab file.
    idn: ClassVar[str] = "LABSIM,GENERIC,{serial},1.0"
    #: What the instrument ends its replies with.
    reply_terminator: ClassVar[str] = "\n"
    #: Lines sent to a new connection whose first action is a read (AMI 430 banner).
    greeting: ClassVar[tuple[str, ...]] = ()
    #: A new message discards an unread reply and queues -410 (IEEE 488.2 instruments).
    interrupts_queries: ClassVar[bool] = False
    #: Settings the lab file may give, with defaults.
    defaults: ClassVar[dict[str, Any]] = {}

    def __init__(
        self,
        name: str,
        clock: TwinClock,
        wiring: Wiring,
        settings: dict[str, Any] | None = None,
    ) -> None:
        self.name = name
        self.clock = clock
        self.wiring = wiring
        self.settings: dict[str, Any] = {**self.defaults, **(settings or {})}
        self.serial = str(self.settings.get("serial", "0000001"))
        self.output: deque[str] = deque()
        self.errors: deque[tuple[int, str]] = deque()
        self.esr = ESR_PON
        self.ese = 0
        self.sre = 0
        self.reset()

    # --- overridden by models -------------------------------------------------------------
    def reset(self) -> None:
        """``*RST``: return to the power-on settings (not the error queue)."""

    def execute(self, message: str) -> list[str]:
        """Run one message; return the replies it produced (possibly none)."""
        raise NotImplementedError

    def journal_state(self) -> dict[str, Any]:
        """What the state journal records for this twin (output, level, ...)."""
        return {}

    def tick(self, t0_s: float, t1_s: float) -> None:
        """Time passes from ``t0_s`` to ``t1_s`` while a ramp runs (see ``TwinClock.ticking``)."""

    def force_compliance(self) -> None:
        """Fault injection: behave as if the output hit its compliance limit."""
        self.push_error(-300, "Compliance tripped")

    # --- shared machinery -----------------------------------------------------------------
    def handle_message(self, message: str) -> bool:
        """Execute ``message`` and queue its reply; True when it replied (``Lab.deliver``)."""
        if self.interrupts_queries and self.output:
            self.output.clear()
            self.push_error(-410)
        replies = self.execute(message)
        if replies:
            self.output.append(self.join_replies(replies))
        return bool(replies)

    def join_replies(self, replies: list[str]) -> str:
        return ";".join(replies)

    def push_error(self, code: int, message: str | None = None) -> None:
        text = message or ERROR_MESSAGES.get(code, "Device-specific error")
        if len(self.errors) >= QUEUE_DEPTH:
            self.errors[-1] = (-350, ERROR_MESSAGES[-350])
        else:
            self.errors.append((code, text))
        self.esr |= esr_bit_for(code)

    def pop_error(self) -> tuple[int, str]:
        return self.errors.popleft() if self.errors else (0, "No error")

    def clear_status(self) -> None:
        """``*CLS``: empty the error queue and the event status register."""
        self.errors.clear()
        self.esr = 0

    def status_byte(self) -> int:
        stb = 0
        if self.errors:
            stb |= 4
        if self.output:
            stb |= 16
        if self.esr & self.ese:
            stb |= 32
        if stb & self.sre:
            stb |= 64
        return stb

    def read_esr(self) -> int:
        value, self.esr = self.esr, 0
        return value

    def identify(self) -> str:
        return self.idn.format(serial=self.serial)

    def device_clear(self) -> None:
        """VISA ``viClear`` (GPIB SDC): drop pending input and output."""
        self.output.clear()

    def trigger(self) -> None:
        """``*TRG`` or a GPIB group execute trigger."""

    def options(self) -> str:
        return "0"
