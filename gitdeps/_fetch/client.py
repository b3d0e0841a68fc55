"""The fetch stage's seam: what the rest of gitdeps asks of a git host.

``GitClient`` is three questions: which commits the refs name, which commits start
with a short hash, and the tree of one commit. ``DulwichClient`` answers them over
http(s), ssh and file:// with dulwich; another transport (the git CLI, a mirror, a
fake in a unit test) is one class with these three methods.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from .._credentials.store import Credentials
    from .._inputs.giturl import GitURL
    from .._resolve.refs import RemoteRefs
    from .checkout import Checkout

__all__ = ["DulwichClient", "GitClient", "OnTree"]

OnTree = Callable[[Path], None]  # told the checkout's folder once its files are written


class GitClient(Protocol):
    def list_refs(self, url: GitURL) -> RemoteRefs:
        """HEAD, the branches and the tags of ``url``'s repository (tags peeled)."""
        ...

    def find_commits(self, url: GitURL, prefix: str, where: Path) -> list[str]:
        """Commits in the history of every branch and tag whose hash starts with
        ``prefix``; ``where`` is an empty folder to work in."""
        ...

    def fetch_tree(
        self, url: GitURL, commit: str, where: Path, *, on_tree: OnTree | None = None
    ) -> Checkout:
        """``commit`` checked out under the empty folder ``where`` (with submodules,
        LFS files and a ``.git`` that version plugins can read). ``on_tree`` is called
        with the tree's folder as soon as its files are written, while the history is
        still coming: the build can start on what it needs from them."""
        ...


class DulwichClient:
    """Today's client. The git machinery is imported on the first question, so a run
    the lock and the cache cover never loads dulwich or urllib3."""

    def __init__(self, credentials: Credentials) -> None:
        self.credentials = credentials

    def list_refs(self, url: GitURL) -> RemoteRefs:
        from .git import list_refs

        return list_refs(url, self.credentials)

    def find_commits(self, url: GitURL, prefix: str, where: Path) -> list[str]:
        from .git import find_commits

        return find_commits(url, prefix, self.credentials, where / "search.git")

    def fetch_tree(
        self, url: GitURL, commit: str, where: Path, *, on_tree: OnTree | None = None
    ) -> Checkout:
        from .source import fetch_tree

        return fetch_tree(url, commit, self.credentials, where, on_tree=on_tree)
