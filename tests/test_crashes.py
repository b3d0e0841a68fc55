"""Bad input and faults the audit found ending as 'internal error': each is now a
GitDepsError with one line that names the input, and no traceback."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.app import Forge, vendor_in
from tests.support.cli import Ran
from tests.support.gitserver import make_repo
from tests.support.projects import project
from tests.support.rawhost import ADVERTISEMENT_HEAD, raw_host
from tests.support.trees import LINK, push_raw_tree


def _clean(ran: Ran, code: int, *phrases: str) -> None:
    assert ran.returncode == code, ran.output
    assert "Traceback" not in ran.output and "internal error" not in ran.output
    for phrase in phrases:
        assert phrase in ran.stderr, ran.stderr


def test_a_nul_byte_in_an_include_path(tmp_path: Path) -> None:
    app = tmp_path / "app"
    ran = vendor_in(app, "-r foo\0bar.txt")
    _clean(ran, 3, "requirements.txt:1: the requirements file name", "holds a NUL byte")


@pytest.mark.parametrize(
    ("line", "said"),
    [
        ("-f \0./x", "requirements.txt:1: cannot read this line: embedded null byte"),
        ("gi-t+https://::1]:99/:1]:99/r@v", "requirements.txt:1: cannot read this line"),
        ("x @ git+ssh://-oProxyCommand=touch%20pwned/x", "the host name starts with '-'"),
        ("x @ git+ssh://-oProxyCommand=x@h.test/x", "the user name starts with '-'"),
        ("x @ git+https://h%20test/x", "is not a host name"),
    ],
)
def test_a_hostile_or_broken_line_is_one_error(tmp_path: Path, line: str, said: str) -> None:
    ran = vendor_in(tmp_path / "app", line)
    _clean(ran, 3, said)
    assert not (tmp_path / "app" / "pwned").exists()


def test_a_chain_of_four_hundred_includes(tmp_path: Path) -> None:
    app = tmp_path / "app"
    app.mkdir()
    for n in range(1, 401):
        (app / f"c{n}.txt").write_text(f"-r c{n + 1}.txt\n")
    (app / "c401.txt").write_text("publicdep\n")
    ran = vendor_in(app, "-r c1.txt")
    _clean(ran, 3, "-r includes nest deeper than 64 files")


@pytest.mark.parametrize("which", ["wheelhouse-is-a-file", "output-is-a-folder"])
def test_outputs_are_checked_before_any_fetch(tmp_path: Path, which: str) -> None:
    app = tmp_path / "app"
    app.mkdir()
    if which == "wheelhouse-is-a-file":
        (app / "wh").write_text("a file\n")
    else:
        (app / "out.txt").mkdir()
    # an unreachable host: had the check come after the fetch, this would be the error
    ran = vendor_in(app, "pkg @ git+http://127.0.0.1:9/o/pkg.git")
    expected = (
        "the wheelhouse wh is a file"
        if which == "wheelhouse-is-a-file"
        else ("--output-requirements out.txt is a folder")
    )
    _clean(ran, 1, expected)


@pytest.fixture
def stalling_server() -> Iterator[int]:
    """Answers the ref advertisement's headers and a little of its body, then stalls."""

    def stall(conn: socket.socket, stop: threading.Event) -> None:
        conn.sendall(ADVERTISEMENT_HEAD)
        stop.wait(20)

    with raw_host(stall) as port:
        yield port


def test_a_read_timeout_mid_answer(tmp_path: Path, stalling_server: int) -> None:
    started = time.monotonic()
    ran = vendor_in(
        tmp_path / "app",
        f"pkg @ git+http://127.0.0.1:{stalling_server}/o/pkg.git",
        env={"GITDEPS_HTTP_TIMEOUT": "1"},
    )
    _clean(ran, 5, "requirements.txt:1", "broke or timed out while reading")
    assert time.monotonic() - started < 60


def test_a_loop_of_symlinks_in_a_tree(forge: Forge, tmp_path: Path, canary: str) -> None:
    bare = make_repo(forge.root, "o/loop.git")
    files = project("loop", "1.0")
    tree: dict[Any, Any] = {
        "pyproject.toml": files["pyproject.toml"],
        "a": (LINK, b"b"),
        "b": (LINK, b"a"),
    }
    push_raw_tree(bare, tree)
    ran = vendor_in(
        tmp_path / "app", f"loop @ {forge.url('o/loop.git')}",
        env={"GITDEPS_TOKEN_127_0_0_1": canary},
    )  # fmt: skip
    _clean(ran, 5, "is part of a loop of links")


_BAD_WHEELS = """\
import zipfile


def get_requires_for_build_wheel(config_settings=None):
    return []


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    name = "bad-1.0-py3-none-any.whl"
    mode = open("mode.txt").read().strip()
    if mode == "not-a-zip":
        open(f"{wheel_directory}/{name}", "wb").write(b"this is no zip file")
    else:
        with zipfile.ZipFile(f"{wheel_directory}/{name}", "w") as wheel:
            wheel.writestr("bad-1.0.dist-info/METADATA",
                           "Metadata-Version: 2.1\\nName: bad\\nVersion: not-a-version\\n")
            wheel.writestr("bad-1.0.dist-info/WHEEL",
                           "Wheel-Version: 1.0\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n")
            wheel.writestr("bad-1.0.dist-info/RECORD", "")
    return name
"""


@pytest.mark.parametrize(
    ("mode", "phrase"),
    [
        ("not-a-zip", "the backend produced an unreadable wheel"),
        ("bad-version", "whose version 'not-a-version' is not a valid version"),
    ],
)
def test_a_backend_that_writes_a_broken_wheel(
    forge: Forge, tmp_path: Path, canary: str, mode: str, phrase: str
) -> None:
    forge.push(
        f"o/{mode}.git",
        {
            "pyproject.toml": (
                '[build-system]\nrequires = []\nbuild-backend = "backend"\n'
                'backend-path = ["_build"]\n'
            ),
            "_build/backend.py": _BAD_WHEELS,
            "mode.txt": mode,
        },
    )
    ran = vendor_in(
        tmp_path / "app", f"bad @ {forge.url(f'o/{mode}.git')}",
        env={"GITDEPS_TOKEN_127_0_0_1": canary},
    )  # fmt: skip
    _clean(ran, 6, "requirements.txt:1: bad:", phrase)


@pytest.mark.parametrize("where", ["object-data", "pack-trailer"])
def test_a_damaged_pack_from_the_host(
    forge: Forge, tmp_path: Path, canary: str, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    """A host (or a proxy in between) that damages the pack: a clear FetchError that names
    the repository, never a zlib or checksum traceback."""
    forge.push("o/lib.git", project("lib", "1.0", value="x" * 2000), tag="v1")
    server = forge.server
    reply = server._reply

    def damaging(handler: Any, status: int, headers: Any, body: bytes) -> None:
        start = body.find(b"PACK")
        if handler.path.endswith("git-upload-pack") and start != -1:
            at = start + 40 if where == "object-data" else _last_pack_byte(body)
            body = body[:at] + bytes([body[at] ^ 0xFF]) + body[at + 1 :]
        reply(handler, status, headers, body)

    monkeypatch.setattr(server, "_reply", damaging)
    ran = vendor_in(
        tmp_path / "app", f"lib @ {forge.url('o/lib.git', 'v1')}",
        env={"GITDEPS_TOKEN_127_0_0_1": canary},
    )  # fmt: skip
    _clean(ran, 5, "requirements.txt:1: lib:", f"{forge.server.url}/o/lib.git")


def _last_pack_byte(body: bytes) -> int:
    """The offset of the pack's last byte (its trailer checksum) in a side-band answer:
    the end of the last band-1 pkt-line."""
    at, last = 0, -1
    while at + 4 <= len(body):
        size = int(body[at : at + 4], 16)
        if size < 4:  # flush, delimiter, response end
            at += 4
            continue
        if body[at + 4 : at + 5] == b"\x01":
            last = at + size - 1
        at += size
    assert last != -1, "no pack data in the answer"
    return last
