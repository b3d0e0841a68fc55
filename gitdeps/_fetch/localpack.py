"""``git+file://`` in bounded memory: the objects of a local repository as a pack,
streamed by git itself.

dulwich's local client builds the pack it copies in memory, every object whole and
then compressed: a 300 MB file held 1.8 GB. When the machine has git (a repository
on this disk was made with it), ``git rev-list --objects | git pack-objects --stdout``
streams the objects into a pack file, which :func:`gitdeps._fetch.packs.index_pack`
indexes a chunk at a time, as for a pack fetched over HTTP. No host is involved:
nothing here ever sees a credential. Without git, the caller copies with dulwich.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

from .._errors import FetchError
from .._settings import limits
from .._subprocess import clean_environ, tracked
from .packs import index_pack

__all__ = ["can_stream", "stream_objects"]

# Large files streamed, never loaded whole to look for deltas (git's own default: 512 MB).
_GIT_OPTIONS = ("-c", "core.fsmonitor=false", "-c", "core.hooksPath=/dev/null",
                "-c", "core.bigFileThreshold=16m")  # fmt: skip


def can_stream() -> bool:
    """Whether git is here to stream a local repository's objects."""
    return shutil.which("git") is not None


def stream_objects(
    source: Path, revisions: Sequence[str], pack_dir: Path, *, walk: bool, blobs: bool
) -> bool:
    """The objects of ``revisions`` in ``source`` as one new pack in ``pack_dir``: with
    ``walk``, their whole history; with ``blobs``, file contents too. False when git
    could not read the repository (the caller falls back to dulwich)."""
    rev_list = ["git", *_GIT_OPTIONS, "-C", str(source), "rev-list", "--objects"]
    if not walk:
        rev_list.append("--no-walk")
    if not blobs:
        rev_list.append("--filter=blob:none")
    rev_list += ["--stdin"]
    pack_objects = ["git", *_GIT_OPTIONS, "-C", str(source), "pack-objects", "--stdout", "-q"]
    env = clean_environ()
    env["GIT_CONFIG_NOSYSTEM"] = "1"
    handle, incoming_name = tempfile.mkstemp(dir=pack_dir, prefix="incoming-", suffix=".pack")
    incoming = Path(incoming_name)
    try:
        with (
            os.fdopen(handle, "wb") as pack,
            tempfile.TemporaryFile() as errors,
            tracked() as start,
        ):
            lister = start(
                rev_list, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=errors, env=env
            )
            packer = start(pack_objects, stdin=lister.stdout, stdout=pack, stderr=errors, env=env)
            if lister.stdout is not None:
                lister.stdout.close()  # the packer holds it now
            if lister.stdin is not None:
                with contextlib.suppress(BrokenPipeError):
                    lister.stdin.write("".join(f"{r}\n" for r in revisions).encode("ascii"))
                    lister.stdin.close()
            try:
                packed = packer.wait(timeout=limits().deadline)
                listed = lister.wait(timeout=5)
            except subprocess.TimeoutExpired:
                raise FetchError(
                    f"reading {source} took longer than {limits().deadline:.0f} s",
                    hint="raise GITDEPS_FETCH_DEADLINE",
                ) from None
        if listed or packed or not incoming.stat().st_size:
            return False
        index_pack(incoming, pack_dir)
        return True
    finally:
        with contextlib.suppress(FileNotFoundError):
            incoming.unlink()
