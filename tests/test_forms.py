"""Every git requirement form pip accepts, vendored in one run and installed with pip."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.support.app import Forge, fresh_venv, pip_install, run_gitdeps, run_python
from tests.support.gitserver import commit_files, git, make_repo
from tests.support.projects import project

pytestmark = pytest.mark.slow


def test_all_forms_vendor_and_install(forge: Forge, tmp_path: Path, canary: str) -> None:
    old = forge.push("o/by-full-sha.git", project("by-full-sha", "1.0", value="old"))
    forge.push("o/by-full-sha.git", project("by-full-sha", "1.0", value="new"))
    short = forge.push("o/by-short-sha.git", project("by-short-sha", "1.0"))[:10]
    forge.push("o/by-head.git", project("by-head", "1.0"), branch="trunk")
    git(forge.root / "o/by-head.git", "symbolic-ref", "HEAD", "refs/heads/trunk")
    forge.push("o/editable.git", project("editable-one", "1.0", backend="flit_core"))
    local_root = tmp_path / "local-git"
    bare = make_repo(local_root, "by-file.git")
    commit_files(
        bare, project("by-file", "1.0", backend="hatchling"), work=tmp_path / "lw", tag="v1"
    )

    app = tmp_path / "app"
    (app / "reqs").mkdir(parents=True)
    (app / "reqs" / "constraints.txt").write_text("publicdep<2\n")
    (app / "reqs" / "base.txt").write_text(
        "-c constraints.txt\n"
        f"by-full-sha @ {forge.url('o/by-full-sha.git', old)}\n"
        f"{forge.url('o/by-short-sha.git', short)}#egg=by-short-sha\n"
    )
    (app / "requirements.txt").write_text(
        "-r reqs/base.txt\n"
        f"by-head @ {forge.url('o/by-head.git')}\n"
        f"-e {forge.url('o/editable.git')}#egg=editable-one\n"
        f"by-file @ git+file://{bare}@v1\n"
        "publicdep\n"
    )
    ran = run_gitdeps(
        "vendor", "-r", "requirements.txt", "-o", "dist/wheels",
        "--output-requirements", "dist/requirements.txt", "--no-build-isolation",
        cwd=app, env={"GITDEPS_TOKEN_127_0_0_1": canary},
    )  # fmt: skip
    assert ran.returncode == 0, ran.output
    assert "editable-one: -e is vendored as a normal wheel" in ran.stderr
    text = (app / "dist" / "requirements.txt").read_text()
    assert "--find-links ./wheels" in text
    assert "-c ../reqs/constraints.txt" in text
    assert "(was -e, vendored as a normal wheel)" in text
    assert "git+file" in text  # as a comment: the source of the pin
    assert not any(
        line.split("#")[0].strip().startswith(("git+", "-e")) for line in text.splitlines()
    )

    forge.server.stop()
    shutil.rmtree(local_root)
    shipped = tmp_path / "shipped"
    shutil.move(str(app), shipped)
    python = fresh_venv(tmp_path / "venv")
    installed = pip_install(python, "-r", "dist/requirements.txt", cwd=shipped)
    assert installed.returncode == 0, installed.output
    out = run_python(
        python,
        "import by_full_sha, by_short_sha, by_head, editable_one, by_file, publicdep;"
        "print(by_full_sha.VALUE)",
        cwd=tmp_path,
    )
    assert out.strip() == "old"


def test_hash_mode_pins_with_hashes_including_private_dependencies(
    forge: Forge, tmp_path: Path, canary: str
) -> None:
    base = forge.server.url
    forge.push("o/leaf.git", project("leaf", "1.0"))
    forge.push("o/top.git", project("top", "1.0", dependencies=[f"leaf @ git+{base}/o/leaf.git"]))
    app = tmp_path / "app"
    app.mkdir()
    (app / "requirements.txt").write_text(f"--require-hashes\ntop @ {forge.url('o/top.git')}\n")
    ran = run_gitdeps(
        "vendor", "-r", "requirements.txt", "-o", "wh", "--no-build-isolation",
        cwd=app, env={"GITDEPS_TOKEN_127_0_0_1": canary},
    )  # fmt: skip
    assert ran.returncode == 0, ran.output
    text = (app / "wh" / "requirements.txt").read_text()
    assert text.count("--hash=sha256:") == 2
    python = fresh_venv(tmp_path / "venv")
    installed = pip_install(python, "-r", "wh/requirements.txt", cwd=app)
    assert installed.returncode == 0, installed.output
    assert run_python(python, "import top, leaf; print('ok')", cwd=tmp_path).strip() == "ok"


def test_dependency_cycles_and_diamonds_build_each_package_once(
    forge: Forge, tmp_path: Path, canary: str
) -> None:
    base = forge.server.url

    def url(name: str) -> str:
        return f"{name} @ git+{base}/o/{name}.git"

    forge.push("o/ping.git", project("ping", "1.0", dependencies=[url("pong"), url("base")]))
    forge.push("o/pong.git", project("pong", "1.0", dependencies=[url("ping"), url("base")]))
    forge.push("o/base.git", project("base", "1.0"))
    app = tmp_path / "app"
    app.mkdir()
    (app / "requirements.txt").write_text(f"{url('ping')}\n")
    ran = run_gitdeps(
        "vendor", "-r", "requirements.txt", "-o", "wh", "--no-build-isolation",
        cwd=app, env={"GITDEPS_TOKEN_127_0_0_1": canary},
    )  # fmt: skip
    assert ran.returncode == 0, ran.output
    assert sorted(p.name.split("-")[0] for p in (app / "wh").glob("*.whl")) == [
        "base",
        "ping",
        "pong",
    ]
    for name in ("ping", "pong", "base"):
        assert ran.stderr.count(f"  {name}: built ") == 1
    python = fresh_venv(tmp_path / "venv")
    assert pip_install(python, "-r", "wh/requirements.txt", cwd=app).returncode == 0
    assert run_python(python, "import ping, pong, base; print('ok')", cwd=tmp_path).strip() == "ok"


def test_backend_asking_for_more_requirements_gets_them_isolated(
    forge: Forge, tmp_path: Path, canary: str
) -> None:
    setup = (
        "import sys, setuptools\n"
        "if 'egg_info' not in sys.argv and 'bdist_wheel' in sys.argv:\n"
        "    import flit_core  # provided only because setup_requires asked for it\n"
        "setuptools.setup(name='needy', version='1.0', py_modules=['needy'],\n"
        "                 setup_requires=['flit_core>=3.9,<4'])\n"
    )
    forge.push("o/needy.git", {"setup.py": setup, "needy.py": "X = 1\n"})
    app = tmp_path / "app"
    app.mkdir()
    (app / "requirements.txt").write_text(f"needy @ {forge.url('o/needy.git')}\n")
    ran = run_gitdeps(
        "-v", "vendor", "-r", "requirements.txt", "-o", "wh",
        cwd=app, env={"GITDEPS_TOKEN_127_0_0_1": canary},
    )  # fmt: skip
    assert ran.returncode == 0, ran.output
    assert "the backend asks for flit_core" in ran.stderr
    assert ran.stderr.count("creating build environment") == 2  # then the driver there
    assert list((app / "wh").glob("needy-1.0+g*.whl"))


def test_a_backend_asking_for_what_its_environment_holds_builds_in_one_process(
    forge: Forge, tmp_path: Path, canary: str
) -> None:
    """pbr's setup_requires=['pbr'], with pbr in build-system.requires: no second
    environment and no second backend process (1.6 s became 1.0 s on a pbr project)."""
    pyproject = '[build-system]\nrequires = ["setuptools>=70", "flit_core>=3.9"]\n'
    pyproject += 'build-backend = "setuptools.build_meta"\n'
    setup = (
        "import os, setuptools\n"
        "with open(os.environ['GITDEPS_TEST_PROCESSES'], 'a') as f:\n"
        "    f.write(f'{os.getpid()}\\n')  # one line per backend process\n"
        "setuptools.setup(name='content', version='1.0', py_modules=['content'],\n"
        "                 setup_requires=['flit_core>=3.9', \"nothing-here; python_version<'3'\"])\n"
    )
    forge.push(
        "o/content.git", {"pyproject.toml": pyproject, "setup.py": setup, "content.py": "X = 1\n"}
    )
    app = tmp_path / "app"
    app.mkdir()
    (app / "requirements.txt").write_text(f"content @ {forge.url('o/content.git')}\n")
    processes = tmp_path / "processes.txt"
    ran = run_gitdeps(
        "-v", "vendor", "-r", "requirements.txt", "-o", "wh",
        cwd=app, env={"GITDEPS_TOKEN_127_0_0_1": canary, "GITDEPS_TEST_PROCESSES": str(processes)},
    )  # fmt: skip
    assert ran.returncode == 0, ran.output
    assert "asks for" not in ran.stderr
    assert ran.stderr.count("creating build environment") == 1
    assert len(set(processes.read_text().split())) == 1  # get_requires and build_wheel
    assert list((app / "wh").glob("content-1.0+g*.whl"))
