"""The outputs switch together: wheels, requirements and lock, or none of them.

Every new file is first written whole beside its final place (staged). A
journal then names the renames and removals that publish them, and they are
done. A run killed part-way leaves the journal; the next run that writes to the
same place completes it before anything else (every file it names is already
whole, so finishing is always right), and clears what dead runs left: staging
folders and half-written temporary files. All of it happens under a lock on the
output folder (kept in the temporary directory, not among the outputs), so two
runs never interleave, and cleaning never touches a live run's files.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import logging
import os
import shutil
import stat
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

from .._errors import GitDepsError
from .._fs import atomic_write
from .._locks import exclusive

__all__ = ["JOURNAL", "STAGING", "Plan", "locked_outputs", "publish", "staged_path"]

logger = logging.getLogger("gitdeps")

JOURNAL = ".gitdeps-journal.json"
STAGING = ".gitdeps-staging-"
_STAGED_SUFFIX = ".gitdeps-new"


@dataclasses.dataclass(frozen=True)
class Plan:
    """What publishing does: staged files renamed into place, then stale wheels removed."""

    moves: tuple[tuple[Path, Path], ...]
    removals: tuple[Path, ...] = ()


def staged_path(final: Path) -> Path:
    """Where the new version of ``final`` is written whole before it replaces it."""
    return final.with_name(f".{final.name}{_STAGED_SUFFIX}")


def _lock_file(where: Path) -> Path:
    """The lock of an output folder: outside it, so the folder holds only the outputs."""
    user = getattr(os, "getuid", lambda: 0)()
    key = hashlib.sha256(str(where.resolve()).encode("utf-8", "surrogateescape")).hexdigest()
    folder = Path(tempfile.gettempdir()) / f"gitdeps-{user}"
    try:
        folder.mkdir(mode=0o700)
    except FileExistsError:  # made by an earlier run, or by someone else first
        _check_private(folder)
    return folder / f"outputs-{key[:24]}.lock"


def _check_private(folder: Path) -> None:
    """Refuse a lock folder in a shared temporary directory that is not this user's alone:
    another user who made it first could swap the lock files in it."""
    if os.name != "posix":
        return
    info = os.lstat(folder)
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o022:
        raise GitDepsError(
            "is not a private folder of this user (another user may have made it)",
            input=str(folder),
            hint="remove it, or set TMPDIR to a folder of your own",
        )


@contextlib.contextmanager
def locked_outputs(
    where: Path, finals: Sequence[Path], *, wheelhouse: Path | None = None
) -> Iterator[None]:
    """Hold the output folder ``where`` (the wheelhouse's parent); first finish or clear
    what an earlier run left there and in ``wheelhouse``, where wheels are staged."""
    where.mkdir(parents=True, exist_ok=True)
    with exclusive(_lock_file(where), what=f"the output folder {where}"):
        _recover(where, finals, [where, *([wheelhouse] if wheelhouse else [])])
        yield


def publish(where: Path, plan: Plan) -> None:
    """Carry out ``plan`` so that a kill at any point leaves it for the next run to finish.

    Ctrl-C while the files are being switched finishes the switch (it takes
    milliseconds) before the interrupt goes on, so what is on disk is whole.
    """
    journal = where / JOURNAL
    atomic_write(journal, _dump(plan).encode("utf-8"))
    try:
        _apply(plan)
    except KeyboardInterrupt:
        _apply(plan)
        journal.unlink()
        raise OutputsSwitched from None
    journal.unlink()


class OutputsSwitched(KeyboardInterrupt):
    """Interrupted while the outputs were switched: the new set was completed."""


def _apply(plan: Plan) -> None:
    for staged, final in plan.moves:
        if staged.exists():  # absent: moved already, by the run that was killed
            os.replace(staged, final)
    for stale in plan.removals:
        if stale.suffix == ".whl" and stale.is_file() and not stale.is_symlink():
            stale.unlink()
            logger.debug("removed %s (no longer locked)", stale.name)


def _dump(plan: Plan) -> str:
    return json.dumps(
        {
            "moves": [[str(staged), str(final)] for staged, final in plan.moves],
            "removals": [str(path) for path in plan.removals],
        },
        indent=1,
    )


def _load(text: str) -> Plan:
    data = json.loads(text)
    moves = []
    for staged, final in data["moves"]:
        staged_path_, final_path = Path(staged), Path(final)
        # Only what gitdeps stages: a staging folder's file, or a '.name.gitdeps-new'.
        if staged_path_.parent.name.startswith(STAGING) or staged_path_ == staged_path(final_path):
            moves.append((staged_path_, final_path))
    return Plan(tuple(moves), tuple(Path(p) for p in data["removals"]))


def _recover(where: Path, finals: Sequence[Path], staging_in: Sequence[Path]) -> None:
    journal = where / JOURNAL
    if journal.exists():
        try:
            plan = _load(journal.read_text(encoding="utf-8"))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            logger.warning("ignoring an unreadable journal %s: %s", journal, exc)
        else:
            logger.warning("a run was stopped while switching the outputs; completing it")
            _apply(plan)
        journal.unlink(missing_ok=True)
    for folder in staging_in:
        for leftover in folder.glob(f"{STAGING}*"):
            shutil.rmtree(leftover, ignore_errors=True)
    for final in finals:
        staged_path(final).unlink(missing_ok=True)
        for temporary in final.parent.glob(f".{final.name}.*.tmp"):  # atomic_write's
            temporary.unlink(missing_ok=True)
