"""Locks on files, across processes: exclusive (flock on POSIX, msvcrt on Windows),
shared, and exclusive within a bounded wait."""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path

__all__ = ["exclusive", "exclusive_within", "shared"]


@contextlib.contextmanager
def _flocked(path: Path, *, share: bool, seconds: float | None) -> Iterator[bool]:
    """flock ``path`` (POSIX); yield whether it was had within ``seconds`` (None: wait)."""
    import fcntl

    mode = fcntl.LOCK_SH if share else fcntl.LOCK_EX
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        if seconds is None:
            fcntl.flock(fd, mode)
        else:
            deadline = time.monotonic() + seconds
            while True:
                try:
                    fcntl.flock(fd, mode | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        yield False
                        return
                    time.sleep(0.1)
        try:
            yield True
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


@contextlib.contextmanager
def exclusive(path: Path) -> Iterator[None]:
    """Block until this process holds the lock on ``path``; release it on exit."""
    if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
        import msvcrt

        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            while True:
                try:
                    msvcrt.locking(fd, msvcrt.LK_LOCK, 1)
                    break
                except OSError:
                    continue
            try:
                yield
            finally:
                os.lseek(fd, 0, os.SEEK_SET)
                msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
        finally:
            os.close(fd)
    else:
        with _flocked(path, share=False, seconds=None):
            yield


@contextlib.contextmanager
def shared(path: Path) -> Iterator[None]:
    """Hold a shared lock on ``path`` (many holders; an exclusive one waits for all).
    Windows has no shared flock: there it is a no-op."""
    if sys.platform == "win32":  # pragma: no cover
        yield
        return
    with _flocked(path, share=True, seconds=None):
        yield


@contextlib.contextmanager
def exclusive_within(path: Path, seconds: float) -> Iterator[bool]:
    """Try for ``seconds`` to hold ``path`` exclusively; yield whether it was had."""
    if sys.platform == "win32":  # pragma: no cover
        yield True
        return
    with _flocked(path, share=False, seconds=seconds) as held:
        yield held
