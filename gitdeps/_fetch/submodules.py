"""Submodules, as ``git submodule update --init --recursive`` checks them out for pip.

Every gitlink in the tree is fetched at the commit the tree records, from the
URL ``.gitmodules`` gives for its path. A relative URL (``../lib.git``) is
resolved against the parent repository's URL the way git resolves it. Each
fetch asks for the credential of its own URL's origin, so a submodule on
another host never sees the parent host's token. Like git since 2.38.1,
``file://`` submodules are refused: a repository must not make the build
machine read its local repositories.
"""

from __future__ import annotations

import re
from pathlib import Path

from dulwich.config import ConfigFile, parse_submodules

from .._credentials.store import Credentials
from .._errors import FetchError, GitDepsError
from .._inputs.giturl import GitURL, InvalidGitURL, parse_git_url
from .checkout import Checkout, checkout
from .git import fetch_commit
from .lfs import fetch_lfs

__all__ = ["fetch_submodules", "resolve_submodule_url"]

# Nesting deeper than this is a cycle or a hostile repository, not a project.
_MAX_DEPTH = 8


def resolve_submodule_url(parent: str, url: str) -> str:
    """``url`` from ``.gitmodules``, made absolute against the ``parent`` URL as git does.

    The parent acts as a directory: ``./x`` is inside it, each ``../`` climbs one
    component (``https://h/org/app.git`` + ``../lib.git`` = ``https://h/org/lib.git``;
    ``git@h:org/app.git`` + ``../lib.git`` = ``git@h:org/lib.git``).
    """
    if not url.startswith(("./", "../")):
        return url
    scheme, sep, rest = parent.rstrip("/").partition("://")
    if sep:
        netloc, _, path = rest.partition("/")
        prefix, leading = f"{scheme}://{netloc}", "/"
    else:  # scp-like: [user@]host:path
        prefix, colon, path = parent.rstrip("/").partition(":")
        if not colon:
            raise InvalidGitURL(f"cannot resolve the relative URL {url!r} against {parent!r}")
        prefix, leading = prefix + ":", "/" if path.startswith("/") else ""
    parts = [p for p in path.split("/") if p]
    relative = url
    while True:
        if relative.startswith("./"):
            relative = relative[2:]
        elif relative.startswith("../"):
            if not parts:
                raise InvalidGitURL(f"the relative URL {url!r} climbs above {parent!r}")
            parts.pop()
            relative = relative[3:]
        else:
            break
    return prefix + leading + "/".join([*parts, *([relative] if relative else [])])


def fetch_submodules(
    tree: Checkout, parent: GitURL, credentials: Credentials, where: Path, *, depth: int = 0
) -> None:
    """Fill every gitlink directory of ``tree`` (recursively); ``where`` holds the fetches."""
    gitlinks = tree.submodules
    if not gitlinks:
        return
    if depth >= _MAX_DEPTH:
        raise FetchError.at(
            parent.repo,
            f"submodules nest deeper than {_MAX_DEPTH} levels",
            hint="is a submodule its own ancestor?",
        )
    urls = _gitmodules(tree.root, parent)
    for number, link in enumerate(gitlinks):
        commit = link.sha.decode("ascii")
        written = urls.get(link.path)
        if written is None:
            raise FetchError.at(
                parent.repo,
                f"submodule {link.path!r} (commit {commit[:12]}) has no url in "
                ".gitmodules; the repository is incomplete at this commit",
            )
        url = _submodule_url(parent, link.path, written)
        target = tree.root / link.path
        try:
            repo = fetch_commit(url, commit, credentials, where / f"{depth}-{number}.git")
            try:
                target.rmdir()  # the empty directory the parent's checkout left
                inner = checkout(repo, commit, target, what=f"{url.repo} at {commit[:12]}")
            finally:
                repo.close()
            fetch_lfs(inner, url, credentials, where)
            fetch_submodules(inner, url, credentials, where, depth=depth + 1)
        except GitDepsError as exc:
            raise FetchError(
                f"submodule {link.path!r} of {parent.repo} ({url.repo} at {commit[:12]}) could "
                f"not be fetched: {exc}"
            ) from exc


def _gitmodules(root: Path, parent: GitURL) -> dict[str, str]:
    try:
        config = ConfigFile.from_path(str(root / ".gitmodules"))
        return {
            path.decode("utf-8"): url.decode("utf-8")
            for path, url, _name in parse_submodules(config)
        }
    except FileNotFoundError:
        return {}
    except (ValueError, KeyError, UnicodeDecodeError) as exc:
        raise FetchError.at(parent.repo, f".gitmodules cannot be read: {exc}") from exc


def _submodule_url(parent: GitURL, path: str, written: str) -> GitURL:
    try:
        absolute = resolve_submodule_url(parent.repo, written)
        url, _credential = parse_git_url("git+" + absolute)  # a credential in a repo file: unused
    except InvalidGitURL as exc:
        raise FetchError.at(
            parent.repo, f"submodule {path!r} has url {_shown(written)!r}: {exc}"
        ) from exc
    if url.scheme == "file" and parent.scheme != "file":
        raise FetchError.at(
            parent.repo,
            f"submodule {path!r} points at a local path ({_shown(written)!r}); "
            "like git, gitdeps fetches submodules only over the network",
        )
    return url


def _shown(url: str) -> str:
    """A URL from a repository file, for a message: any userinfo in it masked."""
    return re.sub(r"(//)[^/@]*@", r"\1***@", url)
