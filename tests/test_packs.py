"""Packs indexed and read a chunk at a time: the index gitdeps writes is the one
``git index-pack`` writes, byte for byte; damage is a clear error; a large file goes
through gitdeps (fetch, checkout, wheel rewrite) in little more memory than it starts with."""

from __future__ import annotations

import hashlib
import io
import os
import subprocess
import zipfile
from pathlib import Path

import pytest

from gitdeps._fetch.packs import DamagedPack, copy_whole_blob, index_pack
from tests.support.app import Forge
from tests.support.memory import run_measured
from tests.support.projects import project


def _git(cwd: Path, *args: str, stdin: bytes | None = None) -> bytes:
    return subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", *args],
        cwd=cwd, input=stdin, capture_output=True, check=True,
    ).stdout  # fmt: skip


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A repository whose file changes a little per commit (so packs hold deltas), with a
    large incompressible blob, a tag and a symlink."""
    work = tmp_path_factory.mktemp("history")
    _git(work, "init", "-q", "-b", "main")
    text = "".join(f"line {n}\n" for n in range(3000))
    for n in range(12):
        text = text.replace(f"line {n * 7}\n", f"changed {n}\n")
        (work / "notes.txt").write_text(text)
        (work / f"f{n}.txt").write_text(f"file {n}\n")
        _git(work, "add", "-A")
        _git(work, "commit", "-qm", f"c{n}")
    (work / "big.bin").write_bytes(os.urandom(3 << 20))
    os.symlink("notes.txt", work / "link")
    _git(work, "add", "-A")
    _git(work, "commit", "-qm", "big")
    _git(work, "tag", "-a", "-m", "v1", "v1")
    return work


def _pack(repo: Path, into: Path, *options: str) -> Path:
    objects = _git(repo, "rev-list", "--objects", "--all")
    into.mkdir(parents=True, exist_ok=True)
    data = _git(repo, "pack-objects", "--stdout", *options, stdin=objects)
    (into / "incoming.pack").write_bytes(data)
    return into / "incoming.pack"


@pytest.mark.parametrize("options", [(), ("--delta-base-offset",), ("--window=0",)])
def test_the_index_is_the_one_git_writes(
    history: Path, tmp_path: Path, options: tuple[str, ...]
) -> None:
    """REF_DELTA (git's default on --stdout), OFS_DELTA, and no deltas at all."""
    pack = _pack(history, tmp_path / "ours", *options)
    reference = tmp_path / "git.idx"
    subprocess.run(["git", "index-pack", "-o", str(reference), str(pack)], check=True,
                   capture_output=True)  # fmt: skip
    name = index_pack(pack, tmp_path / "ours")
    assert not pack.exists()  # moved into place, under its checksum
    ours = tmp_path / "ours" / f"pack-{name}.idx"
    assert ours.read_bytes() == reference.read_bytes()
    assert (tmp_path / "ours" / f"pack-{name}.pack").is_file()


def test_a_large_blob_is_copied_out_of_the_pack(history: Path, tmp_path: Path) -> None:
    pack = _pack(history, tmp_path / "p")
    name = index_pack(pack, tmp_path / "p")
    blob = _git(history, "rev-parse", "HEAD:big.bin").strip().decode()
    listing = _git(history, "verify-pack", "-v", str(tmp_path / "p" / f"pack-{name}.idx"))
    offset = next(int(line.split()[4]) for line in listing.decode().splitlines()
                  if line.startswith(blob))  # fmt: skip
    out = io.BytesIO()
    size = copy_whole_blob(str(tmp_path / "p" / f"pack-{name}.pack"), offset, 1 << 20, out)
    assert size == 3 << 20
    assert out.getvalue() == (history / "big.bin").read_bytes()
    # below the size limit, it is left to dulwich, and nothing is written
    assert copy_whole_blob(str(tmp_path / "p" / f"pack-{name}.pack"), offset, 4 << 20, out) is None


def _flip(pack: Path, at: int) -> None:
    data = bytearray(pack.read_bytes())
    data[at] ^= 0xFF
    pack.write_bytes(bytes(data))


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        ("truncated", "the pack ends early"),
        ("object-data", "corrupt"),
        ("trailer", "the pack's checksum does not match"),
        ("thin", "a delta's base object is not in the pack"),
        ("not-a-pack", "not a git pack"),
    ],
)
def test_a_damaged_pack_is_refused(history: Path, tmp_path: Path, damage: str, reason: str) -> None:
    if damage == "thin":  # deltas against objects the receiver is assumed to have
        data = _git(history, "pack-objects", "--stdout", "--revs", "--thin",
                    stdin=b"HEAD\n^HEAD~3\n")  # fmt: skip
        pack = tmp_path / "incoming.pack"
        pack.write_bytes(data)
    else:
        pack = _pack(history, tmp_path, "--delta-base-offset")
    size = pack.stat().st_size
    if damage == "truncated":
        pack.write_bytes(pack.read_bytes()[: size // 2])
    elif damage == "object-data":
        _flip(pack, 200)
    elif damage == "trailer":
        _flip(pack, size - 1)
    elif damage == "not-a-pack":
        pack.write_bytes(b"<html>proxy error</html>" * 10)
    with pytest.raises(DamagedPack, match=reason):
        index_pack(pack, tmp_path)
    assert not list(tmp_path.glob("pack-*"))  # nothing half-made left in the store


@pytest.mark.slow
def test_a_large_file_goes_through_in_bounded_memory(forge: Forge, tmp_path: Path) -> None:
    """64 MB of incompressible data in a package: fetched, checked out and rewritten into
    the wheel without ever being held whole (dulwich alone held it about three times)."""
    payload = os.urandom(64 << 20)
    files: dict[str, str | bytes] = {**project("big", "1.0", backend="flit_core")}
    files["big/data.bin"] = payload
    forge.push("o/big.git", files, tag="v1")
    app = tmp_path / "app"
    app.mkdir()
    (app / "requirements.txt").write_text(f"big @ {forge.url('o/big.git', 'v1')}\n")
    code, stderr, peak = run_measured(
        "vendor", "-r", "requirements.txt", "-o", "wh", "--output-requirements", "out.txt",
        cwd=app, env={"GITDEPS_TOKEN_127_0_0_1": forge.server.token or ""},
    )  # fmt: skip
    assert code == 0, stderr
    [wheel] = (app / "wh").glob("big-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        member = archive.read("big/data.bin")
    assert hashlib.sha256(member).digest() == hashlib.sha256(payload).digest()
    assert peak < 64 + 60, f"{peak:.0f} MB"
