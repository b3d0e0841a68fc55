"""Commits with trees no git client would write: for hostile-repository tests."""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from typing import Union

from dulwich.objects import Blob, Commit, ObjectID, Tree
from dulwich.refs import Ref
from dulwich.repo import Repo

__all__ = ["GITLINK", "LINK", "push_raw_tree"]

LINK = 0o120000
GITLINK = 0o160000
FILE = 0o100644

Node = Union[bytes, str, "Mapping[str | bytes, Node]", "tuple[int, bytes]"]


def _tree(repo: Repo, entries: Mapping[str | bytes, Node]) -> bytes:
    tree = Tree()
    for name, node in entries.items():
        raw = name.encode() if isinstance(name, str) else name
        if isinstance(node, Mapping):
            tree.add(raw, 0o040000, ObjectID(_tree(repo, node)))
        elif isinstance(node, tuple):
            mode, data = node
            if mode == GITLINK:
                tree.add(raw, mode, ObjectID(data))
                continue
            blob = Blob.from_string(data)
            repo.object_store.add_object(blob)
            tree.add(raw, mode, blob.id)
        else:
            blob = Blob.from_string(node.encode() if isinstance(node, str) else node)
            repo.object_store.add_object(blob)
            tree.add(raw, FILE, blob.id)
    repo.object_store.add_object(tree)
    return tree.id


def push_raw_tree(bare: Path, entries: Mapping[str | bytes, Node], branch: str = "main") -> str:
    """Commit exactly ``entries`` on ``branch`` of the bare repository ``bare``."""
    with Repo(str(bare)) as repo:
        commit = Commit()
        commit.tree = _tree(repo, entries)
        commit.author = commit.committer = b"Mallory <m@example.invalid>"
        commit.author_time = commit.commit_time = int(time.time())
        commit.author_timezone = commit.commit_timezone = 0
        commit.message = b"hostile\n"
        repo.object_store.add_object(commit)
        repo.refs[Ref(f"refs/heads/{branch}".encode())] = commit.id
        return commit.id.decode()
