"""Hypothesis fuzzing of every twin's parser: random lines never crash or hang, and every error
they cause is queued with a standard code; the twin still answers afterwards."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim_backend.commands.base import ERROR_MESSAGES, Twin
from sim_backend.commands.mnemonic import MnemonicTwin
from sim_backend.commands.scpi import ScpiTwin
from sim_backend.lab import Lab
from sim_backend.open_labs import get_lab

ADDRESSES = sorted(get_lab().twins)


def _headers(twin: Twin) -> list[str]:
    if isinstance(twin, ScpiTwin):
        return [*sorted(":".join(key) for key in twin.tree.entries), "*IDN", "*RST", "*ESE"]
    if isinstance(twin, MnemonicTwin):
        return sorted(twin.table.entries)
    return sorted(getattr(twin, "fuzz_vocabulary", ("print", "smua", "channel")))


_ARG = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(-(10**12), 10**12).map(str),
    st.sampled_from(
        [
            "ON",
            "OFF",
            "MIN",
            "MAX",
            "DEF",
            "VOLT",
            "CURR",
            "'x'",
            '"A"',
            "1e999",
            "",
            "nil",
            "1A01",
            "allslots",
            "()",
            "smua.OUTPUT_ON",
            "--",
            "1.5mV",
        ]
    ),
    st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=8),
)


def _line(headers: list[str]) -> st.SearchStrategy[str]:
    command = st.tuples(
        st.sampled_from(headers),
        st.sampled_from(["", "?", " ?", "1", "2?"]),
        st.lists(_ARG, max_size=3).map(lambda a: ",".join(a)),
        st.sampled_from([" ", "", "(", "=", " = "]),
    ).map(lambda t: f"{t[0]}{t[1]}{t[3]}{t[2]}")
    junk = st.text(alphabet=st.characters(min_codepoint=1, max_codepoint=255), max_size=40)
    return st.lists(st.one_of(command, junk), min_size=1, max_size=4).map(
        lambda parts: ";".join(p.replace("\n", " ").replace("\r", " ") for p in parts)
    )


@pytest.mark.parametrize("address", ADDRESSES)
def test_random_lines_never_crash_and_leave_standard_codes(address: str) -> None:
    lab: Lab = get_lab()
    twin = lab.twins[address]
    headers = _headers(twin)

    @settings(
        max_examples=120,
        deadline=None,  # a wall time is no assertion on a shared machine (1.3 s seen under load)
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
    @given(_line(headers))
    def run(line: str) -> None:
        lab.sync()
        lab.deliver(twin, line)
        codes = {code for code, _ in twin.errors}
        assert codes <= set(ERROR_MESSAGES), f"non-standard error code after {line!r}: {codes}"
        twin.errors.clear()
        twin.output.clear()

    run()
    lab.deliver(twin, "*CLS")
    twin.output.clear()
    lab.deliver(twin, "*IDN?")
    assert twin.output and twin.output[-1].strip()


@pytest.mark.parametrize("address", ADDRESSES)
def test_an_unknown_header_queues_a_standard_command_error(address: str) -> None:
    lab = get_lab()
    twin = lab.twins[address]
    lab.sync()
    lab.deliver(twin, "XYZZY 1")
    assert not twin.output  # a bad command never answers
    codes = [code for code, _ in twin.errors]
    assert codes and all(code in ERROR_MESSAGES for code in codes)
    assert all(-199 <= code <= -100 or code == -285 for code in codes), codes
    lab.deliver(twin, "*CLS")
    assert not twin.errors
