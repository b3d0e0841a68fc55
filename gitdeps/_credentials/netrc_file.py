"""A ``.netrc`` file: the login and password for a machine, as curl, pip and git read it."""

from __future__ import annotations

import netrc
import os
from pathlib import Path
from typing import TYPE_CHECKING

from .._dirs import home
from .._errors import AuthError
from .._secret import Secret, redact
from .base import Credential, HostConfig

if TYPE_CHECKING:
    from .._inputs.giturl import GitURL

__all__ = ["provide"]


def provide(url: GitURL, config: HostConfig | None) -> Credential | None:
    """The ``.netrc`` (or ``$NETRC``) entry for ``url``'s host, as curl and pip read it."""
    host = url.host
    explicit = os.environ.get("NETRC")
    user_home = home()
    if explicit:
        path = Path(explicit)
    elif user_home is not None:
        path = user_home / ".netrc"
    else:
        return None  # no home, no ~/.netrc
    try:
        found = netrc.netrc(str(path)).authenticators(host)
    except FileNotFoundError:
        return None
    except (netrc.NetrcParseError, OSError) as exc:
        raise AuthError.at(path, f"cannot read it for {host}: {redact(str(exc))}") from None
    if not found or not found[2]:
        return None
    login, _account, password = found
    password = (password or "").strip()
    if not password:
        return None
    username = config.username if config and config.username else login
    return Credential(host, Secret(password), source=f"netrc ({path.name})", username=username)
