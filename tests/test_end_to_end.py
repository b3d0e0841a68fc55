"""The whole job as a user does it: vendor with a token, ship the folder, install with pip.

Three backends, a private dependency of a private package, a monorepo
subdirectory, a public dependency from an index. After vendoring the git server
is stopped and the folder moved; pip installs into a fresh venv and the code
imports. The canary token must appear nowhere.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.app import (
    Forge,
    files_containing,
    fresh_venv,
    pip_install,
    run_gitdeps,
    run_python,
)
from tests.support.projects import project

pytestmark = pytest.mark.slow


def _publish_packages(forge: Forge) -> None:
    base = forge.server.url
    forge.push(
        "org/acme-core.git", project("acme-core", "0.3.0", backend="flit_core"), tag="v0.3.0"
    )
    forge.push(
        "org/acme-utils.git",
        project(
            "acme-utils",
            "1.2.0",
            backend="hatchling",
            dependencies=[f"acme-core @ git+{base}/org/acme-core.git@v0.3.0", "publicdep>=1"],
        ),
        tag="v1.2.0",
        annotated=True,
    )
    monorepo = {
        f"packages/acme-ml/{path}": text
        for path, text in project(
            "acme-ml", "2.0.0", dependencies=[f"acme-utils @ git+{base}/org/acme-utils.git@v1.2.0"]
        ).items()
    }
    monorepo["README.md"] = "monorepo\n"
    forge.push("org/monorepo.git", monorepo)


def test_vendor_then_install_offline_from_a_moved_folder(
    forge: Forge, tmp_path: Path, canary: str
) -> None:
    _publish_packages(forge)
    base = forge.server.url
    app = tmp_path / "app"
    app.mkdir()
    (app / "requirements.txt").write_text(
        "# the app's requirements\n"
        f"acme-utils @ git+{base}/org/acme-utils.git@v1.2.0\n"
        f"git+{base}/org/monorepo.git@main#egg=acme-ml&subdirectory=packages/acme-ml\n"
        "publicdep>=1.0\n"
    )
    ran = run_gitdeps(
        "vendor", "-r", "requirements.txt", "-o", "wheelhouse",
        "--output-requirements", "wheelhouse/requirements.txt", "--lock", "gitdeps.lock",
        cwd=app,
        env={"GITDEPS_TOKEN_127_0_0_1": canary},
    )  # fmt: skip
    assert ran.returncode == 0, ran.output
    assert "vendored 3 packages" in ran.stdout
    wheels = sorted(p.name for p in (app / "wheelhouse").glob("*.whl"))
    assert [w.split("-")[0] for w in wheels] == ["acme_core", "acme_ml", "acme_utils"]

    # The build machine is gone: no git server, and the folder lives elsewhere.
    forge.server.stop()
    shipped = tmp_path / "elsewhere" / "wwwroot"
    shutil.move(str(app), shipped)
    python = fresh_venv(tmp_path / "target-venv")
    installed = pip_install(python, "-r", "wheelhouse/requirements.txt", cwd=shipped)
    assert installed.returncode == 0, installed.output
    out = run_python(
        python,
        "import acme_ml, acme_utils, acme_core, publicdep;"
        "print(acme_ml.VALUE, acme_utils.VALUE, acme_core.VALUE, publicdep.VALUE, sep='|')",
        cwd=tmp_path,
    )
    assert out.strip() == "acme-ml 2.0.0|acme-utils 1.2.0|acme-core 0.3.0|public 1.0"
    # pip never saw a git URL: the installed metadata names only pins.
    metadata = run_python(
        python,
        "import importlib.metadata as m; print(m.requires('acme-utils'))",
        cwd=tmp_path,
    )
    assert "git+" not in metadata and "acme-core==0.3.0+g" in metadata

    assert files_containing(shipped, canary) == []
    assert canary not in ran.output
    assert files_containing(tmp_path / "target-venv", canary) == []


def test_library_call_returns_wheels_and_writes_nothing_with_absolute_paths(
    forge: Forge, tmp_path: Path, canary: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import gitdeps

    forge.push("team/tool.git", project("team-tool", "0.1.0", backend="hatchling"), tag="0.1.0")
    requirements = tmp_path / "requirements.txt"
    requirements.write_text(f"team-tool @ {forge.url('team/tool.git', '0.1.0')}\n")
    monkeypatch.setenv("GITDEPS_TOKEN_127_0_0_1", canary)
    result = gitdeps.vendor(
        requirements=[requirements],
        wheelhouse=tmp_path / "out" / "wheels",
        output_requirements=tmp_path / "out" / "requirements.txt",
        lock=tmp_path / "gitdeps.lock",
        build_isolation=False,
    )
    (package,) = result.packages
    assert [w.name.split("-")[:2] for w in result.wheels] == [
        ["team_tool", f"0.1.0+g{package.commit[:12]}"]
    ]
    assert all(w.is_file() for w in result.wheels)
    text = (tmp_path / "out" / "requirements.txt").read_text()
    assert "--find-links ./wheels" in text
    for written in [tmp_path / "out" / "requirements.txt", tmp_path / "gitdeps.lock"]:
        assert str(tmp_path) not in written.read_text()


_WITHOUT_A_HOME = """\
import os, pwd, sys

def no_entry(uid):
    raise KeyError(uid)

pwd.getpwuid = no_entry  # a uid with no password entry: '~' expands to nothing
from gitdeps.__main__ import main
sys.exit(main(sys.argv[1:]))
"""


def test_a_build_step_with_no_home_vendors_without_a_cache_and_says_so(
    forge: Forge, tmp_path: Path, canary: str
) -> None:
    """Oryx, containers started with ``--user 1234``, some CI runners: no $HOME and no
    password entry. gitdeps runs there as with --no-cache, saying so once."""
    line = forge.push_acme()
    app = tmp_path / "app"
    app.mkdir()
    (app / "requirements.txt").write_text(line + "\n")
    env = {k: v for k, v in os.environ.items() if k not in ("HOME", "GITDEPS_CACHE_DIR")}
    env["GITDEPS_TOKEN_127_0_0_1"] = canary
    ran = subprocess.run(
        [sys.executable, "-c", _WITHOUT_A_HOME, "vendor", "-r", "requirements.txt", "-o", "wh"],
        cwd=app, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True,
        timeout=300, check=False,
    )  # fmt: skip
    output = ran.stdout + ran.stderr
    assert ran.returncode == 0, output
    assert output.count("no home directory is known") == 1, output
    assert "GITDEPS_CACHE_DIR" in output
    assert sorted(p.name.split("-")[0] for p in (app / "wh").glob("*.whl")) == [
        "acme_core",
        "acme_utils",
    ]
    assert not (app / "~").exists()  # no cache under a literal '~' in the working directory
    assert canary not in output
