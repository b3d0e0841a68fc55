"""The set-up tests repeat: a forge of repositories behind a git server, an app folder
vendored with the real CLI, a fresh virtual environment and real pip to install the
outputs, and a search of every output for a planted secret."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.cli import Ran, run_command
from tests.support.gitserver import GitServer, commit_files, make_repo

__all__ = [
    "App",
    "Forge",
    "files_containing",
    "fresh_venv",
    "pip_install",
    "run_gitdeps",
    "run_python",
    "vendor_in",
]


@dataclass
class Forge:
    """Bare repositories behind a :class:`GitServer`, and pushes to them."""

    server: GitServer
    root: Path
    work: Path

    def push(self, repo: str, files: Mapping[str, str | bytes], **kwargs: object) -> str:
        bare = self.root / repo
        if not bare.exists():
            make_repo(self.root, repo)
        work = self.work / repo.replace("/", "_")
        return commit_files(bare, files, work=work, **kwargs)  # type: ignore[arg-type]

    def push_acme(self) -> str:
        """acme-utils (setuptools), which needs acme-core (flit_core, private) and publicdep.

        Returns the requirement line for acme-utils at tag v1.
        """
        from tests.support.projects import project

        base = self.server.url
        self.push("o/core.git", project("acme-core", "0.3.0", backend="flit_core"), tag="v1")
        dependencies = [f"acme-core @ git+{base}/o/core.git@v1", "publicdep"]
        self.push(
            "o/utils.git", project("acme-utils", "1.2.0", dependencies=dependencies), tag="v1"
        )
        return f"acme-utils @ git+{base}/o/utils.git@v1"

    def url(self, repo: str, ref: str | None = None, subdirectory: str | None = None) -> str:
        text = f"git+{self.server.url}/{repo}"
        if ref:
            text += f"@{ref}"
        if subdirectory:
            text += f"#subdirectory={subdirectory}"
        return text


def run_gitdeps(
    *args: str | os.PathLike[str],
    cwd: Path,
    env: Mapping[str, str] | None = None,
    timeout: float = 300,
) -> Ran:
    """The CLI as a user runs it: a new process, no standard input."""
    return run_command([sys.executable, "-m", "gitdeps", *args], cwd=cwd, env=env, timeout=timeout)


@dataclass(frozen=True)
class App:
    """An app folder as a user keeps it, where ``gitdeps`` runs: ``requirements.txt`` in;
    the wheelhouse ``wh/``, the requirements ``out.txt`` and the lock ``gitdeps.lock`` out.
    ``env`` (a token, say) goes to every run."""

    root: Path
    env: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def make(cls, root: Path, requirements: str, env: Mapping[str, str] | None = None) -> App:
        app = cls(root, dict(env or {}))
        root.mkdir(parents=True, exist_ok=True)
        app.require(requirements)
        return app

    @property
    def requirements(self) -> Path:
        return self.root / "requirements.txt"

    @property
    def wheelhouse(self) -> Path:
        return self.root / "wh"

    @property
    def output(self) -> Path:
        return self.root / "out.txt"

    @property
    def lock(self) -> Path:
        return self.root / "gitdeps.lock"

    def require(self, requirements: str) -> None:
        """Write ``requirements`` as the app's requirements.txt."""
        self.requirements.write_text(requirements.rstrip("\n") + "\n")

    def run(self, *args: str, env: Mapping[str, str] | None = None) -> Ran:
        """Any gitdeps command, in the app folder."""
        return run_gitdeps(*args, cwd=self.root, env={**self.env, **(env or {})})

    def vendor(self, *extra: str, lock: bool = True, env: Mapping[str, str] | None = None) -> Ran:
        """``gitdeps vendor`` of requirements.txt into the app's outputs (``lock``: with
        ``--lock gitdeps.lock``), and ``extra`` options."""
        args = ["vendor", "-r", "requirements.txt", "-o", "wh", "--output-requirements", "out.txt"]
        return self.run(*args, *(["--lock", "gitdeps.lock"] if lock else []), *extra, env=env)

    def wheels(self) -> list[str]:
        """The names of the wheels in the wheelhouse, sorted."""
        return sorted(p.name for p in self.wheelhouse.glob("*.whl"))


def vendor_in(
    app: Path, requirements: str, *, env: Mapping[str, str] | None = None, lock: bool = False
) -> Ran:
    """``gitdeps vendor`` in ``app`` (made if new), whose requirements.txt is
    ``requirements``: wheels to ``app/wh``, requirements to ``app/out.txt`` (and the
    lock to ``app/gitdeps.lock`` with ``lock``)."""
    return App.make(app, requirements, env).vendor(lock=lock)


def fresh_venv(path: Path) -> Path:
    """A new, empty virtual environment; returns its python."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(path)], check=True)
    return path / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def pip_install(python: Path, *args: str, cwd: Path, env: Mapping[str, str] | None = None) -> Ran:
    """Real pip (this environment's) installing into ``python``'s environment."""
    pip = [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-cache-dir"]
    return run_command([*pip, *args], cwd=cwd, env=env)


def run_python(python: Path, code: str, cwd: Path) -> str:
    proc = subprocess.run(
        [str(python), "-c", code], cwd=cwd, capture_output=True, text=True, check=True
    )
    return proc.stdout


def files_containing(root: Path, needle: str) -> list[Path]:
    """Every file under ``root`` whose bytes (or name) hold ``needle``, zips opened."""
    import zipfile

    hits = []
    raw = needle.encode()
    for path in root.rglob("*"):
        if needle in str(path):
            hits.append(path)
            continue
        if not path.is_file() or path.is_symlink():
            continue
        data = path.read_bytes()
        if raw in data:
            hits.append(path)
        elif path.suffix == ".whl":
            with zipfile.ZipFile(path) as archive:
                if any(raw in archive.read(n) for n in archive.namelist()):
                    hits.append(path)
    return hits
