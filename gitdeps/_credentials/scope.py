"""Where a token may go: the origins the user named, decided before the first request.

A credential goes only to an origin (scheme, host, port) that the user's own
inputs name: a requirement file or ``pyproject.toml`` given to the run, the lock,
or a ``[hosts."<host>"]`` table of gitdeps.toml (which names ``https://<host>``, or
the ``origins = [...]`` it lists).
A URL first met in a dependency's metadata, a submodule or a redirect gets a
credential only when its origin is one of those, so a package in the graph cannot
widen where a token goes: ``git+http://a-b.test/...`` in someone's metadata gets
nothing meant for the user's ``https://a.b.test``, and a token never travels over
plain http unless the user wrote that http origin.

Two named hosts whose names map to one ``GITDEPS_TOKEN_<HOST>`` variable
(``a-b.test`` and ``a.b.test``) are known here too, up front: neither gets that
variable, whichever is asked first and whatever the cache already holds.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping

from .._config import Config
from .._inputs.giturl import GitURL, Origin, host_env_key, origin_of

__all__ = ["Scope"]


@dataclasses.dataclass(frozen=True)
class Scope:
    """The origins a run may send credentials to, and the host names that share a variable."""

    origins: frozenset[Origin]
    hosts_by_key: Mapping[str, frozenset[str]]

    @classmethod
    def of(
        cls,
        urls: Iterable[GitURL],
        config: Config | None = None,
        *,
        locked: Iterable[str] = (),
    ) -> Scope:
        """The scope of a run: the requirement ``urls`` of its inputs, the hosts ``config``
        names, and the repository URLs of a lock (``locked``)."""
        origins = {url.origin for url in urls if url.scheme in ("http", "https")}
        origins |= {o for o in map(origin_of, locked) if o[0] in ("http", "https") and o[1]}
        for host, entry in (config.hosts if config is not None else {}).items():
            origins |= {origin_of(o) for o in entry.origins or (f"https://{host}",)}
        keys: dict[str, set[str]] = {}
        for _, host, _ in origins:
            keys.setdefault(host_env_key(host), set()).add(host)
        return cls(frozenset(origins), {k: frozenset(v) for k, v in keys.items()})

    def allows(self, url: GitURL) -> bool:
        return url.origin in self.origins

    def sharing(self, host: str) -> tuple[str, ...]:
        """The other named hosts whose variable name is ``host``'s, sorted."""
        return tuple(sorted(self.hosts_by_key.get(host_env_key(host), frozenset()) - {host}))
