"""``git+ssh://`` and scp-like ``git@host:org/repo.git``, as pip and uv accept them."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest

from gitdeps._fetch.submodules import resolve_submodule_url
from gitdeps._inputs.giturl import GitURL, InvalidGitURL, parse_git_url
from tests.support.app import Forge, vendor_in
from tests.support.cli import Ran
from tests.support.scm import PLUGINS, push_history
from tests.support.sshd import SSHD, SshServer

PARSED = [
    (
        "git+ssh://git@h.test/org/r.git@v1",
        GitURL("ssh", "h.test", None, "/org/r.git", "v1", user="git"),
        "ssh://git@h.test/org/r.git",
    ),
    (
        "git+ssh://git@h.test:2222/org/r.git#egg=r&subdirectory=pkg",
        GitURL("ssh", "h.test", 2222, "/org/r.git", None, "pkg", "r", user="git"),
        "ssh://git@h.test:2222/org/r.git",
    ),
    (
        "git+git@github.com:org/r.git@v1.0#egg=r",
        GitURL("ssh", "github.com", None, "org/r.git", "v1.0", None, "r", user="git"),
        "git@github.com:org/r.git",
    ),
    (
        "git+git@ssh.dev.azure.com:v3/org/proj/repo@main",
        GitURL("ssh", "ssh.dev.azure.com", None, "v3/org/proj/repo", "main", user="git"),
        "git@ssh.dev.azure.com:v3/org/proj/repo",
    ),
    (
        "git+deploy-host:/srv/git/r.git",
        GitURL("ssh", "deploy-host", None, "/srv/git/r.git"),
        "ssh://deploy-host/srv/git/r.git",  # an absolute scp path is that ssh:// URL
    ),
]


@pytest.mark.parametrize(("text", "url", "repo"), PARSED)
def test_ssh_urls_parse_as_pip_takes_them(text: str, url: GitURL, repo: str) -> None:
    parsed, credential = parse_git_url(text)
    assert parsed == url and credential is None
    assert parsed.repo == repo
    # the form the lock and messages use reads back to the same place
    assert parse_git_url(parsed.requirement_url())[0] == dataclasses.replace(parsed, egg=None)


def test_an_ssh_password_is_refused() -> None:
    with pytest.raises(InvalidGitURL, match="ssh URL takes no password"):
        parse_git_url("git+ssh://git:hunter2@h.test/org/r.git")


@pytest.mark.parametrize(
    ("parent", "written", "expected"),
    [
        ("git@h:org/app.git", "../lib.git", "git@h:org/lib.git"),
        ("git@h:/srv/app.git", "../lib.git", "git@h:/srv/lib.git"),
        ("ssh://git@h:22/org/app.git", "../lib.git", "ssh://git@h:22/org/lib.git"),
    ],
)
def test_relative_submodules_of_ssh_repositories(parent: str, written: str, expected: str) -> None:
    assert resolve_submodule_url(parent, written) == expected


@pytest.fixture
def sshd(tmp_path: Path) -> Iterator[SshServer]:
    if not Path(SSHD).exists():
        pytest.skip("sshd is not installed here (.ci/run installs openssh-server)")
    with SshServer(tmp_path / "sshd") as server:
        yield server


def _vendor(app: Path, requirement: str, ssh_command: str) -> Ran:
    return vendor_in(app, requirement, env={"GIT_SSH_COMMAND": ssh_command}, lock=True)


@pytest.mark.slow
def test_both_ssh_forms_vendor_with_the_version_from_tags(
    forge: Forge, tmp_path: Path, sshd: SshServer
) -> None:
    push_history(forge.push, "o/lib.git", PLUGINS["setuptools_scm"]("sshlib", "sshlib"))
    bare = forge.root / "o/lib.git"
    command = sshd.ssh_command()

    url = f"git+ssh://{sshd.user}@127.0.0.1:{sshd.port}{bare}@2.3.2"
    ran = _vendor(tmp_path / "ssh-url", f"sshlib @ {url}", command)
    assert ran.returncode == 0, ran.output
    lock = (tmp_path / "ssh-url" / "gitdeps.lock").read_text()
    assert f'url = "ssh://{sshd.user}@127.0.0.1:{sshd.port}{bare}"' in lock
    assert "sshlib==2.3.2+g" in (tmp_path / "ssh-url" / "out.txt").read_text()

    # scp-like, through a Host alias in the ssh config, at a branch past the tag
    scp = f"git+{sshd.user}@gitdeps-test:{bare}@main"
    ran = _vendor(tmp_path / "scp", f"sshlib @ {scp}", command)
    assert ran.returncode == 0, ran.output
    assert "sshlib==2.3.3.dev2+g" in (tmp_path / "scp" / "out.txt").read_text()


def test_an_unknown_host_key_says_how_to_add_it(
    forge: Forge, tmp_path: Path, sshd: SshServer
) -> None:
    forge.push("o/lib.git", {"a.txt": "a\n"})
    url = f"git+ssh://{sshd.user}@127.0.0.1:{sshd.port}{forge.root / 'o/lib.git'}#egg=lib"
    ran = _vendor(tmp_path / "app", url, sshd.ssh_command(known_hosts="no_known_hosts"))
    assert ran.returncode == 5, ran.output
    assert f"the ssh host key of 127.0.0.1:{sshd.port} is not known" in ran.stderr
    assert f"ssh-keyscan -p {sshd.port} 127.0.0.1 >> ~/.ssh/known_hosts" in ran.stderr
    assert "Traceback" not in ran.output


def test_a_key_the_server_refuses_is_an_auth_error(
    forge: Forge, tmp_path: Path, sshd: SshServer
) -> None:
    forge.push("o/lib.git", {"a.txt": "a\n"})
    url = f"git+ssh://{sshd.user}@127.0.0.1:{sshd.port}{forge.root / 'o/lib.git'}#egg=lib"
    ran = _vendor(tmp_path / "app", url, sshd.ssh_command(key="stranger_key"))
    assert ran.returncode == 4, ran.output
    assert "refused the ssh key" in ran.stderr and "GIT_SSH_COMMAND" in ran.stderr
    assert "Traceback" not in ran.output
