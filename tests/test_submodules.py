"""Submodules arrive as ``git submodule update --init --recursive`` brings them for pip."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from gitdeps._fetch.submodules import resolve_submodule_url
from gitdeps._inputs.giturl import InvalidGitURL
from tests.support.app import Forge, vendor_in
from tests.support.gitserver import GitServer, git

# (parent URL, .gitmodules url, what git makes of it)
RELATIVE = [
    ("https://h/org/app.git", "../lib.git", "https://h/org/lib.git"),
    ("https://h/org/app.git/", "../lib.git", "https://h/org/lib.git"),
    ("https://h/org/app.git", "./lib.git", "https://h/org/app.git/lib.git"),
    ("https://h/org/app.git", "../../other/lib", "https://h/other/lib"),
    ("https://h:8443/org/proj/_git/app", "../lib", "https://h:8443/org/proj/_git/lib"),
    ("https://h/org/app.git", "https://elsewhere/x.git", "https://elsewhere/x.git"),
    ("https://h/org/app.git", "./../lib.git", "https://h/org/lib.git"),
]


@pytest.mark.parametrize(("parent", "written", "expected"), RELATIVE)
def test_relative_urls_resolve_as_git_resolves_them(
    parent: str, written: str, expected: str
) -> None:
    assert resolve_submodule_url(parent, written) == expected


def test_a_relative_url_cannot_climb_above_the_host() -> None:
    with pytest.raises(InvalidGitURL, match="climbs above"):
        resolve_submodule_url("https://h/app.git", "../../../x.git")


def _setuptools(name: str, packages: list[str]) -> dict[str, str]:
    return {
        "pyproject.toml": (
            '[build-system]\nrequires = ["setuptools>=70"]\nbuild-backend = "setuptools.build_meta"\n'
            f'[project]\nname = "{name}"\nversion = "1.0"\n'
            f"[tool.setuptools]\npackages = {packages!r}\n".replace("'", '"')
        ),
        "app/__init__.py": "",
    }


@pytest.mark.slow
def test_nested_submodules_each_get_only_their_own_hosts_token(
    forge: Forge, tmp_path: Path, canary: str
) -> None:
    other_token = "gdcanary-other-" + canary[-12:]
    root = tmp_path / "srv-other"
    root.mkdir()
    with GitServer(root, token=other_token, host="localhost") as other:
        elsewhere = Forge(other, root, tmp_path / "pushes-other")
        core = elsewhere.push("o/core.git", {"__init__.py": "CORE = 'core at its commit'\n"})
        lib = forge.push(
            "o/lib.git",
            {
                "__init__.py": "from .core import CORE\nLIB = 'lib'\n",
                ".gitmodules": f'[submodule "core"]\n\tpath = core\n\turl = {other.url}/o/core.git\n',
            },
            gitlinks={"core": core},
        )
        # The branch moves on after the commit the parent records: that one must be used.
        forge.push("o/lib.git", {"__init__.py": "LIB = 'too new'\n"})
        files = _setuptools("with-subs", ["app", "app.lib", "app.lib.core"])
        files[".gitmodules"] = '[submodule "lib"]\n\tpath = app/lib\n\turl = ../lib.git\n'
        forge.push("o/app.git", files, gitlinks={"app/lib": lib})

        app = tmp_path / "app"
        tokens = {"GITDEPS_TOKEN_127_0_0_1": canary, "GITDEPS_TOKEN_LOCALHOST": other_token}
        requirement = f"with-subs @ {forge.url('o/app.git')}"
        # The submodule's host is named by no input: it gets no token, and the run says so.
        refused = vendor_in(app, requirement, env=tokens)
        assert refused.returncode != 0 and "reached through a dependency" in refused.stderr
        assert other.tokens_seen() == []
        (app / "gitdeps.toml").write_text(f'[hosts."localhost"]\norigins = ["{other.url}"]\n')
        ran = vendor_in(app, requirement, env=tokens)
        assert ran.returncode == 0, ran.output
        assert set(other.tokens_seen()) == {other_token}
    assert set(forge.server.tokens_seen()) == {canary}
    (wheel,) = (app / "wh").glob("with_subs-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        assert b"LIB = 'lib'" in archive.read("app/lib/__init__.py")
        assert b"core at its commit" in archive.read("app/lib/core/__init__.py")


@pytest.mark.slow
def test_a_submodule_that_cannot_be_fetched_is_named(
    forge: Forge, tmp_path: Path, canary: str
) -> None:
    files = _setuptools("broken-subs", ["app"])
    files[".gitmodules"] = '[submodule "gone"]\n\tpath = app/gone\n\turl = ../gone.git\n'
    forge.push("o/app.git", files, gitlinks={"app/gone": "2" * 40})
    ran = vendor_in(
        tmp_path / "app",
        f"broken-subs @ {forge.url('o/app.git')}",
        env={"GITDEPS_TOKEN_127_0_0_1": canary},
    )
    assert ran.returncode == 5, ran.output
    assert (
        f"submodule 'app/gone' of {forge.server.url}/o/app.git ({forge.server.url}/o/gone.git "
        "at 222222222222) could not be fetched: repository not found (404)"
    ) in ran.stderr
    assert "Traceback" not in ran.output


def test_filled_submodules_leave_the_build_repository_clean(
    forge: Forge, tmp_path: Path, canary: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """setuptools_scm calls a tree dirty (and changes the version) if git status is not
    empty: the filled submodule directories must not show as changes."""
    from gitdeps._credentials.store import Credentials
    from gitdeps._fetch.source import fetch_tree
    from gitdeps._inputs.giturl import parse_git_url

    lib = forge.push("o/lib.git", {"lib.py": "x = 1\n"})
    files = {"a.txt": "a\n", ".gitmodules": '[submodule "l"]\n\tpath = l\n\turl = ../lib.git\n'}
    forge.push("o/app.git", files, gitlinks={"l": lib}, tag="1.0")
    monkeypatch.setenv("GITDEPS_TOKEN_127_0_0_1", canary)
    url, _ = parse_git_url(forge.url("o/app.git", "1.0"))
    sha = git(forge.root / "o/app.git", "rev-parse", "1.0^{commit}")
    tree = fetch_tree(url, sha, Credentials(()), tmp_path)
    assert (tree.root / "l" / "lib.py").read_text() == "x = 1\n"
    assert git(tree.root, "status", "--porcelain") == ""
    assert git(tree.root, "describe", "--tags", "--dirty") == "1.0"
