"""Every provider, by the name gitdeps.toml gives it; and which are asked, in what
order, when a host without a configured provider answers 401."""

from __future__ import annotations

from collections.abc import Mapping

from . import azure_identity, git_helpers, msal_login, netrc_file, os_keyring
from .base import Provider
from .hosts import HostKind

__all__ = ["HELPERS", "HELPERS_FOR_KIND", "PROVIDERS"]

PROVIDERS: Mapping[str, Provider] = {
    "azure-identity": azure_identity.provide,
    "msal": msal_login.provide,
    "git-credential": git_helpers.provide,
    "netrc": netrc_file.provide,
    "keyring": os_keyring.provide,
}

# After a 401, for any host: what the user's machine already knows, cheapest first.
HELPERS: tuple[str, ...] = ("git-credential", "netrc", "keyring")
# Then, for hosts of these kinds, sign-ins that may take a moment.
HELPERS_FOR_KIND: Mapping[HostKind, tuple[str, ...]] = {
    HostKind.AZURE_DEVOPS: ("msal", "azure-identity"),
}
