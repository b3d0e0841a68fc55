"""Writing files so they appear whole or not at all."""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from pathlib import Path

__all__ = ["atomic_write", "write_whole"]


def atomic_write(path: Path, data: bytes, *, mode: int | None = None) -> None:
    """Replace ``path`` with ``data`` in one step (a crash leaves the old file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if mode is not None:
            os.chmod(temp, mode)
        else:
            _copy_mode(path, temp)
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
        raise


def write_whole(path: Path, data: bytes, *, like: Path) -> None:
    """Write ``path`` completely and durably, with the permissions ``like`` has (or a new
    file's); not atomic by itself: what stages a file for a later rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    _copy_mode(like, str(path))


def _umask() -> int:
    """The process umask, read without changing it (os.umask() sets it: unsafe while
    other threads create files)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    return 0o022


def _copy_mode(existing: Path, temp: str) -> None:
    try:
        os.chmod(temp, existing.stat().st_mode & 0o777)
    except FileNotFoundError:
        os.chmod(temp, 0o666 & ~_umask())


def disk_hint(exc: OSError, variable: str | None = None) -> str:
    """What to do about a file system that refused a write, by its errno."""
    elsewhere = f", or point {variable} at another disk" if variable else ""
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return "free some space" + elsewhere
    if exc.errno == errno.EROFS:
        return "the file system is read-only" + (
            f": point {variable} at a writable one" if variable else ""
        )
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "check the permissions" + elsewhere
    return "check the disk" + elsewhere
