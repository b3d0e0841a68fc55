"""Which commit each git requirement means: the lock policy of docs/lock.md, then the
host's refs.

In order: a commit the lock records for the same repository, ref and subdirectory
(asking no host: whether the ref moved since is ``gitdeps check``'s question, so a
locked run works with the host unreachable), unless the package is being upgraded;
with ``--locked``, nothing else; a full commit hash as written; else one listing of
the repository's refs per run, and a search of the history for a short hash that is
no branch or tag tip.
"""

from __future__ import annotations

import dataclasses
import logging
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from packaging.utils import canonicalize_name

from .._errors import LockError
from .._once import Once
from .._timing import phase
from .refs import RemoteRefs, is_full_commit, listing_key, resolve_ref

if TYPE_CHECKING:
    from .._fetch.client import GitClient
    from .._inputs.giturl import GitURL
    from .._inputs.requirements import GitRequirement
    from .._outputs.lock import Lock

__all__ = ["LockPolicy", "Resolver"]

progress = logging.getLogger("gitdeps.progress")


@dataclasses.dataclass(frozen=True)
class LockPolicy:
    """What the previous lock decides. ``lock`` is None without one, and with
    ``--upgrade`` (every ref resolved again); ``upgrade`` names the packages
    ``--upgrade-package`` resolves again; ``locked`` refuses anything the lock lacks."""

    lock: Lock | None = None
    path: Path | None = None
    locked: bool = False
    upgrade: frozenset[str] = frozenset()

    def commit_for(self, requirement: GitRequirement) -> str | None:
        """The locked commit of ``requirement``, or None when its ref is to be resolved."""
        url = requirement.url
        entry = self.lock.find(url.repo, url.ref, url.subdirectory) if self.lock else None
        if entry is not None and canonicalize_name(entry.name) not in self.upgrade:
            return entry.commit
        if self.locked:
            raise LockError(
                f"{url.requirement_url()} is not in the lock {self.path}",
                hint="run without --locked to add it",
            )
        return None


class Resolver:
    """Commits for requirements; each repository's refs are listed once per run, by
    whichever thread asks first."""

    def __init__(self, policy: LockPolicy, client: GitClient, scratch: Path) -> None:
        self.policy = policy
        self.client = client
        self.scratch = scratch
        self._refs = Once()

    def commit(self, requirement: GitRequirement) -> str:
        locked = self.policy.commit_for(requirement)
        if locked is not None:
            return locked
        url = requirement.url
        if url.ref is not None and is_full_commit(url.ref):
            return url.ref.lower()
        refs: RemoteRefs = self._refs.get(listing_key(url), lambda: self._list(url))
        return resolve_ref(url, url.ref, refs, search=lambda prefix: self._search(url, prefix))

    def _list(self, url: GitURL) -> RemoteRefs:
        with phase("refs"):
            return self.client.list_refs(url)

    def tags_at(self, url: GitURL, commit: str) -> tuple[str, ...] | None:
        """The tags at ``commit`` if this run has listed the repository's refs, else None
        (unknown: the cache then takes a wheel whatever tags it was built with)."""
        refs = self._refs.peek(listing_key(url))
        return refs.tags_at(commit) if isinstance(refs, RemoteRefs) else None

    def _search(self, url: GitURL, prefix: str) -> list[str]:
        progress.info("%s: %s is no branch or tag tip; searching the history", url.repo, prefix)
        where = Path(tempfile.mkdtemp(dir=self.scratch))
        try:
            with phase("refs"):
                return self.client.find_commits(url, prefix, where)
        finally:
            shutil.rmtree(where, ignore_errors=True)
