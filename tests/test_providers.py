"""Credential providers against the real libraries and loopback endpoints."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest

from tests.conftest import Forge, files_containing, run_gitdeps
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


def test_managed_identity_failure_is_one_line(tmp_path: Path) -> None:
    with (
        IdentityEndpoint(token="x" * 20, header_secret="h-1234567", status=400) as identity,
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
