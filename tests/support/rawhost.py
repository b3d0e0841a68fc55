"""A misbehaving host on 127.0.0.1: raw sockets, for faults no real server makes on cue."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable, Iterator

__all__ = ["ADVERTISEMENT_HEAD", "raw_host"]

# The start of a smart-HTTP ref advertisement: status, headers, the service line.
ADVERTISEMENT_HEAD = (
    b"HTTP/1.1 200 OK\r\nContent-Type: application/x-git-upload-pack-advertisement\r\n"
    b"Content-Length: 100000\r\n\r\n001e# service=git-upload-pack\n0000"
)


@contextlib.contextmanager
def raw_host(answer: Callable[[socket.socket, threading.Event], None]) -> Iterator[int]:
    """Serve ``answer(connection, stop)`` to every connection; yield the port. ``answer``
    must return once ``stop`` is set."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            with conn:
                conn.recv(65536)
                with contextlib.suppress(OSError):
                    answer(conn, stop)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        thread.join(5)
        listener.close()
