"""Locks between gitdeps runs, from :mod:`filelock`.

Two kinds: ``exclusive`` (one run at a time on a cache entry or an output folder,
a ``flock``/``LockFileEx`` lock that the kernel drops when its holder dies) and the
cache's read-write lock (``shared`` by every run that uses the cache, ``exclusive_within``
for ``cache clean``; filelock keeps it in SQLite, so it works on Windows too).

Every wait has a bound. A holder is another live run doing bounded work, so the bound
is generous (``$GITDEPS_LOCK_TIMEOUT``, an hour by default); a wait longer than a second
is said on the progress log, so a run that waits is never silent.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from . import _stop as stop
from ._errors import GitDepsError, InUseError
from ._settings import env_seconds

if TYPE_CHECKING:
    from filelock import ReadWriteLock

__all__ = ["exclusive", "exclusive_within", "lock_timeout", "shared"]

progress = logging.getLogger("gitdeps.progress")

_ANNOUNCE_AFTER = 1.0  # seconds of silent waiting before the wait is said
_SLICE = 0.5  # the longest one wait for a lock blocks, signals unseen


def lock_timeout() -> float:
    """How long a run waits for another one: ``$GITDEPS_LOCK_TIMEOUT``, default an hour."""
    return env_seconds("GITDEPS_LOCK_TIMEOUT", 3600.0)


def _wait(acquire: Callable[[float], object], path: Path, what: str, bound: float) -> None:
    """``acquire(timeout)`` within ``bound`` seconds, saying so when it takes over a second."""
    from filelock import Timeout

    with _usable(path):
        try:
            acquire(min(_ANNOUNCE_AFTER, bound))
        except Timeout:
            progress.info("waiting for another gitdeps run to finish with %s", what)
            give_up = time.monotonic() + max(bound - _ANNOUNCE_AFTER, 0)
            while True:
                # In slices, so that a worker waiting for a cache entry ends with the run
                # (Ctrl-C, SIGTERM, a failure elsewhere), not after GITDEPS_LOCK_TIMEOUT.
                stop.check(f"taking {what}")
                try:
                    acquire(max(0.0, min(_SLICE, give_up - time.monotonic())))
                    return
                except Timeout:
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
    import sqlite3

    from filelock import Timeout

    try:
        yield
    except Timeout:  # an OSError too (TimeoutError): the lock is busy, not broken
        raise
    except (OSError, sqlite3.Error) as exc:
        raise GitDepsError(
            f"cannot take the lock file: {getattr(exc, 'strerror', None) or exc}",
            input=str(path),
            hint=f"{path.parent} must be a folder this user can write, holding no directory "
            "or symlink by that name; point gitdeps elsewhere (GITDEPS_CACHE_DIR, "
            "--cache-dir, TMPDIR) or run with --no-cache",
        ) from exc


@contextlib.contextmanager
def exclusive(path: Path, *, what: str, seconds: float | None = None) -> Iterator[None]:
    """Hold ``path`` (which locks ``what``) against other runs; wait at most ``seconds``
    (default :func:`lock_timeout`) for one that holds it, then raise :class:`InUseError`."""
    from filelock import FileLock

    lock = FileLock(path, mode=0o600)
    _wait(lambda timeout: lock.acquire(timeout=timeout), path, what,
          lock_timeout() if seconds is None else seconds)  # fmt: skip
    try:
        yield
    finally:
        lock.release()


@contextlib.contextmanager
def _read_write(path: Path) -> Iterator[ReadWriteLock | None]:
    """filelock's SQLite read-write lock on ``path``, closed afterwards; None where Python
    has no sqlite3. Not the per-path singleton: each holder has its own connection, so a
    clean in one thread waits for a run in another rather than failing as an "upgrade"."""
    from filelock import ReadWriteLock

    if ReadWriteLock is None:  # pragma: no cover - a Python built without sqlite3
        yield None
        return
    with _usable(path):
        lock = ReadWriteLock(path, is_singleton=False)
    try:
        yield lock
    finally:
        lock.close()


@contextlib.contextmanager
def shared(path: Path, *, what: str) -> Iterator[None]:
    """Share ``path`` with other runs; wait (bounded) while one holds it alone."""
    with _read_write(path) as lock:
        if lock is None:  # pragma: no cover
            yield
            return
        _wait(lambda timeout: lock.acquire_read(timeout=timeout), path, what, lock_timeout())
        try:
            yield
        finally:
            lock.release()


@contextlib.contextmanager
def exclusive_within(path: Path, seconds: float) -> Iterator[bool]:
    """Try for ``seconds`` to hold ``path`` alone (no run sharing it); yield whether it was had."""
    from filelock import Timeout

    with _read_write(path) as lock:
        if lock is None:  # pragma: no cover
            yield True
            return
        try:
            with _usable(path):
                lock.acquire_write(timeout=seconds)
        except Timeout:
            yield False
            return
        try:
            yield True
        finally:
            lock.release()
