"""A git smart-HTTP server on loopback that demands a token.

It is the real thing: ``git http-backend`` does the protocol work, behind a small
HTTP server that checks ``Authorization`` (Basic with the token as password, or
Bearer) the way Azure DevOps, GitHub and GitLab do. Tests and the demo use it.

Everything it sees is recorded in ``requests`` so tests can assert what went
over the wire (and what never did).
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import os
import shutil
import ssl
import subprocess
import threading
import time
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

__all__ = ["GitServer", "SeenRequest", "lfs_pointer", "make_repo"]

_HTTP_BACKEND = "/usr/lib/git-core/git-http-backend"


def _http_backend() -> str:
    if os.path.exists(_HTTP_BACKEND):
        return _HTTP_BACKEND
    exec_path = subprocess.run(
        ["git", "--exec-path"], capture_output=True, text=True, check=True
    ).stdout.strip()
    return os.path.join(exec_path, "git-http-backend")


@dataclasses.dataclass(frozen=True)
class SeenRequest:
    method: str
    path: str
    authorization: str | None
    status: int
    headers: Mapping[str, str]
    sent: int = 0  # bytes of the response body


# A hook may answer a request itself: return (status, headers, body) or None.
Hook = Callable[[str, str], "tuple[int, dict[str, str], bytes] | None"]


class GitServer:
    """Serve every bare repository under ``root`` at ``http://127.0.0.1:PORT/``."""

    def __init__(
        self,
        root: Path,
        *,
        token: str | None,
        host: str = "127.0.0.1",
        allow_anonymous: bool = False,
        schemes: tuple[str, ...] = ("basic", "bearer"),
        allow_filter: bool = True,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.root = root
        self.tls = tls
        self.allow_filter = allow_filter
        # Git LFS: objects live in root/.lfs/<oid>. Downloads are offered here, or at
        # ``lfs_download_base`` (another origin, like blob storage) with these headers.
        self.lfs_download_base: str | None = None
        self.lfs_download_headers: dict[str, str] = {}
        self.token = token
        self.allow_anonymous = allow_anonymous
        self.schemes = schemes
        self.requests: list[SeenRequest] = []
        self.connections = 0  # TCP connections accepted (a kept-alive one serves many requests)
        # A shaped link, for the benchmark: each answer waits ``delay`` seconds, and its
        # body goes out at ``bandwidth`` bytes per second (None: as fast as loopback).
        self.delay = 0.0
        self.bandwidth: float | None = None
        self.hook: Hook | None = None
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass

            def setup(self) -> None:
                with server._lock:
                    server.connections += 1
                if server.tls is not None:
                    # The handshake happens here, in this connection's own thread: in
                    # accept() it would hold up every other client behind a slow one.
                    self.request.settimeout(30)
                    self.request = server.tls.wrap_socket(self.request, server_side=True)
                    self.connection = self.request
                super().setup()

            def do_GET(self) -> None:
                server._handle(self)

            def do_POST(self) -> None:
                server._handle(self)

        class Server(ThreadingHTTPServer):
            # socketserver's default backlog of 5 drops connections when a client
            # opens many at once, and TCP retries only after a second.
            request_queue_size = 128

            def handle_error(self, request: object, client_address: object) -> None:
                pass  # a client hanging up early is not the server's problem

        self._httpd = Server((host if host != "localhost" else "127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.host = host
        self.port = self._httpd.server_address[1]
        self._thread: threading.Thread | None = None

    # -- life cycle ---------------------------------------------------------
    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://{self.host}:{self.port}"

    def start(self) -> GitServer:
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> GitServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- request handling ---------------------------------------------------
    def _authorized(self, header: str | None) -> bool:
        if self.token is None:
            return True
        if header is None:
            return self.allow_anonymous
        scheme, _, value = header.partition(" ")
        if scheme.lower() not in self.schemes:
            return False
        if scheme.lower() == "bearer":
            return value == self.token
        if scheme.lower() == "basic":
            try:
                decoded = base64.b64decode(value).decode()
            except ValueError:
                return False
            _user, _, password = decoded.partition(":")
            return password == self.token
        return False

    def tokens_seen(self) -> list[str]:
        """Every credential value that reached this server (Basic passwords, Bearer tokens)."""
        seen = []
        for request in self.requests:
            if not request.authorization:
                continue
            scheme, _, value = request.authorization.partition(" ")
            if scheme.lower() == "basic":
                value = base64.b64decode(value).decode().partition(":")[2]
            seen.append(value)
        return seen

    def _record(self, handler: BaseHTTPRequestHandler, status: int, sent: int) -> None:
        with self._lock:
            self.requests.append(
                SeenRequest(
                    method=handler.command,
                    path=handler.path,
                    authorization=handler.headers.get("Authorization"),
                    status=status,
                    headers=dict(handler.headers.items()),
                    sent=sent,
                )
            )

    def _reply(
        self,
        handler: BaseHTTPRequestHandler,
        status: int,
        headers: Mapping[str, str],
        body: bytes,
    ) -> None:
        self._record(handler, status, len(body))
        if self.delay:
            time.sleep(self.delay)
        handler.send_response(status)
        for name, value in headers.items():
            handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        if not self.bandwidth:
            handler.wfile.write(body)
            return
        chunk = max(1024, int(self.bandwidth / 50))  # 20 ms of the link at a time
        for start in range(0, len(body), chunk):
            handler.wfile.write(body[start : start + chunk])
            time.sleep(len(body[start : start + chunk]) / self.bandwidth)

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        if handler.headers.get("Transfer-Encoding", "").lower() == "chunked":
            body = _read_chunked(handler)
        if self.hook is not None:
            answer = self.hook(handler.command, handler.path)
            if answer is not None:
                self._reply(handler, *answer)
                return
        if not self._authorized(handler.headers.get("Authorization")):
            self._reply(
                handler,
                401,
                {"WWW-Authenticate": 'Basic realm="gitdeps-test"'},
                b"authentication required\n",
            )
            return
        path, _, query = handler.path.partition("?")
        if path.endswith("/info/lfs/objects/batch") and handler.command == "POST":
            self._reply(handler, 200, {"Content-Type": _LFS_MEDIA_TYPE}, self._lfs_batch(body))
            return
        if path.startswith("/lfs-objects/"):
            stored = self.root / ".lfs" / path.rsplit("/", 1)[1]
            if stored.is_file():
                self._reply(handler, 200, {}, stored.read_bytes())
            else:
                self._reply(handler, 404, {}, b"no such object\n")
            return
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "GIT_PROJECT_ROOT": str(self.root),
            "GIT_HTTP_EXPORT_ALL": "1",
            "REQUEST_METHOD": handler.command,
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "CONTENT_TYPE": handler.headers.get("Content-Type", ""),
            "CONTENT_LENGTH": str(len(body)),
            "REMOTE_USER": "gitdeps-test",
            "REMOTE_ADDR": "127.0.0.1",
            # Fetching a commit by hash that is no longer a branch tip, as
            # GitHub and Azure DevOps allow; partial clone filters, as GitHub
            # and GitLab allow (``allow_filter=False`` is a server without).
            "GIT_CONFIG_COUNT": "2",
            "GIT_CONFIG_KEY_0": "uploadpack.allowReachableSHA1InWant",
            "GIT_CONFIG_VALUE_0": "true",
            "GIT_CONFIG_KEY_1": "uploadpack.allowFilter",
            "GIT_CONFIG_VALUE_1": "true" if self.allow_filter else "false",
        }
        if handler.headers.get("Content-Encoding"):
            env["HTTP_CONTENT_ENCODING"] = handler.headers["Content-Encoding"]
        if handler.headers.get("Git-Protocol"):
            env["GIT_PROTOCOL"] = handler.headers["Git-Protocol"]
        proc = subprocess.run(
            [_http_backend()], input=body, env=env, capture_output=True, check=False
        )
        head, _, payload = proc.stdout.partition(b"\r\n\r\n")
        if not _:
            head, _, payload = proc.stdout.partition(b"\n\n")
        status = 200
        headers: dict[str, str] = {}
        for line in head.decode("latin-1").splitlines():
            name, _, value = line.partition(":")
            if name.lower() == "status":
                status = int(value.strip().split()[0])
            elif name:
                headers[name.strip()] = value.strip()
        self._reply(handler, status, headers, payload)

    def _lfs_batch(self, body: bytes) -> bytes:
        base = self.lfs_download_base or self.url
        objects = []
        for wanted in json.loads(body)["objects"]:
            oid = wanted["oid"]
            if (self.root / ".lfs" / oid).is_file() or self.lfs_download_base:
                action = {"href": f"{base}/lfs-objects/{oid}", "header": self.lfs_download_headers}
                objects.append({**wanted, "actions": {"download": action}})
            else:
                objects.append(
                    {**wanted, "error": {"code": 404, "message": "Object does not exist"}}
                )
        return json.dumps({"transfer": "basic", "objects": objects}).encode()


_LFS_MEDIA_TYPE = "application/vnd.git-lfs+json"


def lfs_pointer(server_root: Path, content: bytes) -> str:
    """Store ``content`` as an LFS object under ``server_root``; return its pointer file."""
    oid = hashlib.sha256(content).hexdigest()
    store = server_root / ".lfs"
    store.mkdir(parents=True, exist_ok=True)
    (store / oid).write_bytes(content)
    return f"version https://git-lfs.github.com/spec/v1\noid sha256:{oid}\nsize {len(content)}\n"


def _read_chunked(handler: BaseHTTPRequestHandler) -> bytes:
    chunks: list[bytes] = []
    while True:
        size = int(handler.rfile.readline().strip() or b"0", 16)
        if size == 0:
            handler.rfile.readline()
            return b"".join(chunks)
        chunks.append(handler.rfile.read(size))
        handler.rfile.readline()


_GIT_ENV = {
    "GIT_AUTHOR_NAME": "Fixture",
    "GIT_AUTHOR_EMAIL": "fixture@example.invalid",
    "GIT_COMMITTER_NAME": "Fixture",
    "GIT_COMMITTER_EMAIL": "fixture@example.invalid",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
}


def git(cwd: Path, *args: str, date: str = "2024-01-02T03:04:05Z") -> str:
    env = {**os.environ, **_GIT_ENV, "GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date}
    return subprocess.run(
        ["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=True
    ).stdout.strip()


def make_repo(root: Path, name: str) -> Path:
    """Create an empty bare repository ``root/name`` (``name`` may contain ``/``)."""
    bare = root / name
    bare.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["git", "init", "-q", "--bare", "-b", "main", str(bare)],
        check=True,
        env={**os.environ, **_GIT_ENV},
    )
    return bare


def commit_files(
    bare: Path,
    files: Mapping[str, str | bytes],
    *,
    work: Path,
    branch: str = "main",
    message: str = "update",
    tag: str | None = None,
    annotated: bool = False,
    date: str = "2024-01-02T03:04:05Z",
    replace: bool = True,
    gitlinks: Mapping[str, str] | None = None,
) -> str:
    """Commit ``files`` (and ``gitlinks``: path -> commit) on ``branch`` of ``bare`` and
    push; return the commit id."""
    if not work.exists():
        git(bare.parent, "clone", "-q", str(bare), str(work))
        git(work, "checkout", "-q", "-B", branch)
    else:
        git(work, "fetch", "-q", "origin")
        try:
            git(work, "checkout", "-q", "-B", branch, f"origin/{branch}")
        except subprocess.CalledProcessError:
            git(work, "checkout", "-q", "-B", branch)
    if replace:
        for child in work.iterdir():
            if child.name == ".git":
                continue
            if child.is_dir() and not child.is_symlink():
                shutil.rmtree(child)
            else:
                child.unlink()
    for rel, content in files.items():
        target = work / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(content)
    git(work, "add", "-A", ".")
    for path, sha in (gitlinks or {}).items():
        git(work, "update-index", "--add", "--cacheinfo", f"160000,{sha},{path}")
    git(work, "commit", "-q", "--allow-empty", "-m", message, date=date)
    sha = git(work, "rev-parse", "HEAD")
    git(work, "push", "-q", "origin", f"HEAD:refs/heads/{branch}")
    if tag is not None:
        if annotated:
            git(work, "tag", "-f", "-a", tag, "-m", f"release {tag}", date=date)
        else:
            git(work, "tag", "-f", tag)
        git(work, "push", "-q", "-f", "origin", f"refs/tags/{tag}")
    return sha
