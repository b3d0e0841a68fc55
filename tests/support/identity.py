"""A managed-identity token endpoint on loopback, for azure-identity to talk to.

Answers the App Service / Functions protocol (``IDENTITY_ENDPOINT`` with the
``X-IDENTITY-HEADER`` secret, api-version 2019-08-01) and the VM/IMDS protocol
(``/metadata/identity/oauth2/token`` with ``Metadata: true``, reached through
``AZURE_POD_IDENTITY_AUTHORITY_HOST``). Records what it was asked.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

__all__ = ["IdentityEndpoint"]


class IdentityEndpoint:
    def __init__(
        self, *, token: str, header_secret: str, status: int = 200, body: bytes | None = None
    ) -> None:
        self.token = token
        self.header_secret = header_secret
        self.status = status
        self.body = body  # answered instead of the JSON, when given (an empty body, HTML)
        self.asked: list[dict[str, str]] = []
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                endpoint._answer(self)

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.port = self._httpd.server_address[1]

    @property
    def app_service_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/msi/token"

    @property
    def imds_host(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _answer(self, handler: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(handler.path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        self.asked.append({"path": parts.path, **query})
        if parts.path == "/msi/token":
            allowed = handler.headers.get("X-IDENTITY-HEADER") == self.header_secret
        elif parts.path == "/metadata/identity/oauth2/token":
            allowed = handler.headers.get("Metadata") == "true"
        else:
            allowed = False
        status = self.status if allowed else 401
        if status == 200:
            expires = int(time.time()) + 3600
            body = json.dumps(
                {
                    "access_token": self.token,
                    "expires_on": str(expires),
                    "expires_in": "3600",
                    "resource": query.get("resource", ""),
                    "token_type": "Bearer",
                    "client_id": query.get("client_id", "00000000-0000-0000-0000-000000000000"),
                }
            ).encode()
        else:
            body = json.dumps(
                {"error": "invalid_request", "error_description": "Identity not found"}
            ).encode()
        if self.body is not None:
            body = self.body
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    def __enter__(self) -> IdentityEndpoint:
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
