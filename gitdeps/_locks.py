"""Locks between gitdeps runs: the kernel's file locks.

Two kinds: ``exclusive`` (one run at a time on a cache entry or an output folder) and the
cache's read-write lock (``shared`` by every run that uses the cache, ``exclusive_within``
for ``cache clean``). On POSIX both are ``flock(2)`` on a lock file opened for the holder
alone: the kernel drops a lock when its holder dies, two opens in one process contend as
two runs do (builds run on a thread pool), and taking one costs a system call, where
filelock's SQLite read-write lock cost a run ~30 ms. On Windows, filelock's
``LockFileEx`` and SQLite locks, which need no code of ours to get right there.

A lock file is never removed: unlinking it would let a waiter on the old inode and a
newcomer on a new one both hold "the" lock (filelock 3.20.4 to 3.29.4 did).

Every wait has a bound. A holder is another live run doing bounded work, so the bound
is generous (``$GITDEPS_LOCK_TIMEOUT``, an hour by default); a wait longer than a second
is said on the progress log, so a run that waits is never silent.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Literal

from . import _stop as stop
from ._errors import GitDepsError, InUseError
from ._settings import env_seconds

__all__ = ["exclusive", "exclusive_within", "lock_timeout", "shared"]

progress = logging.getLogger("gitdeps.progress")

_ANNOUNCE_AFTER = 1.0  # seconds of silent waiting before the wait is said
_SLICE = 0.5  # the longest one wait for a lock blocks, signals unseen
_POLL = (0.001, 0.05)  # a busy lock is tried again after 1 ms, backing off to 50 ms


class _Busy(Exception):
    """Another holder has the lock."""


def lock_timeout() -> float:
    """How long a run waits for another one: ``$GITDEPS_LOCK_TIMEOUT``, default an hour."""
    return env_seconds("GITDEPS_LOCK_TIMEOUT", 3600.0)


_Kind = Literal["exclusive", "read", "write"]  # read and write: the cache's in-use lock


class _Lock:
    """One holder's lock on one file: ``acquire(timeout)`` raises :class:`_Busy` when
    another holder keeps it that long."""

    def __init__(self, path: Path, kind: _Kind) -> None:
        self.path, self.kind = path, kind
        self._fd: int | None = None

    def acquire(self, timeout: float) -> None:
        import fcntl

        if self._fd is None:
            flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | os.O_CLOEXEC
            self._fd = os.open(self.path, flags, 0o600)
        operation = (fcntl.LOCK_SH if self.kind == "read" else fcntl.LOCK_EX) | fcntl.LOCK_NB
        give_up, pause = time.monotonic() + timeout, _POLL[0]
        while True:
            try:
                fcntl.flock(self._fd, operation)
                return
            except BlockingIOError:
                left = give_up - time.monotonic()
                if left <= 0:
                    raise _Busy from None
                time.sleep(min(pause, left))
                pause = min(pause * 2, _POLL[1])

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor lets go of its lock
            self._fd = None


class _WindowsLock(_Lock):  # pragma: no cover - Windows only
    """filelock's locks: ``LockFileEx`` for exclusive, SQLite for read and write."""

    def __init__(self, path: Path, kind: _Kind) -> None:
        from filelock import FileLock, ReadWriteLock

        super().__init__(path, kind)
        self._held = False
        self._lock = FileLock(path) if kind == "exclusive" else None
        self._rw = None if kind == "exclusive" else ReadWriteLock(path, is_singleton=False)

    def acquire(self, timeout: float) -> None:
        from filelock import Timeout

        try:
            if self._lock is not None:
                self._lock.acquire(timeout=timeout)
            elif self._rw is not None and self.kind == "read":
                self._rw.acquire_read(timeout=timeout)
            elif self._rw is not None:
                self._rw.acquire_write(timeout=timeout)
            self._held = True
        except Timeout:
            raise _Busy from None

    def close(self) -> None:
        for lock in (self._lock, self._rw):
            if lock is not None and self._held:
                lock.release()
        if self._rw is not None:
            self._rw.close()
        self._held = False


def _lock(path: Path, kind: _Kind) -> _Lock:
    return (_WindowsLock if sys.platform == "win32" else _Lock)(path, kind)


def _wait(acquire: Callable[[float], object], path: Path, what: str, bound: float) -> None:
    """``acquire(timeout)`` within ``bound`` seconds, saying so when it takes over a second."""
    with _usable(path):
        try:
            acquire(min(_ANNOUNCE_AFTER, bound))
        except _Busy:
            progress.info("waiting for another gitdeps run to finish with %s", what)
            give_up = time.monotonic() + max(bound - _ANNOUNCE_AFTER, 0)
            while True:
                # In slices, so that a worker waiting for a cache entry ends with the run
                # (Ctrl-C, SIGTERM, a failure elsewhere), not after GITDEPS_LOCK_TIMEOUT.
                stop.check(f"taking {what}")
                try:
                    acquire(max(0.0, min(_SLICE, give_up - time.monotonic())))
                    return
                except _Busy:
                    if time.monotonic() < give_up:
                        continue
                raise InUseError(
                    f"another gitdeps run held {what} for {bound:.0f} s",
                    input=str(path),
                    hint="let it finish and try again, or set GITDEPS_LOCK_TIMEOUT to wait longer",
                ) from None


@contextlib.contextmanager
def _usable(path: Path) -> Iterator[None]:
    """A lock file that cannot be made or opened (a read-only folder, a directory or a
    symlink in its place) is said as what to do, not as an internal error."""
    try:
        yield
    except OSError as exc:
        raise GitDepsError(
            f"cannot take the lock file: {exc.strerror or exc}",
            input=str(path),
            hint=f"{path.parent} must be a folder this user can write, holding no directory "
            "or symlink by that name; point gitdeps elsewhere (GITDEPS_CACHE_DIR, "
            "--cache-dir, TMPDIR) or run with --no-cache",
        ) from exc


@contextlib.contextmanager
def _held(path: Path, kind: _Kind, *, what: str, bound: float) -> Iterator[None]:
    lock = _lock(path, kind)
    try:
        _wait(lock.acquire, path, what, bound)
        yield
    finally:
        lock.close()


def exclusive(
    path: Path, *, what: str, seconds: float | None = None
) -> contextlib.AbstractContextManager[None]:
    """Hold ``path`` (which locks ``what``) against other runs; wait at most ``seconds``
    (default :func:`lock_timeout`) for one that holds it, then raise :class:`InUseError`."""
    return _held(path, "exclusive", what=what, bound=lock_timeout() if seconds is None else seconds)


def shared(path: Path, *, what: str) -> contextlib.AbstractContextManager[None]:
    """Share ``path`` with other runs; wait (bounded) while one holds it alone."""
    return _held(path, "read", what=what, bound=lock_timeout())


@contextlib.contextmanager
def exclusive_within(path: Path, seconds: float) -> Iterator[bool]:
    """Try for ``seconds`` to hold ``path`` alone (no run sharing it); yield whether it was had."""
    lock = _lock(path, "write")
    try:
        try:
            with _usable(path):
                lock.acquire(seconds)
        except _Busy:
            yield False
            return
        yield True
    finally:
        lock.close()
