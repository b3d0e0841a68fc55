"""The cache: built wheels by commit, and build environments by requirements.

A built wheel depends only on (credential-free repository URL, commit,
subdirectory, build settings), so it is kept under a hash of exactly that, never
of anything secret. Entries appear atomically (written aside, then renamed into
place); a per-entry file lock lets concurrent runs share one cache without
corrupting it or doing the same work twice; a hit is checked against the
wheel's recorded SHA-256 before use.

Layout under the root (``--cache-dir``, ``$GITDEPS_CACHE_DIR``, or the user
cache directory)::

    wheels-v1/ab/abcdef.../<wheel file>   the backend's wheel, as built
    wheels-v1/ab/abcdef.../sha256         its hash
    wheels-v1/ab/abcdef.../tags.json      the tags at the commit when it was built
    envs-v1/<key>/                        an isolated build environment
    locks/<key>.lock                      per-entry locks
    in-use.lock                           shared by every run; cache clean takes it alone
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import logging
import os
import shutil
import sys
import sysconfig
import tempfile
from collections.abc import Iterator
from pathlib import Path

from .._build.wheel import sha256_file
from .._errors import InUseError
from .._locks import exclusive, exclusive_within, shared

__all__ = ["Cache", "CacheStats"]

logger = logging.getLogger("gitdeps")

_WHEELS = "wheels-v1"
_IN_USE = "in-use.lock"
_ENVS = "envs-v1"


@dataclasses.dataclass(frozen=True)
class CacheStats:
    root: Path
    wheels: int
    environments: int
    bytes: int


def _interpreter() -> str:
    implementation = sys.implementation.name
    return (
        f"{implementation}-{sys.version_info[0]}.{sys.version_info[1]}-{sysconfig.get_platform()}"
    )


def _read_tags(entry: Path) -> tuple[str, ...] | None:
    """The tags recorded with an entry; None for entries made before they were."""
    try:
        names = json.loads((entry / "tags.json").read_text())
    except (FileNotFoundError, ValueError):
        return None
    return tuple(str(n) for n in names) if isinstance(names, list) else None


class Cache:
    """A cache at ``root``."""

    def __init__(self, root: Path) -> None:
        self.root = root

    # -- keys -----------------------------------------------------------------
    @staticmethod
    def wheel_key(
        url: str,
        commit: str,
        subdirectory: str,
        *,
        isolated: bool,
        config_settings: tuple[tuple[str, str], ...] = (),
    ) -> str:
        """The key of a built wheel. ``url`` must be credential-free."""
        material: dict[str, object] = {
            "url": url,
            "commit": commit,
            "subdirectory": subdirectory,
            "isolated": isolated,
            "interpreter": _interpreter(),
        }
        if config_settings:  # absent otherwise, so existing entries keep their keys
            material["config_settings"] = [list(pair) for pair in config_settings]
        return hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()

    @staticmethod
    def environment_key(requirements: list[str]) -> str:
        material = {"requirements": sorted(requirements), "interpreter": _interpreter()}
        digest = hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()
        return digest[:24]

    # -- locking --------------------------------------------------------------
    @contextlib.contextmanager
    def locked(self, key: str, *, what: str) -> Iterator[None]:
        """Hold the entry ``key`` (``what`` it holds, for messages) against other runs
        sharing this cache; a run that holds it too long ends the wait with an error."""
        locks = self.root / "locks"
        locks.mkdir(parents=True, exist_ok=True)
        with exclusive(locks / f"{key}.lock", what=f"{what} in the cache"):
            yield

    # -- wheels ---------------------------------------------------------------
    def _wheel_dir(self, key: str) -> Path:
        return self.root / _WHEELS / key[:2] / key

    def get_wheel(self, key: str, *, tags: tuple[str, ...] | None = None) -> Path | None:
        """The cached wheel for ``key`` if present and intact (call under :meth:`locked`).

        ``tags``, when known, are the tags at the commit now: a wheel built when
        others pointed there may carry another version (setuptools_scm and its
        kin read them), so it is not used.
        """
        entry = self._wheel_dir(key)
        try:
            recorded = (entry / "sha256").read_text().strip()
            (wheel,) = entry.glob("*.whl")
        except (FileNotFoundError, ValueError):
            return None
        built_with = _read_tags(entry)
        if tags is not None and built_with is not None and built_with != tags:
            logger.info(
                "%s was built when the tags at its commit were %s, now %s: building again",
                wheel.name,
                ", ".join(built_with) or "none",
                ", ".join(tags) or "none",
            )
            return None
        if sha256_file(wheel) != recorded:
            logger.warning(
                "cache entry %s holds a wheel whose hash does not match what was stored; "
                "discarding it and building again",
                wheel.name,
            )
            shutil.rmtree(entry, ignore_errors=True)
            return None
        return wheel

    def put_wheel(self, key: str, wheel: Path, *, tags: tuple[str, ...] = ()) -> Path:
        """Store ``wheel`` under ``key``; it appears whole or not at all. ``tags``: those at
        the commit when it was built."""
        entry = self._wheel_dir(key)
        entry.parent.mkdir(parents=True, exist_ok=True)
        temp = Path(tempfile.mkdtemp(prefix=".incoming-", dir=entry.parent))
        try:
            shutil.copy2(wheel, temp / wheel.name)
            (temp / "sha256").write_text(sha256_file(wheel) + "\n")
            (temp / "tags.json").write_text(json.dumps(list(tags)) + "\n")
            if entry.exists():  # a stale, broken entry
                shutil.rmtree(entry)
            os.replace(temp, entry)
        except BaseException:
            shutil.rmtree(temp, ignore_errors=True)
            raise
        return entry / wheel.name

    # -- build environments ---------------------------------------------------
    def environments(self) -> Path:
        return self.root / _ENVS

    # -- maintenance ----------------------------------------------------------
    def stats(self) -> CacheStats:
        wheels = list((self.root / _WHEELS).glob("*/*/*.whl"))
        envs = [p for p in (self.root / _ENVS).glob("*") if (p / ".gitdeps-complete").exists()]
        size = (
            sum(p.stat().st_size for p in self.root.rglob("*") if p.is_file())
            if self.root.exists()
            else 0
        )
        return CacheStats(root=self.root, wheels=len(wheels), environments=len(envs), bytes=size)

    @contextlib.contextmanager
    def in_use(self) -> Iterator[None]:
        """Held by every run that uses the cache: ``clean`` waits for them."""
        self.root.mkdir(parents=True, exist_ok=True)
        with shared(self.root / _IN_USE, what=f"the cache {self.root}"):
            yield

    def clean(self, *, wait: float = 30.0) -> CacheStats:
        """Remove every entry; return what was there. Waits up to ``wait`` seconds for
        runs using the cache to end (it never pulls a wheel or an environment from
        under one), then gives up with an error."""
        if not self.root.exists():
            return self.stats()
        with exclusive_within(self.root / _IN_USE, wait) as held:
            if not held:
                raise InUseError(
                    f"the cache {self.root} is in use by a gitdeps run; cleaning it now would "
                    "pull files from under that run",
                    hint=f"try again when it has finished (waited {wait:.0f} s; "
                    "cache clean --wait sets how long)",
                )
            before = self.stats()
            for name in (_WHEELS, _ENVS, "locks"):
                shutil.rmtree(self.root / name, ignore_errors=True)
            return before
