"""``vendor --locked`` asks no git host anything; ``gitdeps check`` asks whether the lock
is up to date; a run's requests share kept-alive connections."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.app import App, Forge, run_gitdeps, vendor_in
from tests.support.gitserver import GitServer
from tests.support.projects import project


def _two_packages(forge: Forge) -> str:
    forge.push("o/tagged.git", project("tagged", "1.0"), tag="v1")
    forge.push("o/branchy.git", project("branchy", "2.0"))
    return f"tagged @ {forge.url('o/tagged.git', 'v1')}\nbranchy @ {forge.url('o/branchy.git')}\n"


@pytest.mark.slow
def test_locked_with_a_warm_cache_needs_no_git_host(
    tmp_path: Path, canary: str, forge: Forge
) -> None:
    requirements = _two_packages(forge)
    app = App.make(tmp_path / "app", requirements, {"GITDEPS_TOKEN_127_0_0_1": canary})
    first = app.vendor()
    assert first.returncode == 0, first.output
    written = app.output.read_text()

    def locked() -> None:
        app.output.unlink()
        for wheel in app.wheelhouse.glob("*.whl"):
            wheel.unlink()
        again = app.vendor("--locked")
        assert again.returncode == 0, again.output
        assert app.output.read_text() == written
        assert len(app.wheels()) == 2

    forge.server.requests.clear()
    locked()
    assert forge.server.requests == []  # not even the moved-tag check: `gitdeps check` does it
    forge.server.stop()
    locked()  # and the host may be gone


@pytest.mark.slow
def test_check_reports_a_moved_tag_and_a_branch_with_new_commits(
    tmp_path: Path, canary: str, forge: Forge
) -> None:
    requirements = _two_packages(forge)
    env = {"GITDEPS_TOKEN_127_0_0_1": canary}
    app = tmp_path / "app"
    assert vendor_in(app, requirements, env=env, lock=True).returncode == 0

    clean = run_gitdeps("check", "-r", "requirements.txt", cwd=app, env=env)
    assert clean.returncode == 0, clean.output
    assert "up to date (2 packages)" in clean.stdout

    forge.push("o/tagged.git", project("tagged", "1.1"), tag="v1")  # the tag is moved
    forge.push("o/branchy.git", project("branchy", "2.1"))  # the branch moves on
    (app / "requirements.txt").write_text(
        requirements + f"newcomer @ {forge.url('o/tagged.git', 'v9')}\n"
    )
    stale = run_gitdeps("check", "-r", "requirements.txt", "--json", cwd=app, env=env)
    assert stale.returncode == 8, stale.output
    report = json.loads(stale.stdout)
    states = {p["name"]: p["state"] for p in report["packages"]}
    assert states == {"tagged": "moved", "branchy": "new-commits", "newcomer": "unlocked"}
    assert report["up_to_date"] is False
    moved = next(p for p in report["packages"] if p["name"] == "tagged")
    assert moved["current"] != moved["locked"] and len(moved["current"]) == 40

    said = run_gitdeps("check", "--lock", "gitdeps.lock", cwd=app, env=env)
    assert said.returncode == 8
    assert "tagged: tag v1 has moved" in said.stdout
    assert "branchy: HEAD has new commits" in said.stdout
    assert canary not in stale.output + said.output + clean.output


def test_check_without_a_lock_says_what_to_do(tmp_path: Path) -> None:
    ran = run_gitdeps("check", cwd=tmp_path)
    assert ran.returncode == 7
    assert "gitdeps.lock: no such lock; run gitdeps vendor to write one" in ran.stderr


@pytest.mark.slow
def test_a_run_keeps_its_connections_alive(tmp_path: Path, canary: str) -> None:
    root = tmp_path / "srv"
    root.mkdir()
    with GitServer(root, token=canary) as server:
        forge = Forge(server, root, tmp_path / "pushes")
        requirements = "".join(
            f"p{i} @ {forge.url(f'o/p{i}.git', 'v1')}\n"
            for i in range(4)
            if forge.push(f"o/p{i}.git", project(f"p{i}", "1.0"), tag="v1")
        )
        ran = vendor_in(
            tmp_path / "app",
            requirements,
            env={"GITDEPS_TOKEN_127_0_0_1": canary, "GITDEPS_NO_PUBLIC": "1"},
        )
        assert ran.returncode == 0, ran.output
        # 4 repositories: a listing, then two fetches at once, each. A connection that
        # is kept alive and shared serves the next request, so at most two per repository
        # (the two fetches in flight); a pool per listing or fetch opens three or more.
        assert len(server.requests) >= 12
        assert server.connections <= 2 * 4, (server.connections, len(server.requests))
