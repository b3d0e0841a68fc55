"""``git+`` URLs: parsing them as pip does, and splitting off any credential."""

from __future__ import annotations

import dataclasses
import posixpath
import re
from urllib.parse import quote, unquote, urlsplit

from .._secret import Secret

__all__ = [
    "EmbeddedCredential",
    "GitURL",
    "InvalidGitURL",
    "Origin",
    "host_env_key",
    "origin_of",
    "parse_git_url",
]

# (scheme, host, port): what a credential is bound to. Default ports are explicit,
# so https://h/ and https://h:443/ are one origin and http://h/ another.
Origin = tuple[str, str, "int | None"]
_DEFAULT_PORTS = {"http": 80, "https": 443, "ssh": 22}


def origin_of(url: str) -> Origin:
    """The origin of any URL (a redirect target, an LFS download): lower-cased."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = None
    scheme = parts.scheme.lower()
    return (scheme, (parts.hostname or "").lower(), port or _DEFAULT_PORTS.get(scheme))


_SUPPORTED = ("https", "http", "file", "ssh")
# scp-like ssh, as git and pip take it: [user@]host:path (no "://", no port)
_SCP = re.compile(r"^(?:(?P<user>[^@/:]+)@)?(?P<host>[A-Za-z0-9._-]+):(?P<path>(?!//).+)$")


class InvalidGitURL(ValueError):
    """Raised with a message; the caller adds where the URL came from."""


@dataclasses.dataclass(frozen=True)
class EmbeddedCredential:
    """A credential found in a URL's userinfo. Never written back anywhere; used only
    for the origin of the URL it was found in."""

    host: str
    username: str | None
    token: Secret
    origin: Origin


@dataclasses.dataclass(frozen=True)
class GitURL:
    """A git repository location and what to take from it, without any credential."""

    scheme: str
    host: str  # lower-cased host name; "" for file URLs
    port: int | None
    path: str  # as given (percent-encoded), no trailing '@ref'
    ref: str | None = None
    subdirectory: str | None = None
    egg: str | None = None
    user: str | None = None  # the ssh login ("git"): part of the address, not a credential

    @property
    def netloc(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        hostport = f"{host}:{self.port}" if self.port is not None else host
        return f"{self.user}@{hostport}" if self.user else hostport

    @property
    def repo(self) -> str:
        """The credential-free repository URL (no ref, no fragment).

        An scp-like ssh address keeps its form (``git@host:org/repo.git``): its path is
        relative to the login's home on the server, which no ``ssh://`` URL can say.
        """
        if self.scheme == "ssh" and not self.path.startswith("/"):
            return f"{self.netloc}:{self.path}"
        return f"{self.scheme}://{self.netloc}{self.path}"

    @property
    def hostport(self) -> str:
        """The host as people name it in messages: ``dev.azure.com``, ``127.0.0.1:8080``."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return (f"{host}:{self.port}" if self.port is not None else host) or "localhost"

    def requirement_url(self, ref: str | None = None) -> str:
        """``git+URL@ref#subdirectory=...``: credential-free, for messages and the lock."""
        ref = self.ref if ref is None else ref
        text = f"git+{self.repo}"
        if ref:
            text += "@" + quote(ref, safe="/:.-_~+")
        if self.subdirectory:
            text += f"#subdirectory={self.subdirectory}"
        return text

    def at(self, ref: str | None) -> GitURL:
        return dataclasses.replace(self, ref=ref)

    @property
    def origin(self) -> Origin:
        return (self.scheme, self.host, self.port or _DEFAULT_PORTS.get(self.scheme))


def host_env_key(host: str) -> str:
    """``dev.azure.com`` -> ``DEV_AZURE_COM`` (port ignored, every non-alphanumeric as ``_``)."""
    return re.sub(r"[^A-Za-z0-9]", "_", host).upper()


def parse_git_url(text: str) -> tuple[GitURL, EmbeddedCredential | None]:
    """Parse ``git+https://[cred@]host/path[@ref][#egg=name&subdirectory=dir]``."""
    if text[:4].lower() != "git+":  # any case, as pip takes GIT+HTTPS://
        if text[:6].lower() == "git://":
            raise InvalidGitURL(
                "the git:// protocol is not supported (unauthenticated and unencrypted); "
                "use git+https://"
            )
        raise InvalidGitURL(f"not a git URL: {text!r}; write it as git+https://...")
    raw = text[len("git+") :]
    if "://" not in raw:
        return _parse_scp(raw)
    try:
        parts = urlsplit(raw)
        port = parts.port
    except ValueError as exc:
        raise InvalidGitURL(f"malformed URL: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme not in _SUPPORTED:
        raise InvalidGitURL(
            f"unsupported scheme 'git+{scheme}'; use git+https:// (or git+http://, git+file://)"
        )
    host = (parts.hostname or "").lower()
    if scheme != "file" and not host:
        raise InvalidGitURL("the URL has no host")
    _check_host(host, unquote(parts.username) if parts.username else None)
    path = parts.path
    ref: str | None = None
    if "@" in path:
        path, ref = path.rsplit("@", 1)
        ref = unquote(ref)
        if not ref:
            raise InvalidGitURL(
                "empty ref after '@'; name a branch, tag or commit, or drop the '@'"
            )
    if not path.strip("/"):
        raise InvalidGitURL("the URL names no repository path")
    if parts.query:
        # pip hands it to git, which appends '/info/refs' after it: the host gets a
        # mangled query. Refused, rather than dropped without a word.
        raise InvalidGitURL(
            "a query string ('?...') in a git URL is not supported: git would send it to the "
            "host mangled; remove it (a ref goes after '@' in the path)"
        )
    egg, subdirectory = _fragment(parts.fragment)
    if scheme == "ssh":
        if parts.password is not None:
            raise InvalidGitURL(
                "an ssh URL takes no password; ssh signs in with your keys (ssh-agent, "
                "~/.ssh/config or GIT_SSH_COMMAND)"
            )
        user = unquote(parts.username) if parts.username else None
        return GitURL("ssh", host, port, path, ref, subdirectory, egg, user=user), None
    origin = (scheme, host, port or _DEFAULT_PORTS.get(scheme))
    credential = _credential(parts.username, parts.password, origin, path)
    url = GitURL(
        scheme=scheme,
        host=host,
        port=port,
        path=path,
        ref=ref,
        subdirectory=subdirectory,
        egg=egg,
    )
    return url, credential


def _parse_scp(raw: str) -> tuple[GitURL, EmbeddedCredential | None]:
    """``[user@]host:path[@ref][#fragment]``, the scp-like ssh form pip and git accept."""
    location, _, fragment = raw.partition("#")
    match = _SCP.match(location)
    if match is None:
        raise InvalidGitURL(
            f"not a git URL: {raw!r}; write git+https://host/repo, git+ssh://git@host/repo "
            "or git+git@host:org/repo.git"
        )
    path, ref = match["path"], None
    if "@" in path:
        path, ref = path.rsplit("@", 1)
        if not ref:
            raise InvalidGitURL(
                "empty ref after '@'; name a branch, tag or commit, or drop the '@'"
            )
    if not path.strip("/"):
        raise InvalidGitURL("the URL names no repository path")
    egg, subdirectory = _fragment(fragment)
    _check_host(match["host"].lower(), match["user"])
    url = GitURL(
        scheme="ssh",
        host=match["host"].lower(),
        port=None,
        path=path,
        ref=ref,
        subdirectory=subdirectory,
        egg=egg,
        user=match["user"],
    )
    return url, None


# What a host name (or an IP literal) can hold; anything else is refused before use.
_HOST = re.compile(r"[a-z0-9._~:_\-\[\]]*")


def _check_host(host: str, user: str | None) -> None:
    """A host or user that ssh would read as an option (``-oProxyCommand=...``, which git
    refuses too), or a host with characters no host name has, is refused here."""
    if host.startswith("-") or (user or "").startswith("-"):
        raise InvalidGitURL(
            f"the {'host' if host.startswith('-') else 'user'} name starts with '-', which "
            "ssh would read as an option; no repository has such a name"
        )
    if not _HOST.fullmatch(host):
        raise InvalidGitURL(f"{host!r} is not a host name")


_EGG = re.compile(r"[#&]egg=([^&]*)")
_PROJECT_NAME = re.compile(r"^([A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9])$", re.IGNORECASE)  # pip's
_SUBDIRECTORY = re.compile(r"[#&]subdirectory=([^&]*)")


def _fragment(fragment: str) -> tuple[str | None, str | None]:
    """(egg, subdirectory) from a URL fragment, exactly as pip's ``Link`` reads them: the
    first ``egg=`` and ``subdirectory=`` after a ``#`` or ``&``, up to the next ``&``,
    taken as written (no ``%`` decoding, no ``+`` for a space)."""
    egg = _EGG.search("#" + fragment)
    subdirectory = _SUBDIRECTORY.search("#" + fragment)
    if egg and not _PROJECT_NAME.match(egg[1]):
        raise InvalidGitURL(
            f"#egg={egg[1]} is not a project name, and pip refuses it; write "
            "'name[extra] @ git+URL' for extras"
        )
    return (
        egg[1] if egg else None,
        _clean_subdirectory(subdirectory[1]) if subdirectory else None,
    )


def _clean_subdirectory(value: str) -> str | None:
    value = value.strip().replace("\\", "/")
    if not value or value in (".", "./"):
        return None
    normal = posixpath.normpath(value)
    if normal == ".." or normal.startswith(("/", "../")):
        raise InvalidGitURL(
            f"subdirectory {value!r} points outside the repository; give a path inside it"
        )
    return normal


def _credential(
    username: str | None, password: str | None, origin: Origin, path: str
) -> EmbeddedCredential | None:
    if username is None and password is None:
        return None
    user = unquote(username or "")
    if password is not None:
        return EmbeddedCredential(
            host=origin[1], username=user or None, token=Secret(unquote(password)), origin=origin
        )
    # Azure DevOps clone URLs carry the organisation as user name
    # (https://contoso@dev.azure.com/contoso/...): that is not a credential.
    first_segment = unquote(path.strip("/").split("/", 1)[0])
    if not user or user == first_segment or user in ("git", "oauth2", "x-access-token"):
        return None
    # https://TOKEN@github.com/... : a token given as the user name.
    return EmbeddedCredential(host=origin[1], username=None, token=Secret(user), origin=origin)
