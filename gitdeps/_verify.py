"""``gitdeps verify``: is this wheelhouse exactly what the lock says? Offline.

On the deploy target or in CI, with no token and no network: every wheel the lock
names is there with its sha256, no wheel is there that nothing names, no wheel's
metadata still points at git, and the output requirements (and the pylock, when given)
pin the same wheels with the same digests. Each problem is one line naming the wheel.
"""

from __future__ import annotations

import dataclasses
import os
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path

from packaging.utils import (
    InvalidWheelFilename,
    canonicalize_name,
    parse_wheel_filename,
)
from packaging.version import InvalidVersion

from ._build.wheel import read_wheel, sha256_file
from ._errors import GitDepsError
from ._outputs.lock import Lock, read_lock
from ._toml import tomllib

__all__ = ["Problem", "VerifyReport", "verify"]


@dataclasses.dataclass(frozen=True)
class Problem:
    """One thing that is not as recorded: ``subject`` is the wheel (or file) it is about."""

    subject: str
    message: str

    def __str__(self) -> str:
        return f"{self.subject}: {self.message}"


@dataclasses.dataclass(frozen=True)
class VerifyReport:
    wheelhouse: Path
    lock: Path
    wheels: int  # wheels checked
    problems: tuple[Problem, ...]

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_json(self) -> dict[str, object]:
        """The report for scripts (``gitdeps verify --json``)."""
        return {
            "command": "verify",
            "ok": self.ok,
            "wheelhouse": str(self.wheelhouse),
            "lock": str(self.lock),
            "wheels": self.wheels,
            "problems": [{"subject": p.subject, "message": p.message} for p in self.problems],
        }


_HASH = re.compile(r"--hash[= ]sha256:([0-9a-fA-F]{64})")
_PIN = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?\s*==\s*([^\s;]+)")


def verify(
    wheelhouse: str | os.PathLike[str],
    lock: str | os.PathLike[str],
    *,
    output_requirements: str | os.PathLike[str] | None = None,
    pylock: str | os.PathLike[str] | None = None,
) -> VerifyReport:
    """Check ``wheelhouse`` against ``lock`` (and the output requirements and pylock,
    when given). Reads files only. Raises :class:`GitDepsError` when an input cannot
    be read at all; every other finding is a :class:`Problem` in the report."""
    house, lock_path = Path(wheelhouse), Path(lock)
    if not house.is_dir():
        raise GitDepsError(f"the wheelhouse {house} is not a folder", hint="name the -o folder")
    locked = read_lock(lock_path)
    if locked is None:
        raise GitDepsError(f"the lock {lock_path} does not exist", hint="name it with --lock")
    problems: list[Problem] = []
    expected = {p.wheel: p.sha256 for p in locked.packages}  # file name -> sha256
    public: dict[tuple[str, str], set[str]] = {}  # hashed public pins: (name, version) -> sha256s
    if output_requirements is not None:
        problems += _requirements(Path(output_requirements), locked, public)
    if pylock is not None:
        problems += _pylock(Path(pylock), house, expected)
    present = {p.name: p for p in house.iterdir() if p.suffix == ".whl"}
    for name, digest in sorted(expected.items()):
        wheel = present.get(name)
        if wheel is None:
            problems.append(Problem(name, "missing from the wheelhouse"))
            continue
        actual = sha256_file(wheel)
        if actual != digest:
            problems.append(
                Problem(name, f"sha256 is {actual[:16]}…, recorded {digest[:16]}… (changed)")
            )
    for name in sorted(set(present) - set(expected)):
        release = _release(name)
        if release is None or release not in public:
            problems.append(
                Problem(name, "in the wheelhouse, but no lock, requirement or pylock names it")
            )
        elif sha256_file(present[name]) not in public[release]:
            problems.append(Problem(name, "sha256 is none of the output requirements' hashes"))
    for name in sorted(set(present) & set(expected)):
        problems += _metadata(present[name])
    return VerifyReport(house, lock_path, len(present), tuple(problems))


def _release(filename: str) -> tuple[str, str] | None:
    try:
        name, version, _build, _tags = parse_wheel_filename(filename)
    except (InvalidWheelFilename, InvalidVersion):
        return None
    return str(name), str(version)


def _metadata(wheel: Path) -> Iterator[Problem]:
    """A wheel whose metadata still names a git URL: the target's pip would clone it."""
    try:
        info = read_wheel(wheel)
    except (OSError, KeyError, ValueError, zipfile.BadZipFile) as exc:
        yield Problem(wheel.name, f"not a readable wheel ({exc})")
        return
    for value in info.requires_dist:
        if "git+" in value or re.search(r"@\s*\w+://", value):
            yield Problem(wheel.name, f"Requires-Dist {value!r} still names a URL")


def _requirements(
    path: Path, locked: Lock, public: dict[tuple[str, str], set[str]]
) -> Iterator[Problem]:
    """The output requirements pin each locked package to its version and digest (all
    of them when the file is hashed); hashed public pins go into ``public``."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise GitDepsError(
            f"cannot read {path}: {exc}", hint="name the output requirements"
        ) from None
    versions = {canonicalize_name(p.name): p for p in locked.packages}
    seen: set[str] = set()
    hashed = False
    for number, line in enumerate(lines, start=1):
        text = line.split(" #", 1)[0].strip()
        if not text or text.startswith("#"):
            continue
        where = f"{path}:{number}"
        if "git+" in text or re.match(r"^\s*-e\s", text):
            yield Problem(where, "still names a git URL or an editable")
            continue
        match = _PIN.match(text)
        if match is None:
            continue
        name, version = canonicalize_name(match.group(1)), match.group(3)
        hashes = [h.lower() for h in _HASH.findall(text)]
        hashed |= bool(hashes)
        entry = versions.get(name)
        if entry is None:
            public.setdefault((name, version), set()).update(hashes)
            continue
        seen.add(name)
        if version != entry.version:
            yield Problem(where, f"pins {name}=={version}, the lock has {entry.version}")
        elif hashes and entry.sha256 not in hashes:
            yield Problem(where, f"{name}'s --hash is not the lock's sha256 ({entry.wheel})")
    if not hashed:
        return  # a private dependency need not be listed: pip finds it by its parent's pin
    for name, entry in sorted(versions.items()):
        if name not in seen:
            yield Problem(entry.wheel, f"locked, but {path} does not pin {entry.name}")


def _pylock(path: Path, house: Path, expected: dict[str, str]) -> Iterator[Problem]:
    """Each wheel the pylock names by path is one the wheelhouse must hold, with its digest."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise GitDepsError(f"cannot read {path}: {exc}", hint="name the pylock.toml") from None
    base = path.parent.resolve()
    for package in data.get("packages", []):
        for wheel in package.get("wheels", []) or []:
            digest = str((wheel.get("hashes") or {}).get("sha256", ""))
            where = wheel.get("path")
            if where is None:
                continue  # a public file on the index, by URL
            target = (base / where).resolve()
            name = target.name
            if target.parent != house.resolve():
                yield Problem(f"{path}", f"names {where}, which is not in {house}")
                continue
            recorded = expected.get(name)
            if recorded is not None and recorded != digest:
                yield Problem(name, f"{path} records sha256 {digest[:16]}…, the lock another")
            expected.setdefault(name, digest)
