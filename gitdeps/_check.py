"""``gitdeps check``: is the lock up to date with what its refs name now?

``vendor --locked`` never asks a git host anything, so it works with the host
unreachable. Whether a locked branch has new commits, or a locked tag has been
moved, is this separate question, asked with one ``ls-remote`` per repository.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from ._config import load_config
from ._credentials.scope import Scope
from ._credentials.store import Credentials
from ._errors import GitDepsError, LockError
from ._inputs.giturl import GitURL, parse_git_url
from ._inputs.requirements import parse_requirement_files
from ._outputs.lock import LockedPackage, read_lock
from ._resolve.refs import RemoteRefs, is_full_commit, listing_key, resolve_ref

__all__ = ["CheckReport", "RefState", "check"]

# What became of one locked ref, or one requirement.
CURRENT = "current"  # the ref names the locked commit still (or is a commit itself)
MOVED = "moved"  # a tag names another commit now: tags should never move
NEW_COMMITS = "new-commits"  # a branch (or HEAD) has moved on
GONE = "gone"  # the ref no longer exists
UNLOCKED = "unlocked"  # a requirement the lock does not cover: vendor --locked would fail

_THREADS = 16


@dataclasses.dataclass(frozen=True)
class RefState:
    """One locked package (or one requirement missing from the lock), as it stands now."""

    name: str
    url: str
    ref: str  # "" for the remote's HEAD
    subdirectory: str
    locked: str  # the locked commit ("" when unlocked)
    current: str  # the commit the ref names now ("" when gone or not asked)
    state: str  # CURRENT, MOVED, NEW_COMMITS, GONE or UNLOCKED

    @property
    def up_to_date(self) -> bool:
        return self.state == CURRENT

    def describe(self) -> str:
        """One line for people, e.g. ``acme: tag v1 moved: locked 1a2b.., now 3c4d..``."""
        ref = self.ref or "HEAD"
        if self.state == MOVED:
            return (
                f"{self.name}: tag {ref} has moved: locked {self.locked[:12]}, now "
                f"{self.current[:12]} (tags should not move; ask who moved it)"
            )
        if self.state == NEW_COMMITS:
            return (
                f"{self.name}: {ref} has new commits: locked {self.locked[:12]}, now "
                f"{self.current[:12]}"
            )
        if self.state == GONE:
            return f"{self.name}: {ref} no longer exists in {self.url}"
        if self.state == UNLOCKED:
            return f"{self.name}: {self.url}@{ref} is not in the lock"
        return f"{self.name}: {ref} is at the locked {self.locked[:12]}"


@dataclasses.dataclass(frozen=True)
class CheckReport:
    lock: Path
    packages: tuple[RefState, ...]

    @property
    def up_to_date(self) -> bool:
        return all(p.up_to_date for p in self.packages)

    def as_json(self) -> dict[str, object]:
        return {
            "command": "check",
            "ok": self.up_to_date,
            "lock": str(self.lock),
            "up_to_date": self.up_to_date,
            "packages": [dataclasses.asdict(p) for p in self.packages],
        }


def check(
    lock: str | os.PathLike[str],
    requirements: Sequence[str | os.PathLike[str]] = (),
    *,
    config: str | os.PathLike[str] | None = None,
    extras: Sequence[str] = (),
    groups: Sequence[str] = (),
) -> CheckReport:
    """Ask each locked repository what its refs name now (one ``ls-remote`` each).

    With ``requirements``, their git requirements that the lock does not cover are
    reported too (``vendor --locked`` would refuse them). Nothing is written.
    """
    lock_path = Path(lock)
    previous = read_lock(lock_path)
    if previous is None:
        raise LockError.at(lock_path, "no such lock", hint="run gitdeps vendor to write one")
    parsed = parse_requirement_files(requirements, extras=extras, groups=groups)
    settings = load_config(_path(config))
    scope = Scope.of(
        (r.url for r in parsed.git), settings, locked=(p.url for p in previous.packages)
    )
    credentials = Credentials(parsed.credentials, config=settings, scope=scope)
    unlocked = [
        RefState(
            name=r.name or r.url.requirement_url(),
            url=r.url.repo,
            ref=r.url.ref or "",
            subdirectory=r.url.subdirectory or "",
            locked="",
            current="",
            state=UNLOCKED,
        )
        for r in parsed.git
        if previous.find(r.url.repo, r.url.ref, r.url.subdirectory) is None
    ]
    from ._fetch.git import list_refs

    asked = {p: _git_url(p) for p in previous.packages if not _names_its_commit(p)}
    listings = {listing_key(url): url for url in asked.values()}
    with ThreadPoolExecutor(max_workers=_THREADS, thread_name_prefix="gitdeps-check") as pool:
        listed = dict(
            zip(
                listings,
                pool.map(lambda url: list_refs(url, credentials), listings.values()),
                strict=True,
            )
        )
    states = []
    for package in previous.packages:
        url = asked.get(package)
        if url is not None:
            states.append(_state(package, url, listed[listing_key(url)]))
        else:
            states.append(_pinned(package))
    return CheckReport(lock_path, (*states, *unlocked))


def _state(package: LockedPackage, url: GitURL, refs: RemoteRefs) -> RefState:
    ref = package.requested_revision or None
    try:
        now = resolve_ref(url, ref, refs)
    except GitDepsError:
        now = ""
    if not now:
        state = GONE
    elif now == package.commit:
        state = CURRENT
    elif ref and f"refs/tags/{ref}" in refs.refs and f"refs/heads/{ref}" not in refs.refs:
        state = MOVED
    else:
        state = NEW_COMMITS
    return dataclasses.replace(_pinned(package), current=now, state=state)


def _pinned(package: LockedPackage) -> RefState:
    return RefState(
        name=package.name,
        url=package.url,
        ref=package.requested_revision,
        subdirectory=package.subdirectory,
        locked=package.commit,
        current=package.commit,
        state=CURRENT,
    )


def _names_its_commit(package: LockedPackage) -> bool:
    """A ref that is the commit itself (full, or a short hash of it) cannot move."""
    ref = package.requested_revision.lower()
    return is_full_commit(ref) or (
        len(ref) >= 4
        and all(c in "0123456789abcdef" for c in ref)
        and package.commit.startswith(ref)
    )


def _git_url(package: LockedPackage) -> GitURL:
    try:
        revision = f"@{package.requested_revision}" if package.requested_revision else ""
        url, _credential = parse_git_url(f"git+{package.url}{revision}")
    except GitDepsError as exc:
        raise LockError(f"lock entry {package.name}: {exc}") from exc
    return url


def _path(value: str | os.PathLike[str] | None) -> Path | None:
    return Path(value) if value is not None else None
