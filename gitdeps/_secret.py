"""Secrets and the one redaction routine every log line and error goes through.

A token lives in a :class:`Secret`: its ``repr``/``str`` show nothing, it does
not pickle, and creating one registers its value so :func:`redact` can scrub it
from any text, whether it appears raw, percent-encoded, or in a URL's userinfo.
"""

from __future__ import annotations

import hmac
import threading
from typing import NoReturn, final
from urllib.parse import quote

__all__ = ["MASK", "Secret", "holds_secret", "looks_secret", "redact", "shown"]

MASK = "****"

# Shorter values would scrub ordinary words out of messages; real tokens are long.
_MIN_SECRET_LENGTH = 4

_known: set[str] = set()
_known_lock = threading.Lock()

# scheme://userinfo@  — userinfo may hold a token even when we never saw it.
_SCHEME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+.-")
_USERINFO_END = frozenset("/?#@")


def _register(value: str) -> None:
    if len(value) < _MIN_SECRET_LENGTH or not value.strip("*"):
        return
    forms = {value, quote(value, safe=""), quote(value, safe="/:")}
    with _known_lock:
        _known.update(f for f in forms if len(f) >= _MIN_SECRET_LENGTH)


@final
class Secret:
    """A credential value. Ask for it with :meth:`reveal`, at the last moment."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        if not isinstance(value, str):
            raise TypeError("Secret value must be a str")
        self._value = value
        _register(value)

    def reveal(self) -> str:
        return self._value

    def __bool__(self) -> bool:
        return bool(self._value)

    def __repr__(self) -> str:
        return f"Secret({MASK!r})"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        return hmac.compare_digest(self._value.encode(), other._value.encode())

    def __hash__(self) -> int:
        return hash(("gitdeps.Secret", len(self._value)))

    def __reduce__(self) -> NoReturn:
        raise TypeError("a Secret cannot be pickled")


def holds_secret(text: str) -> bool:
    """Whether ``text`` contains a registered secret (raw or percent-encoded)."""
    with _known_lock:
        return any(value in text for value in _known)


def redact(text: str) -> str:
    """Return ``text`` with every known secret and every URL userinfo masked.

    Idempotent, and never returns a registered secret. Used for every log line,
    every error message and every subprocess output gitdeps shows.
    """
    with _known_lock:
        known = sorted(_known, key=len, reverse=True)
    # A replacement can join text into a new match; repeat until nothing changes.
    # Each change lowers the count of characters that are not '*' (or, failing
    # that, the length), so this ends.
    while True:
        before = text
        text = _mask_userinfo(text)
        for value in known:
            text = text.replace(value, MASK)
        if text == before:
            return text


def _mask_userinfo(text: str) -> str:
    """Mask the userinfo of every ``scheme://userinfo@`` in ``text``, in one pass.

    The same as substituting ``[A-Za-z][A-Za-z0-9+.-]*://([^/?#@\\s]*)@``, without
    the regex's quadratic time on a long line with no ``://`` in it: only the places
    where ``://`` occurs are looked at, and each character at most twice.
    """
    out: list[str] = []
    done = 0  # text[:done] is in out already
    at = text.find("://")
    while at != -1:
        scheme = at
        while scheme > done and text[scheme - 1] in _SCHEME_CHARS:
            scheme -= 1
        while scheme < at and not (text[scheme].isascii() and text[scheme].isalpha()):
            scheme += 1  # a scheme starts with a letter
        end = at + 3
        while end < len(text) and text[end] not in _USERINFO_END and not text[end].isspace():
            end += 1
        if scheme < at and end < len(text) and text[end] == "@":
            out.append(text[done : at + 3])
            out.append(MASK + "@" if end > at + 3 else "@")
            done = end + 1
            at = text.find("://", done)
        else:
            at = text.find("://", at + 1)
    out.append(text[done:])
    return "".join(out)


# Prefixes of tokens people paste: GitHub, GitLab, Slack, JWTs (Entra), npm, PyPI.
_TOKEN_PREFIXES = ("ghp_", "gho_", "ghs_", "ghu_", "github_pat_", "glpat-", "xox", "eyJ",
                   "npm_", "pypi-")  # fmt: skip


def looks_secret(text: str) -> bool:
    """Whether a value we never registered looks like a token: a known token prefix, or
    20 characters or more without white space that mix letters and digits (an Azure
    DevOps PAT, a SAS signature, a key). Provider names and paths do not."""
    if text.startswith(_TOKEN_PREFIXES) and len(text) >= 12:
        return True
    if len(text) < 20 or any(c.isspace() for c in text):
        return False
    if "://" in text or text.startswith(("/", "~", ".")):  # a URL or a path
        return False
    return any(c.isdigit() for c in text) and any(c.isalpha() for c in text)


def shown(value: object) -> str:
    """``value`` as an error message may show it: ``repr`` of it, redacted, or only its
    length when it looks like a secret (a token pasted into the wrong field)."""
    if isinstance(value, str) and (looks_secret(value) or holds_secret(value)):
        return f"({len(value)} characters, not shown: it looks like a token)"
    return redact(repr(value))
