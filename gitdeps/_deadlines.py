"""Every wait on the network has a bound, from connect to the last byte.

urllib3's timeouts bound each ``recv``: a host that sends one byte a second, of
its TLS handshake, its headers or its body, never trips them. Here every
connection of gitdeps' pools is watched by one daemon thread, which shuts the
socket down (any thread blocked on it wakes at once) when

* connecting (TCP, a proxy's tunnel, the TLS handshake) takes longer than the
  connect and read timeouts together,
* a response's status line and headers take longer than the read timeout,
  counted from when the request was sent, not per byte,
* the exchange runs past its deadline: one git listing or fetch as a whole
  (:func:`exchange`, ``GITDEPS_FETCH_DEADLINE``), or else one request with its body,
* the run stops (:func:`gitdeps._stop.stop`): then every transfer is cut, and a
  request that would start raises :class:`~gitdeps._errors.Interrupted`.

A request begun after its exchange's deadline raises :class:`DeadlinePassed`,
which urllib3 does not retry. Connections back in a pool, idle, are not watched.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any, NoReturn

import urllib3
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from . import _stop
from ._errors import Interrupted
from ._settings import limits

__all__ = ["DeadlinePassed", "Exchange", "current_exchange", "exchange", "pool_classes"]


class DeadlinePassed(Exception):
    """A request of an exchange whose deadline has passed."""


@dataclasses.dataclass
class Exchange:
    """One listing or fetch: its deadline, and whether the watchdog found it passed."""

    deadline: float
    expired: bool = False


_local = threading.local()


@contextlib.contextmanager
def exchange(seconds: float) -> Iterator[Exchange]:
    """Every request this thread makes inside is bounded by one deadline, ``seconds``
    from now (an enclosing exchange's, when that one ends sooner)."""
    outer: Exchange | None = getattr(_local, "exchange", None)
    deadline = time.monotonic() + seconds
    current = Exchange(min(deadline, outer.deadline) if outer is not None else deadline)
    _local.exchange = current
    try:
        yield current
    finally:
        _local.exchange = outer


def current_exchange() -> Exchange | None:
    """The exchange this thread is in, if any."""
    found: Exchange | None = getattr(_local, "exchange", None)
    return found


class _Watchdog:
    """Connections with a time by which their current wait must end."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._due: dict[int, tuple[float, str, Any]] = {}  # id(conn) -> (when, why, conn)
        self._thread: threading.Thread | None = None

    def watch(self, conn: Any, when: float, why: str) -> None:
        with self._changed:
            self._due[id(conn)] = (when, why, conn)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="gitdeps-watchdog", daemon=True
                )
                self._thread.start()
            self._changed.notify()

    def forget(self, conn: Any) -> None:
        with self._changed:
            self._due.pop(id(conn), None)

    def cut_all(self, why: str) -> None:
        with self._changed:
            for _when, _why, conn in self._due.values():
                _cut(conn, why)
            self._due.clear()

    def _run(self) -> None:
        with self._changed:
            while True:
                now = time.monotonic()
                for key, (when, why, conn) in list(self._due.items()):
                    if when <= now:
                        del self._due[key]
                        _cut(conn, why)
                soonest = min((when for when, _, _ in self._due.values()), default=now + 60)
                self._changed.wait(timeout=max(0.01, min(soonest - now, 60)))


def _cut(conn: Any, why: str) -> None:
    """Shut the connection's socket down; a thread blocked on it wakes with an error.
    (During a TLS handshake the plain socket is detached: its descriptor, dup'ed.)"""
    conn.gitdeps_cut = why
    exchange_of = getattr(conn, "gitdeps_exchange", None)
    if why == "deadline" and exchange_of is not None:
        exchange_of.expired = True
    sock = getattr(conn, "sock", None) or getattr(conn, "gitdeps_raw", None)
    with contextlib.suppress(OSError, ValueError):
        if sock is not None and sock.fileno() != -1:
            sock.shutdown(socket.SHUT_RDWR)
            return
        fd = getattr(conn, "gitdeps_fd", -1)
        if fd != -1:
            with socket.socket(fileno=os.dup(fd)) as dup:
                dup.shutdown(socket.SHUT_RDWR)


_watchdog = _Watchdog()
_stop.on_stop(lambda: _watchdog.cut_all("cancelled"))


class _Watched:
    """What every connection class of gitdeps' pools adds to urllib3's."""

    gitdeps_cut: str | None = None
    gitdeps_exchange: Exchange | None = None
    gitdeps_until: float = 0.0  # the request's whole deadline
    gitdeps_raw: socket.socket | None = None
    gitdeps_fd = -1

    def _gitdeps_begin(self) -> None:
        """A request (or its connection) starts: refuse if stopping or past the deadline."""
        if _stop.stopping():
            raise Interrupted("the run is stopping")
        self.gitdeps_cut = None
        current: Exchange | None = getattr(_local, "exchange", None)
        now = time.monotonic()
        if current is not None:
            if current.expired or now >= current.deadline:
                current.expired = True
                raise DeadlinePassed("the deadline of this exchange passed")
            self.gitdeps_exchange, self.gitdeps_until = current, current.deadline
        else:  # a request of its own (LFS, publish): its own deadline, from now
            self.gitdeps_exchange, self.gitdeps_until = None, now + limits().deadline

    def _gitdeps_phase(self, seconds: float | None) -> None:
        """The current wait ends within ``seconds`` (None: by the request's deadline)."""
        until = self.gitdeps_until
        why = "deadline"
        if seconds is not None and time.monotonic() + seconds < until:
            until, why = time.monotonic() + seconds, "timeout"
        _watchdog.watch(self, until, why)

    def _gitdeps_failed(self, exc: BaseException, doing: str) -> BaseException:
        """What to raise for ``exc``, given why the watchdog cut the connection (if it did)."""
        why = self.gitdeps_cut
        if why == "cancelled" or _stop.stopping():
            return Interrupted("the run is stopping")
        if why == "deadline":
            return DeadlinePassed(f"the deadline passed while {doing}")
        if why == "timeout":
            return TimeoutError(f"timed out {doing}")
        return exc

    def _new_conn(self) -> socket.socket:
        sock: socket.socket = super()._new_conn()  # type: ignore[misc]
        self.gitdeps_raw, self.gitdeps_fd = sock, sock.fileno()
        return sock

    def connect(self) -> None:
        self._gitdeps_begin()
        limit = limits()
        self._gitdeps_phase(limit.connect + limit.read)
        try:
            super().connect()  # type: ignore[misc]
        except BaseException as exc:
            _watchdog.forget(self)
            _reraise(self._gitdeps_failed(exc, "connecting"), exc)
        finally:
            self.gitdeps_raw, self.gitdeps_fd = None, -1
        self._gitdeps_phase(None)

    def request(self, *args: Any, **kwargs: Any) -> None:
        self._gitdeps_begin()
        self._gitdeps_phase(None)
        try:
            super().request(*args, **kwargs)  # type: ignore[misc]
        except BaseException as exc:
            _reraise(self._gitdeps_failed(exc, "sending the request"), exc)

    def getresponse(self) -> Any:
        self._gitdeps_phase(limits().read)
        try:
            response = super().getresponse()  # type: ignore[misc]
        except BaseException as exc:
            _watchdog.forget(self)
            _reraise(self._gitdeps_failed(exc, "waiting for the answer's headers"), exc)
        if self.gitdeps_cut is not None:  # headers cut short can parse as complete ones
            _watchdog.forget(self)
            cut = ConnectionAbortedError("the connection was cut")
            _reraise(self._gitdeps_failed(cut, "waiting for the answer's headers"), cut)
        self._gitdeps_phase(None)  # the body: by the request's deadline
        return response

    def close(self) -> None:
        _watchdog.forget(self)
        super().close()  # type: ignore[misc]


def _reraise(error: BaseException, original: BaseException) -> NoReturn:
    if error is original:
        raise original
    raise error from original


class _HTTPConnection(_Watched, urllib3.connection.HTTPConnection):
    pass


class _HTTPSConnection(_Watched, urllib3.connection.HTTPSConnection):
    pass


class _Forgetting:
    """A pool that stops watching a connection once it is back, idle."""

    def _put_conn(self, conn: Any) -> None:
        if conn is not None:
            _watchdog.forget(conn)
        super()._put_conn(conn)  # type: ignore[misc]


class _HTTPPool(_Forgetting, HTTPConnectionPool):
    ConnectionCls = _HTTPConnection


class _HTTPSPool(_Forgetting, HTTPSConnectionPool):
    ConnectionCls = _HTTPSConnection


def pool_classes() -> dict[str, type[HTTPConnectionPool]]:
    """For a pool manager's ``pool_classes_by_scheme``."""
    return {"http": _HTTPPool, "https": _HTTPSPool}
