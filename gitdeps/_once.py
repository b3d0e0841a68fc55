"""Work done once per key by whichever thread asks first; the others wait for its result."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import TypeVar

__all__ = ["Once"]

T = TypeVar("T")


class Once:
    """``get(key, make)`` runs ``make`` for the first caller of ``key`` only.

    The owner runs it in its own thread, so waiting never needs a free worker;
    an exception is handed to every caller of that key.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._futures: dict[object, Future[object]] = {}

    def get(self, key: object, make: Callable[[], T]) -> T:
        with self._lock:
            future = self._futures.get(key)
            owner = future is None
            if future is None:
                future = self._futures[key] = Future()
        if owner:
            try:
                future.set_result(make())
            except BaseException as exc:
                future.set_exception(exc)
        return future.result()  # type: ignore[return-value]

    def peek(self, key: object) -> object | None:
        """The result for ``key`` if it is done and succeeded; None otherwise. Never waits."""
        with self._lock:
            future = self._futures.get(key)
        if future is None or not future.done() or future.exception() is not None:
            return None
        return future.result()
