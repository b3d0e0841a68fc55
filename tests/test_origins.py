"""A credential goes to exactly the origin it was given for, and every source serves
any number of repositories on its host (issue: corporate networks and credentials)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from gitdeps import AuthError, FetchError, GitDepsError
from gitdeps._config import Config, HostConfig, load_config
from gitdeps._credentials.scope import Scope
from gitdeps._credentials.store import Credentials
from gitdeps._fetch.git import list_refs
from gitdeps._inputs.giturl import parse_git_url
from tests.support.app import App, Forge
from tests.support.credhelper import install_helper, read_log
from tests.support.gitserver import GitServer, commit_files, make_repo
from tests.support.identity import IdentityEndpoint
from tests.support.keyrings import MemoryKeyring
from tests.support.projects import project


def _url(text: str):  # type: ignore[no-untyped-def]
    return parse_git_url(text)[0]


def test_a_port_specific_variable_wins_for_its_port_only() -> None:
    credentials = Credentials(
        environ={"GITDEPS_TOKEN_H_TEST_8443": "for-8443", "GITDEPS_TOKEN_H_TEST": "for-the-host"}
    )
    on_port = credentials.for_url(_url("git+https://h.test:8443/o/r.git"))
    elsewhere = credentials.for_url(_url("git+https://h.test/o/r.git"))
    assert on_port is not None and on_port.token.reveal() == "for-8443"
    assert elsewhere is not None and elsewhere.token.reveal() == "for-the-host"


def test_a_port_specific_user_name_wins_for_its_port_only() -> None:
    credentials = Credentials(
        environ={
            "GITDEPS_TOKEN_H_TEST": "t",
            "GITDEPS_USERNAME_H_TEST_8443": "on-8443",
            "GITDEPS_USERNAME_H_TEST": "elsewhere",
        }
    )
    on_port = credentials.for_url(_url("git+https://h.test:8443/o/r.git"))
    other = credentials.for_url(_url("git+https://h.test/o/r.git"))
    assert on_port is not None and on_port.username == "on-8443"
    assert other is not None and other.username == "elsewhere"


def test_two_hosts_that_share_a_variable_name_are_refused() -> None:
    credentials = Credentials(environ={"GITDEPS_TOKEN_A_B_TEST": "secret"})
    assert credentials.for_url(_url("git+https://a-b.test/o/r.git")) is not None
    with pytest.raises(AuthError) as caught:
        credentials.for_url(_url("git+https://a.b.test/o/r.git"))
    message = str(caught.value)
    assert "GITDEPS_TOKEN_A_B_TEST would be sent to both a-b.test and a.b.test" in message
    assert '[hosts."a.b.test"] provider = "env", variable = ' in message


def test_a_configured_variable_names_the_token_of_one_host() -> None:
    config = Config(hosts={"a.b.test": HostConfig(provider="env", variable="AB_TOKEN")})
    credentials = Credentials(
        environ={"AB_TOKEN": "mine", "GITDEPS_TOKEN_A_B_TEST": "the other hosts"}, config=config
    )
    found = credentials.for_url(_url("git+https://a.b.test/o/r.git"))
    assert found is not None and found.token.reveal() == "mine" and found.source == "AB_TOKEN"


def test_a_pasted_newline_is_no_part_of_the_token() -> None:
    credentials = Credentials(environ={"GITDEPS_TOKEN_H_TEST": "tok-123\n"})
    found = credentials.for_url(_url("git+https://h.test/o/r.git"))
    assert found is not None and found.token.reveal() == "tok-123"


def test_a_url_credential_serves_its_own_origin_only() -> None:
    _, embedded = parse_git_url("git+https://user:tok@h.test/o/r.git")
    assert embedded is not None
    credentials = Credentials([embedded], environ={})
    assert credentials.for_url(_url("git+https://h.test/o/other.git")) is not None
    assert credentials.for_url(_url("git+https://h.test:443/o/other.git")) is not None
    assert credentials.for_url(_url("git+http://h.test/o/other.git")) is None
    assert credentials.for_url(_url("git+https://h.test:8443/o/other.git")) is None


def _ten_repositories(forge: Forge) -> list[str]:
    for n in range(10):
        forge.push(f"o/r{n}.git", {"f.txt": f"{n}\n"})
    return [forge.url(f"o/r{n}.git") for n in range(10)]


def _list_all(urls: list[str], credentials: Credentials) -> int:
    with ThreadPoolExecutor(max_workers=10) as pool:
        results = list(pool.map(lambda u: list_refs(_url(u), credentials), urls))
    return sum(1 for r in results if r.refs)


def test_a_credential_helper_serves_ten_repositories_asked_once_as_git_asks(
    forge: Forge, tmp_path: Path, canary: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    urls = _ten_repositories(forge)
    hostport = f"127.0.0.1:{forge.server.port}"
    env = install_helper(tmp_path / "helper", {f"http://{hostport}": ("me", canary)})
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert _list_all(urls, Credentials(environ={})) == 10
    log = read_log(tmp_path / "helper")
    gets = [entry for entry in log if entry["action"] == "get"]
    assert len(gets) == 1  # once per origin, the other nine waited for its answer
    assert gets[0]["protocol"] == "http" and gets[0]["host"] == hostport
    stores = [entry for entry in log if entry["action"] == "store"]
    assert len(stores) == 1 and stores[0]["username"] == "me" and stores[0]["password_given"]
    assert set(forge.server.tokens_seen()) == {canary}


def test_an_answer_for_another_origin_is_never_sent(
    forge: Forge, tmp_path: Path, canary: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Stored for https://127.0.0.1 (no port): not for http://127.0.0.1:PORT."""
    (url,) = _ten_repositories(forge)[:1]
    env = install_helper(tmp_path / "helper", {"https://127.0.0.1": ("me", canary)})
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(AuthError, match="asks for credentials"):
        list_refs(_url(url), Credentials(environ={}))
    assert forge.server.tokens_seen() == []


def test_a_refused_answer_is_reported_to_the_helper(
    forge: Forge, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (url,) = _ten_repositories(forge)[:1]
    hostport = f"127.0.0.1:{forge.server.port}"
    env = install_helper(tmp_path / "helper", {f"http://{hostport}": ("me", "stale-token")})
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(AuthError, match="rejected the token from git credential fill"):
        list_refs(_url(url), Credentials(environ={}))
    erased = [e for e in read_log(tmp_path / "helper") if e["action"] == "erase"]
    assert len(erased) == 1 and erased[0]["host"] == hostport


def test_netrc_serves_ten_repositories_on_one_host(
    forge: Forge, tmp_path: Path, canary: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    urls = _ten_repositories(forge)
    netrc = tmp_path / "netrc"
    netrc.write_text(f"machine 127.0.0.1 login me password {canary}\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    assert _list_all(urls, Credentials(environ={})) == 10
    assert set(forge.server.tokens_seen()) == {canary}


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    import keyring

    previous = keyring.get_keyring()
    backend = MemoryKeyring({})
    keyring.set_keyring(backend)
    try:
        yield backend
    finally:
        keyring.set_keyring(previous)


@pytest.mark.parametrize("configured", [True, False], ids=["provider-keyring", "after-401"])
def test_the_keyring_serves_ten_repositories_asked_once(
    forge: Forge,
    canary: str,
    memory_keyring: MemoryKeyring,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    configured: bool,
) -> None:
    monkeypatch.setenv("NETRC", str(tmp_path / "no-netrc"))
    urls = _ten_repositories(forge)
    origin = f"http://127.0.0.1:{forge.server.port}"
    memory_keyring.entries[origin] = ("me", canary)
    config = Config(hosts={"127.0.0.1": HostConfig(provider="keyring")}) if configured else None
    assert _list_all(urls, Credentials(environ={}, config=config)) == 10
    assert memory_keyring.asked == [origin]
    assert set(forge.server.tokens_seen()) == {canary}


def test_a_managed_identity_serves_ten_repositories_asked_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = "eyJ0eXAi-ten-" + secrets.token_hex(12)
    header = "identity-header-" + secrets.token_hex(8)
    root = tmp_path / "srv"
    root.mkdir()
    with (
        IdentityEndpoint(token=token, header_secret=header) as identity,
        GitServer(root, token=token, schemes=("bearer",)) as server,
    ):
        urls = _ten_repositories(Forge(server, root, tmp_path / "pushes"))
        monkeypatch.setenv("IDENTITY_ENDPOINT", identity.app_service_url)
        monkeypatch.setenv("IDENTITY_HEADER", header)
        config = Config(
            hosts={
                "127.0.0.1": HostConfig(provider="azure-identity", credential="managed-identity")
            }
        )
        assert _list_all(urls, Credentials(environ={}, config=config)) == 10
        assert len(identity.asked) == 1
        assert set(server.tokens_seen()) == {token}


def test_two_ports_of_one_host_each_get_only_their_own_token(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tokens = ("port-one-" + secrets.token_hex(8), "port-two-" + secrets.token_hex(8))
    roots = [tmp_path / "one", tmp_path / "two"]
    for root in roots:
        root.mkdir()
    with (
        GitServer(roots[0], token=tokens[0]) as one,
        GitServer(roots[1], token=tokens[1]) as two,
    ):
        urls = []
        for server, root, token in ((one, roots[0], tokens[0]), (two, roots[1], tokens[1])):
            monkeypatch.setenv(f"GITDEPS_TOKEN_127_0_0_1_{server.port}", token)
            urls += _ten_repositories(Forge(server, root, root / "pushes"))[:2]
        assert _list_all(urls, Credentials()) == 4
        assert set(one.tokens_seen()) == {tokens[0]}
        assert set(two.tokens_seen()) == {tokens[1]}


@pytest.mark.parametrize(("status", "error"), [(500, FetchError), (403, AuthError)])
def test_an_error_names_the_host_that_answered_after_a_redirect(
    forge: Forge, tmp_path: Path, canary: str, status: int, error: type[Exception]
) -> None:
    root = tmp_path / "other"
    root.mkdir()
    with GitServer(root, token=None) as other:
        other.hook = lambda method, path: (status, {}, b"no")
        forge.server.hook = lambda method, path: (
            (302, {"Location": other.url + path}, b"") if path.startswith("/o/moved.git") else None
        )
        url, _ = parse_git_url(forge.url("o/moved.git"))
        with pytest.raises(error) as caught:
            list_refs(url, Credentials(environ={"GITDEPS_TOKEN_127_0_0_1": canary}))
    assert f"127.0.0.1:{other.port} " in str(caught.value)
    assert f"127.0.0.1:{forge.server.port} " not in str(caught.value)
    assert other.tokens_seen() == []


@pytest.mark.parametrize("source", ["environment", "requirement-url"])
def test_environment_and_url_credentials_serve_ten_repositories(
    forge: Forge, canary: str, source: str
) -> None:
    urls = _ten_repositories(forge)
    if source == "environment":
        credentials = Credentials(environ={"GITDEPS_TOKEN_127_0_0_1": canary})
    else:
        authed = urls[0].replace("http://", f"http://user:{canary}@")
        _, embedded = parse_git_url(authed)
        assert embedded is not None
        credentials = Credentials([embedded], environ={})
    assert _list_all(urls, credentials) == 10
    assert set(forge.server.tokens_seen()) == {canary}
    assert all(r.authorization for r in forge.server.requests)  # no 401 round trips


def _scoped(environ: dict[str, str], *named: str) -> Credentials:
    return Credentials(environ=environ, scope=Scope.of([_url(u) for u in named]))


@pytest.mark.parametrize("first", ["a.b.test", "a-b.test"])
def test_two_named_hosts_that_share_a_variable_are_both_refused_it(first: str) -> None:
    """Whichever asks first, and even when only one ever asks (the other cached)."""
    credentials = _scoped(
        {"GITDEPS_TOKEN_A_B_TEST": "shared-" + secrets.token_hex(8)},
        "git+https://a.b.test/o/r.git",
        "git+https://a-b.test/o/r.git",
    )
    with pytest.raises(AuthError, match=r"both a-b\.test and a\.b\.test"):
        credentials.for_url(_url(f"git+https://{first}/o/r.git"))


def test_an_origin_no_input_names_gets_no_credential_from_any_source() -> None:
    credentials = _scoped(
        {"GITDEPS_TOKEN_A_B_TEST": "mine", "GITDEPS_TOKEN_A_B_TEST_8443": "mine-too"},
        "git+https://a.b.test/o/r.git",
    )
    assert credentials.for_url(_url("git+https://a.b.test/o/other.git")) is not None
    for elsewhere in (
        "git+https://a-b.test/o/r.git",  # a look-alike met in a dependency
        "git+http://a.b.test/o/r.git",  # the user's host in clear
        "git+https://a.b.test:8443/o/r.git",  # the user's host on another port
    ):
        url = _url(elsewhere)
        assert credentials.for_url(url) is None, elsewhere
        assert credentials.after_unauthorized(url) is None, elsewhere
        assert "reached through a dependency" in credentials.hint(url)


def test_gitdeps_toml_names_the_https_origin_of_a_host() -> None:
    config = Config(hosts={"c.test": HostConfig(provider="env", variable="C_TOKEN")})
    credentials = Credentials(
        environ={"C_TOKEN": "for-c"}, config=config, scope=Scope.of([], config)
    )
    assert credentials.for_url(_url("git+https://c.test/o/r.git")) is not None
    assert credentials.for_url(_url("git+http://c.test/o/r.git")) is None


@pytest.mark.slow
@pytest.mark.parametrize("where", ["another host", "another port"])
def test_a_dependency_cannot_widen_where_a_token_goes(
    forge: Forge, tmp_path: Path, canary: str, where: str
) -> None:
    """The user's package (on their host) depends on a repository elsewhere, a real
    second server asking for credentials: it gets none of the user's tokens."""
    other_root = tmp_path / "other"
    make_repo(other_root, "o/dep.git")
    commit_files(other_root / "o/dep.git", project("dep", "1.0"), work=tmp_path / "w2")
    host = "localhost" if where == "another host" else "127.0.0.1"
    with GitServer(other_root, token="other-" + canary, host=host) as other:
        forge.push(
            "o/top.git", project("top", "1.0", dependencies=[f"dep @ git+{other.url}/o/dep.git"])
        )
        app = App.make(
            tmp_path / "app",
            f"top @ {forge.url('o/top.git')}",
            {"GITDEPS_TOKEN_127_0_0_1": canary, "GITDEPS_TOKEN_LOCALHOST": canary},
        )
        ran = app.vendor("--no-build-isolation", lock=False)
        assert other.requests, "the dependency was never asked for"
        assert all(r.authorization is None for r in other.requests)
    assert ran.returncode == 4, ran.output
    assert "reached through a dependency" in ran.stderr and canary not in ran.output


def test_gitdeps_toml_origins_name_other_origins_of_a_host(tmp_path: Path) -> None:
    toml = tmp_path / "gitdeps.toml"
    toml.write_text('[hosts."git.corp.test"]\norigins = ["http://git.corp.test:8080"]\n')
    config = load_config(toml)
    credentials = Credentials(
        environ={"GITDEPS_TOKEN_GIT_CORP_TEST": "t"}, config=config, scope=Scope.of([], config)
    )
    assert credentials.for_url(_url("git+http://git.corp.test:8080/o/r.git")) is not None
    assert credentials.for_url(_url("git+https://git.corp.test/o/r.git")) is None
    toml.write_text('[hosts."git.corp.test"]\norigins = ["https://other.test"]\n')
    with pytest.raises(GitDepsError, match=r"is not an origin of git\.corp\.test"):
        load_config(toml)
