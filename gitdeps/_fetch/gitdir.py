"""A ``.git`` in the checkout: what version plugins read, and nothing that reaches a host.

setuptools_scm, hatch-vcs, pdm-backend's ``source = "scm"``, pbr, versioneer and
dunamai run the git CLI where the build runs (``git describe --tags``,
``git status``, ``git log``, ``git ls-files``). pip builds inside a
``--filter=blob:none`` clone; this makes the checkout read the same to them:

* objects: the packs of the depth-1 fetch (the commit's tree and files) and of
  the history fetch (every commit, tree and tag reachable from the commit and
  from every tag);
* refs: those tags, and HEAD on the branch the requirement named (as pip leaves
  it) or detached at the commit;
* an index of the checkout, so ``git status`` finds it clean;
* a config with no remote: no URL and no credential, nothing that a backend or
  a later git command could use to reach the host.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping, Sequence
from pathlib import Path

from dulwich.index import Index, index_entry_from_stat
from dulwich.refs import Ref, check_ref_format

from .checkout import Checkout

__all__ = ["write_git_dir"]

_GITLINK = 0o160000
_SYMLINK = 0o120000

_CONFIG = """\
[core]
\trepositoryformatversion = 0
\tbare = false
\tfilemode = {filemode}
\tlogallrefupdates = false
"""


def write_git_dir(
    checkout: Checkout,
    *,
    object_dirs: Sequence[Path],
    tags: Mapping[bytes, bytes],
    branch: bytes | None,
) -> None:
    """Make ``checkout.root/.git``; the packs under ``object_dirs`` are moved into it."""
    git = checkout.root / ".git"
    packs = git / "objects" / "pack"
    packs.mkdir(parents=True)
    (git / "refs" / "heads").mkdir(parents=True)
    (git / "refs" / "tags").mkdir()
    for source in object_dirs:
        _move_objects(source, git / "objects")
    refs = {name: sha for name, sha in tags.items() if check_ref_format(Ref(name))}
    commit = checkout.commit.encode("ascii")
    if branch is not None and check_ref_format(Ref(branch)):
        refs[branch] = commit
        (git / "HEAD").write_bytes(b"ref: " + branch + b"\n")
    else:
        (git / "HEAD").write_bytes(commit + b"\n")
    lines = [b"# pack-refs with: sorted \n"]
    lines += [sha + b" " + name + b"\n" for name, sha in sorted(refs.items())]
    (git / "packed-refs").write_bytes(b"".join(lines))
    (git / "config").write_text(_CONFIG.format(filemode=str(os.name != "nt").lower()))
    _write_index(checkout, git / "index")


def _move_objects(source: Path, objects: Path) -> None:
    for pack in (source / "pack").glob("pack-*"):
        os.replace(pack, objects / "pack" / pack.name)
    for fanout in source.iterdir():  # loose objects, where a fetch left any
        if len(fanout.name) == 2 and fanout.is_dir():
            (objects / fanout.name).mkdir(exist_ok=True)
            for loose in fanout.iterdir():
                os.replace(loose, objects / fanout.name / loose.name)


def _index_mode(mode: int) -> int:
    if mode in (_GITLINK, _SYMLINK) or stat.S_ISLNK(mode):
        return _GITLINK if mode == _GITLINK else _SYMLINK
    return 0o100755 if mode & 0o111 else 0o100644


def _write_index(checkout: Checkout, path: Path) -> None:
    """An index whose stat data matches the files as written: ``git status`` is clean."""
    index = Index(str(path), read=False)
    for entry in checkout.entries:
        info = os.lstat(checkout.root / entry.path)
        name = entry.path.encode("utf-8")
        index[name] = index_entry_from_stat(info, entry.sha, mode=_index_mode(entry.mode))
    index.write()
