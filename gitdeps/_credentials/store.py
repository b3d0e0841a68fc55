"""The credentials of a run: for each origin, found once, from the first source that has one.

Sources are asked in order, lazily (a host that needs nothing asks nobody) and
once per origin (scheme, host, port) per run; what one answers is used for
that origin only:

1. ``GITDEPS_TOKEN_<HOST>_<PORT>`` for a URL with a port, then
   ``GITDEPS_TOKEN_<HOST>`` (host upper-cased, non-alphanumerics as ``_``; an
   empty value counts as unset, surrounding white space is dropped), with
   ``GITDEPS_USERNAME_<HOST>_<PORT>`` or ``GITDEPS_USERNAME_<HOST>`` to override the user
   name sent with it. Two named hosts whose names map to the same variable are both
   refused it;
2. the well-known CI variables of the host's kind (Azure Pipelines, GitHub
   Actions, GitLab CI);
3. a credential embedded in a requirement URL (accepted with a warning, used for
   every URL of that origin in the run, never written back).

With a :class:`~gitdeps._credentials.scope.Scope` (every command gives one), an
origin the user did not name gets no credential from any source.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import threading
from collections.abc import Iterable, Mapping
from typing import Literal

from .._config import Config
from .._errors import AuthError
from .._inputs.giturl import EmbeddedCredential, GitURL, Origin, host_env_key
from .._once import Once
from .._secret import Secret
from .base import GIT_CREDENTIAL_SOURCE, Credential, HostConfig, expired
from .hosts import HOST_KINDS, host_kind
from .registry import HELPERS, HELPERS_FOR_KIND, provider
from .scope import Scope

__all__ = ["Credentials", "token_variable"]

logger = logging.getLogger("gitdeps")


def token_variable(host: str) -> str:
    return f"GITDEPS_TOKEN_{host_env_key(host)}"


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
        *,
        scope: Scope | None = None,
    ) -> None:
        """``scope``: the origins credentials may go to (None: any origin, and two hosts
        that share a variable are refused it only once both have asked)."""
        self._scope = scope
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
        if url.scheme not in ("http", "https"):
            return None
        origin = url.origin
        if not self._in_scope(url):
            return None
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
        if not self._in_scope(url):
            return None
        with self._lock:
            cached = self._cache.get(origin)
            if cached is not None:  # found meanwhile, for a request that started earlier
                return cached
            configured = self._config.for_host(url.host)
            if configured is not None and configured.provider is not None:
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
        from . import git_helpers

        git_helpers.report(url, credential, accepted=accepted)

    def _helpers(self, url: GitURL) -> Credential | None:
        for name in HELPERS:
            found = provider(name)(url, None)
            if found is not None:
                return found
        for name in HELPERS_FOR_KIND.get(host_kind(url.host), ()):
            try:
                found = provider(name)(url, None)
            except AuthError as exc:  # a helper that could not help: the 401 stands
                logger.debug("%s", exc)
                continue
            if found is not None:
                return found
        return None

    def _in_scope(self, url: GitURL) -> bool:
        if self._scope is None or self._scope.allows(url):
            return True
        with self._lock:
            if (url.origin, "out of scope") not in self._reported:
                self._reported.add((url.origin, "out of scope"))
                logger.debug(
                    "no credential for %s://%s: no input of this run names that origin",
                    url.scheme,
                    url.hostport,
                )
        return False

    def hint(self, url: GitURL) -> str:
        """What to do when ``url``'s host wants a credential we do not have."""
        if self._scope is not None and not self._scope.allows(url):
            return (
                f"gitdeps sends a token only to the origins your requirements, lock or "
                f"gitdeps.toml name, and none names {url.scheme}://{url.hostport} (it was "
                f"reached through a dependency): if you trust it, add a requirement for it "
                f'or [hosts."{url.host}"] origins = ["{url.scheme}://{url.hostport}"] '
                "to gitdeps.toml"
            )
        kind = host_kind(url.host)
        names = [token_variable(url.host)] + [name for name, _ in HOST_KINDS[kind].ci_variables]
        configured = self._config.for_host(url.host)
        if configured is not None and configured.provider not in (None, "env"):
            return f"the {configured.provider} provider configured for {url.host} found nothing"
        return (
            "set " + " or ".join(names) + f", or configure a provider for {url.host} in "
            "gitdeps.toml"
        )

    def _find(self, url: GitURL) -> Credential | None:
        configured = self._config.for_host(url.host)
        if configured is None or configured.provider is None:
            # What costs nothing and sets nothing off; helpers wait for a 401.
            found = self._from_environment(url, None) or self._from_url(url)
        elif configured.provider == "env":
            found = self._from_environment(url, configured.variable)
        else:
            found = provider(configured.provider)(url, configured)
        return found if configured is None else _apply(found, configured)

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
                user = f"GITDEPS_USERNAME_{host_env_key(host)}"
                override = (
                    self._environ.get(f"{user}_{url.port}") if url.port is not None else None
                ) or self._environ.get(user)
                return Credential(
                    host, Secret(value), source=name, username=override or HOST_KINDS[kind].username
                )
        for name, ci_user in HOST_KINDS[kind].ci_variables:
            value = self._environ.get(name, "").strip()
            if value:
                scheme: Literal["basic", "bearer"] = "bearer" if ci_user is None else "basic"
                return Credential(host, Secret(value), source=name, username=ci_user, scheme=scheme)
        return None

    def _claim(self, variable: str, host: str) -> None:
        """A variable answers for one host: ``a-b.test`` and ``a.b.test`` share a name.
        With a scope, both named hosts are refused it, whichever asks; without, the
        second host to ask is."""
        if not variable.startswith("GITDEPS_TOKEN_"):
            return
        if self._scope is not None:
            others = self._scope.sharing(host)
        else:
            owner = self._variables.setdefault(variable, host)
            others = (owner,) if owner != host else ()
        if others:
            names = " and ".join(sorted({host, *others}))
            raise AuthError(
                f"{variable} would be sent to both {names}, whose names map to the same variable",
                hint="gitdeps will not guess which it is for: name a variable per "
                f'host in gitdeps.toml ([hosts."{host}"] provider = "env", '
                f'variable = "TOKEN_FOR_{host_env_key(host)}_HOST")',
            )

    def _from_url(self, url: GitURL) -> Credential | None:
        embedded = self._embedded.get(url.origin)
        if embedded is None:
            return None
        return Credential(
            url.host,
            embedded.token,
            source="a credential in a requirement URL",
            username=embedded.username or HOST_KINDS[host_kind(url.host)].username,
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
