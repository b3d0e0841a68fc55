"""The lock: which commit, and which wheel, each git requirement was vendored from.

TOML, one ``[[package]]`` table per vendored distribution, no credentials::

    version = 1

    [[package]]
    name = "acme-utils"
    version = "1.2.0+g1a2b3c4d5e6f"
    url = "https://dev.azure.com/contoso/platform/_git/acme-utils"
    requested-revision = "v1.2.0"
    commit = "1a2b3c4d5e6f..."
    subdirectory = ""
    wheel = "acme_utils-1.2.0+g1a2b3c4d5e6f-py3-none-any.whl"
    sha256 = "..."

A requirement is covered by an entry with the same ``url``,
``requested-revision`` and ``subdirectory``.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename
from packaging.version import InvalidVersion

from .._errors import LockError
from .._toml import tomllib

__all__ = ["LOCK_VERSION", "Lock", "LockedPackage", "dump_lock", "read_lock"]

LOCK_VERSION = 1

_FIELDS = (
    ("name", "name"),
    ("version", "version"),
    ("url", "url"),
    ("requested-revision", "requested_revision"),
    ("commit", "commit"),
    ("subdirectory", "subdirectory"),
    ("wheel", "wheel"),
    ("sha256", "sha256"),
)


@dataclasses.dataclass(frozen=True)
class LockedPackage:
    name: str
    version: str
    url: str
    requested_revision: str  # "" when the requirement named no ref (remote HEAD)
    commit: str
    subdirectory: str  # "" for the repository root
    wheel: str
    sha256: str

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.url, self.requested_revision, self.subdirectory)


@dataclasses.dataclass(frozen=True)
class Lock:
    packages: tuple[LockedPackage, ...] = ()

    def find(self, url: str, ref: str | None, subdirectory: str | None) -> LockedPackage | None:
        key = (url, ref or "", subdirectory or "")
        for package in self.packages:
            if package.key == key:
                return package
        return None


def read_lock(path: Path) -> Lock | None:
    """The lock at ``path``, or None when there is none yet."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise LockError.at(
            path,
            f"cannot read the lock: {exc}",
            hint="restore it from version control, or delete "
            "it and run without --locked to write a new one",
        ) from None
    version = data.get("version")
    if version is None:
        raise LockError.at(
            path,
            f"this is not a gitdeps lock (it has no 'version = {LOCK_VERSION}')",
            hint="restore it from version control, or delete it and run without --locked",
        )
    if version != LOCK_VERSION:
        raise LockError.at(
            path,
            f"lock format version {version!r} is not one this gitdeps reads "
            f"(it reads {LOCK_VERSION})",
            hint="upgrade gitdeps, or re-create the lock with --upgrade",
        )
    packages = []
    for index, entry in enumerate(data.get("package", []), start=1):
        packages.append(_package(path, index, entry))
    return Lock(tuple(packages))


def _package(path: Path, index: int, entry: Any) -> LockedPackage:
    if not isinstance(entry, dict):
        raise LockError.at(path, f"[[package]] #{index} is not a table", hint="re-create the lock")
    values = {}
    for key, attribute in _FIELDS:
        value = entry.get(key)
        if not isinstance(value, str):
            raise LockError.at(
                path,
                f"[[package]] #{index} has no string field {key!r}",
                hint="re-create the lock with --upgrade",
            )
        values[attribute] = value
    package = LockedPackage(**values)
    problem = _problem(package)
    if problem:
        raise LockError.at(
            path,
            f"[[package]] #{index} ({package.name!r}): {problem}",
            hint="the lock was edited or "
            "damaged: restore it from version control, or re-create it with --upgrade",
        )
    return package


_HEX = frozenset("0123456789abcdef")


def _problem(package: LockedPackage) -> str | None:
    """What is wrong with an entry gitdeps would act on (it deletes stale wheels by name)."""
    if len(package.commit) not in (40, 64) or not set(package.commit) <= _HEX:
        return f"commit {package.commit[:80]!r} is not a full lower-case commit hash"
    if len(package.sha256) != 64 or not set(package.sha256) <= _HEX:
        return f"sha256 {package.sha256[:80]!r} is not a SHA-256 digest"
    wheel = package.wheel
    if "/" in wheel or "\\" in wheel or not wheel.endswith(".whl"):
        return f"wheel {wheel[:120]!r} is not a wheel file name"
    try:
        name, version, _build, _tags = parse_wheel_filename(wheel)
    except (InvalidWheelFilename, InvalidVersion) as exc:
        return f"wheel {wheel[:120]!r} is not a wheel file name ({exc})"
    if name != canonicalize_name(package.name) or str(version) != package.version:
        return f"wheel {wheel!r} is not {package.name} {package.version}"
    return None


def _toml_string(value: str) -> str:
    return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")


def dump_lock(packages: Iterable[LockedPackage]) -> str:
    lines = [
        "# Written by gitdeps: the commit and wheel each git requirement was vendored from.",
        "# Commit it. `gitdeps vendor --locked` installs exactly this; --upgrade refreshes it.",
        f"version = {LOCK_VERSION}",
    ]
    for package in sorted(packages, key=lambda p: (p.name.lower(), p.key)):
        lines += ["", "[[package]]"]
        for key, attribute in _FIELDS:
            lines.append(f"{key} = {_toml_string(getattr(package, attribute))}")
    return "\n".join(lines) + "\n"
