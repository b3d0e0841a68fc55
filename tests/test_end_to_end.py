"""The whole job as a user does it: vendor with a token, ship the folder, install with pip.

Three backends, a private dependency of a private package, a monorepo
subdirectory, a public dependency from an index. After vendoring the git server
is stopped and the folder moved; pip installs into a fresh venv and the code
imports. The canary token must appear nowhere.
"""

from __future__ import annotations

import shutil
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
