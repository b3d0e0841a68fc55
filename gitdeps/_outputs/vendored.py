"""From built wheels to vendored ones: the pinned version (a local label with the
commit), each private ``Requires-Dist`` pinned to its vendored version, and the lock's
SHA-256 held to with ``--locked``.

``VendoredWheel`` is the one record per vendored package: the lock entry, the output
requirement's pin and the result all read it.
"""

from __future__ import annotations

import dataclasses
import logging
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from .._build.wheel import pinned_version, rewrite_wheel, sha256_file
from .._errors import LockError
from .._progress import Source
from .lock import Lock, LockedPackage
from .render import Pin

if TYPE_CHECKING:
    from .._build.wheels import Built, Wheels
    from .._resolve.graph import Package

__all__ = [
    "VendoredWheel",
    "compare_with_lock",
    "hold_to_the_lock",
    "pinned_requires",
    "pinned_versions",
    "stale_wheels",
]

logger = logging.getLogger("gitdeps")


@dataclasses.dataclass(frozen=True)
class VendoredWheel:
    """One private distribution in the wheelhouse, and where it came from."""

    name: str
    version: str  # the vendored (pinned) version
    path: Path
    sha256: str
    url: str  # credential-free repository URL
    requested_revision: str
    commit: str
    subdirectory: str
    requested_by: tuple[str, ...]
    source: str = ""  # credential-free git+URL@ref, as requirements name it
    obtained: Source = "built"  # where this run took the wheel from

    def lock_entry(self) -> LockedPackage:
        """This package as the lock records it."""
        return LockedPackage(
            name=self.name,
            version=self.version,
            url=self.url,
            requested_revision=self.requested_revision,
            commit=self.commit,
            subdirectory=self.subdirectory,
            wheel=self.path.name,
            sha256=self.sha256,
        )

    def pin(self) -> Pin:
        """This package as the output requirements pin it."""
        return Pin(self.name, self.version, self.sha256, self.source, self.commit)


def pinned_versions(packages: Iterable[Package[Built]]) -> dict[str, str]:
    """Each package's vendored version, by key."""
    return {p.key: pinned_version(p.built.info.version, p.node.commit) for p in packages}


def pinned_requires(built: Built, versions: Mapping[str, str]) -> dict[str, str]:
    """Each Requires-Dist value that names git, and the pin the vendored wheel says instead."""
    return {value: exact_pin(value, versions) for value, _child in built.private}


def exact_pin(value: str, versions: Mapping[str, str]) -> str:
    """The Requires-Dist ``value`` pinned to its package's version in ``versions`` (by
    canonical name), its extras and marker kept."""
    req = Requirement(value)
    extras = f"[{','.join(sorted(req.extras))}]" if req.extras else ""
    marker = f" ; {req.marker}" if req.marker else ""
    return f"{req.name}{extras}=={versions[canonicalize_name(req.name)]}{marker}"


def _vendored_digest(built: Built, version: str, versions: Mapping[str, str], where: Path) -> str:
    """The SHA-256 the vendored (rewritten) wheel of ``built`` would have."""
    for value, child in built.private:
        if child.key not in versions:
            raise LockError(
                f"{built.info.name} now asks for {value!r}, which the lock does not cover",
                hint="run without --locked to re-lock",
            )
    replace = pinned_requires(built, versions)
    staged = rewrite_wheel(built.wheel, where, version=version, replace_requires=replace)
    try:
        return sha256_file(staged)
    finally:
        staged.unlink()


def hold_to_the_lock(
    packages: Sequence[Package[Built]], previous: Lock, wheels: Wheels
) -> list[Package[Built]]:
    """With --locked the lock's SHA-256 is the truth: a wheel that does not match it (a
    damaged or poisoned cache entry) is built again from its commit; one that still does
    not match stops the run. Returns the packages with the wheels that match."""
    versions = pinned_versions(packages)
    held = list(packages)
    with tempfile.TemporaryDirectory(prefix="gitdeps-verify-") as scratch:
        for index, package in enumerate(packages):
            node, built = package.node, package.built
            url = node.requirement.url
            entry = previous.find(url.repo, url.ref, url.subdirectory)
            if entry is None or entry.commit != node.commit:
                continue
            digest = _vendored_digest(built, versions[package.key], versions, Path(scratch))
            if digest == entry.sha256:
                continue
            logger.warning(
                "%s %s: the cached wheel does not match the lock's sha256; building it again "
                "from commit %s",
                entry.name,
                entry.version,
                node.commit[:12],
            )
            built = wheels.rebuild(node)
            held[index] = dataclasses.replace(package, built=built)
            versions[package.key] = pinned_version(built.info.version, node.commit)
            digest = _vendored_digest(built, versions[package.key], versions, Path(scratch))
            if digest != entry.sha256:
                raise LockError(
                    f"{entry.name} {entry.version}: the wheel built from commit "
                    f"{node.commit[:12]} does not match the lock (sha256 {digest[:12]}, locked "
                    f"{entry.sha256[:12]}), also built again without the cache: its build is "
                    "not reproducible, or the lock was changed",
                    hint="find out which, then run without --locked to lock what builds now",
                )
    return held


def compare_with_lock(previous: Lock, built: Iterable[LockedPackage]) -> None:
    """Warn about a package whose wheel differs from the locked one at the same commit."""
    recorded = {p.key: p for p in previous.packages}
    for package in built:
        old = recorded.get(package.key)
        if old is not None and old.commit == package.commit and old.sha256 != package.sha256:
            logger.warning(
                "%s %s: the wheel built from commit %s differs from the locked one (sha256 %s, "
                "locked %s); its build backend is not reproducible",
                package.name,
                package.version,
                package.commit[:12],
                package.sha256[:12],
                old.sha256[:12],
            )


def stale_wheels(
    previous: Lock | None, current: Iterable[LockedPackage], wheelhouse: Path
) -> list[Path]:
    """Wheels the previous lock listed and this one does not: gitdeps' own, to remove.
    read_lock checked that each name is a wheel of its package, with no path in it."""
    if previous is None:
        return []
    keep = {p.wheel for p in current}
    return [wheelhouse / p.wheel for p in previous.packages if p.wheel not in keep]
