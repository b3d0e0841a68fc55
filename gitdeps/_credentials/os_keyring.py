"""The operating system's keyring, through the keyring package: the macOS Keychain, the
Windows Credential Locker, Secret Service, or a backend such as artifacts-keyring."""

from __future__ import annotations

import functools
import logging
import queue
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .._errors import AuthError
from .._secret import Secret, redact
from .base import Credential, HostConfig

if TYPE_CHECKING:
    from .._inputs.giturl import GitURL

__all__ = ["provide"]

logger = logging.getLogger("gitdeps")

_KEYRING_TIMEOUT = 30.0  # a backend that waits on D-Bus or a prompt must not hang the run


def provide(url: GitURL, config: HostConfig | None) -> Credential | None:
    """The keyring's credential for ``url``'s origin (``scheme://host[:port]``, then the
    bare host), from whichever backend keyring chose (macOS Keychain, Windows Credential
    Locker, Secret Service, artifacts-keyring, ...)."""
    try:
        import keyring
        import keyring.errors
    except ImportError:
        if config is not None:
            raise AuthError.at(
                url.host,
                'provider = "keyring" needs the keyring package in gitdeps\' '
                "environment: pip install keyring",
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
                raise AuthError.at(url.host, f"the keyring failed: {redact(str(exc))}") from None
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
