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

from ._config import Config, HostConfig
from ._errors import AuthError
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
    username: str | None = None
    scheme: Literal["basic", "bearer"] = "basic"
    expires_on: float | None = None  # seconds since the epoch, when the provider says

    def authorization(self) -> str:
        if self.scheme == "bearer":
            return f"Bearer {self.token.reveal()}"
        pair = f"{self.username or ''}:{self.token.reveal()}".encode()
        return "Basic " + base64.b64encode(pair).decode("ascii")


class Credentials:
    """The credentials of one run: asked lazily, once per host (again if they expire)."""

    def __init__(
        self,
        embedded: Iterable[EmbeddedCredential] = (),
        environ: Mapping[str, str] | None = None,
        config: Config | None = None,
    ) -> None:
        self._environ = os.environ if environ is None else environ
        self._config = config or Config()
        self._embedded: dict[str, EmbeddedCredential] = {}
        self._cache: dict[str, Credential | None] = {}
        self._asked_helpers: set[str] = set()
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
        from ._providers import expired

        host = url.host
        with self._lock:
            cached = self._cache.get(host)
            if host not in self._cache or (cached is not None and expired(cached)):
                found = self._find(host, url)
                if found is not None:
                    logger.debug("credential for %s: from %s", host, found.source)
                else:
                    logger.debug("credential for %s: none found", host)
                self._cache[host] = found
            return self._cache[host]

    def after_unauthorized(self, url: GitURL) -> Credential | None:
        """The host asked for credentials and had none from us: ask the helpers, once.

        git credential helpers, netrc, a ``gitdeps login`` account and (for Azure
        DevOps) azure-identity are asked only here, so a host that needs nothing
        never sets off a helper.
        """
        host = url.host
        with self._lock:
            if (
                host in self._asked_helpers
                or self._cache.get(host) is not None
                or self._config.for_host(host) is not None
            ):
                return None
            self._asked_helpers.add(host)
            found = self._helpers(host, url)
            if found is not None:
                logger.debug("credential for %s: from %s", host, found.source)
                self._cache[host] = found
            return found

    def _helpers(self, host: str, url: GitURL) -> Credential | None:
        from . import _providers

        path = url.path.lstrip("/")
        found = _providers.git_credential(host, None, path=path) or _providers.from_netrc(
            host, None
        )
        if found is None and host_kind(host) is HostKind.AZURE_DEVOPS:
            from ._msal import msal_credential

            try:
                found = msal_credential(host, None, required=False) or _providers.azure_identity(
                    host, None
                )
            except AuthError as exc:
                logger.debug("%s", exc)
        return found

    def hint(self, url: GitURL) -> str:
        """What to do when ``url``'s host wants a credential we do not have."""
        kind = host_kind(url.host)
        names = [token_variable(url.host)] + [name for name, _ in _CI_VARIABLES[kind]]
        configured = self._config.for_host(url.host)
        if configured is not None and configured.provider != "env":
            return f"the {configured.provider} provider configured for {url.host} found nothing"
        return (
            "set " + " or ".join(names) + f", or configure a provider for {url.host} in "
            "gitdeps.toml"
        )

    def _find(self, host: str, url: GitURL) -> Credential | None:
        from . import _providers

        configured = self._config.for_host(host)
        if configured is not None:
            found: Credential | None
            if configured.provider == "azure-identity":
                found = _providers.azure_identity(host, configured)
            elif configured.provider == "msal":
                from ._msal import msal_credential

                found = msal_credential(host, configured, required=True)
            elif configured.provider == "git-credential":
                found = _providers.git_credential(host, configured, path=url.path.lstrip("/"))
            elif configured.provider == "netrc":
                found = _providers.from_netrc(host, configured)
            else:
                found = self._from_environment(host)
            return _apply(found, configured)
        # What costs nothing and sets nothing off; helpers wait for a 401.
        return self._from_environment(host) or self._from_url(host)

    def _from_environment(self, host: str) -> Credential | None:
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
        return None

    def _from_url(self, host: str) -> Credential | None:
        embedded = self._embedded.get(host)
        if embedded is None:
            return None
        return Credential(
            host,
            embedded.token,
            source="a credential in a requirement URL",
            username=embedded.username or _USERNAMES[host_kind(host)],
        )


def _apply(found: Credential | None, configured: HostConfig) -> Credential | None:
    """The configuration's user name and scheme, where it sets them."""
    if found is None:
        return None
    changes: dict[str, object] = {}
    if configured.username:
        changes["username"] = configured.username
    if configured.scheme:
        changes["scheme"] = configured.scheme
    return dataclasses.replace(found, **changes) if changes else found  # type: ignore[arg-type]
