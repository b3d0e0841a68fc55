"""Refs resolve as pip resolves them: short hashes deep in history included."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitdeps import FetchError
from gitdeps._credentials.store import Credentials
from gitdeps._fetch.git import find_commits, list_refs, resolve_ref
from gitdeps._inputs.giturl import parse_git_url
from tests.support.app import Forge, vendor_in
from tests.support.projects import project


def _history(forge: Forge) -> list[str]:
    commits = [forge.push("o/lib.git", {"n.txt": f"{n}\n"}, message=f"c{n}") for n in range(4)]
    forge.push("o/lib.git", {"n.txt": "side\n"}, branch="side", message="side")
    return commits


def test_a_short_hash_deep_in_history_resolves_like_pip(
    forge: Forge, tmp_path: Path, canary: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    commits = _history(forge)
    monkeypatch.setenv("GITDEPS_TOKEN_127_0_0_1", canary)
    url, _ = parse_git_url(forge.url("o/lib.git"))
    credentials = Credentials(())
    refs = list_refs(url, credentials)
    searched: list[str] = []

    def search(prefix: str) -> list[str]:
        searched.append(prefix)
        return find_commits(url, prefix, credentials, tmp_path / f"search-{len(searched)}.git")

    # A tip resolves without a search; a buried commit with one, in any case.
    assert resolve_ref(url, commits[3][:7], refs, search=search) == commits[3]
    assert searched == []
    assert resolve_ref(url, commits[1][:7].upper(), refs, search=search) == commits[1]
    assert searched == [commits[1][:7]]
    with pytest.raises(FetchError, match="in no branch's or tag's history"):
        resolve_ref(url, "0000000", refs, search=search)
    # Only commits travelled: no trees, no blobs.
    from dulwich.repo import Repo

    with Repo(str(tmp_path / "search-1.git")) as repo:
        kinds = {type(repo.object_store[sha]).__name__ for sha in repo.object_store}
    assert kinds == {"Commit"}


@pytest.mark.slow
def test_vendor_a_short_hash_that_is_no_tip(forge: Forge, tmp_path: Path, canary: str) -> None:
    old = forge.push("o/pkg.git", project("pkg", "1.0"), message="old")
    forge.push("o/pkg.git", project("pkg", "2.0"), message="new")
    app = tmp_path / "app"
    env = {"GITDEPS_TOKEN_127_0_0_1": canary}
    ran = vendor_in(app, f"pkg @ {forge.url('o/pkg.git', old[:8])}", env=env, lock=True)
    assert ran.returncode == 0, ran.output
    assert f'commit = "{old}"' in (app / "gitdeps.lock").read_text()
    assert "pkg==1.0+g" in (app / "out.txt").read_text()

    ran = vendor_in(app, f"pkg @ {forge.url('o/pkg.git', 'abcdef12')}", env=env)
    assert ran.returncode == 5
    assert (
        "requirements.txt:1: pkg: commit 'abcdef12' is in no branch's or tag's history"
        in ran.stderr
    )
    assert "Traceback" not in ran.output


def test_a_full_hash_that_is_not_there_says_so(forge: Forge, tmp_path: Path, canary: str) -> None:
    forge.push("o/pkg.git", project("pkg", "1.0"))
    missing = "0123456789abcdef0123456789abcdef01234567"
    ran = vendor_in(
        tmp_path / "app",
        f"pkg @ {forge.url('o/pkg.git', missing)}",
        env={"GITDEPS_TOKEN_127_0_0_1": canary},
    )
    assert ran.returncode == 5, ran.output
    assert f"would not send commit {missing[:12]} of" in ran.stderr, ran.stderr
    assert "unexpectedly closed" not in ran.stderr and "Traceback" not in ran.output


def test_the_listing_leaves_out_review_refs_unless_one_is_asked_for(
    forge: Forge, canary: str
) -> None:
    """As `git fetch` asks (ref-prefix HEAD, refs/heads/, refs/tags/): a host's thousands
    of pull-request refs are not sent, but a requirement naming one still resolves."""
    from tests.support.gitserver import git

    main = forge.push("o/lib.git", project("lib", "1.0"), tag="v1")
    review = forge.push("o/lib.git", project("lib", "1.1"), branch="topic")
    bare = forge.root / "o/lib.git"
    for number in range(1, 40):
        git(bare, "update-ref", f"refs/pull/{number}/head", review)
    credentials = Credentials(environ={"GITDEPS_TOKEN_127_0_0_1": canary})
    url, _ = parse_git_url(forge.url("o/lib.git", "v1"))
    refs = list_refs(url, credentials)
    assert refs.refs["refs/tags/v1"] == main
    assert not any(name.startswith("refs/pull/") for name in refs.refs)

    asked, _ = parse_git_url(forge.url("o/lib.git", "refs/pull/7/head"))
    listed = list_refs(asked, credentials)
    assert resolve_ref(asked, asked.ref, listed) == review
    assert [n for n in listed.refs if n.startswith("refs/pull/")] == ["refs/pull/7/head"]
