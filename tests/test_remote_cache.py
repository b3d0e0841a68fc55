"""The shared wheel cache on Azure Blob Storage, against Azurite (the real protocol) on
127.0.0.1: agents with separate local caches share one container."""

from __future__ import annotations

import datetime
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from azure.storage.blob import ContainerClient, ContainerSasPermissions, generate_container_sas

from gitdeps._build.wheel import sha256_file
from gitdeps._cache.remote import RemoteCache
from gitdeps._config import RemoteCacheConfig
from tests.support.app import App, Forge
from tests.support.azurite import ACCOUNT, KEY, Azurite, azurite_command
from tests.support.cli import Ran
from tests.support.projects import project
from tests.support.wheels import make_wheel

pytestmark = [
    pytest.mark.slow,
    # CI installs Azurite (.ci/run): there, a missing one fails instead of skipping.
    pytest.mark.skipif(
        azurite_command() is None and not os.environ.get("CI"),
        reason="Azurite is not installed (npm install -g azurite)",
    ),
]


@pytest.fixture(scope="module")
def azurite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Azurite]:
    with Azurite(tmp_path_factory.mktemp("azurite")) as server:
        yield server


@pytest.fixture
def container(azurite: Azurite, request: pytest.FixtureRequest) -> Iterator[ContainerClient]:
    name = "wheels-" + str(abs(hash(request.node.nodeid)) % 10**10)
    client = ContainerClient.from_connection_string(azurite.connection_string, name)
    client.create_container()
    yield client
    client.delete_container()
    client.close()


def _agent(
    app: Path,
    requirements: str,
    *,
    remote: str,
    env: dict[str, str],
    cache: Path,
    extra: tuple[str, ...] = (),
) -> Ran:
    """One build agent: its own local cache, the shared remote one."""
    agent = App.make(app, requirements, {**env, "GITDEPS_CACHE_DIR": str(cache)})
    return agent.vendor("--remote-cache", remote, *extra)


def _blobs(container: ContainerClient) -> dict[str, bytes]:
    return {
        blob.name: container.download_blob(blob.name).readall() for blob in container.list_blobs()
    }


def test_a_second_agent_builds_nothing_and_asks_git_nothing(
    forge: Forge, azurite: Azurite, container: ContainerClient, tmp_path: Path, canary: str
) -> None:
    requirements = forge.push_acme() + "\n"
    env = {"GITDEPS_TOKEN_127_0_0_1": canary, "AZURE_STORAGE_KEY": KEY}
    remote = azurite.container_url(container.container_name)

    first = _agent(tmp_path / "a1", requirements, remote=remote, env=env, cache=tmp_path / "c1")
    assert first.returncode == 0, first.output
    assert "remote cache: 0 downloaded, 2 uploaded, 2 not there" in first.stdout
    stored = _blobs(container)
    assert len([n for n in stored if n.startswith("v1/entries/")]) == 2
    assert len([n for n in stored if n.endswith(".whl")]) == 2
    # Nothing of the build machine goes up: no token, no path of its own.
    for name, data in stored.items():
        assert canary.encode() not in data, name
        assert str(tmp_path).encode() not in data, name

    # A fresh agent with the committed lock: no git host, no build.
    second = tmp_path / "a2"
    second.mkdir()
    (second / "gitdeps.lock").write_bytes((tmp_path / "a1" / "gitdeps.lock").read_bytes())
    forge.server.requests.clear()
    ran = _agent(
        second, requirements, remote=remote, env=env, cache=tmp_path / "c2", extra=("--locked",)
    )
    assert ran.returncode == 0, ran.output
    assert forge.server.requests == []
    assert "remote cache: 2 downloaded, 0 uploaded, 0 not there" in ran.stdout
    assert "built " not in ran.output
    assert (second / "out.txt").read_text() == (tmp_path / "a1" / "out.txt").read_text()
    for wheel in (tmp_path / "a1" / "wh").glob("*.whl"):
        assert sha256_file(second / "wh" / wheel.name) == sha256_file(wheel)


def test_a_corrupted_blob_is_detected_and_built_again(
    forge: Forge, azurite: Azurite, container: ContainerClient, tmp_path: Path, canary: str
) -> None:
    forge.push("o/lib.git", project("lib", "1.0"), tag="v1")
    requirements = f"lib @ {forge.url('o/lib.git', 'v1')}\n"
    env = {
        "GITDEPS_TOKEN_127_0_0_1": canary,
        "AZURE_STORAGE_CONNECTION_STRING": azurite.connection_string,
    }
    remote = azurite.container_url(container.container_name)
    assert _agent(tmp_path / "a1", requirements, remote=remote, env=env, cache=tmp_path / "c1")
    (wheel_blob,) = [b.name for b in container.list_blobs() if b.name.endswith(".whl")]
    container.upload_blob(wheel_blob, b"PK\x03\x04 not the wheel that was stored", overwrite=True)

    ran = _agent(tmp_path / "a2", requirements, remote=remote, env=env, cache=tmp_path / "c2")
    assert ran.returncode == 0, ran.output
    assert "does not match the SHA-256 its entry records" in ran.stderr
    assert "built lib-1.0" in ran.stderr
    assert "remote cache: 0 downloaded" in ran.stdout


def test_a_denied_write_degrades_to_local_and_read_only_never_uploads(
    forge: Forge, azurite: Azurite, container: ContainerClient, tmp_path: Path, canary: str
) -> None:
    forge.push("o/lib.git", project("lib", "1.0"), tag="v1")
    requirements = f"lib @ {forge.url('o/lib.git', 'v1')}\n"
    sas = generate_container_sas(
        ACCOUNT,
        container.container_name,
        account_key=KEY,
        permission=ContainerSasPermissions(read=True, list=True),
        expiry=datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=1),
    )
    env = {"GITDEPS_TOKEN_127_0_0_1": canary, "AZURE_STORAGE_SAS_TOKEN": sas}
    remote = azurite.container_url(container.container_name)
    ran = _agent(tmp_path / "a1", requirements, remote=remote, env=env, cache=tmp_path / "c1")
    assert ran.returncode == 0, ran.output
    assert "refused an upload (403)" in ran.stderr
    assert "this run only downloads from it" in ran.stderr
    assert sas not in ran.output and sas.split("sig=")[1][:20] not in ran.output
    assert list(container.list_blobs()) == []

    env = {"GITDEPS_TOKEN_127_0_0_1": canary, "AZURE_STORAGE_KEY": KEY}
    ran = _agent(
        tmp_path / "a2",
        requirements,
        remote=remote,
        env=env,
        cache=tmp_path / "c2",
        extra=("--remote-cache-read-only",),
    )
    assert ran.returncode == 0, ran.output
    assert "0 uploaded" in ran.stdout
    assert list(container.list_blobs()) == []


def test_an_unreachable_remote_cache_is_one_warning_and_the_build_goes_on(
    forge: Forge, tmp_path: Path, canary: str
) -> None:
    import socket

    with socket.socket() as closed:  # a port nobody listens on
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    forge.push("o/lib.git", project("lib", "1.0"), tag="v1")
    forge.push("o/two.git", project("two", "1.0"), tag="v1")
    ran = _agent(
        tmp_path / "a1",
        f"lib @ {forge.url('o/lib.git', 'v1')}\ntwo @ {forge.url('o/two.git', 'v1')}\n",
        remote=f"http://127.0.0.1:{port}/{ACCOUNT}/wheels",
        env={"GITDEPS_TOKEN_127_0_0_1": canary, "AZURE_STORAGE_KEY": KEY},
        cache=tmp_path / "c1",
    )
    assert ran.returncode == 0, ran.output
    assert ran.stderr.count("remote cache http://127.0.0.1") == 1
    assert "this run goes on without it" in ran.stderr
    # Both lookups went unanswered: neither is counted as "not there".
    summary = "remote cache: 0 downloaded, 0 uploaded, 0 not there, 2 not answered"
    assert summary in ran.stdout


def test_a_credential_in_the_remote_url_is_refused(tmp_path: Path) -> None:
    ran = _agent(
        tmp_path / "a1",
        "",
        remote="https://acct.blob.core.windows.net/wheels?sv=2024&sig=secretsig",
        env={},
        cache=tmp_path / "c1",
    )
    assert ran.returncode == 3
    assert "put the SAS in AZURE_STORAGE_SAS_TOKEN" in ran.stderr
    assert "secretsig" not in ran.output


def test_concurrent_writers_of_one_key_leave_one_whole_entry(
    azurite: Azurite, container: ContainerClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AZURE_STORAGE_KEY", KEY)
    settings = RemoteCacheConfig(azurite.container_url(container.container_name))
    wheels = []
    for writer in range(4):  # the same key, four different builds (a non-reproducible backend)
        out = tmp_path / f"w{writer}"
        out.mkdir()
        wheels.append(make_wheel(out, "same", "1.0", {"same.py": f"WRITER = {writer}\n"}))
    key = "k" * 64
    barrier = threading.Barrier(len(wheels))

    def put(wheel: Path) -> None:
        cache = RemoteCache(settings)
        barrier.wait()
        cache.put(key, wheel, digest=sha256_file(wheel), tags=())
        cache.close()

    threads = [threading.Thread(target=put, args=(w,)) for w in wheels]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    entries = [b.name for b in container.list_blobs() if "/entries/" in b.name]
    assert entries == [f"v1/entries/{key}.json"]

    reader = RemoteCache(settings)
    into = tmp_path / "got"
    into.mkdir()
    found = reader.get(key, tags=None, into=into)
    reader.close()
    assert found is not None
    assert sha256_file(found[0]) in {sha256_file(w) for w in wheels}


def test_a_poisoned_entry_does_not_pass_locked(
    forge: Forge, azurite: Azurite, container: ContainerClient, tmp_path: Path, canary: str
) -> None:
    """Someone with write access replaces an entry and its wheel, hashes and all: the
    entry is consistent, but --locked holds to the lock's SHA-256 and builds again."""
    import json

    forge.push("o/lib.git", project("lib", "1.0", value="the real one"), tag="v1")
    requirements = f"lib @ {forge.url('o/lib.git', 'v1')}\n"
    env = {"GITDEPS_TOKEN_127_0_0_1": canary, "AZURE_STORAGE_KEY": KEY}
    remote = azurite.container_url(container.container_name)
    first = _agent(tmp_path / "a1", requirements, remote=remote, env=env, cache=tmp_path / "c1")
    assert first.returncode == 0, first.output
    (entry_name,) = [b.name for b in container.list_blobs() if "/entries/" in b.name]
    entry = json.loads(container.download_blob(entry_name).readall())
    evil_dir = tmp_path / "evil"
    evil_dir.mkdir()
    evil = make_wheel(evil_dir, "lib", "1.0", {"lib/__init__.py": "VALUE = 'poisoned'\n"})
    digest = sha256_file(evil)
    assert evil.name == entry["wheel"] and digest != entry["sha256"]
    container.upload_blob(f"v1/wheels/{digest}/{evil.name}", evil.read_bytes())
    container.upload_blob(
        entry_name, json.dumps({**entry, "sha256": digest, "size": evil.stat().st_size}),
        overwrite=True,
    )  # fmt: skip

    second = tmp_path / "a2"
    second.mkdir()
    (second / "gitdeps.lock").write_bytes((tmp_path / "a1" / "gitdeps.lock").read_bytes())
    ran = _agent(
        second, requirements, remote=remote, env=env, cache=tmp_path / "c2", extra=("--locked",)
    )
    assert ran.returncode == 0, ran.output
    assert "does not match the lock" in ran.stderr
    (shipped,) = (second / "wh").glob("lib-*.whl")
    (real,) = (tmp_path / "a1" / "wh").glob("lib-*.whl")
    assert sha256_file(shipped) == sha256_file(real)


def test_the_first_writer_creates_the_container_with_the_emulators_shorthand(
    forge: Forge, azurite: Azurite, tmp_path: Path, canary: str
) -> None:
    forge.push("o/lib.git", project("lib", "1.0"), tag="v1")
    name = "fresh-" + canary[-8:]
    env = {
        "GITDEPS_TOKEN_127_0_0_1": canary,
        "AZURE_STORAGE_CONNECTION_STRING": "UseDevelopmentStorage=true",
    }
    ran = _agent(
        tmp_path / "a1",
        f"lib @ {forge.url('o/lib.git', 'v1')}\n",
        remote=azurite.container_url(name),
        env=env,
        cache=tmp_path / "c1",
    )
    assert ran.returncode == 0, ran.output
    assert "1 uploaded" in ran.stdout
    client = ContainerClient.from_connection_string(azurite.connection_string, name)
    assert len(list(client.list_blobs())) == 2
    client.delete_container()
    client.close()


def test_a_fresh_agent_with_commit_pins_and_no_lock_asks_git_nothing(
    forge: Forge, azurite: Azurite, container: ContainerClient, tmp_path: Path, canary: str
) -> None:
    commit = forge.push("o/lib.git", project("lib", "1.0"), tag="v1")
    requirements = f"lib @ {forge.url('o/lib.git', commit)}\n"
    env = {"GITDEPS_TOKEN_127_0_0_1": canary, "AZURE_STORAGE_KEY": KEY}
    remote = azurite.container_url(container.container_name)
    first = _agent(tmp_path / "a1", requirements, remote=remote, env=env, cache=tmp_path / "c1")
    assert first.returncode == 0, first.output
    forge.server.requests.clear()
    second = _agent(tmp_path / "a2", requirements, remote=remote, env=env, cache=tmp_path / "c2")
    assert second.returncode == 0, second.output
    assert forge.server.requests == []
    assert "remote cache: 1 downloaded" in second.stdout
    assert "built " not in second.output
