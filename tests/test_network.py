"""Proxies and certificate trust as git, pip and requests users expect them, against a
real HTTPS git server signed by a test CA and a real forwarding proxy on loopback."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme

from gitdeps import FetchError
from gitdeps._credentials.store import Credentials
from gitdeps._fetch.git import list_refs
from gitdeps._inputs.giturl import parse_git_url
from gitdeps._network import bypasses_proxy, proxy_for
from tests.support.app import Forge, vendor_in
from tests.support.gitserver import GitServer
from tests.support.projects import project
from tests.support.proxy import Proxy

_PROXY_VARIABLES = (
    "HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy",
    "NO_PROXY", "no_proxy", "REQUESTS_CA_BUNDLE", "GIT_SSL_CAINFO", "SSL_CERT_FILE",
    "CURL_CA_BUNDLE", "REQUEST_METHOD",
)  # fmt: skip


@pytest.fixture(autouse=True)
def _no_network_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in _PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize(
    ("host", "port", "no_proxy", "bypass"),
    [
        ("git.corp.example", 443, "corp.example", True),
        ("git.corp.example", 443, ".corp.example", True),
        ("corp.example", 443, ".corp.example", True),
        ("notcorp.example", 443, "corp.example", False),
        ("git.corp.example", 443, "other.example, corp.example", True),
        ("git.corp.example", 443, "*", True),
        ("10.1.2.3", 443, "10.0.0.0/8", True),
        ("10.1.2.3", 443, "192.168.0.0/16", False),
        ("127.0.0.1", 8080, "127.0.0.1:8080", True),
        ("127.0.0.1", 9090, "127.0.0.1:8080", False),
        ("git.corp.example", 443, "", False),
    ],
)
def test_no_proxy_follows_curls_rules(host: str, port: int, no_proxy: str, bypass: bool) -> None:
    assert bypasses_proxy(host, port, no_proxy) is bypass


def test_the_proxy_comes_from_either_case_then_from_git(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://upper:3128")
    monkeypatch.setenv("HTTP_PROXY", "http://plain:3128")
    assert proxy_for("https://dev.azure.com/o/p/_git/r") == "http://upper:3128"
    assert proxy_for("http://git.internal/r.git") == "http://plain:3128"
    monkeypatch.setenv("https_proxy", "http://lower:3128")
    assert proxy_for("https://dev.azure.com/o/p/_git/r") == "http://lower:3128"
    monkeypatch.setenv("NO_PROXY", "dev.azure.com")
    assert proxy_for("https://dev.azure.com/o/p/_git/r") is None
    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "NO_PROXY"):
        monkeypatch.delenv(name)
    config = tmp_path / "gitconfig"
    config.write_text(
        '[http]\n\tproxy = http://from-git:8080\n[http "https://special.example"]\n'
        "\tproxy = http://special-proxy:8080\n"
    )
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(config))
    assert proxy_for("https://dev.azure.com/o/p/_git/r") == "http://from-git:8080"
    assert proxy_for("https://special.example/r.git") == "http://special-proxy:8080"


@pytest.fixture(scope="session")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def tls_forge(tmp_path: Path, canary: str, ca: trustme.CA) -> Iterator[Forge]:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    root = tmp_path / "srv-tls"
    root.mkdir()
    with GitServer(root, token=canary, tls=context) as server:
        forge = Forge(server, root, tmp_path / "pushes-tls")
        forge.push("o/lib.git", project("lib", "1.0"), tag="v1")
        yield forge


@pytest.fixture
def ca_file(tmp_path: Path, ca: trustme.CA) -> Path:
    path = tmp_path / "corporate-ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return path


def _refs(forge: Forge, canary: str) -> int:
    url, _ = parse_git_url(forge.url("o/lib.git"))
    return len(list_refs(url, Credentials(environ={"GITDEPS_TOKEN_127_0_0_1": canary})).refs)


def test_an_untrusted_certificate_names_the_host_and_what_to_set(
    tls_forge: Forge, canary: str
) -> None:
    with pytest.raises(FetchError) as caught:
        _refs(tls_forge, canary)
    message = str(caught.value)
    assert f"TLS certificate of 127.0.0.1:{tls_forge.server.port} is not trusted" in message
    assert "certificate verify failed" in message
    assert "REQUESTS_CA_BUNDLE or GIT_SSL_CAINFO" in message
    assert canary not in message


@pytest.mark.parametrize(
    "setting",
    ["REQUESTS_CA_BUNDLE", "GIT_SSL_CAINFO", "SSL_CERT_FILE", "CURL_CA_BUNDLE", "http.sslCAInfo"],
)
def test_a_private_ca_is_trusted_from_every_setting_users_have(
    tls_forge: Forge, canary: str, ca_file: Path, setting: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if setting == "http.sslCAInfo":
        config = ca_file.parent / "gitconfig"
        config.write_text(f"[http]\n\tsslCAInfo = {ca_file}\n")
        monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(config))
    else:
        monkeypatch.setenv(setting, str(ca_file))
    assert _refs(tls_forge, canary) >= 2
    assert set(tls_forge.server.tokens_seen()) == {canary}


def test_https_goes_through_the_proxy_from_upper_case_variables(
    tls_forge: Forge, canary: str, ca_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Proxy(credentials=("proxyuser", "proxy-pass")) as proxy:
        monkeypatch.setenv("HTTPS_PROXY", f"http://proxyuser:proxy-pass@127.0.0.1:{proxy.port}")
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(ca_file))
        assert _refs(tls_forge, canary) >= 2
        assert ("CONNECT", f"127.0.0.1:{tls_forge.server.port}") in proxy.seen
        proxy.seen.clear()
        monkeypatch.setenv("NO_PROXY", "localhost,127.0.0.1")
        assert _refs(tls_forge, canary) >= 2
        assert proxy.seen == []


def test_plain_http_goes_through_an_upper_case_http_proxy(
    forge: Forge, canary: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    forge.push("o/lib.git", project("lib", "1.0"))
    with Proxy() as proxy:
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        assert _refs(forge, canary) >= 1
    assert any(target.startswith(f"{forge.server.url}/o/lib.git/") for _, target in proxy.seen)


@pytest.mark.slow
def test_vendor_through_a_proxy_to_a_private_ca_host(
    tls_forge: Forge, tmp_path: Path, canary: str, ca_file: Path
) -> None:
    with Proxy(credentials=("proxyuser", "proxy-pass")) as proxy:
        env = {
            "GITDEPS_TOKEN_127_0_0_1": canary,
            "HTTPS_PROXY": f"http://proxyuser:proxy-pass@127.0.0.1:{proxy.port}",
            "GIT_SSL_CAINFO": str(ca_file),
        }
        ran = vendor_in(tmp_path / "app", f"lib @ {tls_forge.url('o/lib.git', 'v1')}", env=env)
        ran_verbose = vendor_in(
            tmp_path / "again", f"lib @ {tls_forge.url('o/lib.git', 'v1')}", env=env
        )
    assert ran.returncode == 0, ran.output
    assert ran_verbose.returncode == 0
    assert any(method == "CONNECT" for method, _ in proxy.seen)
    assert "proxy-pass" not in ran.output + ran_verbose.output
