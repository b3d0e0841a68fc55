"""Fixtures: a token-guarded git server, a loopback package index, fresh venvs.

Nothing here reaches beyond 127.0.0.1. The machine's pip configuration and any
Azure/CI credentials in the environment are set aside for the whole session, so
tests behave the same on a laptop, in CI and on an Azure host.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest
from packaging.tags import sys_tags

from tests.support import backends
from tests.support.cli import Ran, run_command
from tests.support.gitserver import GitServer, commit_files, make_repo
from tests.support.index import serve_index
from tests.support.wheels import make_wheel

_CLEARED = re.compile(
    r"^(GITDEPS_.*|SYSTEM_ACCESSTOKEN|AZURE_.*|GH_TOKEN|GITHUB_TOKEN|CI_JOB_TOKEN|GITLAB_TOKEN"
    r"|IDENTITY_ENDPOINT|IDENTITY_HEADER|MSI_ENDPOINT|MSI_SECRET|IMDS_ENDPOINT"
    r"|ACTIONS_ID_TOKEN_REQUEST_.*|PIP_.*|UV_.*|VIRTUAL_ENV|PYTHONPATH)$"
)


@pytest.fixture(scope="session")
def index_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Backend wheels plus a public package, ``publicdep``, for the loopback index."""
    directory = tmp_path_factory.mktemp("index")
    source = backends.ensure(backends.wheels_dir())
    for wheel in source.glob("*.whl"):
        shutil.copy(wheel, directory)
    make_wheel(directory, "publicdep", "1.0", {"publicdep/__init__.py": "VALUE = 'public 1.0'\n"})
    # A "compiled" public package: one wheel for Windows, one for this machine.
    for tag in ("cp311-cp311-win_amd64", str(next(iter(sys_tags())))):
        make_wheel(
            directory, "compiled", "1.0", {"compiled/__init__.py": f"TAG = {tag!r}\n"}, tag=tag
        )
    return directory


@pytest.fixture(scope="session")
def index_url(index_dir: Path) -> Iterator[str]:
    with serve_index(index_dir) as url:
        yield url


@pytest.fixture(scope="session", autouse=True)
def _clean_environment(index_url: str) -> Iterator[None]:
    saved = dict(os.environ)
    for name in list(os.environ):
        if _CLEARED.match(name):
            del os.environ[name]
    os.environ.update(
        {
            "PIP_CONFIG_FILE": os.devnull,
            "PIP_INDEX_URL": index_url,
            "PIP_DISABLE_PIP_VERSION_CHECK": "1",
            "PIP_NO_INPUT": "1",
            "GIT_TERMINAL_PROMPT": "0",
            "GIT_CONFIG_GLOBAL": os.devnull,
            "GIT_CONFIG_NOSYSTEM": "1",
        }
    )
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


@pytest.fixture(scope="session", autouse=True)
def _ctrl_c_reaches_children() -> None:
    """A suite started in the background (``cmd &`` in a script, some CI runners) has
    SIGINT ignored, which every child inherits; a Ctrl-C test would then wait in vain.
    A handled signal is reset to the default in a child, so the children get Ctrl-C."""
    if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture(autouse=True)
def _own_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test gets an empty cache and state directory of its own (never the user's)."""
    cache = tmp_path / "gitdeps-cache"
    monkeypatch.setenv("GITDEPS_CACHE_DIR", str(cache))
    monkeypatch.setenv("GITDEPS_STATE_DIR", str(tmp_path / "gitdeps-state"))
    return cache


@pytest.fixture
def canary() -> str:
    """A token nothing may ever print, write or pass on."""
    return "gdcanary" + secrets.token_hex(16)


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


@pytest.fixture
def forge(tmp_path: Path, canary: str) -> Iterator[Forge]:
    root = tmp_path / "srv"
    root.mkdir()
    with GitServer(root, token=canary) as server:
        yield Forge(server, root, tmp_path / "pushes")


def run_gitdeps(
    *args: str | os.PathLike[str],
    cwd: Path,
    env: Mapping[str, str] | None = None,
    timeout: float = 300,
) -> Ran:
    """The CLI as a user runs it: a new process, no standard input."""
    return run_command([sys.executable, "-m", "gitdeps", *args], cwd=cwd, env=env, timeout=timeout)


def vendor_in(
    app: Path, requirements: str, *, env: Mapping[str, str] | None = None, lock: bool = False
) -> Ran:
    """``gitdeps vendor`` in ``app`` (made if new), whose requirements.txt is
    ``requirements``: wheels to ``app/wh``, requirements to ``app/out.txt`` (and the
    lock to ``app/gitdeps.lock`` with ``lock``)."""
    app.mkdir(parents=True, exist_ok=True)
    (app / "requirements.txt").write_text(requirements.rstrip("\n") + "\n")
    args = ["vendor", "-r", "requirements.txt", "-o", "wh", "--output-requirements", "out.txt"]
    return run_gitdeps(*args, *(["--lock", "gitdeps.lock"] if lock else []), cwd=app, env=env)


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
