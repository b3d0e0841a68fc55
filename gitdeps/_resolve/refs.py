"""What a repository's refs say: the listing, and the commit a ref names in it.

Pure data and rules, no network: a run that the lock covers never loads the git client.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Mapping

from .._errors import FetchError
from .._inputs.giturl import GitURL

__all__ = ["RemoteRefs", "is_full_commit", "listing_key", "resolve_ref"]

_FULL_SHA = re.compile(r"^[0-9a-f]{40}$")
_SHORT_SHA = re.compile(r"^[0-9a-f]{4,39}$")


@dataclasses.dataclass(frozen=True)
class RemoteRefs:
    """What ``ls-remote`` said: ref name -> commit (tags peeled), and HEAD's target."""

    refs: Mapping[str, str]
    head: str | None  # the branch HEAD points at, e.g. "refs/heads/main"

    def tags_at(self, commit: str) -> tuple[str, ...]:
        """The names of the tags that point at ``commit``."""
        prefix = "refs/tags/"
        return tuple(
            sorted(
                n[len(prefix) :]
                for n, s in self.refs.items()
                if n.startswith(prefix) and s == commit
            )
        )


def is_full_commit(ref: str) -> bool:
    """A 40-character commit hash (any case): no ls-remote needed to resolve it."""
    return bool(_FULL_SHA.match(ref.lower()))


def listing_key(url: GitURL) -> tuple[str, str]:
    """What one listing of ``url``'s refs covers: the repository, plus a full ref name
    outside branches and tags (``refs/pull/1/head``) when one is asked for."""
    ref = url.ref or ""
    extra = ref.startswith("refs/") and not ref.startswith(("refs/heads/", "refs/tags/"))
    return url.repo, ref if extra else ""


def resolve_ref(
    url: GitURL,
    ref: str | None,
    refs: RemoteRefs,
    *,
    search: Callable[[str], list[str]] | None = None,
) -> str:
    """The commit a branch, tag, full or short commit, or none (HEAD) names, like pip.

    A short hash that is no branch or tag tip is looked up with ``search`` (the
    commits of every branch's and tag's history that start with it), as pip finds
    it in its clone.
    """
    if ref is None:
        commit = refs.refs.get("HEAD") or (refs.refs.get(refs.head) if refs.head else None)
        if commit is None:
            raise FetchError(
                f"{url.repo} has no HEAD (an empty repository?)", hint="name a ref with @ref"
            )
        return commit
    candidates = [ref] if ref.startswith("refs/") else [f"refs/heads/{ref}", f"refs/tags/{ref}"]
    for name in candidates:
        if name in refs.refs:
            return refs.refs[name]
    lowered = ref.lower()
    if is_full_commit(lowered):
        return lowered
    if _SHORT_SHA.match(lowered):
        matches = {sha for sha in refs.refs.values() if sha.startswith(lowered)}
        if not matches and search is not None:
            matches = set(search(lowered))
        if len(matches) == 1:
            return matches.pop()
        if len(matches) > 1:
            raise FetchError(
                f"short commit {ref!r} is ambiguous in {url.repo} "
                f"({', '.join(sorted(m[:12] for m in matches))})",
                hint="use the full 40-character hash",
            )
        raise FetchError(
            f"commit {ref!r} is in no branch's or tag's history of {url.repo}",
            hint="check the hash, "
            "or use the full 40-character hash (git rev-parse <short> in a clone prints it)",
        )
    near = _near_misses(ref, refs.refs)
    raise FetchError(
        f"ref {ref!r} not found in {url.repo}: no branch, tag or commit of that name"
        + (f" (did you mean {', '.join(near)}?)" if near else "")
    )


def _near_misses(ref: str, refs: Mapping[str, str]) -> list[str]:
    import difflib

    short = [n.split("/", 2)[2] for n in refs if n.startswith(("refs/heads/", "refs/tags/"))]
    return difflib.get_close_matches(ref, short, n=3, cutoff=0.6)
