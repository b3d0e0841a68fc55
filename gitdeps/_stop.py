"""Stopping a run: Ctrl-C, SIGTERM, or a failure elsewhere in the graph.

One flag for the process. :func:`stop` sets it and runs every registered hook
once (the subprocesses are killed, every network transfer is cut), so that each
worker, whatever it waits on, ends within moments; :func:`check` is how work
about to start (a build, a connection, a cache write) refuses to once the run is
stopping. A stopped run keeps nothing it made: a wheel whose build was under way
is never put in the cache.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from ._errors import Interrupted

__all__ = ["check", "on_stop", "reset", "stop", "stopping"]

logger = logging.getLogger("gitdeps")

_stopping = threading.Event()
_hooks: list[Callable[[], None]] = []
_hooks_lock = threading.Lock()


def on_stop(hook: Callable[[], None]) -> None:
    """Run ``hook`` when the run stops (registered once, at import of its module)."""
    with _hooks_lock:
        _hooks.append(hook)


def stop() -> None:
    """Stop the run: nothing new starts, and whatever is under way is cut short."""
    _stopping.set()
    with _hooks_lock:
        hooks = list(_hooks)
    for hook in hooks:
        try:
            hook()
        except Exception as exc:
            logger.debug("stopping: %s failed: %s", getattr(hook, "__name__", hook), exc)


def stopping() -> bool:
    return _stopping.is_set()


def check(doing: str) -> None:
    """Raise :class:`Interrupted` if the run is stopping (``doing``: what would start)."""
    if _stopping.is_set():
        raise Interrupted(f"stopped before {doing}")


def reset() -> None:
    """A new run begins (a library caller may run gitdeps again in the same process)."""
    _stopping.clear()
