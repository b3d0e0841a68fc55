"""Memory stays bounded whatever a host sends: a ref advertisement is filtered as it
streams in, and one that still holds too many refs stops with an error."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from gitdeps._fetch.advertisement import RefFilter, TooManyRefs
from tests.support.gitserver import GitServer, git
from tests.support.memory import run_measured
from tests.support.projects import project
from tests.support.rawhost import raw_host

SHA = b"1" * 40


def _pkt(payload: bytes) -> bytes:
    return b"%04x" % (len(payload) + 4) + payload


def advertisement_v0(names: Iterator[bytes]) -> bytes:
    """A smart-HTTP v0 advertisement: HEAD with the capabilities, then ``names``."""
    parts = [_pkt(b"# service=git-upload-pack\n"), b"0000"]
    parts.append(_pkt(SHA + b" HEAD\0multi_ack side-band-64k ofs-delta\n"))
    parts.extend(_pkt(SHA + b" " + name + b"\n") for name in names)
    parts.append(b"0000")
    return b"".join(parts)


def _reader(data: bytes, step: int) -> Callable[[int], bytes]:
    """A read(size) that hands out at most ``step`` bytes at a time, as a socket may."""
    at = 0

    def read(size: int = -1) -> bytes:
        nonlocal at
        size = len(data) - at if size < 0 else size
        chunk = data[at : at + min(size, step)]
        at += len(chunk)
        return chunk

    return read


@pytest.mark.parametrize("step", [1, 7, 65536])
def test_the_filter_passes_wanted_refs_and_every_other_line_unchanged(step: int) -> None:
    names = [b"refs/heads/main", b"refs/pull/1/head", b"refs/tags/v1", b"refs/tags/v1^{}"]
    data = advertisement_v0(iter(names))
    kept = RefFilter(_reader(data, step), [b"HEAD", b"refs/heads/", b"refs/tags/"], 10)
    out = b""
    while chunk := kept.read(5):
        assert len(chunk) == 5 or not kept.read(1)  # exact reads until the end
        out += chunk
    assert out == advertisement_v0(n for n in names if not n.startswith(b"refs/pull/"))


def test_the_filter_counts_only_the_refs_it_keeps() -> None:
    names = (b"refs/pull/%d/head" % n for n in range(1000))
    data = advertisement_v0(iter([*names, b"refs/tags/a", b"refs/tags/b", b"refs/tags/c"]))
    kept = RefFilter(_reader(data, 4096), [b"refs/tags/"], 2)
    with pytest.raises(TooManyRefs):
        kept.read()


def test_bytes_that_are_no_pkt_lines_pass_through() -> None:
    data = b"<html>not a git host</html>" * 100
    assert RefFilter(_reader(data, 10), [b"refs/tags/"], 1).read() == data


@pytest.fixture
def advertising_host() -> Iterator[Callable[[bytes], int]]:
    """A host that answers every request with the advertisement given to it."""
    answers: dict[str, bytes] = {}

    def answer(conn: socket.socket, stop: threading.Event) -> None:
        body = answers["body"]
        conn.sendall(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/x-git-upload-pack-advertisement\r\n"
            b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body)
        )
        conn.sendall(body)

    with raw_host(answer) as port:

        def serve(body: bytes) -> int:
            answers["body"] = body
            return port

        yield serve


def _vendor(
    app: Path, port: int, ref: str, env: dict[str, str] | None = None
) -> tuple[int, str, float]:
    app.mkdir()
    (app / "requirements.txt").write_text(f"pkg @ git+http://127.0.0.1:{port}/o/pkg.git@{ref}\n")
    return run_measured(
        "vendor", "-r", "requirements.txt", "-o", "wh", "--output-requirements", "out.txt",
        cwd=app, env=env,
    )  # fmt: skip


def test_a_huge_advertisement_of_other_refs_is_read_in_little_memory(
    tmp_path: Path, advertising_host: Callable[[bytes], int]
) -> None:
    """40 MB of pull-request refs, as a v0 host sends them, plus the tag asked for: the
    listing finds the tag, and memory stays near what gitdeps needs without them (dulwich
    alone held about 14 bytes per byte of advertisement)."""
    names = (b"refs/pull/%d/head" % n for n in range(600_000))
    port = advertising_host(advertisement_v0(iter([*names, b"refs/tags/v1"])))
    code, stderr, peak = _vendor(tmp_path / "app", port, "v1")
    assert "pkg: v1 -> 111111111111" in stderr, stderr  # the listing found it
    assert code == 5 and "Traceback" not in stderr  # the raw host sends no pack
    assert peak < 150, f"{peak:.0f} MB"


def test_too_many_branches_and_tags_stop_the_listing(
    tmp_path: Path, advertising_host: Callable[[bytes], int]
) -> None:
    names = (b"refs/tags/v%d" % n for n in range(600_000))
    port = advertising_host(advertisement_v0(names))
    code, stderr, peak = _vendor(tmp_path / "app", port, "v1", {"GITDEPS_MAX_REFS": "50000"})
    assert code == 5, stderr
    assert f"127.0.0.1:{port} listed more than 50000 branches and tags" in stderr
    assert "raise GITDEPS_MAX_REFS" in stderr and "Traceback" not in stderr
    assert peak < 150, f"{peak:.0f} MB"


def test_an_invalid_ref_limit_is_refused(
    tmp_path: Path, advertising_host: Callable[[bytes], int]
) -> None:
    port = advertising_host(advertisement_v0(iter([])))
    code, stderr, _ = _vendor(tmp_path / "app", port, "v1", {"GITDEPS_MAX_REFS": "lots"})
    assert code != 0 and "GITDEPS_MAX_REFS must be a whole number above 0, not 'lots'" in stderr


@pytest.fixture(scope="module")
def large_file_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A bare repository whose one commit holds a 300 MB file of random bytes (no
    compression helps), beside a small flit_core project."""
    root = tmp_path_factory.mktemp("large")
    work = root / "work"
    work.mkdir()
    for name, text in project("big", "1.0", backend="flit_core").items():
        (work / name).parent.mkdir(parents=True, exist_ok=True)
        (work / name).write_text(text)
    with (work / "data.bin").open("wb") as out:
        for _ in range(300):
            out.write(os.urandom(1 << 20))
    git(work.parent, "init", "-q", "-b", "main", str(work))
    git(work, "add", "-A")
    git(work, "commit", "-q", "-m", "a large file")
    bare = root / "srv" / "o" / "big.git"
    git(root, "clone", "-q", "--bare", str(work), str(bare))
    shutil.rmtree(work)
    return bare


@pytest.mark.slow
@pytest.mark.parametrize("over", ["http", "http-no-filter", "file"])
def test_a_300_mb_file_is_fetched_and_checked_out_in_bounded_memory(
    large_file_repo: Path, tmp_path: Path, over: str
) -> None:
    """The depth-1 fetch, the history fetch and the checkout stream the file: gitdeps'
    peak memory stays far below its size (dulwich alone held 2 to 6 times it)."""
    with contextlib.ExitStack() as stack:
        if over.startswith("http"):  # no-filter: the history fetch gets every blob too
            server = stack.enter_context(
                GitServer(
                    large_file_repo.parents[1],
                    token=None,
                    allow_anonymous=True,
                    allow_filter=over == "http",
                )
            )
            url = f"git+{server.url}/o/big.git@main"
        else:
            url = f"git+file://{large_file_repo}@main"
        app = tmp_path / "app"
        app.mkdir()
        (app / "requirements.txt").write_text(f"big @ {url}\n")
        code, stderr, peak = run_measured(
            "vendor", "-r", "requirements.txt", "-o", "wh", "--no-build-isolation", cwd=app
        )
    assert code == 0, stderr
    assert "big: built big-1.0" in stderr
    assert peak < 200, f"{peak:.0f} MB for a 300 MB file"
