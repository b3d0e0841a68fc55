"""Hostile repositories: trees that try to write or read outside their checkout."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.support.app import App, Forge
from tests.support.gitserver import make_repo
from tests.support.projects import project
from tests.support.trees import GITLINK, LINK, push_raw_tree

SETUP = "from setuptools import setup\nsetup(name='victim', version='1.0', py_modules=['victim'])\n"
GOOD = {"setup.py": SETUP, "victim.py": "VALUE = 1\n"}

HOSTILE: dict[str, dict[Any, Any]] = {
    "dot-dot entry": {**GOOD, b"..": {"escaped.txt": "x"}},
    "dot-git entry": {**GOOD, ".git": {"hooks": {"post-checkout": "#!/bin/sh\necho pwned\n"}}},
    "dot-git in other case": {**GOOD, ".GIT": {"config": "[core]\n"}},
    "ntfs dot-git disguise": {**GOOD, ".git. ": {"config": "[core]\n"}},
    "slash in a name": {**GOOD, b"a/../../x": "x"},
    "absolute symlink": {**GOOD, "passwd": (LINK, b"/etc/passwd")},
    "symlink climbing out": {**GOOD, "up": (LINK, b"../../../outside")},
    "symlinks chained out": {
        **GOOD,
        "d": {"e": {"s": (LINK, b"../..")}},
        "t": (LINK, b"d/e/s/../.."),
    },
}


def _vendor(app: Path, canary: str, requirement: str) -> tuple[App, int, str]:
    made = App.make(app, requirement, {"GITDEPS_TOKEN_127_0_0_1": canary})
    ran = made.vendor("--no-build-isolation", lock=False)
    return made, ran.returncode, ran.stderr


@pytest.mark.parametrize("tree", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_trees_are_refused(
    forge: Forge, tmp_path: Path, canary: str, tree: dict[Any, Any]
) -> None:
    bare = make_repo(forge.root, "o/victim.git")
    push_raw_tree(bare, tree)
    app, code, stderr = _vendor(tmp_path / "app", canary, f"victim @ {forge.url('o/victim.git')}")
    assert code == 5, stderr
    assert "requirements.txt:1: victim:" in stderr
    assert "unsafe to build" in stderr
    assert "Traceback" not in stderr
    assert not app.wheelhouse.exists()
    assert not (tmp_path / "outside").exists() and not (tmp_path / "escaped.txt").exists()


@pytest.mark.slow
def test_links_inside_are_kept(forge: Forge, tmp_path: Path, canary: str) -> None:
    bare = make_repo(forge.root, "o/victim.git")
    files = project("victim", "1.0")
    tree: dict[Any, Any] = {
        "pyproject.toml": files["pyproject.toml"],
        "victim": {"__init__.py": files["victim/__init__.py"], "alias.py": (LINK, b"__init__.py")},
    }
    push_raw_tree(bare, tree)
    app, code, stderr = _vendor(tmp_path / "app", canary, f"victim @ {forge.url('o/victim.git')}")
    assert code == 0, stderr
    import zipfile

    (wheel,) = app.wheelhouse.glob("victim-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        assert archive.read("victim/alias.py") == archive.read("victim/__init__.py")


def test_a_gitlink_with_no_gitmodules_entry_is_named(
    forge: Forge, tmp_path: Path, canary: str
) -> None:
    bare = make_repo(forge.root, "o/partial.git")
    files = project("partial", "1.0")
    tree: dict[Any, Any] = {
        "pyproject.toml": files["pyproject.toml"],
        "vendor": {"lib": (GITLINK, b"1" * 40)},
    }
    push_raw_tree(bare, tree)
    _app, code, stderr = _vendor(
        tmp_path / "app", canary, f"partial @ {forge.url('o/partial.git')}"
    )
    assert code == 5, stderr
    assert "submodule 'vendor/lib' (commit 111111111111) has no url in .gitmodules" in stderr
    assert "Traceback" not in stderr


@pytest.mark.parametrize("missing", ["tree", "blob"])
def test_a_pack_without_all_the_commits_objects_is_an_error(tmp_path: Path, missing: str) -> None:
    """A host that sends the commit but not all of its tree: the checkout says the fetch is
    incomplete, naming the object, instead of a KeyError."""
    import subprocess

    from dulwich.repo import Repo

    from gitdeps import UnsafeRepositoryError
    from gitdeps._fetch.checkout import checkout
    from gitdeps._fetch.packs import index_pack

    def git(cwd: Path, *args: str, stdin: bytes | None = None) -> bytes:
        return subprocess.run(
            ["git", "-c", "user.name=t", "-c", "user.email=t@t", *args],
            cwd=cwd, input=stdin, capture_output=True, check=True,
        ).stdout  # fmt: skip

    work = tmp_path / "work"
    (work / "pkg").mkdir(parents=True)
    (work / "pkg" / "mod.py").write_text("VALUE = 1\n")
    git(work, "init", "-q")
    git(work, "add", "-A")
    git(work, "commit", "-qm", "one")
    names = ["HEAD", "HEAD^{tree}", "HEAD:pkg", "HEAD:pkg/mod.py"]
    ids = [git(work, "rev-parse", name).strip() for name in names]
    left_out = ids[2] if missing == "tree" else ids[3]
    sent = b"\n".join(i for i in ids if i != left_out) + b"\n"
    bare = tmp_path / "bare.git"
    Repo.init_bare(str(bare), mkdir=True).close()
    (bare / "objects" / "pack" / "incoming.pack").write_bytes(
        git(work, "pack-objects", "--stdout", stdin=sent)
    )
    index_pack(bare / "objects" / "pack" / "incoming.pack", bare / "objects" / "pack")
    with Repo(str(bare)) as repo, pytest.raises(UnsafeRepositoryError) as caught:
        checkout(repo, ids[0].decode(), tmp_path / "tree", what="o/pkg.git at abc")
    message = str(caught.value)
    assert f"object {left_out.decode()} of the tree was not sent by the host" in message
    assert message.startswith("o/pkg.git at abc: ")
