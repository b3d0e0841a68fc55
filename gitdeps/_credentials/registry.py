"""Every provider, by the name gitdeps.toml gives it; and which are asked, in what
order, when a host without a configured provider answers 401.

A provider is a module of this package with a ``provide(url, config)`` function (the
:class:`~gitdeps._credentials.base.Provider` protocol). It is imported when it is first
asked: a run whose hosts need no credential, or only one from the environment, loads no
provider (msal, azure-identity and the git helpers cost start-up time).
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import TYPE_CHECKING

from .base import Provider
from .hosts import HostKind

__all__ = ["HELPERS", "HELPERS_FOR_KIND", "PROVIDERS", "provider"]

# gitdeps.toml's name -> the module in this package whose `provide` it is
PROVIDERS: Mapping[str, str] = {
    "azure-identity": "azure_identity",
    "msal": "msal_login",
    "git-credential": "git_helpers",
    "netrc": "netrc_file",
    "keyring": "os_keyring",
}

# After a 401, for any host: what the user's machine already knows, cheapest first.
HELPERS: tuple[str, ...] = ("git-credential", "netrc", "keyring")
# Then, for hosts of these kinds, sign-ins that may take a moment.
HELPERS_FOR_KIND: Mapping[HostKind, tuple[str, ...]] = {
    HostKind.AZURE_DEVOPS: ("msal", "azure-identity"),
}


def provider(name: str) -> Provider:
    """The provider gitdeps.toml calls ``name`` (one of :data:`PROVIDERS`)."""
    module = importlib.import_module(f"{__package__}.{PROVIDERS[name]}")
    provide: Provider = module.provide
    return provide


if TYPE_CHECKING:  # each registered module's `provide` is checked against the protocol
    from . import azure_identity, git_helpers, msal_login, netrc_file, os_keyring

    _CHECKED: tuple[Provider, ...] = (
        azure_identity.provide,
        git_helpers.provide,
        msal_login.provide,
        netrc_file.provide,
        os_keyring.provide,
    )
