"""Packages versioned from git build to the version pip builds, for every plugin.

Each plugin's fixture is pushed with a real history; for every kind of ref a
user writes, the version in gitdeps' wheel (before its own commit label, where
it adds one) must equal the version of the wheel real pip builds from the same
URL on the same server.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from packaging.utils import parse_wheel_filename

import gitdeps
from gitdeps._build.wheel import pinned_version
from tests.support.app import (
    Forge,
    files_containing,
    fresh_venv,
    pip_install,
    run_gitdeps,
    run_python,
)
from tests.support.gitserver import git
from tests.support.scm import PLUGINS, push_history


def _pip_wheel_version(url: str, out: Path) -> str:
    """The version of the wheel ``pip wheel`` builds from ``url``."""
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-cache-dir",
            "-q",
            "-w",
            str(out),
            url,
        ],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    (wheel,) = out.glob("*.whl")
    return str(parse_wheel_filename(wheel.name)[1])


def _vendor(requirement: str, app: Path) -> gitdeps.VendorResult:
    app.mkdir()
    (app / "requirements.txt").write_text(requirement + "\n")
    return gitdeps.vendor(
        requirements=[app / "requirements.txt"],
        wheelhouse=app / "wheelhouse",
        output_requirements=app / "wheelhouse" / "requirements.txt",
    )


@pytest.mark.slow
@pytest.mark.parametrize("plugin", sorted(PLUGINS))
def test_every_ref_builds_the_version_pip_builds(
    plugin: str, forge: Forge, tmp_path: Path, canary: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITDEPS_TOKEN_127_0_0_1", canary)
    name = f"scm-{plugin}".replace("_", "-")
    module = name.replace("-", "_")
    repo = f"o/{name}.git"
    history = push_history(forge.push, repo, PLUGINS[plugin](name, module))
    authed = forge.server.url.replace("http://", f"http://user:{canary}@")
    versions = {}
    for kind, ref in history.refs().items():
        result = _vendor(f"{name} @ {forge.url(repo, ref)}", tmp_path / kind)
        (package,) = result.packages
        versions[kind] = package.version
        pip_version = _pip_wheel_version(f"git+{authed}/{repo}@{ref}", tmp_path / f"pip-{kind}")
        assert package.version == pinned_version(pip_version, package.commit), (kind, ref)

    # The branch build installs and imports with the server gone, at that version.
    forge.server.stop()
    python = fresh_venv(tmp_path / "venv")
    app = tmp_path / "branch"
    ran = pip_install(python, "--no-index", "-r", "wheelhouse/requirements.txt", cwd=app)
    assert ran.returncode == 0, ran.output
    reported = run_python(python, f"import {module}; print({module}.__version__)", cwd=tmp_path)
    installed = run_python(
        python, f"from importlib.metadata import version; print(version({name!r}))", cwd=tmp_path
    )
    assert installed.strip() == versions["branch"]
    # A version file written at build time holds the plugin's version, before the label.
    assert versions["branch"].startswith(reported.strip().split("+")[0])


@pytest.mark.parametrize("allow_filter", [True, False], ids=["blob-none", "no-filter-server"])
def test_the_build_sees_pips_repository_and_no_credential(
    allow_filter: bool, tmp_path: Path, canary: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the plugins' git commands read, with or without partial-clone support."""
    from gitdeps._credentials.store import Credentials
    from gitdeps._fetch.source import fetch_tree
    from gitdeps._inputs.giturl import parse_git_url
    from tests.support.gitserver import GitServer

    root = tmp_path / "srv"
    root.mkdir()
    with GitServer(root, token=canary, allow_filter=allow_filter) as server:
        forge = Forge(server, root, tmp_path / "pushes")
        history = push_history(
            forge.push, "o/lib.git", {"lib.py": "x = 1\n", "run.sh": "#!/bin/sh\n"}
        )
        monkeypatch.setenv("GITDEPS_TOKEN_127_0_0_1", canary)
        url, _ = parse_git_url(forge.url("o/lib.git", history.branch))
        work = tmp_path / "work"
        work.mkdir()
        commit = git(tmp_path / "pushes" / "o_lib.git", "rev-parse", "HEAD")
        tree = fetch_tree(url, commit, Credentials(()), work)
        authorized = [r for r in server.requests if r.authorization]

    assert git(tree.root, "describe", "--tags", "--long", "--dirty").startswith("2.3.2-2-g")
    assert git(tree.root, "status", "--porcelain") == ""
    assert git(tree.root, "symbolic-ref", "HEAD") == "refs/heads/main"
    assert git(tree.root, "tag", "--list") == "2.3.1\n2.3.2"
    assert git(tree.root, "cat-file", "-t", "2.3.1") == "tag"  # annotated, as on the server
    assert git(tree.root, "rev-list", "--count", "HEAD") == "5"
    assert git(tree.root, "ls-files").splitlines() == ["CHANGES.txt", "lib.py", "run.sh"]
    # No remote, no URL, no credential: nothing a backend or later git could use.
    config = git(tree.root, "config", "--list", "--local")
    assert "remote." not in config and "url" not in config
    assert files_containing(tree.root, canary) == []
    assert not (tree.root / ".git" / "shallow").exists()
    assert authorized and server.tokens_seen() == [canary] * len(authorized)


def test_a_ref_named_by_tag_or_hash_leaves_head_detached(
    forge: Forge, tmp_path: Path, canary: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gitdeps._credentials.store import Credentials
    from gitdeps._fetch.source import fetch_tree
    from gitdeps._inputs.giturl import parse_git_url

    history = push_history(forge.push, "o/lib.git", {"lib.py": "x = 1\n"})
    monkeypatch.setenv("GITDEPS_TOKEN_127_0_0_1", canary)
    for ref in (history.annotated, history.tagged_hash):
        url, _ = parse_git_url(forge.url("o/lib.git", ref))
        commit = (
            history.tagged_hash
            if ref == history.tagged_hash
            else git(forge.root / "o/lib.git", "rev-parse", f"{ref}^{{commit}}")
        )
        where = tmp_path / ref
        where.mkdir()
        tree = fetch_tree(url, commit, Credentials(()), where)
        assert git(tree.root, "rev-parse", "--abbrev-ref", "HEAD") == "HEAD"  # detached
        assert git(tree.root, "rev-parse", "HEAD") == commit


@pytest.mark.slow
def test_a_commit_tagged_after_it_was_cached_builds_its_new_version(
    forge: Forge, tmp_path: Path, canary: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Built at a branch as 2.3.3.dev2, then that very commit is tagged 2.3.3: pip builds
    2.3.3 from the tag, and so must a run whose cache holds the dev build."""
    monkeypatch.setenv("GITDEPS_TOKEN_127_0_0_1", canary)
    repo = "o/later.git"
    push_history(forge.push, repo, PLUGINS["setuptools_scm"]("later", "later"))
    first = _vendor(f"later @ {forge.url(repo, 'main')}", tmp_path / "at-branch")
    assert first.packages[0].version.startswith("2.3.3.dev2+g")

    work = forge.work / "o_later.git"
    git(work, "tag", "2.3.3")
    git(work, "push", "-q", "origin", "refs/tags/2.3.3")
    again = _vendor(f"later @ {forge.url(repo, '2.3.3')}", tmp_path / "at-tag")
    (package,) = again.packages
    assert package.commit == first.packages[0].commit
    assert package.version == f"2.3.3+g{package.commit[:12]}"
    cached = _vendor(f"later @ {forge.url(repo, '2.3.3')}", tmp_path / "at-tag-again")
    assert cached.packages[0].sha256 == package.sha256


@pytest.mark.slow
def test_a_file_url_builds_the_versions_the_host_does(
    forge: Forge, tmp_path: Path, canary: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """git+file:// is streamed in by git (bounded memory): the history and tags a version
    plugin reads are the ones a fetch from the host gives, for every kind of ref."""
    from gitdeps._credentials.store import Credentials
    from gitdeps._fetch.source import fetch_tree
    from gitdeps._inputs.giturl import parse_git_url

    monkeypatch.setenv("GITDEPS_TOKEN_127_0_0_1", canary)
    name, repo = "scm-local", "o/scm-local.git"
    history = push_history(forge.push, repo, PLUGINS["setuptools_scm"](name, "scm_local"))
    bare = forge.root / repo
    for kind, ref in history.refs().items():
        (over_http,) = _vendor(f"{name} @ {forge.url(repo, ref)}", tmp_path / f"h-{kind}").packages
        (local,) = _vendor(f"{name} @ git+file://{bare}@{ref}", tmp_path / f"f-{kind}").packages
        assert local.version == over_http.version, (kind, ref)
        assert local.commit == over_http.commit
    url, _ = parse_git_url(f"git+file://{bare}@{history.branch}")
    work = tmp_path / "work"
    work.mkdir()
    commit = git(bare, "rev-parse", history.branch)
    tree = fetch_tree(url, commit, Credentials(()), work)
    assert git(tree.root, "describe", "--tags", "--long").startswith("2.3.2-2-g")
    assert git(tree.root, "cat-file", "-t", "2.3.1") == "tag"  # the annotated tag, whole


def test_the_build_hears_of_the_tree_before_its_history_is_laid_in(
    tmp_path: Path, canary: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """on_tree: the build environment starts from pyproject.toml while the history
    (which a large repository takes longest over) is still coming."""
    from gitdeps._credentials.store import Credentials
    from gitdeps._fetch.source import fetch_tree
    from gitdeps._inputs.giturl import parse_git_url
    from tests.support.gitserver import GitServer

    root = tmp_path / "srv"
    root.mkdir()
    heard: list[tuple[bool, bool]] = []
    with GitServer(root, token=canary) as server:
        forge = Forge(server, root, tmp_path / "pushes")
        files = PLUGINS["setuptools_scm"]("lib", "lib")
        history = push_history(forge.push, "o/lib.git", files)
        monkeypatch.setenv("GITDEPS_TOKEN_127_0_0_1", canary)
        url, _ = parse_git_url(forge.url("o/lib.git", history.branch))
        work = tmp_path / "work"
        work.mkdir()
        commit = git(tmp_path / "pushes" / "o_lib.git", "rev-parse", "HEAD")

        def on_tree(tree: Path) -> None:
            heard.append(((tree / "pyproject.toml").is_file(), (tree / ".git").exists()))
            raise RuntimeError("a head start that fails is no failure of the fetch")

        tree = fetch_tree(url, commit, Credentials(()), work, on_tree=on_tree)
    assert heard == [(True, False)]  # the files are there, the history is not yet
    assert git(tree.root, "describe", "--tags").startswith("2.3.2-2-g")


def test_the_environment_begun_ahead_is_the_one_the_build_uses(
    forge: Forge, tmp_path: Path, canary: str
) -> None:
    commit = forge.push("o/lib.git", PLUGINS["hatch-vcs"]("lib", "lib"), tag="1.0")
    app = tmp_path / "app"
    app.mkdir()
    (app / "requirements.txt").write_text(f"lib @ {forge.url('o/lib.git', '1.0')}\n")
    ran = run_gitdeps(
        "-v", "vendor", "-r", "requirements.txt", "-o", "wh",
        cwd=app, env={"GITDEPS_TOKEN_127_0_0_1": canary},
    )  # fmt: skip
    assert ran.returncode == 0, ran.output
    assert ran.stderr.count("creating build environment") == 1
    assert [p.name.split("-")[1] for p in (app / "wh").glob("*.whl")] == ["1.0+g" + commit[:12]]
