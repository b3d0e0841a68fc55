"""Signing in on a laptop: ``gitdeps login`` once, silent tokens afterwards (msal).

The device-code flow needs no browser on the machine running gitdeps. The token
cache (it holds a refresh token) is encrypted where the platform can: DPAPI on
Windows, the Keychain on macOS, libsecret on a Linux desktop, through
msal-extensions; elsewhere (a headless Linux agent) it is a file only its owner
can read. Tokens are refreshed silently on later runs; ``gitdeps logout``
forgets them.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._dirs import cache_dir, state_dir
from .._errors import AuthError
from .._fs import atomic_write
from .._secret import Secret, redact
from .base import Credential, HostConfig

if TYPE_CHECKING:
    from .._inputs.giturl import GitURL

__all__ = ["DEFAULT_CLIENT_ID", "login", "logout", "msal_credential", "provide"]

logger = logging.getLogger("gitdeps")

SCOPE = "499b84ac-1321-427f-aa17-267ca6975798/.default"
# Visual Studio's public client, which Git Credential Manager also uses for Azure Repos.
DEFAULT_CLIENT_ID = "872cd9fa-d31f-45e0-9eab-6e460a02d1f1"
DEFAULT_TENANT = "organizations"


# msal's own seam for its HTTP traffic: tests point it at a loopback Entra stand-in.
HTTP_CLIENT: Any | None = None


def token_cache_path() -> Path:
    """The owner-only token cache, where the platform offers no encryption."""
    return _state("token-cache.json")


def _encrypted_cache_path() -> Path:
    """The encrypted cache (or, for the Keychain and libsecret, its change marker)."""
    return _state("token-cache.bin")


def _state(name: str) -> Path:
    """``name`` in the state directory: a sign-in is not lost with ``gitdeps cache
    clean``. gitdeps 0.2 kept it in the cache directory; it is moved from there once."""
    path = state_dir() / "msal" / name
    old = cache_dir() / "msal" / name
    if not path.exists() and old.is_file():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        with contextlib.suppress(OSError):  # another process moved it first; or EXDEV
            os.replace(old, path)
        if old.is_file() and not path.exists():  # another file system: copy, then drop
            shutil.copy2(old, path)
            old.unlink()
    return path


def _signed_in() -> bool:
    return token_cache_path().exists() or _encrypted_cache_path().exists()


def _encrypted_store() -> Any | None:
    """msal-extensions' encrypted persistence for this platform, or None where it has none."""
    try:
        from msal_extensions import build_encrypted_persistence

        _encrypted_cache_path().parent.mkdir(parents=True, exist_ok=True)
        return build_encrypted_persistence(str(_encrypted_cache_path()))
    except Exception as exc:  # no gi, no secret service, no keychain access: all mean "none"
        logger.debug(
            "the msal token cache cannot be encrypted here (%s: %s); it is kept owner-only",
            type(exc).__name__,
            redact(str(exc))[:200],
        )
        return None


@contextlib.contextmanager
def _application(config: HostConfig | None, http_client: Any | None) -> Iterator[Any]:
    import msal

    path = token_cache_path()
    store = _encrypted_store()
    cache: Any
    if store is not None:
        from msal_extensions import PersistedTokenCache

        cache = PersistedTokenCache(store)  # reads and writes itself, under its own lock
    else:
        cache = msal.SerializableTokenCache()
        if path.exists():
            cache.deserialize(path.read_text(encoding="utf-8"))
    tenant = (config.tenant if config else None) or DEFAULT_TENANT
    client_id = (config.client_id if config else None) or DEFAULT_CLIENT_ID
    options: dict[str, Any] = {"token_cache": cache}
    http_client = http_client if http_client is not None else HTTP_CLIENT
    if http_client is not None:
        options["http_client"] = http_client
    application = msal.PublicClientApplication(
        client_id, authority=f"https://login.microsoftonline.com/{tenant}", **options
    )
    try:
        yield application
    finally:
        if store is None and cache.has_state_changed:
            atomic_write(path, cache.serialize().encode("utf-8"), mode=0o600)


def _error(result: dict[str, Any]) -> str:
    text = str(result.get("error_description") or result.get("error") or "no detail")
    return redact(text.splitlines()[0])[:300]


def login(
    config: HostConfig | None = None,
    *,
    show: Callable[[str], object],
    http_client: Any | None = None,
) -> str:
    """Sign in with the device-code flow; return the account's user name."""
    with _application(config, http_client) as application:
        flow = application.initiate_device_flow(scopes=[SCOPE])
        if "user_code" not in flow:
            raise AuthError(f"could not start the sign-in: {_error(flow)}")
        show(str(flow["message"]))
        result = application.acquire_token_by_device_flow(flow)
        if "access_token" not in result:
            raise AuthError(f"sign-in failed: {_error(result)}")
        claims = result.get("id_token_claims") or {}
        return str(claims.get("preferred_username") or claims.get("upn") or "signed in")


def logout(config: HostConfig | None = None, *, http_client: Any | None = None) -> int:
    """Forget every signed-in account; return how many there were."""
    if not _signed_in():
        return 0
    with _application(config, http_client) as application:
        accounts = application.get_accounts()
        for account in accounts:
            application.remove_account(account)
    return len(accounts)


def msal_credential(
    host: str, config: HostConfig | None, *, http_client: Any | None = None, required: bool
) -> Credential | None:
    """A token for a signed-in account, refreshed silently; None when nobody signed in."""
    if not _signed_in():
        if required:
            raise AuthError.at(
                host, "nobody is signed in for the msal provider", hint="run gitdeps login"
            )
        return None
    with _application(config, http_client) as application:
        accounts = application.get_accounts(username=config.username if config else None)
        if not accounts:
            if required:
                raise AuthError.at(
                    host,
                    "no signed-in account in the token cache",
                    hint="run gitdeps login",
                )
            return None
        result = application.acquire_token_silent([SCOPE], account=accounts[0])
    if not result or "access_token" not in result:
        raise AuthError(
            f"{host}: the signed-in session could not be refreshed"
            + (f" ({_error(result)})" if result else "")
            + "; run gitdeps login again"
        )
    import time

    return Credential(
        host,
        Secret(str(result["access_token"])),
        source=f"msal ({accounts[0].get('username', 'signed-in account')})",
        scheme="bearer",
        expires_on=time.time() + float(result.get("expires_in", 0)),
    )


def provide(url: GitURL, config: HostConfig | None) -> Credential | None:
    """The signed-in account's token; when configured (``provider = "msal"``), nobody
    signed in is an error that says to run ``gitdeps login``."""
    return msal_credential(url.host, config, required=config is not None)
