"""Git LFS files arrive with their content, fetched with the host's credential only."""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

import pytest

from gitdeps._credentials.store import Credentials
from gitdeps._fetch.checkout import parse_lfs_pointer
from gitdeps._fetch.lfs import lfs_endpoint
from gitdeps._fetch.source import fetch_tree
from gitdeps._inputs.giturl import parse_git_url
from tests.support.app import Forge, vendor_in
from tests.support.gitserver import GitServer, git, lfs_pointer

OID = "a" * 64


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (f"version https://git-lfs.github.com/spec/v1\noid sha256:{OID}\nsize 12\n", (OID, 12)),
        # extension lines may come between, as the spec allows
        (
            f"version https://git-lfs.github.com/spec/v1\next-0-foo sha256:{'b' * 64}\n"
            f"oid sha256:{OID}\nsize 0\n",
            (OID, 0),
        ),
        (f"version https://git-lfs.github.com/spec/v2\noid sha256:{OID}\nsize 12\n", None),
        (f"version https://git-lfs.github.com/spec/v1\noid sha1:{OID[:40]}\nsize 12\n", None),
        ("version https://git-lfs.github.com/spec/v1\nsize 12\n", None),
        (f"version https://git-lfs.github.com/spec/v1\noid sha256:{OID}\n" + "x" * 1100, None),
        ("print('an ordinary file')\n", None),
    ],
)
def test_pointer_files_are_recognised_by_the_spec(
    data: str, expected: tuple[str, int] | None
) -> None:
    assert parse_lfs_pointer(data.encode()) == expected


@pytest.mark.parametrize(
    ("url", "endpoint"),
    [
        ("git+https://h/o/r.git", "https://h/o/r.git/info/lfs"),
        ("git+https://h/o/r", "https://h/o/r.git/info/lfs"),
        ("git+https://dev.azure.com/o/p/_git/r", "https://dev.azure.com/o/p/_git/r.git/info/lfs"),
        ("git+http://127.0.0.1:8080/o/r.git/", "http://127.0.0.1:8080/o/r.git/info/lfs"),
    ],
)
def test_the_endpoint_is_derived_as_git_lfs_derives_it(url: str, endpoint: str) -> None:
    assert lfs_endpoint(parse_git_url(url)[0]) == endpoint


def _fetch(forge: Forge, tmp_path: Path, repo: str) -> Path:
    url, _ = parse_git_url(forge.url(repo))
    sha = git(forge.root / repo, "rev-parse", "HEAD")
    return fetch_tree(url, sha, Credentials(()), tmp_path).root


def test_lfs_files_arrive_whole_and_the_build_repository_stays_clean(
    forge: Forge, tmp_path: Path, canary: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = bytes(range(256)) * 300
    forge.push(
        "o/lfs.git",
        {
            "model.bin": lfs_pointer(forge.root, model),
            "again.bin": lfs_pointer(forge.root, model),
            ".gitattributes": "*.bin filter=lfs diff=lfs merge=lfs -text\n",
        },
    )
    monkeypatch.setenv("GITDEPS_TOKEN_127_0_0_1", canary)
    root = _fetch(forge, tmp_path, "o/lfs.git")
    assert (root / "model.bin").read_bytes() == model
    assert (root / "again.bin").read_bytes() == model
    assert git(root, "status", "--porcelain") == ""
    lfs = [r for r in forge.server.requests if "/info/lfs/" in r.path or "/lfs-objects/" in r.path]
    assert [r.method for r in lfs] == ["POST", "GET"]  # one batch, one download per object
    assert all(r.authorization for r in lfs)


def test_a_download_on_another_origin_never_gets_the_token(
    forge: Forge, tmp_path: Path, canary: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    storage_root = tmp_path / "storage"
    storage_root.mkdir()
    data = b"weights" * 1000
    with GitServer(storage_root, token=None) as storage:
        forge.server.lfs_download_base = storage.url
        forge.server.lfs_download_headers = {"x-ms-signature": "signed-for-this-object"}
        forge.push("o/lfs.git", {"w.bin": lfs_pointer(storage_root, data)})
        monkeypatch.setenv("GITDEPS_TOKEN_127_0_0_1", canary)
        root = _fetch(forge, tmp_path, "o/lfs.git")
        assert (root / "w.bin").read_bytes() == data
        (download,) = storage.requests
    assert download.authorization is None
    assert download.headers.get("x-ms-signature") == "signed-for-this-object"


@pytest.mark.parametrize("fault", ["missing", "damaged"])
def test_an_object_that_cannot_be_had_stops_the_run(
    forge: Forge, tmp_path: Path, canary: str, fault: str
) -> None:
    content = b"the real bytes\n"
    pointer = lfs_pointer(forge.root, content)
    oid = hashlib.sha256(content).hexdigest()
    if fault == "missing":
        (forge.root / ".lfs" / oid).unlink()
    else:
        (forge.root / ".lfs" / oid).write_bytes(b"the wrong bytes\n")
    forge.push(
        "o/lfs.git",
        {
            "pyproject.toml": '[project]\nname = "lfspkg"\nversion = "1"\n',
            "data.bin": pointer,
        },
    )
    app = tmp_path / "app"
    ran = vendor_in(
        app, f"lfspkg @ {forge.url('o/lfs.git')}", env={"GITDEPS_TOKEN_127_0_0_1": canary}
    )
    assert ran.returncode == 5, ran.output
    expected = "Object does not exist" if fault == "missing" else "arrived damaged"
    assert f"Git LFS object {oid[:12]} of {forge.server.url}/o/lfs.git" in ran.stderr
    assert expected in ran.stderr
    assert "Traceback" not in ran.output and not (app / "wh").exists()


@pytest.mark.slow
def test_a_package_with_lfs_data_vendors_with_the_data(
    forge: Forge, tmp_path: Path, canary: str
) -> None:
    weights = bytes(range(256)) * 64
    forge.push(
        "o/model.git",
        {
            "pyproject.toml": (
                '[build-system]\nrequires = ["setuptools>=70"]\n'
                'build-backend = "setuptools.build_meta"\n'
                '[project]\nname = "acme-model"\nversion = "1.0"\n'
                '[tool.setuptools]\npackages = ["acme_model"]\n'
                '[tool.setuptools.package-data]\nacme_model = ["*.bin"]\n'
            ),
            "acme_model/__init__.py": "",
            "acme_model/weights.bin": lfs_pointer(forge.root, weights),
            ".gitattributes": "*.bin filter=lfs diff=lfs merge=lfs -text\n",
        },
    )
    app = tmp_path / "app"
    ran = vendor_in(
        app, f"acme-model @ {forge.url('o/model.git')}", env={"GITDEPS_TOKEN_127_0_0_1": canary}
    )
    assert ran.returncode == 0, ran.output
    (wheel,) = (app / "wh").glob("acme_model-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        assert archive.read("acme_model/weights.bin") == weights
