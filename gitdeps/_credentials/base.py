"""The bottom layer: the credential record, and what a provider is."""

from __future__ import annotations

import base64
import dataclasses
import time
from typing import TYPE_CHECKING, Literal, Protocol

from .._secret import Secret

if TYPE_CHECKING:
    from .._inputs.giturl import GitURL

__all__ = [
    "AZURE_CREDENTIALS",
    "GIT_CREDENTIAL_SOURCE",
    "Credential",
    "HostConfig",
    "Provider",
    "expired",
]

# Which azure-identity credential a host (or the remote cache) is configured to use.
AZURE_CREDENTIALS = ("default", "managed-identity", "workload-identity", "azure-cli", "environment")


@dataclasses.dataclass(frozen=True)
class HostConfig:
    """A host's table in gitdeps.toml: which provider answers for it, and how."""

    provider: str | None = None  # None: the usual sources (environment, CI, helpers)
    credential: str = "default"  # which azure-identity credential
    client_id: str | None = None
    tenant: str | None = None  # msal: the Entra tenant (default: organizations)
    username: str | None = None
    scheme: str | None = None  # "basic" or "bearer"; the provider's default otherwise
    variable: str | None = None  # provider "env": the variable holding this host's token
    # the origins this table names, that credentials may go to: https://<host> unless given
    origins: tuple[str, ...] = ()


# The source of credentials that git's helpers gave: told approve/reject afterwards.
GIT_CREDENTIAL_SOURCE = "git credential fill"


@dataclasses.dataclass(frozen=True)
class Credential:
    """A token for one host, and how it goes out on the wire."""

    host: str
    token: Secret
    source: str  # names where it came from, never what it is
    username: str | None = None
    scheme: Literal["basic", "bearer"] = "basic"
    expires_on: float | None = None  # seconds since the epoch, when the provider says

    def authorization(self) -> str:
        if self.scheme == "bearer":
            return f"Bearer {self.token.reveal()}"
        pair = f"{self.username or ''}:{self.token.reveal()}".encode()
        return "Basic " + base64.b64encode(pair).decode("ascii")


class Provider(Protocol):
    """A source of tokens: a :class:`Credential` for ``url``'s host, None when it has
    nothing, or an :class:`~gitdeps.AuthError` when it was configured (``config`` is
    the host's gitdeps.toml table, None when asked as a helper after a 401) and failed."""

    def __call__(self, url: GitURL, config: HostConfig | None) -> Credential | None: ...


def expired(credential: Credential, margin: float = 300.0) -> bool:
    return credential.expires_on is not None and credential.expires_on - margin < time.time()
