"""The graph of private distributions: one node per distribution, whoever asks for it.

A distribution asked for twice must be asked for at the same commit (and with the
same ``--config-settings``: one build serves both); otherwise the run stops with an
error that names both requesters. ``walk`` visits the requirements and every private
dependency their wheels name, in parallel; a cycle ends because a distribution is
visited once.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from .._errors import GitDepsError, Interrupted, SeveralErrors

if TYPE_CHECKING:
    from .._inputs.requirements import GitRequirement

__all__ = ["Graph", "Node", "walk"]

T = TypeVar("T")
B = TypeVar("B")

# Threads wait on the network most of the time; builds take a slot each (see Wheels).
_THREADS = 16


@dataclasses.dataclass(frozen=True)
class Node:
    """One distribution at one commit, as first asked for."""

    requirement: GitRequirement
    commit: str

    @property
    def identity(self) -> tuple[str, str, str, tuple[tuple[str, str], ...]]:
        url = self.requirement.url
        return (url.repo, url.subdirectory or "", self.commit, self.requirement.config_settings)

    @property
    def label(self) -> str:
        """How progress names it: the requirement's name, else its URL."""
        return self.requirement.name or self.requirement.url.requirement_url()

    @property
    def what(self) -> str:
        """How errors and locks name it: the URL at the commit."""
        return f"{self.requirement.url.requirement_url()} at {self.commit[:12]}"


@dataclasses.dataclass(frozen=True)
class Package(Generic[B]):
    """A node of the finished graph: its key (canonical name), who asked, what was built."""

    key: str
    node: Node
    requested_by: tuple[str, ...]
    built: B


class Graph(Generic[B]):
    """Nodes by canonical name; ``B`` is what the build stage made of each."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._nodes: dict[str, Node] = {}
        self._requested_by: dict[str, list[str]] = {}
        self._built: dict[str, B] = {}
        self._keys: dict[GitRequirement, str] = {}

    def add(self, key: str, node: Node) -> bool:
        """Add ``node`` under ``key``; False when that distribution is there already (at
        the same commit: then only its requester is recorded)."""
        requirement = node.requirement
        with self._lock:
            self._keys[requirement] = key
            existing = self._nodes.get(key)
            if existing is None:
                self._nodes[key] = node
                self._requested_by[key] = [requirement.requested_by]
                return True
            if existing.identity != node.identity:
                raise _conflict(key, existing, self._requested_by[key], node)
            self._requested_by[key].append(requirement.requested_by)
            return False

    def set_built(self, key: str, built: B) -> None:
        with self._lock:
            self._built[key] = built

    def packages(self) -> list[Package[B]]:
        """Every node, sorted by key, once the walk is over."""
        with self._lock:
            return [
                Package(key, node, tuple(self._requested_by[key]), self._built[key])
                for key, node in sorted(self._nodes.items())
            ]

    def key_of(self, requirement: GitRequirement) -> str:
        """The key of the node that ``requirement`` was resolved to."""
        return self._keys[requirement]


def _conflict(key: str, existing: Node, requested_by: list[str], node: Node) -> GitDepsError:
    first, second = existing.requirement, node.requirement
    name = first.name or key
    if existing.identity[:3] == node.identity[:3]:
        return GitDepsError(
            f"{name} is asked for with different --config-settings by "
            f"{', '.join(requested_by)} and by {second.requested_by}; "
            "one build serves both: make them agree"
        )
    return GitDepsError(
        f"{name} is asked for at two different commits: "
        f"{first.url.requirement_url()} ({existing.commit[:12]}) by "
        f"{', '.join(requested_by)}, and {second.url.requirement_url()} "
        f"({node.commit[:12]}) by {second.requested_by}; make them agree"
    )


# Seconds the visits under way get to end once a run stops (their waits are cut).
_STOP_GRACE = 5.0
# Seconds the visits under way get, once one has failed, to end on their own: what only
# asks a host something may finish and say whether it fails too (no fetch or build
# starts then, and the builds under way are killed).
_FAIL_GRACE = 3.0


def walk(
    top: Sequence[T],
    visit: Callable[[T], Iterable[T]],
    *,
    on_fail: Callable[[], None],
    on_stop: Callable[[], None],
) -> None:
    """``visit`` each of ``top`` and each item a visit returns, in parallel.

    On the first failure (a :class:`GitDepsError`) nothing new is visited and
    ``on_fail`` runs (it stops the builds under way and refuses new ones); the visits
    under way get ``_FAIL_GRACE`` seconds to end, and each that fails on its own is
    reported too: one failure is raised as it is, several as :class:`SeveralErrors`.
    On Ctrl-C, SIGTERM or any other exception nothing new starts and ``on_stop`` runs
    (it cuts short what the visits wait on: subprocesses, transfers); then they get
    ``_STOP_GRACE`` seconds to end, not more, so that a stop is never held up.
    """
    pool = ThreadPoolExecutor(max_workers=_THREADS, thread_name_prefix="gitdeps")
    pending: set[Future[Iterable[T]]] = set()
    try:
        pending.update(pool.submit(visit, item) for item in top)
        failures, stopped = _visit_all(pool, pending, visit, on_fail)
    except BaseException:
        _cut(pool, pending, on_stop)
        raise
    if failures:
        _cut(pool, pending, on_stop)
        raise failures[0] if len(failures) == 1 else SeveralErrors(failures, stopped=stopped)
    pool.shutdown(wait=True)


def _visit_all(
    pool: ThreadPoolExecutor,
    pending: set[Future[Iterable[T]]],
    visit: Callable[[T], Iterable[T]],
    on_fail: Callable[[], None],
) -> tuple[tuple[GitDepsError, ...], int]:
    """Wait for the visits in ``pending`` (kept up to date) and those they lead to; the
    failures in the order they came, and how many visits were cut short by them."""
    failures: list[GitDepsError] = []
    stopped = 0
    give_up: float | None = None  # once failing: when the visits under way are cut
    while pending:
        left = None if give_up is None else max(0.0, give_up - time.monotonic())
        done = wait(pending, timeout=left, return_when=FIRST_COMPLETED).done
        pending.difference_update(done)
        if not done:  # the grace is over: what is left is cut short
            return tuple(failures), stopped + len(pending)
        for future in done:
            error = future.exception()
            if error is None:
                if not failures:
                    pending.update(pool.submit(visit, item) for item in future.result())
            elif isinstance(error, Interrupted) and failures:
                stopped += 1  # refused, or killed, because another part failed
            elif isinstance(error, GitDepsError) and not isinstance(error, Interrupted):
                failures.append(error)
            else:
                raise error
        if failures and give_up is None:
            on_fail()
            give_up = time.monotonic() + _FAIL_GRACE
    return tuple(failures), stopped


def _cut(pool: ThreadPoolExecutor, pending: set[Future[Any]], on_stop: Callable[[], None]) -> None:
    """Nothing new starts, what is under way is cut short and gets a moment to end."""
    pool.shutdown(wait=False, cancel_futures=True)
    on_stop()
    wait(pending, timeout=_STOP_GRACE)
