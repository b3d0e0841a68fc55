"""Where tokens come from, besides the environment: Entra ID, git's helpers, netrc.

Each provider answers for one host with a :class:`Credential`, None when it has
nothing, or raises :class:`AuthError` when it was configured and failed.
"""

from __future__ import annotations

import functools
import logging
import netrc
import os
import queue
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ._auth import GIT_CREDENTIAL_SOURCE, Credential
from ._config import HostConfig
from ._errors import AuthError
from ._giturl import GitURL
from ._secret import Secret, redact
from ._subprocess import clean_environ

__all__ = [
    "AZURE_DEVOPS_SCOPE",
    "azure_identity",
    "from_keyring",
    "from_netrc",
    "git_credential",
    "git_credential_report",
]

logger = logging.getLogger("gitdeps")

# Azure DevOps' resource id: an Entra token for it, sent as Bearer, opens its git repos.
AZURE_DEVOPS_SCOPE = "499b84ac-1321-427f-aa17-267ca6975798/.default"


def azure_token_credential(kind: str, client_id: str | None) -> Any:
    """The azure-identity credential that ``kind`` names (``credential =`` in gitdeps.toml)."""
    import azure.identity as ai

    if kind == "managed-identity":
        return ai.ManagedIdentityCredential(client_id=client_id)
    if kind == "workload-identity":
        return ai.WorkloadIdentityCredential(client_id=client_id)
    if kind == "azure-cli":
        return ai.AzureCliCredential()
    if kind == "environment":
        return ai.EnvironmentCredential()
    return ai.DefaultAzureCredential(
        managed_identity_client_id=client_id, exclude_interactive_browser_credential=True
    )


def azure_identity(host: str, config: HostConfig | None) -> Credential:
    """An Entra ID token for Azure DevOps from azure-identity (managed identity & co)."""
    from azure.core.exceptions import ClientAuthenticationError

    credential = azure_token_credential(
        config.credential if config else "default", config.client_id if config else None
    )
    name = type(credential).__name__
    try:
        token = credential.get_token(AZURE_DEVOPS_SCOPE)
    except ClientAuthenticationError as exc:
        first = redact(str(exc)).strip().splitlines()[0][:300] if str(exc).strip() else "no detail"
        raise AuthError(
            f"{host}: azure-identity ({name}) could not get a token: {first}; check the identity "
            "(managed identity enabled? client-id right? az login done?)"
        ) from None
    finally:
        close = getattr(credential, "close", None)
        if close is not None:
            close()
    return Credential(
        host,
        Secret(token.token),
        source=f"azure-identity ({name})",
        scheme="bearer",
        expires_on=float(token.expires_on),
    )


def _credential_request(url: GitURL, extra: str = "") -> bytes:
    """What git itself sends its helpers for ``url``: the real protocol, ``host:port``
    and the path (git drops the path unless ``credential.useHttpPath`` is set)."""
    fields = (url.scheme, url.hostport, url.path.lstrip("/"), extra)
    if any(c in field for field in fields for c in "\r\0") or any("\n" in f for f in fields[:3]):
        raise AuthError(
            f"refusing to ask git for credentials for {url.hostport!r}: the URL holds a newline"
        )
    return (
        f"protocol={url.scheme}\nhost={url.hostport}\npath={url.path.lstrip('/')}\n{extra}\n"
    ).encode()


def _git_credential(action: str, request: bytes) -> subprocess.CompletedProcess[bytes] | None:
    env = clean_environ()
    env.update({"GIT_TERMINAL_PROMPT": "0", "GCM_INTERACTIVE": "never", "GIT_ASKPASS": ""})
    try:
        return subprocess.run(
            ["git", "credential", action],
            input=request,
            env=env,
            capture_output=True,
            timeout=60,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        logger.debug("git credential %s: %s", action, type(exc).__name__)
        return None


def git_credential(url: GitURL, config: HostConfig | None) -> Credential | None:
    """Ask the user's git credential helpers (Git Credential Manager, gh, store, keychain)
    for exactly ``url``'s origin, as git would ask them."""
    proc = _git_credential("fill", _credential_request(url))
    if proc is None or proc.returncode != 0:
        logger.debug("git credential fill for %s found nothing", url.hostport)
        return None
    answer: dict[str, str] = {}
    for line in proc.stdout.decode("utf-8", "replace").splitlines():
        key, _, value = line.partition("=")
        answer[key] = value
    password = answer.get("password", "").strip()
    if not password:
        return None
    return Credential(
        url.host,
        Secret(password),
        source=GIT_CREDENTIAL_SOURCE,
        username=(config.username if config and config.username else answer.get("username")),
    )


def git_credential_report(url: GitURL, credential: Credential, *, accepted: bool) -> None:
    """``git credential approve`` (it worked: helpers may store it) or ``reject`` (it
    was refused: helpers forget it), as git does after a request."""
    extra = f"username={credential.username or ''}\npassword={credential.token.reveal()}\n"
    _git_credential("approve" if accepted else "reject", _credential_request(url, extra))


def from_netrc(host: str, config: HostConfig | None) -> Credential | None:
    path = Path(os.environ.get("NETRC") or Path.home() / ".netrc")
    try:
        found = netrc.netrc(str(path)).authenticators(host)
    except FileNotFoundError:
        return None
    except (netrc.NetrcParseError, OSError) as exc:
        raise AuthError(f"{path}: cannot read it for {host}: {redact(str(exc))}") from None
    if not found or not found[2]:
        return None
    login, _account, password = found
    password = (password or "").strip()
    if not password:
        return None
    username = config.username if config and config.username else login
    return Credential(host, Secret(password), source=f"netrc ({path.name})", username=username)


_KEYRING_TIMEOUT = 30.0  # a backend that waits on D-Bus or a prompt must not hang the run


def from_keyring(url: GitURL, config: HostConfig | None) -> Credential | None:
    """The keyring's credential for ``url``'s origin (``scheme://host[:port]``, then the
    bare host), from whichever backend keyring chose (macOS Keychain, Windows Credential
    Locker, Secret Service, artifacts-keyring, ...)."""
    try:
        import keyring
        import keyring.errors
    except ImportError:
        if config is not None:
            raise AuthError(
                f'{url.host}: provider = "keyring" needs the keyring package in gitdeps\' '
                "environment: pip install keyring"
            ) from None
        return None
    username = config.username if config else None
    for service in (f"{url.scheme}://{url.hostport}", url.host):
        try:
            found = _bounded(functools.partial(keyring.get_credential, service, username))
        except keyring.errors.NoKeyringError:
            return None
        except (keyring.errors.KeyringError, TimeoutError) as exc:
            if config is not None:
                raise AuthError(f"{url.host}: the keyring failed: {redact(str(exc))}") from None
            logger.debug("keyring for %s: %s", url.hostport, type(exc).__name__)
            return None
        password = (found.password or "").strip() if found is not None else ""
        if found is not None and password:
            backend = type(keyring.get_keyring()).__name__
            return Credential(
                url.host,
                Secret(password),
                source=f"keyring ({backend})",
                username=(config.username if config and config.username else found.username),
            )
    return None


def _bounded(call: Callable[[], Any]) -> Any:
    """``call()`` in a daemon thread, given up after ``_KEYRING_TIMEOUT`` seconds."""
    done: queue.Queue[tuple[bool, Any]] = queue.Queue(maxsize=1)

    def run() -> None:
        try:
            done.put((True, call()))
        except BaseException as exc:  # handed to the caller
            done.put((False, exc))

    threading.Thread(target=run, daemon=True, name="gitdeps-keyring").start()
    try:
        ok, value = done.get(timeout=_KEYRING_TIMEOUT)
    except queue.Empty:
        raise TimeoutError(f"no answer in {_KEYRING_TIMEOUT:.0f} s") from None
    if not ok:
        raise value
    return value


def expired(credential: Credential, margin: float = 300.0) -> bool:
    return credential.expires_on is not None and credential.expires_on - margin < time.time()
