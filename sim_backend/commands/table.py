"""What the SCPI tree and the mnemonic table share: handlers by key, registered by decorator."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

H = TypeVar("H", bound=Callable[..., Any])


class HandlerTable:
    """``entries``: ``{key: [setter, query]}``; subclasses turn a header pattern into keys."""

    entries: dict[Any, list[Any]]

    def add(self, pattern: str, setter: Any = None, query: Any = None) -> None:
        raise NotImplementedError

    def _put(self, key: Any, setter: Any, query: Any) -> None:
        entry = self.entries.setdefault(key, [None, None])
        if setter is not None:
            entry[0] = setter
        if query is not None:
            entry[1] = query

    def command(self, pattern: str) -> Callable[[H], H]:
        """Decorator: a write-only command."""

        def register(fn: H) -> H:
            self.add(pattern, setter=fn)
            return fn

        return register

    def query(self, pattern: str) -> Callable[[H], H]:
        """Decorator: a query (``pattern?``)."""

        def register(fn: H) -> H:
            self.add(pattern, query=fn)
            return fn

        return register
