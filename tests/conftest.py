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
from collections.abc import Iterator
from pathlib import Path

import pytest
from packaging.tags import sys_tags

from tests.support import backends
from tests.support.app import Forge
from tests.support.gitserver import GitServer
from tests.support.index import serve_index
from tests.support.wheels import make_wheel

_CLEARED = re.compile(
    r"^(GITDEPS_.*|SYSTEM_ACCESSTOKEN|AZURE_.*|GH_TOKEN|GITHUB_TOKEN|CI_JOB_TOKEN|GITLAB_TOKEN"
    r"|IDENTITY_ENDPOINT|IDENTITY_HEADER|MSI_ENDPOINT|MSI_SECRET|IMDS_ENDPOINT"
    r"|ACTIONS_ID_TOKEN_REQUEST_.*|PIP_.*|UV_.*|VIRTUAL_ENV|PYTHONPATH"
    r"|GITHUB_ACTIONS|TF_BUILD)$"  # a CI that runs the suite: no annotations in its outputs
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
def _clean_environment(index_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    saved = dict(os.environ)
    # Caches and state of the session's own, for fixtures wider than a test too (each
    # test gets fresh gitdeps ones from _own_cache): never the user's home.
    home = tmp_path_factory.mktemp("home")
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
            "GITDEPS_CACHE_DIR": str(home / "gitdeps-cache"),
            "GITDEPS_STATE_DIR": str(home / "gitdeps-state"),
            "UV_CACHE_DIR": str(home / "uv-cache"),
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


@pytest.fixture
def forge(tmp_path: Path, canary: str) -> Iterator[Forge]:
    root = tmp_path / "srv"
    root.mkdir()
    with GitServer(root, token=canary) as server:
        yield Forge(server, root, tmp_path / "pushes")
