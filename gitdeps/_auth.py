"""Finding a credential for a git host.

Sources are asked in order, lazily (a host that needs nothing asks nobody) and
once per origin (scheme, host, port) per run; what one answers is used for
that origin only:

1. ``GITDEPS_TOKEN_<HOST>_<PORT>`` for a URL with a port, then
   ``GITDEPS_TOKEN_<HOST>`` (host upper-cased, non-alphanumerics as ``_``; an
   empty value counts as unset, surrounding white space is dropped), with
   ``GITDEPS_USERNAME_<HOST>`` to override the user name sent with it. Two hosts
   of one run whose names map to the same variable are refused;
2. the well-known CI variables of the host's kind (Azure Pipelines, GitHub
   Actions, GitLab CI);
3. a credential embedded in a requirement URL (accepted with a warning, used for
   every URL of that origin in the run, never written back).
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
from ._giturl import EmbeddedCredential, GitURL, Origin, host_env_key
from ._once import Once
from ._secret import Secret

__all__ = [
    "GIT_CREDENTIAL_SOURCE",
    "Credential",
    "Credentials",
    "HostKind",
    "host_kind",
    "token_variable",
]

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


# The source of credentials that git's helpers gave: told approve/reject afterwards.
GIT_CREDENTIAL_SOURCE = "git credential fill"


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
    """The credentials of one run, each bound to one origin (scheme, host, port).

    Asked lazily and once per origin (again when they expire). Helpers are asked
    only after a 401, once per origin: requests that meet a 401 while they are
    being asked wait for that one answer.
    """

    def __init__(
        self,
        embedded: Iterable[EmbeddedCredential] = (),
        environ: Mapping[str, str] | None = None,
        config: Config | None = None,
    ) -> None:
        self._environ = os.environ if environ is None else environ
        self._config = config or Config()
        self._embedded: dict[Origin, EmbeddedCredential] = {}
        self._cache: dict[Origin, Credential | None] = {}
        self._helper_answers = Once()
        self._reported: set[tuple[Origin, str]] = set()
        self._variables: dict[str, str] = {}  # variable -> the host it answered for
        self._lock = threading.Lock()
        for credential in embedded:
            self.add_embedded(credential)

    def add_embedded(self, credential: EmbeddedCredential) -> None:
        with self._lock:
            if credential.origin not in self._embedded:
                logger.warning(
                    "a requirement URL for %s carries a credential; it is used for this run "
                    "and never written out, but keep tokens out of requirement files: set %s "
                    "instead",
                    credential.host,
                    token_variable(credential.host),
                )
                self._embedded[credential.origin] = credential
            self._cache.pop(credential.origin, None)

    def for_url(self, url: GitURL) -> Credential | None:
        """The credential for ``url``'s origin; never one for ssh (keys sign in) or a path."""
        from ._providers import expired

        if url.scheme not in ("http", "https"):
            return None
        origin = url.origin
        with self._lock:
            cached = self._cache.get(origin)
            if origin not in self._cache or (cached is not None and expired(cached)):
                found = self._find(url)
                if found is not None:
                    logger.debug("credential for %s: from %s", url.hostport, found.source)
                else:
                    logger.debug("credential for %s: none found", url.hostport)
                self._cache[origin] = found
            return self._cache[origin]

    def after_unauthorized(self, url: GitURL) -> Credential | None:
        """The host asked for credentials and had none from us: what the helpers say.

        git credential helpers, netrc, a ``gitdeps login`` account and (for Azure
        DevOps) azure-identity are asked only here, so a host that needs nothing
        never sets off a helper; and only once per origin in a run.
        """
        origin = url.origin
        with self._lock:
            cached = self._cache.get(origin)
            if cached is not None:  # found meanwhile, for a request that started earlier
                return cached
            if self._config.for_host(url.host) is not None:
                return None
        # Requests that meet a 401 while the helpers are asked wait for that one answer.
        return self._helper_answers.get(origin, lambda: self._ask_helpers(url))

    def _ask_helpers(self, url: GitURL) -> Credential | None:
        found = self._helpers(url)
        if found is not None:
            logger.debug("credential for %s: from %s", url.hostport, found.source)
            with self._lock:
                self._cache[url.origin] = found
        return found

    def report(self, url: GitURL, credential: Credential, *, accepted: bool) -> None:
        """Tell the git credential helpers whether their answer worked, as git does
        (``approve`` stores it, ``reject`` forgets it); once per origin and outcome."""
        if credential.source != GIT_CREDENTIAL_SOURCE:
            return
        key = (url.origin, "approve" if accepted else "reject")
        with self._lock:
            if key in self._reported:
                return
            self._reported.add(key)
        from ._providers import git_credential_report

        git_credential_report(url, credential, accepted=accepted)

    def _helpers(self, url: GitURL) -> Credential | None:
        from . import _providers

        found = (
            _providers.git_credential(url, None)
            or _providers.from_netrc(url.host, None)
            or _providers.from_keyring(url, None)
        )
        if found is None and host_kind(url.host) is HostKind.AZURE_DEVOPS:
            from ._msal import msal_credential

            try:
                found = msal_credential(url.host, None, required=False) or (
                    _providers.azure_identity(url.host, None)
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

    def _find(self, url: GitURL) -> Credential | None:
        from . import _providers

        host = url.host
        configured = self._config.for_host(host)
        if configured is not None:
            found: Credential | None
            if configured.provider == "azure-identity":
                found = _providers.azure_identity(host, configured)
            elif configured.provider == "msal":
                from ._msal import msal_credential

                found = msal_credential(host, configured, required=True)
            elif configured.provider == "git-credential":
                found = _providers.git_credential(url, configured)
            elif configured.provider == "netrc":
                found = _providers.from_netrc(host, configured)
            elif configured.provider == "keyring":
                found = _providers.from_keyring(url, configured)
            else:
                found = self._from_environment(url, configured.variable)
            return _apply(found, configured)
        # What costs nothing and sets nothing off; helpers wait for a 401.
        return self._from_environment(url, None) or self._from_url(url)

    def _from_environment(self, url: GitURL, variable: str | None) -> Credential | None:
        """``variable`` (from gitdeps.toml), else ``GITDEPS_TOKEN_<HOST>_<PORT>``, else
        ``GITDEPS_TOKEN_<HOST>``, else the CI's own variables for the host's kind."""
        host = url.host
        kind = host_kind(host)
        names = [variable] if variable else []
        if url.port is not None:
            names.append(f"{token_variable(host)}_{url.port}")
        names.append(token_variable(host))
        for name in names:
            value = self._environ.get(name, "").strip()  # a pasted newline is no part of it
            if value:
                self._claim(name, host)
                override = self._environ.get(f"GITDEPS_USERNAME_{host_env_key(host)}")
                return Credential(
                    host, Secret(value), source=name, username=override or _USERNAMES[kind]
                )
        for name, ci_user in _CI_VARIABLES[kind]:
            value = self._environ.get(name, "").strip()
            if value:
                scheme: Literal["basic", "bearer"] = "bearer" if ci_user is None else "basic"
                return Credential(host, Secret(value), source=name, username=ci_user, scheme=scheme)
        return None

    def _claim(self, variable: str, host: str) -> None:
        """A variable answers for one host: ``a-b.test`` and ``a.b.test`` share a name."""
        owner = self._variables.setdefault(variable, host)
        if owner != host and variable.startswith("GITDEPS_TOKEN_"):
            raise AuthError(
                f"{variable} would be sent to both {owner} and {host}, whose names map to the "
                f"same variable; gitdeps will not guess which it is for: name a variable per "
                f'host in gitdeps.toml ([hosts."{host}"] provider = "env", '
                f'variable = "TOKEN_FOR_{host_env_key(host)}_HOST")'
            )

    def _from_url(self, url: GitURL) -> Credential | None:
        embedded = self._embedded.get(url.origin)
        if embedded is None:
            return None
        return Credential(
            url.host,
            embedded.token,
            source="a credential in a requirement URL",
            username=embedded.username or _USERNAMES[host_kind(url.host)],
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
