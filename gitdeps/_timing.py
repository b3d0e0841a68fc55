"""Where a run's time goes: seconds per phase, summed over the threads that spent them.

``with phase("fetch"):`` adds the block's wall time to that phase. ``-vv`` prints the
split when the run ends (``time: start-up 0.09 s, refs 0.04 s, ...``), so a slow run
can be read without a profiler; ``nox -s bench -- --real`` reports it per package.
Phases overlap (the history fetch runs beside the checkout, builds beside each other),
so the figures add up to more than the run's wall time.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator

__all__ = ["PHASES", "add", "phase", "reset", "since_process_start", "split"]

# In the order a package goes through them; "start-up" is the interpreter and imports.
PHASES = ("start-up", "refs", "fetch", "history", "environment", "backend", "outputs")

_lock = threading.Lock()
_seconds: dict[str, float] = {}


@contextlib.contextmanager
def phase(name: str) -> Iterator[None]:
    started = time.perf_counter()
    try:
        yield
    finally:
        spent = time.perf_counter() - started
        with _lock:
            _seconds[name] = _seconds.get(name, 0.0) + spent


def add(name: str, seconds: float) -> None:
    with _lock:
        _seconds[name] = _seconds.get(name, 0.0) + seconds


def reset() -> None:
    with _lock:
        _seconds.clear()


def split() -> dict[str, float]:
    """Seconds per phase so far, in :data:`PHASES` order (then any others)."""
    with _lock:
        known = {name: _seconds[name] for name in PHASES if name in _seconds}
        return {**known, **{k: v for k, v in _seconds.items() if k not in known}}


def since_process_start() -> float | None:
    """Seconds since this process started (Linux: from /proc), or None where unknown."""
    import os

    try:
        with open("/proc/self/stat", "rb") as stat:
            fields = stat.read().rpartition(b")")[2].split()
        with open("/proc/uptime", "rb") as uptime:
            up = float(uptime.read().split()[0])
        started = int(fields[19]) / os.sysconf("SC_CLK_TCK")  # field 22: starttime
    except (OSError, ValueError, IndexError):
        return None
    return max(0.0, up - started)
