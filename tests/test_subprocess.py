"""What a build's environment keeps and loses."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitdeps._subprocess import clean_environ


def test_a_callers_git_location_never_reaches_a_build() -> None:
    """Run from a git hook or a CI step, GIT_DIR and friends would point the build's
    own ``git describe`` at the caller's repository instead of the checkout."""
    caller = {
        "GIT_DIR": "/srv/app/.git",
        "GIT_WORK_TREE": "/srv/app",
        "GIT_INDEX_FILE": "/srv/app/.git/index",
        "GIT_OBJECT_DIRECTORY": "/srv/app/.git/objects",
        "GIT_CEILING_DIRECTORIES": "/tmp",
        "GIT_AUTHOR_NAME": "kept",
        "PATH": "/usr/bin",
    }
    cleaned = clean_environ(caller)
    assert {k for k in cleaned if k.startswith("GIT_")} == {
        "GIT_AUTHOR_NAME",
        "GIT_TERMINAL_PROMPT",
    }
    assert cleaned["PATH"] == "/usr/bin"


def test_feed_sign_in_reaches_the_installer_and_git_tokens_reach_nothing() -> None:
    """Build requirements from an Azure Artifacts feed: artifacts-keyring reads
    VSS_NUGET_* in Azure Pipelines, pip and uv read NETRC. A build backend (package
    code) gets none of it; no child gets a git token."""
    caller = {
        "VSS_NUGET_ACCESSTOKEN": "feed-token",
        "VSS_NUGET_EXTERNAL_FEED_ENDPOINTS": '{"endpointCredentials": []}',
        "NETRC": "/home/agent/.netrc",
        "PIP_INDEX_URL": "https://pkgs.dev.azure.com/o/_packaging/f/pypi/simple/",
        "GITDEPS_TOKEN_DEV_AZURE_COM": "git-token",
        "SYSTEM_ACCESSTOKEN": "pipeline-token",
    }
    installer = clean_environ(caller, installer=True)
    backend = clean_environ(caller)
    for name in (
        "VSS_NUGET_ACCESSTOKEN",
        "VSS_NUGET_EXTERNAL_FEED_ENDPOINTS",
        "NETRC",
        "PIP_INDEX_URL",
    ):
        assert installer[name] == caller[name]
        assert name not in backend or name == "PIP_INDEX_URL"
    for name in ("GITDEPS_TOKEN_DEV_AZURE_COM", "SYSTEM_ACCESSTOKEN"):
        assert name not in installer and name not in backend


def test_uv_trusts_what_pip_trusts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """pip uses the OS trust store and its own ``cert``; uv reads neither unless told."""
    from gitdeps._build.environments import uv_environment

    config = tmp_path / "pip.conf"
    config.write_text("[global]\ncert = /etc/corp/ca-bundle.pem\n")
    monkeypatch.setenv("PIP_CONFIG_FILE", str(config))
    env = uv_environment({"PATH": "/usr/bin"})
    assert env["SSL_CERT_FILE"] == "/etc/corp/ca-bundle.pem"
    assert env["UV_SYSTEM_CERTS"] == env["UV_NATIVE_TLS"] == "1"
    mine = uv_environment({"SSL_CERT_FILE": "/mine.pem", "UV_SYSTEM_CERTS": "0"})
    assert mine["SSL_CERT_FILE"] == "/mine.pem" and mine["UV_SYSTEM_CERTS"] == "0"


def test_uv_signs_in_with_keyring_where_its_command_is_installed(tmp_path: Path) -> None:
    from gitdeps._build.environments import uv_environment

    assert "UV_KEYRING_PROVIDER" not in uv_environment({"PATH": str(tmp_path)})
    command = tmp_path / "keyring"
    command.write_text("#!/bin/sh\nexit 1\n")
    command.chmod(0o755)
    assert uv_environment({"PATH": str(tmp_path)})["UV_KEYRING_PROVIDER"] == "subprocess"


def test_builds_use_pips_index_settings_as_pip_resolves_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`pip config list` decides: the [install] section over [global], PIP_* over both."""
    from gitdeps._build.environments import pip_index_options

    config = tmp_path / "pip.conf"
    config.write_text(
        "[global]\nindex-url = https://global.test/simple\n"
        "extra-index-url = https://a.test/simple\n    https://b.test/simple\n"
        "[install]\nindex-url = https://install.test/simple\n"
    )
    monkeypatch.setenv("PIP_CONFIG_FILE", str(config))
    monkeypatch.delenv("PIP_INDEX_URL", raising=False)
    options = pip_index_options()
    assert options[:2] == ["--index-url", "https://install.test/simple"]
    assert "https://a.test/simple" in options and "https://b.test/simple" in options
    monkeypatch.setenv("PIP_INDEX_URL", "https://env.test/simple")
    assert pip_index_options()[:2] == ["--index-url", "https://env.test/simple"]


def test_a_failure_kills_the_builds_under_way_and_lets_fetches_end(tmp_path: Path) -> None:
    """fail(): a backend or installer run() waits for is killed (and its end is
    Interrupted, no news), no build starts after it, and a fetch's process lives on."""
    import subprocess
    import sys
    import threading

    from gitdeps import Interrupted, _stop
    from gitdeps._subprocess import run, tracked

    sleeper = [sys.executable, "-c", "import time; time.sleep(600)"]
    ended: list[BaseException] = []

    def build() -> None:
        try:
            run(sleeper, env=clean_environ())
        except BaseException as exc:
            ended.append(exc)

    _stop.reset()
    try:
        with tracked() as start:
            fetch = start(sleeper, stdin=subprocess.DEVNULL)
            builder = threading.Thread(target=build)
            builder.start()
            for _ in range(600):  # until run() has started its command
                if builder.is_alive() and _live_builds():
                    break
                builder.join(0.05)
            _stop.fail()
            builder.join(60)
            assert not builder.is_alive(), "the build was not killed"
            assert len(ended) == 1 and isinstance(ended[0], Interrupted), ended
            assert fetch.poll() is None, "a fetch's process was killed by a failure"
            with pytest.raises(Interrupted, match="stopped before running"):
                run(sleeper, env=clean_environ())
    finally:
        _stop.reset()


def _live_builds() -> int:
    from gitdeps import _subprocess

    with _subprocess._live_lock:
        return sum(_subprocess._live.values())
