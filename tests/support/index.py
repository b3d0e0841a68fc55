"""A real package index (pypiserver) on loopback, serving a directory of wheels."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

__all__ = ["free_port", "serve_index"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextlib.contextmanager
def serve_index(
    root: Path,
    *,
    upload_auth: tuple[str, str] | None = None,
    refuse_local_versions: bool = False,
) -> Iterator[str]:
    """Serve ``root`` as a PEP 503 index; yield its ``/simple/`` URL.

    Unknown names get a 404, never a redirect to a public index. With
    ``upload_auth`` (user, password), uploads to ``/`` need that Basic auth. With
    ``refuse_local_versions``, uploads of a version with a local segment are refused,
    as Azure Artifacts refuses them (see strict_feed.py).
    """
    port = free_port()
    auth = ["-a", ".", "-P", "."]
    if upload_auth is not None:
        # An Apache {SHA} entry, which pypiserver reads through passlib.
        user, password = upload_auth
        digest = base64.b64encode(hashlib.sha1(password.encode()).digest()).decode()  # noqa: S324
        (root / ".htpasswd").write_text(f"{user}:{{SHA}}{digest}\n")
        auth = ["-a", "update", "-P", str(root / ".htpasswd")]
    command = [
        sys.executable, "-m", "pypiserver", "run",
        "--host", "127.0.0.1", "--port", str(port),
        "--disable-fallback", "--server", "wsgiref",
        *auth,
        str(root),
    ]  # fmt: skip
    if refuse_local_versions:
        script = Path(__file__).with_name("strict_feed.py")
        password_file = [str(root / ".htpasswd")] if upload_auth is not None else []
        command = [sys.executable, str(script), str(port), str(root), *password_file]
    proc = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=dict(os.environ)
    )
    url = f"http://127.0.0.1:{port}/simple/"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(url, timeout=2):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("pypiserver did not start") from None
                time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)
