"""The public closure, for targets with no index: resolved by pip, not by us.

``pip download`` resolves the private pins together with the public lines of
the user's requirements (their index settings apply), for this machine or for
the target named by ``--platform``/``--python-version``/``--implementation``/
``--abi``, and downloads wheels only, so the target installs with
``--no-index`` and builds nothing.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from packaging.utils import parse_wheel_filename

from .._build.environments import options_in_a_file
from .._errors import BuildError, GitDepsError

if TYPE_CHECKING:
    from packaging.tags import Tag
from .._subprocess import ProcessFailed, clean_environ, run

__all__ = ["Target", "download_closure", "resolve_closure"]


@dataclasses.dataclass(frozen=True)
class Target:
    """Where the wheelhouse will be installed; all empty means this machine."""

    platforms: tuple[str, ...] = ()
    python_version: str | None = None
    implementation: str | None = None
    abis: tuple[str, ...] = ()

    @property
    def foreign(self) -> bool:
        return bool(self.platforms or self.python_version or self.implementation or self.abis)

    def describe(self) -> str:
        parts = [*self.platforms]
        if self.implementation or self.python_version:
            parts.append(f"{self.implementation or 'py'}{self.python_version or ''}")
        parts += self.abis
        return ", ".join(parts) or "this machine"

    def pip_options(self) -> list[str]:
        options: list[str] = []
        for platform in self.platforms:
            options += ["--platform", platform]
        if self.python_version:
            options += ["--python-version", self.python_version]
        if self.implementation:
            options += ["--implementation", self.implementation]
        for abi in self.abis:
            options += ["--abi", abi]
        return options

    def supported(self) -> set[Tag]:
        from packaging import tags

        if not self.foreign:
            return set(tags.sys_tags())
        version = self.python_version or f"{sys.version_info[0]}.{sys.version_info[1]}"
        major, minor = (int(part) for part in version.split(".")[:2])
        platforms = list(self.platforms) or None
        interpreter = f"{self.implementation or 'cp'}{major}{minor}"
        supported = set(
            tags.compatible_tags((major, minor), interpreter=interpreter, platforms=platforms)
        )
        if (self.implementation or "cp") == "cp":
            supported |= set(
                tags.cpython_tags((major, minor), abis=list(self.abis) or None, platforms=platforms)
            )
        return supported


def check_installable(wheel: Path, target: Target, what: str) -> None:
    """Refuse a private wheel that cannot be installed on ``target``."""
    if not target.foreign:
        return
    _name, _version, _build, wheel_tags = parse_wheel_filename(wheel.name)
    if wheel_tags & target.supported():
        return
    shown = ", ".join(sorted(str(t) for t in wheel_tags))
    raise BuildError(
        f"{what} builds a platform-specific wheel ({shown}) that will not install on the target "
        f"({target.describe()})",
        hint="build it on a machine like the target, or drop --platform",
    )


def _need_pip(option: str) -> None:
    if importlib.util.find_spec("pip") is None:
        raise GitDepsError(
            f"{option} resolves the public dependencies with pip, and pip is not "
            "installed beside gitdeps",
            hint="install it (python -m ensurepip) and run again",
        )


def download_closure(
    requirements: Path,
    dest: Path,
    *,
    target: Target,
    index_options: Sequence[str] = (),
) -> list[Path]:
    """Download every distribution ``requirements`` needs into ``dest``; return the files."""
    _need_pip("--include-public")
    try:
        with options_in_a_file(index_options) as options:
            command = [
                sys.executable, "-m", "pip", "download", "--disable-pip-version-check",
                "--no-input", "--only-binary=:all:", "--dest", str(dest), *options,
                *target.pip_options(), "-r", str(requirements),
            ]  # fmt: skip
            run(command, env=clean_environ(installer=True))
    except ProcessFailed as exc:
        raise GitDepsError(
            f"pip could not resolve the public dependencies for {target.describe()} (wheels "
            "only, so the target builds nothing); its output ends with:\n" + exc.tail()
        ) from None
    return sorted(p for p in dest.iterdir() if p.suffix == ".whl")


def resolve_closure(requirements: Path, *, target: Target) -> dict[str, Any]:
    """What pip would install from ``requirements`` on ``target``, as its installation
    report (``pip install --dry-run --report``): each file's URL and sha256, nothing
    installed."""
    _need_pip("--output-pylock")
    only_binary = ["--only-binary=:all:"] if target.foreign else []
    with tempfile.TemporaryDirectory(prefix="gitdeps-report-") as temp:
        report = Path(temp) / "report.json"
        command = [
            sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed",
            "--disable-pip-version-check", "--no-input", "--quiet", "--report", str(report),
            *only_binary, *target.pip_options(), "-r", str(requirements),
        ]  # fmt: skip
        try:
            run(command, env=clean_environ(installer=True))
        except ProcessFailed as exc:
            raise GitDepsError(
                f"pip could not resolve the public dependencies for {target.describe()} "
                "for --output-pylock; its output ends with:\n" + exc.tail()
            ) from None
        data: dict[str, Any] = json.loads(report.read_text(encoding="utf-8"))
        return data
