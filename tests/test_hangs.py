"""Nothing hangs: a build script named build.py, re-entrant calls, backends that
leave children behind or never finish. Every test here is bounded in time."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

import gitdeps
from tests.support.app import Forge, vendor_in

pytestmark = pytest.mark.slow

_BUILD_SCRIPT = """\
import gitdeps

result = gitdeps.vendor(
    requirements=["requirements.txt"],
    wheelhouse="wh",
    output_requirements="wh/requirements.txt",
)
print("VENDORED", [p.name for p in result.packages])
"""


def test_a_build_script_named_build_py_vendors(forge: Forge, tmp_path: Path, canary: str) -> None:
    """python build.py puts the script's folder first on sys.path; gitdeps' own
    'import build' used to import the script, which called vendor() again inside the
    import and waited for ever on gitdeps' locks."""
    from tests.support.projects import project

    forge.push("o/lib.git", project("lib", "1.0"), tag="v1")
    app = tmp_path / "app"
    app.mkdir()
    (app / "requirements.txt").write_text(f"lib @ {forge.url('o/lib.git', 'v1')}\n")
    (app / "build.py").write_text(_BUILD_SCRIPT)
    proc = subprocess.run(
        [sys.executable, "build.py"],
        cwd=app,
        env={**os.environ, "GITDEPS_TOKEN_127_0_0_1": canary},
        capture_output=True,
        text=True,
        timeout=180,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "VENDORED ['lib']" in proc.stdout


def test_a_vendor_inside_a_vendor_is_an_error_not_a_deadlock(tmp_path: Path) -> None:
    class Reentrant(os.PathLike[str]):
        def __fspath__(self) -> str:
            gitdeps.vendor([tmp_path / "r.txt"], tmp_path / "wh", tmp_path / "out.txt")
            return str(tmp_path / "r.txt")

    with pytest.raises(gitdeps.GitDepsError, match="called while a vendor\\(\\) is running"):
        gitdeps.vendor([Reentrant()], tmp_path / "wh", tmp_path / "out.txt")


_BACKEND = """\
import os, subprocess, sys, time
from setuptools import build_meta as _setuptools
from setuptools.build_meta import *  # noqa: F403


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    mode = open("mode.txt").read().strip()
    if mode == "daemon":
        # a child that keeps our stdout open and outlives the build
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
        with open(os.environ["GITDEPS_TEST_PIDFILE"], "w") as f:
            f.write(str(child.pid))
    elif mode == "slow":
        print("thinking ...", flush=True)
        time.sleep(600)
    return _setuptools.build_wheel(wheel_directory, config_settings, metadata_directory)
"""


def _push_backend(forge: Forge, mode: str) -> str:
    forge.push(
        f"o/{mode}.git",
        {
            "pyproject.toml": (
                '[build-system]\nrequires = ["setuptools>=70"]\nbuild-backend = "backend"\n'
                'backend-path = ["_build"]\n[project]\nname = "pkg"\nversion = "1.0"\n'
                "[tool.setuptools]\npackages = []\n"
            ),
            "_build/backend.py": _BACKEND,
            "mode.txt": mode,
        },
    )
    return f"pkg @ {forge.url(f'o/{mode}.git')}"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie still answers; it is gone for our purposes
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().split()[2] != "Z"


def test_a_backend_that_leaves_a_child_holding_stdout_does_not_hold_the_run(
    forge: Forge, tmp_path: Path, canary: str
) -> None:
    pidfile = tmp_path / "child.pid"
    started = time.monotonic()
    ran = vendor_in(
        tmp_path / "app",
        _push_backend(forge, "daemon"),
        env={"GITDEPS_TOKEN_127_0_0_1": canary, "GITDEPS_TEST_PIDFILE": str(pidfile)},
    )
    assert ran.returncode == 0, ran.output
    assert time.monotonic() - started < 120
    deadline = time.monotonic() + 10
    while _alive(int(pidfile.read_text())) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(int(pidfile.read_text())), "the left-over child was not stopped"


def test_a_backend_that_never_finishes_is_stopped_at_the_timeout(
    forge: Forge, tmp_path: Path, canary: str
) -> None:
    started = time.monotonic()
    ran = vendor_in(
        tmp_path / "app",
        _push_backend(forge, "slow"),
        env={"GITDEPS_TOKEN_127_0_0_1": canary, "GITDEPS_BUILD_TIMEOUT": "3"},
    )
    assert ran.returncode == 6, ran.output
    assert time.monotonic() - started < 90
    assert "the build backend was stopped after 3 s" in ran.stderr
    assert "GITDEPS_BUILD_TIMEOUT" in ran.stderr and "(-v shows more)" in ran.stderr
    assert not (tmp_path / "app" / "wh").exists()


@pytest.mark.parametrize("value", ["soon", "0", "-5", "inf", "nan"])
def test_an_invalid_build_timeout_is_refused(tmp_path: Path, value: str) -> None:
    ran = vendor_in(tmp_path / "app", "publicdep", env={"GITDEPS_BUILD_TIMEOUT": value})
    assert ran.returncode == 1
    assert f"GITDEPS_BUILD_TIMEOUT must be a number of seconds above 0, not '{value}'" in ran.stderr
