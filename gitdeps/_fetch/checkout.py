"""Writing a commit's tree to a directory, refusing anything that would escape it.

The tree is untrusted input. A name that is ``..``, holds a separator, is
``.git`` (in any case or NTFS/HFS disguise), or a symlink that points outside
the checkout is refused before anything outside the checkout can be touched.
Gitlinks (submodules) are reported with the commits they record; the caller
fetches them. What was written is listed, so an index of it can be made.
"""

from __future__ import annotations

import dataclasses
import os
import posixpath
import re
import stat
import unicodedata
from collections.abc import Sequence
from pathlib import Path
from typing import BinaryIO, TypeVar

from dulwich.objects import Blob, Commit, Tree
from dulwich.pack import Pack
from dulwich.repo import Repo

from .._errors import UnsafeRepositoryError

__all__ = ["Checkout", "Entry", "LfsPointer", "checkout", "parse_lfs_pointer"]

_GITLINK = 0o160000


@dataclasses.dataclass(frozen=True)
class Entry:
    """One tree entry as written: what an index of the checkout holds."""

    path: str  # relative, "/"-separated
    sha: bytes  # hex object id
    mode: int


@dataclasses.dataclass(frozen=True)
class LfsPointer:
    """A file whose content in the tree is a Git LFS pointer."""

    path: str
    oid: str  # SHA-256 of the real content, hex
    size: int


_LFS_VERSION = b"version https://git-lfs.github.com/spec/v1\n"
_LFS_OID = re.compile(rb"^oid sha256:([0-9a-f]{64})$", re.MULTILINE)
_LFS_SIZE = re.compile(rb"^size ([0-9]{1,18})$", re.MULTILINE)


def parse_lfs_pointer(data: bytes) -> tuple[str, int] | None:
    """(oid, size) when ``data`` is a Git LFS pointer file (spec v1), else None."""
    if len(data) > 1024 or not data.startswith(_LFS_VERSION):
        return None
    oid, size = _LFS_OID.search(data), _LFS_SIZE.search(data)
    if oid is None or size is None:
        return None
    return oid.group(1).decode("ascii"), int(size.group(1))


@dataclasses.dataclass(frozen=True)
class Checkout:
    root: Path
    commit: str
    commit_time: int
    entries: tuple[Entry, ...]  # files, symlinks and gitlinks, in tree order
    tags: tuple[str, ...] = ()  # tags at the commit the build saw (version plugins read them)
    lfs: tuple[LfsPointer, ...] = ()  # files written as LFS pointers, to be filled in

    @property
    def submodules(self) -> tuple[Entry, ...]:
        """The gitlinks: a directory left empty, and the commit it should hold."""
        return tuple(e for e in self.entries if e.mode == _GITLINK)


def _is_dot_git(name: str) -> bool:
    # Case-insensitive filesystems, NTFS trailing dots/spaces and 8.3 names, and
    # HFS+ ignorable code points all turn these into ".git".
    folded = "".join(c for c in name if unicodedata.category(c) != "Cf").rstrip(". ").lower()
    return folded in (".git", "git~1")


def _check_name(name: bytes, where: str, what: str) -> str:
    try:
        text = name.decode("utf-8")
    except UnicodeDecodeError:
        raise UnsafeRepositoryError.at(
            what, f"path {where}{name!r} is not UTF-8; refusing it"
        ) from None
    if (
        text in ("", ".", "..")
        or "/" in text
        or "\\" in text
        or "\0" in text
        or (os.name == "nt" and ":" in text)
        or _is_dot_git(text)
    ):
        raise UnsafeRepositoryError.at(
            what,
            f"refusing tree entry {where + text!r}: it would write outside the "
            "checkout or into git's own files; this repository is unsafe to build",
        )
    return text


def checkout(repo: Repo, commit_id: str, dest: Path, *, what: str) -> Checkout:
    """Write the tree of ``commit_id`` into the new directory ``dest``."""
    try:
        commit = repo[commit_id.encode("ascii")]
        while not isinstance(commit, Commit):  # an annotated tag asked by hash
            commit = repo[commit.object[1]]  # type: ignore[attr-defined]
    except KeyError:
        raise UnsafeRepositoryError.at(
            what, "the commit's objects were not all sent; the fetch is incomplete"
        ) from None
    dest.mkdir(parents=True)
    root = dest.resolve()
    entries: list[Entry] = []
    lfs: list[LfsPointer] = []
    links: list[tuple[Path, str, str]] = []
    stack: list[tuple[bytes, Path, str]] = [(commit.tree, root, "")]
    packs = repo.object_store.packs  # once: dulwich lists the pack folder at every call
    while stack:
        tree_id, directory, prefix = stack.pop()
        tree = _object(repo, tree_id, Tree, what)
        for entry in tree.iteritems():
            name = _check_name(entry.path, prefix, what)
            target = directory / name
            mode = entry.mode
            if stat.S_ISDIR(mode):
                try:
                    target.mkdir()
                except FileExistsError:
                    raise _collision(what, prefix + name) from None
                stack.append((entry.sha, target, f"{prefix}{name}/"))
            elif mode == _GITLINK:
                entries.append(Entry(prefix + name, entry.sha, mode))
                target.mkdir(exist_ok=True)
            elif stat.S_ISLNK(mode):
                entries.append(Entry(prefix + name, entry.sha, mode))
                blob = _object(repo, entry.sha, Blob, what)
                links.append(
                    (target, blob.as_raw_string().decode("utf-8", "replace"), prefix + name)
                )
            else:
                entries.append(Entry(prefix + name, entry.sha, mode))
                try:
                    handle = open(target, "xb")  # noqa: SIM115 - closed just below
                except FileExistsError:
                    raise _collision(what, prefix + name) from None
                with handle:
                    size = _write_blob(repo, packs, entry.sha, handle, what)
                if size <= 1024:
                    data = _object(repo, entry.sha, Blob, what).as_raw_string()
                    pointer = parse_lfs_pointer(data)
                    if pointer is not None:
                        lfs.append(LfsPointer(prefix + name, *pointer))
                if mode & 0o111:
                    target.chmod(0o755)
    # Links last, so none can redirect a later write; each must stay inside.
    for target, link, display in links:
        _safe_symlink(root, target, link, display, what)
    # Checked one by one they stay inside; chained, a link can still climb out.
    for target, link, display in links:
        try:
            resolved = target.resolve(strict=False) if target.is_symlink() else root
        except (RuntimeError, OSError):  # a loop of links (RuntimeError before 3.13)
            raise UnsafeRepositoryError.at(
                what,
                f"symlink {display!r} -> {link!r} is part of a loop of links; "
                "this repository is unsafe to build",
            ) from None
        if not resolved.is_relative_to(root):
            raise UnsafeRepositoryError.at(
                what,
                f"refusing symlink {display!r} -> {link!r}: through other links it "
                "points outside the checkout; this repository is unsafe to build",
            )
    return Checkout(
        root=root,
        commit=commit.id.decode("ascii"),
        commit_time=commit.commit_time,
        entries=tuple(entries),
        lfs=tuple(lfs),
    )


def _safe_symlink(root: Path, target: Path, link: str, display: str, what: str) -> None:
    relative_dir = target.parent.relative_to(root).as_posix()
    joined = posixpath.normpath(posixpath.join(relative_dir, link.replace("\\", "/")))
    if (
        link.startswith(("/", "\\"))
        or (len(link) > 1 and link[1] == ":")
        or joined == ".."
        or joined.startswith("../")
        or any(_is_dot_git(part) for part in joined.split("/"))
    ):
        raise UnsafeRepositoryError.at(
            what,
            f"refusing symlink {display!r} -> {link!r}: it points outside the "
            "checkout; this repository is unsafe to build",
        )
    if os.path.lexists(target):
        raise _collision(what, display)
    try:
        os.symlink(link, target)
    except OSError:
        if os.name != "nt":
            raise
        # Windows without the symlink privilege: a copy of the file it names.
        source = root / joined
        if source.is_file():
            target.write_bytes(source.read_bytes())


_T = TypeVar("_T", Tree, Blob)

_STREAMED = 1 << 20  # blobs from this size up are inflated into their file a chunk at a time


def _write_blob(repo: Repo, packs: Sequence[Pack], sha: bytes, handle: BinaryIO, what: str) -> int:
    """Write blob ``sha`` into ``handle``; its size. A large blob stored whole in one of
    ``packs`` goes through a small buffer (:func:`copy_whole_blob`); dulwich would hold
    it whole."""
    from dulwich.objects import ObjectID

    from .packs import copy_whole_blob

    for pack in packs:
        try:
            offset = pack.index.object_offset(ObjectID(sha))
        except KeyError:
            continue
        size = copy_whole_blob(os.fspath(pack.data.path), offset, _STREAMED, handle)
        if size is not None:
            return size
        break
    blob = _object(repo, sha, Blob, what)
    for chunk in blob.as_raw_chunks():
        handle.write(chunk)
    return blob.raw_length()


def _object(repo: Repo, sha: bytes, kind: type[_T], what: str) -> _T:
    try:
        obj = repo[sha]
    except KeyError:
        raise UnsafeRepositoryError.at(
            what,
            f"object {sha.decode()} of the tree was not sent by the host; the "
            "repository or what was fetched is incomplete",
        ) from None
    if not isinstance(obj, kind):
        raise UnsafeRepositoryError.at(
            what,
            f"malformed tree: {sha.decode()} should be a {kind.__name__.lower()}; "
            "this repository is unsafe to build",
        )
    return obj


def _collision(what: str, display: str) -> UnsafeRepositoryError:
    return UnsafeRepositoryError(
        f"{what}: tree entries collide at {display!r} on this file system (names that differ "
        "only in case?); refusing to check it out"
    )
