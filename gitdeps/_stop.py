"""Stopping a run: Ctrl-C, SIGTERM, or a failure elsewhere in the graph.

Two flags for the process. :func:`stop` sets the first and runs every hook
registered with :func:`on_stop` once (the subprocesses are killed, every network
transfer is cut), so that each worker, whatever it waits on, ends within moments;
:func:`check` is how work about to start (a build, a connection, a cache write)
refuses to once the run is stopping. A stopped run keeps nothing it made: a wheel
whose build was under way is never put in the cache.

:func:`fail` sets the second, when one part of the run has failed: no fetch or
build starts any more and the builds under way are killed (the hooks registered
with ``on_fail``), while what only asks a host something (which commit a ref names)
may end, so that a run with three mistyped refs names all three. ``check(...,
building=True)`` refuses then too.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from ._errors import Interrupted

__all__ = ["check", "fail", "failing", "on_fail", "on_stop", "reset", "stop", "stopping"]

logger = logging.getLogger("gitdeps")

_stopping = threading.Event()
_failing = threading.Event()
_hooks: list[Callable[[], None]] = []
_fail_hooks: list[Callable[[], None]] = []
_hooks_lock = threading.Lock()


def on_stop(hook: Callable[[], None]) -> None:
    """Run ``hook`` when the run stops (registered once, at import of its module)."""
    with _hooks_lock:
        _hooks.append(hook)


def on_fail(hook: Callable[[], None]) -> None:
    """Run ``hook`` when part of the run fails (registered once, at import)."""
    with _hooks_lock:
        _fail_hooks.append(hook)


def stop() -> None:
    """Stop the run: nothing new starts, and whatever is under way is cut short."""
    _stopping.set()
    _run(_hooks)


def fail() -> None:
    """Part of the run failed: no fetch or build starts, the builds under way are killed."""
    _failing.set()
    _run(_fail_hooks)


def _run(hooks: list[Callable[[], None]]) -> None:
    with _hooks_lock:
        hooks = list(hooks)
    for hook in hooks:
        try:
            hook()
        except Exception as exc:
            logger.debug("stopping: %s failed: %s", getattr(hook, "__name__", hook), exc)


def stopping() -> bool:
    return _stopping.is_set()


def failing() -> bool:
    return _failing.is_set()


def check(doing: str, *, building: bool = False) -> None:
    """Raise :class:`Interrupted` if the run is stopping, or with ``building`` (a fetch,
    a build, an installer about to start) if part of it has failed."""
    if _stopping.is_set() or (building and _failing.is_set()):
        raise Interrupted(f"stopped before {doing}")


def reset() -> None:
    """A new run begins (a library caller may run gitdeps again in the same process)."""
    _stopping.clear()
    _failing.clear()
