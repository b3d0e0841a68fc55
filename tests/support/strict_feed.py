"""pypiserver behind the check Azure Artifacts makes on Python feeds: an upload whose
version has a local segment (``1.2.0+g1a2b3c``) is refused with HTTP 400, before
pypiserver sees it. Run as a script: ``strict_feed.py PORT ROOT [HTPASSWD]``."""

from __future__ import annotations

import io
import re
import sys
from collections.abc import Callable, Iterable
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, make_server

import pypiserver

_VERSION = re.compile(rb'name="version"\r\n\r\n([^\r\n]*)\r\n')


def refusing_local_versions(app: Callable[..., Iterable[bytes]]) -> Callable[..., Iterable[bytes]]:
    def wrapped(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ["REQUEST_METHOD"] == "POST":
            body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
            environ["wsgi.input"] = io.BytesIO(body)
            found = _VERSION.search(body)
            if found and b"+" in found.group(1):
                start_response("400 Bad Request", [("Content-Type", "text/plain")])
                return [b"The package version contains a local version segment, which is "
                        b"not supported for Python packages.\n"]  # fmt: skip
        return app(environ, start_response)

    return wrapped


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


def main() -> None:
    port, root, *password = sys.argv[1:]
    options: dict[str, Any] = {"roots": [root], "disable_fallback": True}
    if password:
        options.update(authenticate=["update"], password_file=password[0])
    else:
        options.update(authenticate=[], password_file=".")
    app = refusing_local_versions(pypiserver.app(**options))
    make_server("127.0.0.1", int(port), app, handler_class=_Quiet).serve_forever()


if __name__ == "__main__":
    main()
