"""A host's ref advertisement read a pkt-line at a time, keeping only the refs asked for.

``git fetch`` asks a protocol v2 host for HEAD, branches and tags alone (``ref-prefix``);
a v0 host, or one that ignores the prefixes, sends every ref it has: pull-request and
review refs are often most of a large advertisement, and a hostile host can send a
hundred megabytes of them. dulwich would hold all of them, several times over, before
gitdeps could look. This reader sits between the socket and dulwich: refs outside the
prefixes never reach it, and a listing that still holds more than a set number of refs
stops with an error instead of filling memory.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from dulwich.errors import GitProtocolError

__all__ = ["RefFilter", "TooManyRefs"]

# "<40 or 64 hex> <name>..." (v0 and v2 alike); v2 says "unborn HEAD" for an empty HEAD.
_REF_LINE = re.compile(rb"(?:[0-9a-f]{40}|[0-9a-f]{64}|unborn) ([^ \0\n]+)")


class TooManyRefs(GitProtocolError):
    """The listing holds more refs under the wanted prefixes than gitdeps keeps."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"more than {limit} refs under the branches and tags")
        self.limit = limit


class RefFilter:
    """A ``read(size)`` over ``read`` that drops ref lines outside ``prefixes``.

    Every other pkt-line (service line, capabilities, flushes, errors, and the first ref
    line of a v0 advertisement, which carries the capabilities) passes unchanged. Reads
    return exactly ``size`` bytes until the end, as the urllib3 read it wraps does.
    """

    def __init__(self, read: Callable[[int], bytes], prefixes: Sequence[bytes], limit: int) -> None:
        self._read = read
        self._prefixes = tuple(prefixes)
        self._limit = limit
        self._kept = 0
        self._first_ref = True
        self._in = bytearray()  # read ahead: one answer's body, so the host waits for nothing
        self._out = bytearray()
        self._raw = False  # not pkt-lines after all: pass the rest through untouched
        self._ended = False

    def read(self, size: int = -1) -> bytes:
        while not self._ended and (size < 0 or len(self._out) < size):
            self._next()
        if size < 0:
            size = len(self._out)
        chunk = bytes(self._out[:size])
        del self._out[:size]
        return chunk

    def _exactly(self, size: int) -> bytes:
        while len(self._in) < size:
            part = self._read(max(65536, size - len(self._in)))
            if not part:
                break
            self._in += part
        taken = bytes(self._in[:size])
        del self._in[:size]
        return taken

    def _next(self) -> None:
        if self._raw:
            chunk = bytes(self._in) or self._read(65536)
            self._in.clear()
            self._out += chunk
            self._ended = not chunk
            return
        head = self._exactly(4)
        if len(head) < 4:
            self._out += head
            self._ended = True
            return
        try:
            size = int(head, 16)
        except ValueError:
            self._out += head
            self._raw = True
            return
        if size < 4:  # flush, delimiter, response end
            self._out += head
            return
        payload = self._exactly(size - 4)
        if self._wanted(payload):
            self._out += head + payload
        elif len(payload) < size - 4:  # cut short: let the reader see the damage
            self._out += head + payload
            self._ended = True

    def _wanted(self, payload: bytes) -> bool:
        match = _REF_LINE.match(payload)
        if match is None:
            return True
        first, self._first_ref = self._first_ref, False
        if first and b"\0" in payload:  # v0: the capabilities ride on the first ref
            return True
        name = match.group(1)
        if name != b"HEAD" and not name.startswith(self._prefixes):
            return False
        self._kept += 1
        if self._kept > self._limit:
            raise TooManyRefs(self._limit)
        return True
