"""What a run is doing, package by package, for whoever shows it.

The pipeline reports each package's stage as it changes (``stage``) and its end
(``done``); the CLI decides how to show that: a live display in a terminal
(``_live.py``), nothing more than the log lines elsewhere. The library's default
display does nothing, so a build script that imports gitdeps sees only logging.
"""

from __future__ import annotations

import contextlib
import dataclasses
import threading
import time
from collections.abc import Iterator
from typing import Literal, Protocol

__all__ = ["Display", "Finished", "Source", "Stage", "done", "forget", "shown_on", "stage"]

Stage = Literal["resolving", "fetching", "environment", "building", "cached"]
Source = Literal["cache", "remote cache", "built"]


@dataclasses.dataclass(frozen=True)
class Finished:
    """One package's end, as a summary shows it."""

    package: str
    version: str
    source: Source
    seconds: float  # from its first stage to its wheel


class Display(Protocol):
    def stage(self, package: str, stage: Stage) -> None: ...

    def done(self, finished: Finished) -> None: ...

    def forget(self, package: str) -> None:
        """``package`` turned out to be one the run has already (resolved, not counted)."""


class _Nothing:
    def stage(self, package: str, stage: Stage) -> None:
        pass

    def done(self, finished: Finished) -> None:
        pass

    def forget(self, package: str) -> None:
        pass


class _Shown:
    display: Display = _Nothing()


_shown = _Shown()
_started: dict[str, float] = {}
_lock = threading.Lock()


@contextlib.contextmanager
def shown_on(display: Display) -> Iterator[None]:
    """Send this process's progress to ``display`` while the block runs."""
    previous, _shown.display = _shown.display, display
    try:
        yield
    finally:
        _shown.display = previous
        with _lock:
            _started.clear()


def stage(package: str, now: Stage) -> None:
    """``package`` is now at ``now``."""
    with _lock:
        _started.setdefault(package, time.monotonic())
    _shown.display.stage(package, now)


def done(package: str, version: str, source: Source) -> None:
    """``package``'s wheel is there, from ``source``."""
    with _lock:
        seconds = time.monotonic() - _started.pop(package, time.monotonic())
    _shown.display.done(Finished(package, version, source, seconds))


def forget(package: str) -> None:
    """``package`` was a second requirement of a distribution the run has already."""
    _shown.display.forget(package)
