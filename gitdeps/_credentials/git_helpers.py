"""git's own credential helpers (Git Credential Manager, gh, store, the keychain),
asked as git asks them: ``git credential fill``, then ``approve`` or ``reject``."""

from __future__ import annotations

import logging
import subprocess
from typing import TYPE_CHECKING

from .._errors import AuthError
from .._secret import Secret
from .._subprocess import clean_environ
from .base import GIT_CREDENTIAL_SOURCE, Credential, HostConfig

if TYPE_CHECKING:
    from .._inputs.giturl import GitURL

__all__ = ["provide", "report"]

logger = logging.getLogger("gitdeps")


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


def provide(url: GitURL, config: HostConfig | None) -> Credential | None:
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


def report(url: GitURL, credential: Credential, *, accepted: bool) -> None:
    """``git credential approve`` (it worked: helpers may store it) or ``reject`` (it
    was refused: helpers forget it), as git does after a request."""
    extra = f"username={credential.username or ''}\npassword={credential.token.reveal()}\n"
    _git_credential("approve" if accepted else "reject", _credential_request(url, extra))
