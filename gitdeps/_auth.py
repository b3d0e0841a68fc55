"""Finding a credential for a git host.

Sources are asked in order, lazily (a host that needs nothing asks nobody) and
once per host per run:

1. ``GITDEPS_TOKEN_<HOST>`` (host upper-cased, non-alphanumerics as ``_``, port
   ignored; an empty value counts as unset), with ``GITDEPS_USERNAME_<HOST>`` to
   override the user name sent with it;
2. the well-known CI variables of the host's kind (Azure Pipelines, GitHub
   Actions, GitLab CI);
3. a credential embedded in a requirement URL for that host (accepted with a
   warning, used for every URL of the host in the run, never written back).
"""

from __future__ import annotations

import base64
import dataclasses
import enum
import logging
import os
import threading
from collections.abc import Iterable, Mapping
from typing import Literal

from ._giturl import EmbeddedCredential, GitURL, host_env_key
from ._secret import Secret

__all__ = ["Credential", "Credentials", "HostKind", "host_kind", "token_variable"]

logger = logging.getLogger("gitdeps")


class HostKind(enum.Enum):
    AZURE_DEVOPS = "Azure DevOps"
    GITHUB = "GitHub"
    GITLAB = "GitLab"
    BITBUCKET = "Bitbucket"
    GENERIC = "git host"


# The user name each kind expects beside a token in Basic auth.
_USERNAMES = {
    HostKind.AZURE_DEVOPS: "gitdeps",  # any non-empty name works
    HostKind.GITHUB: "x-access-token",
    HostKind.GITLAB: "oauth2",
    HostKind.BITBUCKET: "x-token-auth",
    HostKind.GENERIC: "x-access-token",
}

# (variable, user name or None for Bearer) per kind, first set one wins.
_CI_VARIABLES: Mapping[HostKind, tuple[tuple[str, str | None], ...]] = {
    HostKind.AZURE_DEVOPS: (("SYSTEM_ACCESSTOKEN", None), ("AZURE_DEVOPS_EXT_PAT", "gitdeps")),
    HostKind.GITHUB: (("GH_TOKEN", "x-access-token"), ("GITHUB_TOKEN", "x-access-token")),
    HostKind.GITLAB: (("CI_JOB_TOKEN", "gitlab-ci-token"), ("GITLAB_TOKEN", "oauth2")),
    HostKind.BITBUCKET: (),
    HostKind.GENERIC: (),
}


def host_kind(host: str) -> HostKind:
    host = host.lower()
    if host == "dev.azure.com" or host.endswith((".visualstudio.com", ".dev.azure.com")):
        return HostKind.AZURE_DEVOPS
    if host == "github.com" or host.endswith(".ghe.com"):
        return HostKind.GITHUB
    if host == "gitlab.com":
        return HostKind.GITLAB
    if host == "bitbucket.org":
        return HostKind.BITBUCKET
    return HostKind.GENERIC


def token_variable(host: str) -> str:
    return f"GITDEPS_TOKEN_{host_env_key(host)}"


@dataclasses.dataclass(frozen=True)
class Credential:
    """A token for one host, and how it goes out on the wire."""

    host: str
    token: Secret
    source: str  # names where it came from, never what it is
    username: str | None = None  # None sends ``Authorization: Bearer``
    scheme: Literal["basic", "bearer"] = "basic"

    def authorization(self) -> str:
        if self.scheme == "bearer":
            return f"Bearer {self.token.reveal()}"
        pair = f"{self.username or ''}:{self.token.reveal()}".encode()
        return "Basic " + base64.b64encode(pair).decode("ascii")


class Credentials:
    """The credentials of one run: asked lazily, once per host, thread-safe."""

    def __init__(
        self,
        embedded: Iterable[EmbeddedCredential] = (),
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self._environ = os.environ if environ is None else environ
        self._embedded: dict[str, EmbeddedCredential] = {}
        self._cache: dict[str, Credential | None] = {}
        self._lock = threading.Lock()
        for credential in embedded:
            self.add_embedded(credential)

    def add_embedded(self, credential: EmbeddedCredential) -> None:
        with self._lock:
            if credential.host not in self._embedded:
                logger.warning(
                    "a requirement URL for %s carries a credential; it is used for this run "
                    "and never written out, but keep tokens out of requirement files: set %s "
                    "instead",
                    credential.host,
                    token_variable(credential.host),
                )
                self._embedded[credential.host] = credential
            self._cache.pop(credential.host, None)

    def for_url(self, url: GitURL) -> Credential | None:
        host = url.host
        with self._lock:
            if host not in self._cache:
                found = self._find(host)
                if found is not None:
                    logger.debug("credential for %s: %s", host, found.source)
                self._cache[host] = found
            return self._cache[host]

    def hint(self, url: GitURL) -> str:
        """What to do when ``url``'s host wants a credential we do not have."""
        kind = host_kind(url.host)
        names = [token_variable(url.host)] + [name for name, _ in _CI_VARIABLES[kind]]
        return "set " + " or ".join(names)

    def _find(self, host: str) -> Credential | None:
        kind = host_kind(host)
        variable = token_variable(host)
        value = self._environ.get(variable, "")
        if value:
            override = self._environ.get(f"GITDEPS_USERNAME_{host_env_key(host)}")
            return Credential(
                host, Secret(value), source=variable, username=override or _USERNAMES[kind]
            )
        for name, ci_user in _CI_VARIABLES[kind]:
            value = self._environ.get(name, "")
            if value:
                scheme: Literal["basic", "bearer"] = "bearer" if ci_user is None else "basic"
                return Credential(host, Secret(value), source=name, username=ci_user, scheme=scheme)
        embedded = self._embedded.get(host)
        if embedded is not None:
            return Credential(
                host,
                embedded.token,
                source="a credential in a requirement URL",
                username=embedded.username or _USERNAMES[kind],
            )
        return None
