"""A commit's source tree as the build sees it, the way pip would have cloned it.

Two fetches run side by side: the commit at depth 1 (its tree and files) and
its history without file contents (commits, trees, tags). The tree is written
by :func:`gitdeps._fetch.checkout.checkout`, which refuses anything that escapes it,
and its Git LFS files and submodules are filled in; then a ``.git`` that holds no credential is
laid beside it, so version plugins compute what they compute in pip's clone.
"""

from __future__ import annotations

import dataclasses
import logging
import shutil
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from .._credentials.store import Credentials
from .._inputs.giturl import GitURL
from .._timing import phase
from .checkout import Checkout, checkout
from .git import History, fetch_commit, fetch_history
from .gitdir import write_git_dir
from .lfs import fetch_lfs
from .submodules import fetch_submodules

__all__ = ["fetch_tree"]

logger = logging.getLogger("gitdeps")


def fetch_tree(
    url: GitURL,
    commit: str,
    credentials: Credentials,
    where: Path,
    *,
    on_tree: Callable[[Path], None] | None = None,
) -> Checkout:
    """Fetch ``commit`` of ``url`` into ``where/tree``; return what was written.
    ``on_tree`` hears of the tree once its files are written, beside the history."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="gitdeps-history") as side:
        pending = side.submit(_history, url, commit, credentials, where / "history.git")
        try:
            with phase("fetch"):
                repo = fetch_commit(url, commit, credentials, where / "repo.git")
                try:
                    tree = checkout(
                        repo, commit, where / "tree", what=f"{url.repo} at {commit[:12]}"
                    )
                finally:
                    repo.close()
            if on_tree is not None:
                _tell(on_tree, tree.root)
            with phase("fetch"):
                fetch_lfs(tree, url, credentials, where)
                (where / "modules").mkdir()
                fetch_submodules(tree, url, credentials, where / "modules")
        except BaseException:
            pending.add_done_callback(_close_history)
            raise
        with phase("waiting for history"):
            history = pending.result()
    history.repo.close()  # its packs stay on disk, to be moved into the checkout's .git
    write_git_dir(
        tree,
        object_dirs=[where / "history.git" / "objects", where / "repo.git" / "objects"],
        tags=history.tags,
        branch=history.branch,
    )
    for fetched in ("history.git", "repo.git", "modules"):
        shutil.rmtree(where / fetched, ignore_errors=True)
    return dataclasses.replace(tree, tags=history.tags_at_commit)


def _tell(on_tree: Callable[[Path], None], root: Path) -> None:
    """A head start for the build: best effort, so its failure is the build's to say."""
    try:
        on_tree(root)
    except Exception as exc:  # the build meets the same fault and says it
        logger.debug("could not start ahead on %s: %s", root, exc)


def _history(url: GitURL, commit: str, credentials: Credentials, where: Path) -> History:
    with phase("history"):
        return fetch_history(url, commit, url.ref, credentials, where)


def _close_history(future: Future[History]) -> None:
    if not future.cancelled() and future.exception() is None:
        future.result().repo.close()
