"""Credential providers against the real libraries and loopback endpoints."""

from __future__ import annotations

import json
import secrets
from pathlib import Path

import pytest

from tests.support.app import Forge, files_containing, run_gitdeps
from tests.support.gitserver import GitServer, commit_files, make_repo
from tests.support.identity import IdentityEndpoint
from tests.support.projects import project

pytestmark = pytest.mark.slow

AZURE_DEVOPS_RESOURCE = "499b84ac-1321-427f-aa17-267ca6975798"


def _bearer_only_server(tmp_path: Path, token: str) -> GitServer:
    make_repo(tmp_path / "srv", "org/_git/acme.git")
    commit_files(
        tmp_path / "srv" / "org/_git/acme.git", project("acme", "1.0"), work=tmp_path / "w"
    )
    return GitServer(tmp_path / "srv", token=token, schemes=("bearer",))


def _app(tmp_path: Path, server: GitServer, config: str) -> Path:
    app = tmp_path / "app"
    app.mkdir()
    (app / "requirements.txt").write_text(f"acme @ git+{server.url}/org/_git/acme.git\n")
    (app / "gitdeps.toml").write_text(config)
    return app


@pytest.mark.parametrize("credential", ["managed-identity", "default"])
def test_app_service_managed_identity_through_azure_identity(
    tmp_path: Path, credential: str
) -> None:
    token = "eyJ0eXAi-canary-" + secrets.token_hex(16)
    header = "identity-header-" + secrets.token_hex(8)
    with (
        IdentityEndpoint(token=token, header_secret=header) as identity,
        _bearer_only_server(tmp_path, token) as server,
    ):
        app = _app(
            tmp_path,
            server,
            f'[hosts."127.0.0.1"]\nprovider = "azure-identity"\ncredential = "{credential}"\n',
        )
        ran = run_gitdeps(
            "-v", "vendor", "-r", "requirements.txt", "-o", "wh", "--no-build-isolation",
            cwd=app,
            env={"IDENTITY_ENDPOINT": identity.app_service_url, "IDENTITY_HEADER": header},
        )  # fmt: skip
        assert ran.returncode == 0, ran.output
        assert "from azure-identity" in ran.stderr
        assert {a["resource"] for a in identity.asked} == {AZURE_DEVOPS_RESOURCE}
        assert set(server.tokens_seen()) == {token}
        assert token not in ran.output and header not in ran.output
        assert files_containing(app, token) == [] and files_containing(app, header) == []


def test_vm_imds_with_a_user_assigned_identity_in_pyproject(tmp_path: Path) -> None:
    token = "eyJ0eXAi-imds-" + secrets.token_hex(16)
    with (
        IdentityEndpoint(token=token, header_secret="") as identity,
        _bearer_only_server(tmp_path, token) as server,
    ):
        app = _app(tmp_path, server, "")
        (app / "gitdeps.toml").unlink()
        (app / "pyproject.toml").write_text(
            '[project]\nname = "app"\nversion = "0"\n\n'
            '[tool.gitdeps.hosts."127.0.0.1"]\nprovider = "azure-identity"\n'
            'credential = "managed-identity"\nclient-id = "11111111-2222-3333-4444-555555555555"\n'
        )
        ran = run_gitdeps(
            "vendor", "-r", "requirements.txt", "-o", "wh", "--no-build-isolation",
            cwd=app, env={"AZURE_POD_IDENTITY_AUTHORITY_HOST": identity.imds_host},
        )  # fmt: skip
        assert ran.returncode == 0, ran.output
        (asked,) = {(a["path"], a.get("client_id")) for a in identity.asked}
        assert asked == ("/metadata/identity/oauth2/token", "11111111-2222-3333-4444-555555555555")
        assert set(server.tokens_seen()) == {token}


@pytest.mark.parametrize(
    ("status", "body"),
    [(400, None), (401, b""), (500, b"<html>gateway</html>"), (200, b"{not json")],
    ids=["400 JSON", "401 empty", "500 HTML", "200 not JSON"],
)
def test_managed_identity_failure_is_one_line(
    tmp_path: Path, status: int, body: bytes | None
) -> None:
    with (
        IdentityEndpoint(
            token="x" * 20, header_secret="h-1234567", status=status, body=body
        ) as identity,
        _bearer_only_server(tmp_path, "unused-token") as server,
    ):
        app = _app(
            tmp_path,
            server,
            '[hosts."127.0.0.1"]\nprovider = "azure-identity"\ncredential = "managed-identity"\n',
        )
        ran = run_gitdeps(
            "vendor", "-r", "requirements.txt", "-o", "wh", "--no-build-isolation",
            cwd=app,
            env={"IDENTITY_ENDPOINT": identity.app_service_url, "IDENTITY_HEADER": "h-1234567"},
        )  # fmt: skip
        assert ran.returncode == 4, ran.output
        assert "azure-identity (ManagedIdentityCredential) could not get a token" in ran.stderr
        assert "Traceback" not in ran.stderr and "h-1234567" not in ran.stderr
        assert len(ran.stderr.strip().splitlines()) == 1


def test_git_credential_helper(forge: Forge, tmp_path: Path, canary: str) -> None:
    forge.push("o/one.git", project("one", "1.0"))
    helper = tmp_path / "helper.sh"
    helper.write_text(
        "#!/bin/sh\n"
        f'[ "$1" = get ] && cat > "{tmp_path}/asked" && printf "username=u\\npassword={canary}\\n"\n'
    )
    helper.chmod(0o755)
    gitconfig = tmp_path / "gitconfig"
    gitconfig.write_text(f"[credential]\n\thelper = {helper}\n")
    app = tmp_path / "app"
    app.mkdir()
    (app / "requirements.txt").write_text(f"one @ {forge.url('o/one.git')}\n")
    ran = run_gitdeps(
        "-v", "vendor", "-r", "requirements.txt", "-o", "wh", "--no-build-isolation",
        cwd=app, env={"GIT_CONFIG_GLOBAL": str(gitconfig)},
    )  # fmt: skip
    assert ran.returncode == 0, ran.output
    assert "from git credential fill" in ran.stderr
    assert "host=127.0.0.1" in (tmp_path / "asked").read_text()
    assert canary not in ran.output
    assert set(forge.server.tokens_seen()) == {canary}


def test_netrc(forge: Forge, tmp_path: Path, canary: str) -> None:
    forge.push("o/one.git", project("one", "1.0"))
    netrc = tmp_path / "netrc"
    netrc.write_text(f"machine 127.0.0.1 login someone password {canary}\n")
    netrc.chmod(0o600)
    app = tmp_path / "app"
    app.mkdir()
    (app / "requirements.txt").write_text(f"one @ {forge.url('o/one.git')}\n")
    ran = run_gitdeps(
        "-v", "vendor", "-r", "requirements.txt", "-o", "wh", "--no-build-isolation",
        cwd=app, env={"NETRC": str(netrc)},
    )  # fmt: skip
    assert ran.returncode == 0, ran.output
    assert "from netrc" in ran.stderr and canary not in ran.output


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ('[hosts."h"]\nprovider = "magic"\n', "provider 'magic' is not one of"),
        ('[hosts."h"]\nprovider = "env"\ncolour = "blue"\n', "unknown key 'colour'"),
        ("[hosts\n", "not valid TOML"),
    ],
)
def test_bad_configuration_is_named(tmp_path: Path, config: str, expected: str) -> None:
    (tmp_path / "requirements.txt").write_text("publicdep\n")
    (tmp_path / "gitdeps.toml").write_text(config)
    ran = run_gitdeps("vendor", "-r", "requirements.txt", "-o", "wh", cwd=tmp_path)
    assert ran.returncode == 3
    assert "gitdeps.toml" in ran.stderr and expected in ran.stderr


def test_auth_check_names_the_source_and_the_verdict_per_host(
    forge: Forge, tmp_path: Path, canary: str
) -> None:
    forge.push("o/one.git", project("one", "1.0"))
    app = tmp_path / "app"
    app.mkdir()
    (app / "requirements.txt").write_text(f"one @ {forge.url('o/one.git')}\npublicdep\n")
    good = run_gitdeps("auth", "check", cwd=app, env={"GITDEPS_TOKEN_127_0_0_1": canary})
    assert good.returncode == 0, good.output
    assert f"127.0.0.1:{forge.server.port}: GITDEPS_TOKEN_127_0_0_1: accepted" in good.stdout
    bad = run_gitdeps(
        "auth", "check", cwd=app, env={"GITDEPS_TOKEN_127_0_0_1": "wrong-" + canary[::-1]}
    )
    assert bad.returncode == 4
    assert "NOT accepted" in bad.stdout and "rejected the token" in bad.stdout
    none = run_gitdeps("auth", "check", cwd=app)
    assert none.returncode == 4 and "no credential (anonymous)" in none.stdout
    assert canary not in good.output + bad.output + none.output


def test_msal_sign_in_then_silent_refresh_then_logout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, _own_cache: Path
) -> None:
    import stat

    import gitdeps
    from gitdeps._config import HostConfig
    from gitdeps._credentials import msal_login as _msal
    from tests.support.entra import FakeEntra

    first, second = (
        "eyJ-msal-first-" + secrets.token_hex(8),
        "eyJ-msal-second-" + secrets.token_hex(8),
    )
    entra = FakeEntra([first, second])
    monkeypatch.setattr(_msal, "HTTP_CLIENT", entra)
    shown: list[str] = []
    user = _msal.login(HostConfig(provider="msal"), show=shown.append)
    assert user == "dev@contoso.example" and "GDCODE42" in shown[0]
    cache_file = _msal.token_cache_path()
    assert stat.S_IMODE(cache_file.stat().st_mode) == 0o600
    # the sign-in is state, not cache: `gitdeps cache clean` does not sign anyone out
    assert cache_file.is_relative_to(tmp_path / "gitdeps-state")
    assert not cache_file.is_relative_to(_own_cache)

    with _bearer_only_server(tmp_path, first) as server:
        app = _app(tmp_path, server, '[hosts."127.0.0.1"]\nprovider = "msal"\n')
        monkeypatch.chdir(app)
        result = gitdeps.vendor(
            ["requirements.txt"], "wh", "wh/requirements.txt", build_isolation=False
        )
        assert [p.name for p in result.packages] == ["acme"]
        assert set(server.tokens_seen()) == {first}

    # The access token expires: the next run refreshes it silently, no prompt.
    entra.expires_in = 0
    data = json.loads(cache_file.read_text())
    for entry in data["AccessToken"].values():
        entry["expires_on"] = entry["extended_expires_on"] = "0"
    cache_file.write_text(json.dumps(data))
    credential = _msal.msal_credential("127.0.0.1", HostConfig(provider="msal"), required=True)
    assert credential is not None and credential.token.reveal() == second
    assert (
        "POST",
        "https://login.microsoftonline.com/organizations/oauth2/v2.0/token",
    ) in entra.asked
    assert first not in cache_file.read_text() or second in cache_file.read_text()

    assert _msal.logout() == 1
    with pytest.raises(gitdeps.AuthError, match="run gitdeps login"):
        _msal.msal_credential("127.0.0.1", HostConfig(provider="msal"), required=True)


def test_a_sign_in_kept_in_the_cache_by_0_2_moves_to_the_state_directory(
    tmp_path: Path, _own_cache: Path
) -> None:
    from gitdeps._credentials import msal_login as _msal

    old = _own_cache / "msal" / "token-cache.json"
    old.parent.mkdir(parents=True)
    old.write_text('{"AccessToken": {}}')
    old.chmod(0o600)
    path = _msal.token_cache_path()
    assert path == tmp_path / "gitdeps-state" / "msal" / "token-cache.json"
    assert path.read_text() == '{"AccessToken": {}}' and not old.exists()
    assert path.stat().st_mode & 0o777 == 0o600
    assert _msal.token_cache_path() == path  # once


def test_helpers_are_not_asked_for_a_host_that_needs_nothing(tmp_path: Path) -> None:
    make_repo(tmp_path / "srv", "o/public.git")
    commit_files(
        tmp_path / "srv" / "o/public.git", project("public-one", "1.0"), work=tmp_path / "w"
    )
    helper = tmp_path / "helper.sh"
    helper.write_text(f'#!/bin/sh\ntouch "{tmp_path}/helper-was-asked"\n')
    helper.chmod(0o755)
    (tmp_path / "gitconfig").write_text(f"[credential]\n\thelper = {helper}\n")
    with GitServer(tmp_path / "srv", token="x" * 20, allow_anonymous=True) as server:
        app = tmp_path / "app"
        app.mkdir()
        (app / "requirements.txt").write_text(f"public-one @ git+{server.url}/o/public.git\n")
        ran = run_gitdeps(
            "vendor", "-r", "requirements.txt", "-o", "wh", "--no-build-isolation",
            cwd=app, env={"GIT_CONFIG_GLOBAL": str(tmp_path / "gitconfig")},
        )  # fmt: skip
        assert ran.returncode == 0, ran.output
        assert all(r.authorization is None for r in server.requests)
    assert not (tmp_path / "helper-was-asked").exists()


def test_azure_cli_is_a_provider_name_too(tmp_path: Path) -> None:
    from gitdeps._config import load_config

    (tmp_path / "gitdeps.toml").write_text('[hosts."Dev.Azure.com"]\nprovider = "azure-cli"\n')
    host = load_config(root=tmp_path).for_host("dev.azure.com")
    assert host is not None and (host.provider, host.credential) == ("azure-identity", "azure-cli")
