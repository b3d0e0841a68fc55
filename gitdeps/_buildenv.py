"""Isolated build environments, created once per distinct set of build requirements.

pip and uv create a fresh environment for every package; most of a cold build is
spent there. Packages whose ``build-system.requires`` agree share one here, for
the length of a run. Installs honour the user's index options and never see a
git credential.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import shutil
import subprocess
import sys
import sysconfig
import threading
import venv
from collections.abc import Iterable, Sequence
from concurrent.futures import Future
from pathlib import Path

from ._subprocess import clean_environ, run

__all__ = ["BuildEnvironments", "find_uv"]

logger = logging.getLogger("gitdeps")


def find_uv() -> str | None:
    """The uv executable, from the ``uv`` package or PATH, if there is one."""
    try:
        import uv  # type: ignore[import-not-found,unused-ignore]

        path: str = uv.find_uv_bin()
        return path
    except (ImportError, FileNotFoundError):
        return shutil.which(os.environ.get("UV") or "uv")


def _outer_pip_usable() -> bool:
    """pip >= 22.3 beside us can install into another interpreter (``--python``)."""
    if importlib.util.find_spec("pip") is None:
        return False
    try:
        from importlib.metadata import version

        major, minor = (int(part) for part in version("pip").split(".")[:2])
    except (ImportError, ValueError):
        return False
    return (major, minor) >= (22, 3)


def _env_python(path: Path) -> Path:
    scripts = "Scripts" if os.name == "nt" else "bin"
    exe = "python.exe" if os.name == "nt" else "python"
    return path / scripts / exe


class BuildEnvironments:
    """A pool of build environments under ``root``, keyed by their requirements."""

    def __init__(
        self,
        root: Path,
        *,
        index_options: Sequence[str] = (),
        installer: str = "pip",
    ) -> None:
        self._root = root
        self._index_options = list(index_options)
        self._uv = find_uv() if installer == "uv" else None
        if installer == "uv" and self._uv is None:
            logger.warning("uv was asked for as installer but not found; using pip")
        self._outer_pip = _outer_pip_usable()
        self._lock = threading.Lock()
        self._envs: dict[str, Future[Path]] = {}
        # Before threads start: sysconfig's lazy init is not thread-safe on 3.11.
        sysconfig.get_config_vars()

    def python_for(self, requirements: Iterable[str]) -> Path:
        """The interpreter of an environment holding ``requirements`` (created once)."""
        wanted = sorted({r.strip() for r in requirements if r.strip()})
        key = hashlib.sha256("\n".join(wanted).encode()).hexdigest()[:16]
        with self._lock:
            future = self._envs.get(key)
            owner = future is None
            if future is None:
                future = self._envs[key] = Future()
        if owner:
            try:
                future.set_result(self._create(self._root / key, wanted))
            except BaseException as exc:
                future.set_exception(exc)
        return future.result()

    def _create(self, path: Path, requirements: list[str]) -> Path:
        logger.debug("creating build environment for %s", ", ".join(requirements) or "nothing")
        with_pip = self._uv is None and not self._outer_pip
        symlinks = os.name != "nt"
        try:
            venv.EnvBuilder(symlinks=symlinks, with_pip=with_pip).create(str(path))
        except subprocess.CalledProcessError as exc:
            raise RuntimeError(f"could not create a virtual environment: {exc}") from None
        python = _env_python(path)
        if not requirements:
            return python
        requirements_file = path / "gitdeps-build-requirements.txt"
        requirements_file.write_text("\n".join(requirements) + "\n", encoding="utf-8")
        env = clean_environ(installer=True)
        env.pop("PYTHONPATH", None)
        if self._uv is not None:
            env["VIRTUAL_ENV"] = str(path)
            command = [self._uv, "pip", "install", "--python", str(python), "--quiet"]
        else:
            prefix = [sys.executable, "-m", "pip", "--python", str(python)]
            command = [*(prefix if self._outer_pip else [str(python), "-Im", "pip"]), "install"]
            command += ["--no-warn-script-location", "--no-compile", "--disable-pip-version-check"]
        command += [*self._index_options, "-r", str(requirements_file)]
        run(command, env=env)
        return python
