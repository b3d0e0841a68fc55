"""Where a token goes: to its own host, as a header, and nowhere else."""

from __future__ import annotations

import base64
import os
import zipfile
from pathlib import Path

import pytest

from gitdeps import AuthError
from gitdeps._credentials.base import Credential
from gitdeps._credentials.hosts import HostKind, host_kind
from gitdeps._credentials.store import Credentials
from gitdeps._fetch.git import list_refs
from gitdeps._inputs.giturl import parse_git_url
from gitdeps._secret import Secret
from tests.support.app import App, Forge, files_containing, run_gitdeps
from tests.support.gitserver import GitServer, commit_files, make_repo
from tests.support.projects import project


@pytest.mark.parametrize(
    ("host", "kind", "user"),
    [
        ("dev.azure.com", HostKind.AZURE_DEVOPS, "gitdeps"),
        ("contoso.visualstudio.com", HostKind.AZURE_DEVOPS, "gitdeps"),
        ("github.com", HostKind.GITHUB, "x-access-token"),
        ("gitlab.com", HostKind.GITLAB, "oauth2"),
        ("bitbucket.org", HostKind.BITBUCKET, "x-token-auth"),
        ("git.internal.example", HostKind.GENERIC, "x-access-token"),
    ],
)
def test_user_name_per_host_kind(host: str, kind: HostKind, user: str) -> None:
    assert host_kind(host) is kind
    url, _ = parse_git_url(f"git+https://{host}/o/r.git")
    credential = Credentials(
        environ={f"GITDEPS_TOKEN_{host.upper().replace('.', '_')}": "tkn-1234"}
    ).for_url(url)
    assert credential is not None
    scheme, _, value = credential.authorization().partition(" ")
    assert (scheme, base64.b64decode(value).decode()) == ("Basic", f"{user}:tkn-1234")


def test_ci_variables_apply_only_to_their_host_kind() -> None:
    environ = {
        "GITHUB_TOKEN": "gh-tkn-1234",
        "SYSTEM_ACCESSTOKEN": "ado-tkn-1234",
        "CI_JOB_TOKEN": "gl-tkn-1234",
    }
    creds = Credentials(environ=environ)

    def found(host: str) -> Credential | None:
        return creds.for_url(parse_git_url(f"git+https://{host}/o/r.git")[0])

    github, azure, gitlab = found("github.com"), found("dev.azure.com"), found("gitlab.com")
    assert github is not None and github.source == "GITHUB_TOKEN"
    assert azure is not None and azure.authorization() == "Bearer ado-tkn-1234"
    assert gitlab is not None and gitlab.username == "gitlab-ci-token"
    assert found("git.internal.example") is None


def test_gitdeps_variable_wins_and_empty_means_unset() -> None:
    url = parse_git_url("git+https://github.com/o/r.git")[0]
    empty = Credentials(environ={"GITDEPS_TOKEN_GITHUB_COM": "", "GH_TOKEN": "gh-1234"}).for_url(
        url
    )
    assert empty is not None and empty.source == "GH_TOKEN"
    both = {"GITDEPS_TOKEN_GITHUB_COM": "mine-1234", "GH_TOKEN": "gh-1234"}
    mine = Credentials(environ=both).for_url(url)
    assert mine is not None and mine.source == "GITDEPS_TOKEN_GITHUB_COM"


def test_bearer_token_goes_out_as_a_header(tmp_path: Path, canary: str) -> None:
    make_repo(tmp_path / "srv", "o/r.git")
    commit_files(tmp_path / "srv" / "o/r.git", {"a": "b"}, work=tmp_path / "w")
    with GitServer(tmp_path / "srv", token=canary, schemes=("bearer",)) as server:
        url = parse_git_url(f"git+{server.url}/o/r.git")[0]
        bearer = Credential(url.host, Secret(canary), source="test", scheme="bearer")
        refs = list_refs(url, _fixed(bearer))
        assert "refs/heads/main" in refs.refs
        assert {r.authorization for r in server.requests} == {f"Bearer {canary}"}
        basic = Credential(url.host, Secret(canary), source="test", username="u")
        with pytest.raises(AuthError, match="rejected the token from test"):
            list_refs(url, _fixed(basic))


class _fixed(Credentials):
    def __init__(self, credential: Credential) -> None:
        super().__init__(environ={})
        self._credential = credential

    def for_url(self, url: object) -> Credential | None:
        return self._credential


@pytest.mark.slow
def test_a_redirect_to_another_host_never_carries_the_token(
    forge: Forge, tmp_path: Path, canary: str
) -> None:
    other_root = tmp_path / "other"
    make_repo(other_root, "o/r.git")
    commit_files(other_root / "o/r.git", project("moved", "1.0"), work=tmp_path / "w2")
    with GitServer(other_root, token="the-other-hosts-token", host="localhost") as other:
        forge.server.hook = lambda method, path: (302, {"Location": f"{other.url}{path}"}, b"")
        app = App.make(
            tmp_path / "app",
            f"moved @ git+{forge.server.url}/o/r.git",
            {"GITDEPS_TOKEN_127_0_0_1": canary},
        )
        ran = app.vendor("--no-build-isolation", lock=False)
        assert other.requests, "the redirect was not followed"
        assert canary not in other.tokens_seen()
        assert all(r.authorization is None for r in other.requests)
        assert ran.returncode == 4
        assert "redirects to localhost" in ran.stderr and "GITDEPS_TOKEN_LOCALHOST" in ran.stderr
        assert canary not in ran.output


@pytest.mark.slow
def test_each_host_gets_only_its_own_token(tmp_path: Path) -> None:
    roots = [tmp_path / "a", tmp_path / "b"]
    for index, root in enumerate(roots):
        make_repo(root, "o/r.git")
        commit_files(root / "o/r.git", project(f"pkg-{index}", "1.0"), work=tmp_path / f"w{index}")
    with (
        GitServer(roots[0], token="token-for-ip-1234") as by_ip,
        GitServer(roots[1], token="token-for-name-1234", host="localhost") as by_name,
    ):
        env = {
            "GITDEPS_TOKEN_127_0_0_1": "token-for-ip-1234",
            "GITDEPS_TOKEN_LOCALHOST": "token-for-name-1234",
        }
        app = App.make(
            tmp_path / "app",
            f"pkg-0 @ git+{by_ip.url}/o/r.git\npkg-1 @ git+{by_name.url}/o/r.git",
            env,
        )
        ran = app.vendor("--no-build-isolation", lock=False)
        assert ran.returncode == 0, ran.output
        assert set(by_ip.tokens_seen()) == {"token-for-ip-1234"}
        assert set(by_name.tokens_seen()) == {"token-for-name-1234"}


@pytest.mark.slow
def test_url_credential_is_used_for_the_host_warned_about_and_never_written(
    forge: Forge, tmp_path: Path, canary: str
) -> None:
    forge.push("o/one.git", project("one", "1.0"))
    forge.push("o/two.git", project("two", "1.0"))
    port = forge.server.port
    app = App.make(
        tmp_path / "app",
        f"one @ git+http://user:{canary}@127.0.0.1:{port}/o/one.git\n"
        f"two @ git+http://127.0.0.1:{port}/o/two.git",
    )
    ran = app.run("-v", "vendor", "-r", "requirements.txt", "-o", "wh", "--no-build-isolation")
    assert ran.returncode == 0, ran.output
    assert "carries a credential" in ran.stderr and "GITDEPS_TOKEN_127_0_0_1" in ran.stderr
    assert canary not in ran.output
    hits = files_containing(app.root, canary)
    assert hits == [app.requirements]  # the user's own file, nothing gitdeps wrote
    assert set(forge.server.tokens_seen()) == {canary}


@pytest.mark.slow
def test_build_backend_never_sees_a_credential(forge: Forge, tmp_path: Path, canary: str) -> None:
    setup = (
        "import os, setuptools\n"
        "os.makedirs('spy', exist_ok=True)\n"
        "open('spy/__init__.py', 'w').write('ENV = ' + repr(dict(os.environ)))\n"
        "setuptools.setup(name='spy', version='1.0', packages=['spy'])\n"
    )
    forge.push("o/spy.git", {"setup.py": setup})
    env = {
        "GITDEPS_TOKEN_127_0_0_1": canary,
        "SYSTEM_ACCESSTOKEN": canary + "-ado",
        "AZURE_CLIENT_SECRET": canary + "-sp",
        "SOME_INNOCENT_NAME": canary,  # a copy under a name we could not guess
    }
    app = App.make(tmp_path / "app", f"spy @ {forge.url('o/spy.git')}", env)
    ran = app.vendor("--no-build-isolation", lock=False)
    assert ran.returncode == 0, ran.output
    (wheel,) = app.wheelhouse.glob("spy-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        seen = archive.read("spy/__init__.py").decode()
    assert "SOURCE_DATE_EPOCH" in seen  # the spy did run in the backend
    assert canary not in seen
    for name in (
        "GITDEPS_TOKEN_127_0_0_1",
        "SYSTEM_ACCESSTOKEN",
        "AZURE_CLIENT_SECRET",
        "SOME_INNOCENT_NAME",
    ):
        assert repr(name) not in seen


@pytest.mark.slow
def test_rewrite_gives_pip_what_it_needs_to_clone_and_shows_no_token(
    forge: Forge, tmp_path: Path, canary: str
) -> None:
    import stat

    from tests.support.app import fresh_venv, pip_install, run_python

    forge.push("o/one.git", project("one", "1.0"), tag="v1")
    app = tmp_path / "app"
    app.mkdir()
    (app / "requirements.txt").write_text(f"one @ {forge.url('o/one.git', 'v1')}\npublicdep\n")
    ran = run_gitdeps(
        "rewrite", "-r", "requirements.txt", "-o", "secret/requirements.txt",
        cwd=app, env={"GITDEPS_TOKEN_127_0_0_1": canary},
    )  # fmt: skip
    assert ran.returncode == 0, ran.output
    assert canary not in ran.output
    assert "contains tokens" in ran.stderr and "1 git requirements with a token" in ran.stdout
    out = app / "secret" / "requirements.txt"
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    text = out.read_text()
    assert text.startswith("# WARNING") and canary in text
    python = fresh_venv(tmp_path / "venv")
    installed = pip_install(python, "-r", str(out), cwd=app)
    assert installed.returncode == 0, installed.output
    assert run_python(python, "import one, publicdep; print('ok')", cwd=tmp_path).strip() == "ok"


@pytest.mark.slow
def test_rewrite_names_a_private_dependency_pip_cannot_clone_and_gives_uv_its_token(
    forge: Forge, tmp_path: Path, canary: str, index_url: str
) -> None:
    """pip clones a private package's private dependency from the URL in its metadata,
    which no rewritten line can give a token: for pip, rewrite says so and writes
    nothing; for uv, which reuses a host's token, the dependency gets a line."""
    import subprocess

    from uv import find_uv_bin

    from tests.support.app import fresh_venv, run_python

    line = forge.push_acme()
    app = tmp_path / "app"
    app.mkdir()
    (app / "requirements.txt").write_text(line + "\n")
    env = {"GITDEPS_TOKEN_127_0_0_1": canary}
    out = app / "secret" / "requirements.txt"

    for_pip = run_gitdeps("rewrite", "-r", "requirements.txt", "-o", out, cwd=app, env=env)
    assert for_pip.returncode == 3, for_pip.output
    (said,) = [row for row in for_pip.stderr.splitlines() if row.startswith("error:")]
    assert "acme-core" in said and "acme-utils" in said and "gitdeps vendor" in for_pip.stderr
    assert "--for uv" in for_pip.stderr
    assert not out.exists() and canary not in for_pip.output

    for_uv = run_gitdeps(
        "rewrite", "-r", "requirements.txt", "-o", out, "--for", "uv", cwd=app, env=env
    )
    assert for_uv.returncode == 0, for_uv.output
    assert canary not in for_uv.output and "2 git requirements with a token" in for_uv.stdout
    rows = out.read_text().splitlines()
    assert [r.split(" @ ")[0] for r in rows if " @ " in r] == ["acme-utils", "acme-core"]
    venv = tmp_path / "venv"
    python = fresh_venv(venv)
    installed = subprocess.run(
        [find_uv_bin(), "pip", "install", "--python", str(python), "--index-url", index_url,
         "-r", str(out)],
        cwd=app, capture_output=True, text=True, check=False,
        env={**os.environ, "GIT_TERMINAL_PROMPT": "0"},
    )  # fmt: skip
    assert installed.returncode == 0, installed.stderr
    assert canary not in installed.stdout + installed.stderr
    code = "import acme_utils, acme_core, publicdep; print('ok')"
    assert run_python(python, code, cwd=tmp_path).strip() == "ok"
