"""A stand-in for Microsoft Entra ID, handed to msal as its HTTP client (no internet).

It answers what msal asks during a device-code sign-in and a silent refresh:
OpenID discovery, instance discovery, the device-code endpoint and the token
endpoint. Tokens are the ones the test chose; everything asked is recorded.
"""

from __future__ import annotations

import base64
import json
import time
from typing import Any

__all__ = ["FakeEntra"]

TENANT = "11111111-2222-3333-4444-555555555555"
AUTHORITY = "https://login.microsoftonline.com"


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


class _Response:
    def __init__(self, status: int, body: dict[str, Any]) -> None:
        self.status_code = status
        self.text = json.dumps(body)
        self.headers: dict[str, str] = {"Content-Type": "application/json"}

    def raise_for_status(self) -> None:
        if self.status_code >= 400:
            raise RuntimeError(f"HTTP {self.status_code}")


class FakeEntra:
    def __init__(self, tokens: list[str], *, user: str = "dev@contoso.example") -> None:
        self.tokens = list(tokens)  # handed out in order: sign-in, then each refresh
        self.user = user
        self.asked: list[tuple[str, str]] = []
        self.expires_in = 3600

    def _token(self, client_id: str) -> _Response:
        now = int(time.time())
        claims = {
            "aud": client_id, "iss": f"{AUTHORITY}/{TENANT}/v2.0", "iat": now, "nbf": now,
            "exp": now + 3600, "oid": "aaaaaaaa-0000-0000-0000-000000000001", "tid": TENANT,
            "sub": "subject", "preferred_username": self.user, "name": "Dev",
        }  # fmt: skip
        id_token = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}.sig"
        client_info = _b64({"uid": "aaaaaaaa-0000-0000-0000-000000000001", "utid": TENANT})
        return _Response(
            200,
            {
                "token_type": "Bearer", "scope": "499b84ac-1321-427f-aa17-267ca6975798/.default",
                "expires_in": self.expires_in, "access_token": self.tokens.pop(0),
                "refresh_token": "refresh-" + str(len(self.asked)), "id_token": id_token,
                "client_info": client_info,
            },
        )  # fmt: skip

    def get(self, url: str, params: Any = None, headers: Any = None, **kwargs: Any) -> _Response:
        self.asked.append(("GET", url))
        if "discovery/instance" in url:
            return _Response(
                200,
                {
                    "tenant_discovery_endpoint": f"{AUTHORITY}/organizations/v2.0/.well-known/openid-configuration",
                    "api-version": "1.1",
                    "metadata": [{"preferred_network": "login.microsoftonline.com",
                                  "preferred_cache": "login.windows.net",
                                  "aliases": ["login.microsoftonline.com", "login.windows.net"]}],
                },
            )  # fmt: skip
        if url.endswith("/.well-known/openid-configuration"):
            base = url.split("/v2.0/", maxsplit=1)[0]
            return _Response(
                200,
                {
                    "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
                    "token_endpoint": f"{base}/oauth2/v2.0/token",
                    "device_authorization_endpoint": f"{base}/oauth2/v2.0/devicecode",
                    "issuer": f"{AUTHORITY}/{{tenantid}}/v2.0",
                },
            )
        return _Response(404, {"error": "not_found"})

    def post(
        self, url: str, params: Any = None, data: Any = None, headers: Any = None, **kwargs: Any
    ) -> _Response:
        self.asked.append(("POST", url))
        form = dict(data or {})
        if url.endswith("/devicecode"):
            return _Response(
                200,
                {
                    "device_code": "device-code", "user_code": "GDCODE42",
                    "verification_uri": "https://microsoft.com/devicelogin", "expires_in": 900,
                    "interval": 1,
                    "message": "To sign in, use a web browser to open the page "
                    "https://microsoft.com/devicelogin and enter the code GDCODE42 to authenticate.",
                },
            )  # fmt: skip
        if url.endswith("/token"):
            return self._token(str(form.get("client_id", "")))
        return _Response(404, {"error": "not_found"})
