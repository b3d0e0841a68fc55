"""Packs in bounded memory: indexing a fetched pack, and writing a blob out of one.

dulwich inflates every object whole, twice, while it indexes a pack it receives, and
once more to check it out: a 500 MB file in a repository held over 1 GB. ``git
index-pack`` streams, and so does this: an object stored whole (most large files are:
a delta needs a similar older version, and a depth-1 fetch has none) is inflated a
chunk at a time into its hash, and later into its file. Deltas are resolved against
their bases in memory, as git does, with a bounded cache of recent bases.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import struct
import zlib
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

__all__ = ["DamagedPack", "copy_whole_blob", "index_pack"]

_CHUNK = 1 << 16
_TYPES = {1: b"commit", 2: b"tree", 3: b"blob", 4: b"tag"}
_OFS_DELTA, _REF_DELTA = 6, 7
_BLOB = 3
_BASE_CACHE_BYTES = 64 << 20  # resolved bases kept for the deltas that follow
_MAX_CHAIN = 10_000  # git's own limit on delta chains is far lower in practice


class DamagedPack(Exception):
    """A pack whose bytes do not add up: truncated, corrupt, or with a missing base. The
    fetch that received it says which host and repository (``_git._errors``)."""


class _Reader:
    """Sequential reads from a pack file: the offset, a running SHA-1 of everything read
    (the pack's trailer checks it), and a CRC-32 of the current object (the index
    stores it)."""

    def __init__(
        self, handle: BinaryIO, *, offset: int = 0, digest: bool = True, chunk: int = _CHUNK
    ) -> None:
        self._handle = handle
        self.chunk = chunk  # how much one read from the file asks for
        self._buffer = b""
        self.offset = offset
        self._sha = hashlib.sha1(usedforsecurity=False) if digest else None
        self.crc = 0

    def _fill(self) -> None:
        if not self._buffer:
            self._buffer = self._handle.read(self.chunk)
            if not self._buffer:
                raise DamagedPack("the pack ends early")

    def _consume(self, count: int) -> bytes:
        taken, self._buffer = self._buffer[:count], self._buffer[count:]
        if self._sha is not None:
            self._sha.update(taken)
        self.crc = zlib.crc32(taken, self.crc)
        self.offset += count
        return taken

    def read(self, count: int) -> bytes:
        parts = []
        while count:
            self._fill()
            part = self._consume(min(count, len(self._buffer)))
            parts.append(part)
            count -= len(part)
        return b"".join(parts)

    def byte(self) -> int:
        return self.read(1)[0]

    def inflate(self, sink: Callable[[bytes], object], size: int) -> None:
        """Inflate one zlib stream into ``sink``, a chunk at a time; it must make ``size``
        bytes."""
        inflater = zlib.decompressobj()
        made = 0
        try:
            while not inflater.eof:
                self._fill()
                data = self._buffer
                out = inflater.decompress(data, _CHUNK)
                while True:
                    made += len(out)
                    if made > size:
                        raise DamagedPack("an object inflates beyond its stated size")
                    sink(out)
                    if inflater.eof or not inflater.unconsumed_tail:
                        break
                    out = inflater.decompress(inflater.unconsumed_tail, _CHUNK)
                self._consume(len(data) - len(inflater.unused_data))
        except zlib.error as exc:
            raise DamagedPack(f"an object's data is corrupt ({exc})") from None
        if made != size:
            raise DamagedPack("an object inflates short of its stated size")

    def checksum(self) -> bytes:
        return self._sha.digest() if self._sha is not None else b""

    def rest(self) -> bytes:
        """What is left after the objects: the trailer, and nothing more."""
        rest, self._buffer = self._buffer + self._handle.read(64), b""
        return rest


def _header(reader: _Reader) -> tuple[int, int, int | bytes | None]:
    """An object's type, its (inflated) size, and its delta base: an offset or an id."""
    start = reader.offset
    byte = reader.byte()
    kind, size, shift = (byte >> 4) & 7, byte & 15, 4
    while byte & 0x80:
        byte = reader.byte()
        size |= (byte & 0x7F) << shift
        shift += 7
    if kind == _OFS_DELTA:
        byte = reader.byte()
        back = byte & 0x7F
        while byte & 0x80:
            byte = reader.byte()
            back = ((back + 1) << 7) | (byte & 0x7F)
        if not 0 < back <= start - 12:
            raise DamagedPack("a delta names a base outside the pack")
        return kind, size, start - back
    if kind == _REF_DELTA:
        return kind, size, reader.read(20)
    if kind not in _TYPES:
        raise DamagedPack(f"an object has the unknown type {kind}")
    return kind, size, None


@dataclasses.dataclass(frozen=True, slots=True)
class _Delta:
    """A delta found by the first pass: where it is, its base, its CRC-32 for the index."""

    offset: int
    base: int | bytes  # an offset in this pack, or an object id
    crc: int


def index_pack(incoming: Path, pack_dir: Path) -> str:
    """Index the pack at ``incoming`` and move it into ``pack_dir`` with its index, as
    ``pack-<checksum>.pack`` / ``.idx``; returns the checksum. Raises
    :class:`DamagedPack` if its data, its deltas or its trailer do not add up."""
    from dulwich.pack import write_pack_index_v2

    entries: dict[bytes, tuple[int, int]] = {}  # id -> (offset, crc32)
    deltas: list[_Delta] = []
    with open(incoming, "rb") as handle:
        reader = _Reader(handle)
        head = reader.read(12)
        magic, version, count = head[:4], *struct.unpack(">II", head[4:])
        if magic != b"PACK" or version not in (2, 3):
            raise DamagedPack("what was sent is not a git pack")
        for _ in range(count):
            offset, reader.crc = reader.offset, 0
            kind, size, base = _header(reader)
            if base is None:
                digest = hashlib.sha1(_TYPES[kind] + b" %d\0" % size, usedforsecurity=False)
                reader.inflate(digest.update, size)
                entries[digest.digest()] = (offset, reader.crc)
            else:
                reader.inflate(lambda _chunk: None, size)
                deltas.append(_Delta(offset, base, reader.crc))
        trailer = reader.checksum()
        if reader.rest() != trailer:
            raise DamagedPack("the pack's checksum does not match its contents")
    if deltas:
        _resolve(incoming, entries, deltas)
    name = trailer.hex()
    idx_tmp = pack_dir / f"tmp-{name}.idx"
    with open(idx_tmp, "wb") as idx:
        write_pack_index_v2(
            idx, sorted((sha, off, crc) for sha, (off, crc) in entries.items()), trailer
        )
    os.replace(incoming, pack_dir / f"pack-{name}.pack")
    os.replace(idx_tmp, pack_dir / f"pack-{name}.idx")
    return name


def _resolve(path: Path, entries: dict[bytes, tuple[int, int]], deltas: list[_Delta]) -> None:
    """Give each delta its id: apply it to its base (by offset, or by id once that id is
    known), as ``git index-pack`` does, each object whole in memory."""
    from dulwich.pack import apply_delta

    cache: OrderedDict[int, tuple[int, bytes]] = OrderedDict()  # offset -> (type, data)
    cached = 0

    with open(path, "rb") as handle:

        def raw(offset: int) -> tuple[int, int | bytes | None, bytes]:
            handle.seek(offset)
            reader = _Reader(handle, offset=offset, digest=False)
            kind, size, base = _header(reader)
            parts: list[bytes] = []
            reader.inflate(parts.append, size)
            return kind, base, b"".join(parts)

        def content(offset: int) -> tuple[int, bytes]:
            """The type and data of the object at ``offset``: down its chain of deltas to
            a base (or a cached result), then the deltas applied back up."""
            nonlocal cached
            chain: list[bytes] = []
            at = offset
            while at not in cache:
                kind, base, data = raw(at)
                if base is None:
                    break
                chain.append(data)
                if len(chain) > _MAX_CHAIN:
                    raise DamagedPack("a chain of deltas is too long (a loop?)")
                if isinstance(base, bytes):
                    if base not in entries:
                        raise _Missing(base)
                    base = entries[base][0]
                at = base
            else:
                cache.move_to_end(at)
                kind, data = cache[at]
            for delta in reversed(chain):
                data = b"".join(apply_delta(data, delta))
            if offset not in cache and len(data) <= _BASE_CACHE_BYTES // 4:  # likely a base
                cache[offset] = (kind, data)
                cached += len(data)
                while cached > _BASE_CACHE_BYTES:
                    cached -= len(cache.popitem(last=False)[1][1])
            return kind, data

        waiting = deltas
        while waiting:
            later: list[_Delta] = []
            for delta in waiting:
                try:
                    kind, data = content(delta.offset)
                except _Missing:
                    later.append(delta)
                    continue
                digest = hashlib.sha1(_TYPES[kind] + b" %d\0" % len(data), usedforsecurity=False)
                digest.update(data)
                entries[digest.digest()] = (delta.offset, delta.crc)
            if len(later) == len(waiting):
                raise DamagedPack("a delta's base object is not in the pack")
            waiting = later


class _Missing(Exception):
    """A delta's base is named by an id not (yet) known."""


def copy_whole_blob(pack_path: str, offset: int, size_limit: int, out: BinaryIO) -> int | None:
    """Write the blob stored whole at ``offset`` in the pack into ``out``, a chunk at a time;
    its size. None (and nothing written) when it is a delta or smaller than
    ``size_limit``: those are cheap to read through dulwich."""
    with open(pack_path, "rb") as handle:
        handle.seek(offset)
        # The header first, in a small read: most blobs are small and go back to dulwich.
        reader = _Reader(handle, offset=offset, digest=False, chunk=32)
        kind, size, base = _header(reader)
        if kind != _BLOB or base is not None or size < size_limit:
            return None
        reader.chunk = _CHUNK
        reader.inflate(out.write, size)
        return size
