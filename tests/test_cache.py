"""The cache: warm runs fetch nothing, entries are verified, concurrent runs share it safely."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.app import App, Forge, files_containing
from tests.support.projects import project

pytestmark = pytest.mark.slow


def _app(root: Path, canary: str, requirements: str) -> App:
    return App.make(root, requirements, {"GITDEPS_TOKEN_127_0_0_1": canary})


def _digests(directory: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in directory.glob("*.whl")}


def test_locked_warm_run_needs_no_git_host(
    forge: Forge, tmp_path: Path, canary: str, _own_cache: Path
) -> None:
    base = forge.server.url
    forge.push("o/leaf.git", project("leaf", "1.0", backend="flit_core"), tag="v1")
    forge.push(
        "o/top.git",
        project(
            "top", "1.0", backend="hatchling", dependencies=[f"leaf @ git+{base}/o/leaf.git@v1"]
        ),
        tag="v1",
    )
    app = _app(tmp_path / "app", canary, f"top @ git+{base}/o/top.git@v1")
    cold = app.vendor()
    assert cold.returncode == 0, cold.output
    assert cold.stderr.count(": built ") == 2
    first = _digests(app.wheelhouse)

    forge.server.stop()
    shutil.rmtree(app.wheelhouse)
    no_token = {"GITDEPS_TOKEN_127_0_0_1": ""}  # no token, no server: nothing may need either
    warm = app.vendor("--locked", env=no_token)
    assert warm.returncode == 0, warm.output
    assert "fetched" not in warm.stderr and ": built " not in warm.stderr
    assert warm.stderr.count(": cached ") == 2
    # and it loads nothing for git, builds or sign-ins (start-up time): -X importtime
    traced = app.vendor("--locked", env={**no_token, "PYTHONPROFILEIMPORTTIME": "1"})
    imported = {
        line.rpartition("|")[2].strip().split(".")[0]
        for line in traced.stderr.splitlines()
        if line.startswith("import time:")
    }
    assert "gitdeps" in imported and "fcntl" in imported  # the locks: a system call each
    unneeded = {"dulwich", "urllib3", "msal", "azure", "build", "pyproject_hooks", "venv", "uv"}
    unneeded |= {"filelock", "sqlite3"}  # ~30 ms a run for a lock the kernel gives
    unneeded |= {"rich"}  # the live display: only in a terminal
    assert imported & unneeded == set()
    assert _digests(app.wheelhouse) == first
    assert files_containing(_own_cache, canary) == []


def test_a_corrupted_entry_is_detected_and_rebuilt(
    forge: Forge, tmp_path: Path, canary: str, _own_cache: Path
) -> None:
    forge.push("o/one.git", project("one", "1.0"), tag="v1")
    app = _app(tmp_path / "app", canary, f"one @ {forge.url('o/one.git', 'v1')}")
    assert app.vendor("--no-build-isolation").returncode == 0
    (cached,) = _own_cache.glob("wheels-v1/*/*/*.whl")
    cached.write_bytes(cached.read_bytes() + b"tampered")
    ran = app.vendor("--no-build-isolation")
    assert ran.returncode == 0, ran.output
    assert "hash does not match" in ran.stderr and "one: built " in ran.stderr


def test_concurrent_runs_share_one_cache_and_build_once(
    forge: Forge, tmp_path: Path, canary: str
) -> None:
    slow = (
        "import time, setuptools\n"
        "time.sleep(1.5)\n"
        "setuptools.setup(name='slow', version='1.0', py_modules=['slow'])\n"
    )
    forge.push("o/slow.git", {"setup.py": slow, "slow.py": "X = 1\n"}, tag="v1")
    procs = []
    for index in range(2):
        app = _app(tmp_path / f"app{index}", canary, f"slow @ {forge.url('o/slow.git', 'v1')}")
        procs.append(
            subprocess.Popen(
                [sys.executable, "-m", "gitdeps", "vendor", "-r", "requirements.txt", "-o", "wh",
                 "--no-build-isolation"],
                cwd=app.root,
                env={**os.environ, "GITDEPS_TOKEN_127_0_0_1": canary},
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        )  # fmt: skip
    outputs = [proc.communicate(timeout=120) for proc in procs]
    assert [proc.returncode for proc in procs] == [0, 0], outputs
    stderr = "".join(err for _out, err in outputs)
    assert stderr.count("slow: built ") == 1
    assert stderr.count("slow: cached ") == 1
    # the second run said what it waited for (the build takes 1.5 s, the notice comes at 1 s)
    assert stderr.count("waiting for another gitdeps run to finish with git+") == 1
    assert "/o/slow.git@v1 at " in stderr and " in the cache" in stderr
    assert _digests(tmp_path / "app0" / "wh") == _digests(tmp_path / "app1" / "wh")


def test_build_environments_are_reused_across_runs(
    forge: Forge, tmp_path: Path, canary: str
) -> None:
    forge.push("o/a.git", project("pkg-a", "1.0", backend="flit_core"))
    forge.push("o/b.git", project("pkg-b", "1.0", backend="flit_core"))
    for name in ("a", "b"):
        app = _app(tmp_path / name, canary, f"pkg-{name} @ {forge.url(f'o/{name}.git')}")
        ran = app.run("-v", "vendor", "-r", "requirements.txt", "-o", "wh")
        assert ran.returncode == 0, ran.output
        if name == "a":
            assert "creating build environment" in ran.stderr
        else:
            assert "creating build environment" not in ran.stderr
            assert "reusing build environment for flit_core" in ran.stderr


def test_cache_info_clean_and_no_cache(
    forge: Forge, tmp_path: Path, canary: str, _own_cache: Path
) -> None:
    forge.push("o/one.git", project("one", "1.0"))
    app = _app(tmp_path / "app", canary, f"one @ {forge.url('o/one.git')}")
    assert app.vendor("--no-build-isolation", "--no-cache").returncode == 0
    assert not _own_cache.exists()
    assert app.vendor("--no-build-isolation").returncode == 0
    info = app.run("cache", "info")
    assert info.returncode == 0 and f"{_own_cache} holds 1 wheels" in info.stdout
    other = tmp_path / "elsewhere"
    info = app.run("cache", "info", "--cache-dir", str(other))
    assert f"{other} holds 0 wheels" in info.stdout
    clean = app.run("cache", "clean")
    assert clean.returncode == 0 and "removed 1 wheels" in clean.stdout
    assert not list(_own_cache.glob("wheels-v1/*/*/*.whl"))
