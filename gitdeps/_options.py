"""``VendorOptions``: how to vendor, in one frozen record.

Everything ``vendor()`` is told besides its inputs and outputs. The CLI builds one
from its arguments, ``prebuild()`` from the app's, a build script with keywords (or
directly); the pipeline reads only this record.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence
from pathlib import Path

from ._errors import GitDepsError

__all__ = ["INSTALLERS", "VendorOptions"]

INSTALLERS = ("auto", "uv", "pip")


@dataclasses.dataclass(frozen=True, kw_only=True)
class VendorOptions:
    """How to vendor. Invalid combinations are refused when the record is made."""

    locked: bool = False  # exactly the lock's commits; the lock is never written
    upgrade: bool = False  # every ref resolved again
    upgrade_packages: tuple[str, ...] = ()  # these resolved again, the rest as locked
    include_public: bool = False  # the public closure too, pinned with hashes
    platform: tuple[str, ...] = ()  # the target's, when it is not this machine
    python_version: str | None = None
    implementation: str | None = None
    abi: tuple[str, ...] = ()
    jobs: int | None = None  # builds at once (None: the CPU count)
    build_isolation: bool = True
    installer: str = "auto"  # what fills isolated build environments: auto, uv, pip
    cache_dir: Path | None = None  # None: $GITDEPS_CACHE_DIR, else the user cache directory
    use_cache: bool = True
    config: Path | None = None  # gitdeps.toml (None: found in config_root)
    config_root: Path | None = None  # where gitdeps.toml is looked for (None: the cwd)
    extras: tuple[str, ...] = ()  # pyproject.toml inputs: optional dependencies
    groups: tuple[str, ...] = ()  # and dependency groups
    remote_cache: str | None = None  # an Azure Blob container URL ("none": off)
    remote_cache_read_only: bool | None = None

    def __post_init__(self) -> None:
        for name in ("upgrade_packages", "platform", "abi", "extras", "groups"):
            value = getattr(self, name)
            if isinstance(value, str) or not isinstance(value, Sequence):
                raise GitDepsError(f"{name} takes a list of strings, not {value!r}")
            object.__setattr__(self, name, tuple(value))
        for name in ("cache_dir", "config", "config_root"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, Path):
                object.__setattr__(self, name, Path(os.fspath(value)))
        if self.locked and (self.upgrade or self.upgrade_packages):
            raise GitDepsError("--locked and --upgrade contradict each other", hint="choose one")
        if self.jobs is not None and self.jobs < 1:
            raise GitDepsError(f"--jobs {self.jobs}: give a number of at least 1")
        if self.installer not in INSTALLERS:
            raise GitDepsError(
                f"installer {self.installer!r} is not one of {', '.join(INSTALLERS)}"
            )
