"""How gitdeps reaches a host: through which proxy, trusting which certificates.

As git, pip and requests users expect it, so a build agent behind a corporate
proxy works the first time:

* **Proxy.** The environment first, as Python, pip and requests read it:
  ``https_proxy`` / ``HTTPS_PROXY`` for https, ``http_proxy`` / ``HTTP_PROXY``
  for http (the lower-case form wins when both are set; upper-case
  ``HTTP_PROXY`` is ignored in a CGI request, as Python ignores it), then
  ``all_proxy``; ``no_proxy`` / ``NO_PROXY`` names hosts to reach directly
  (curl's rules: ``*``, domains and their subdomains, ``host:port``, CIDR).
  Without any, git's own ``http.proxy`` (or ``http.<url>.proxy``).
* **Trust.** The operating system's trust store (through truststore, as pip
  24.2+ does), plus every CA bundle named by ``GIT_SSL_CAINFO``, git's
  ``http.sslCAInfo``, ``REQUESTS_CA_BUNDLE``, ``CURL_CA_BUNDLE`` and
  ``SSL_CERT_FILE``: a TLS-inspecting proxy's CA works from any of them.
"""

from __future__ import annotations

import enum
import errno
import functools
import ipaddress
import logging
import os
import socket
import ssl
import threading
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import urllib3

from ._deadlines import pool_classes
from ._dirs import expand_user
from ._errors import FetchError
from ._settings import Limits, limits

__all__ = [
    "CA_VARIABLES",
    "Fault",
    "Limits",
    "ca_files",
    "fault_of",
    "limits",
    "pool_for",
    "proxy_for",
    "ssl_context",
]


class _Retry(urllib3.util.Retry):
    """urllib3's retries, a Retry-After longer than ours cut short (every urllib3 2.x)."""

    gitdeps_retry_after_max = 30.0

    def new(self, **kwargs: Any) -> Any:
        retry = super().new(**kwargs)  # type(self)(...): a _Retry
        retry.gitdeps_retry_after_max = self.gitdeps_retry_after_max
        return retry

    def get_retry_after(self, response: Any) -> float | None:
        seconds = super().get_retry_after(response)
        return None if seconds is None else min(seconds, self.gitdeps_retry_after_max)


def _retries(limit: Limits) -> _Retry:
    """Connection failures, resets, 429 and 5xx, on every request: git's ls-refs and
    upload-pack are safe to repeat. Backoff 0.5 s, 1 s, 2 s."""
    retry = _Retry(
        total=limit.retries + 5,
        connect=limit.retries,
        read=limit.read_retries,
        status=limit.retries,
        redirect=5,
        other=0,
        backoff_factor=0.5,
        backoff_max=10,
        status_forcelist=(429, 500, 502, 503, 504),
        allowed_methods=None,
        raise_on_status=False,
        raise_on_redirect=False,
        respect_retry_after_header=True,
    )
    retry.gitdeps_retry_after_max = limit.retry_after_max
    return retry


logger = logging.getLogger("gitdeps")

# In the order they are named in messages; every one that is set is trusted.
CA_VARIABLES = ("REQUESTS_CA_BUNDLE", "GIT_SSL_CAINFO", "SSL_CERT_FILE", "CURL_CA_BUNDLE")


_GIT_HTTP_KEYS = (b"proxy", b"sslCAInfo")


def _git_config_files() -> tuple[tuple[str, int, int], ...]:
    """The files git reads its global and system configuration from (as dulwich finds
    them), each with its modification time and size: a key that changes when any of them does."""
    from dulwich.config import get_xdg_config_home_path

    if "GIT_CONFIG_GLOBAL" in os.environ:
        paths = [os.environ["GIT_CONFIG_GLOBAL"]]
    else:
        paths = [expand_user("~/.gitconfig"), get_xdg_config_home_path("git", "config")]
    if "GIT_CONFIG_SYSTEM" in os.environ:
        paths.append(os.environ["GIT_CONFIG_SYSTEM"])
    elif "GIT_CONFIG_NOSYSTEM" not in os.environ:
        paths.append("/etc/gitconfig")
    stamped = []
    for path in paths:
        try:
            stat = Path(path).stat()
            stamped.append((path, stat.st_mtime_ns, stat.st_size))
        except OSError:
            stamped.append((path, -1, -1))
    return tuple(stamped)


@functools.lru_cache(maxsize=4)
def _git_http_entries(
    files: tuple[tuple[str, int, int], ...],
) -> tuple[tuple[str, bytes, str], ...]:
    """git's ``http.[<url>.]proxy`` and ``sslCAInfo`` settings, as (url prefix, key, value);
    read once per set of files (``files`` is the cache key), not once per connection."""
    from dulwich.config import StackedConfig

    try:
        config = StackedConfig.default()
    except (OSError, ValueError):
        return ()
    entries = []
    for section in config.sections():
        if not section or section[0] != b"http":
            continue
        prefix = section[1].decode("utf-8", "replace") if len(section) > 1 else ""
        for key in _GIT_HTTP_KEYS:
            try:
                value = config.get(section, key)
            except KeyError:
                continue
            if value:
                entries.append((prefix, key, value.decode("utf-8", "replace")))
    return tuple(entries)


def _git_http_settings(url: str, key: bytes) -> str | None:
    """``http.<key>`` from the user's git configuration, the most specific
    ``http.<url>.<key>`` that prefixes ``url`` winning, as git matches it."""
    best: tuple[int, str] | None = None
    for prefix, name, value in _git_http_entries(_git_config_files()):
        if name != key or (prefix and not url.startswith(prefix.rstrip("/"))):
            continue
        if best is None or len(prefix) >= best[0]:
            best = (len(prefix), value)
    return best[1] if best else None


def bypasses_proxy(host: str, port: int | None, no_proxy: str) -> bool:
    """Whether ``no_proxy`` names ``host``, with curl's rules: ``*``; a domain, with or
    without a leading dot, matching itself and its subdomains; ``host:port``; an IP
    address or a CIDR range."""
    host = host.lower().strip("[]")
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    for entry in (e.strip().lower() for e in no_proxy.replace(" ", ",").split(",")):
        if not entry:
            continue
        if entry == "*":
            return True
        name, _, entry_port = entry.rpartition(":") if entry.count(":") == 1 else (entry, "", "")
        if entry_port and entry_port.isdigit() and port is not None and int(entry_port) != port:
            continue
        name = name.strip("[]")
        if address is not None:
            try:
                if address in ipaddress.ip_network(name, strict=False):
                    return True
            except ValueError:
                pass
            continue
        name = name.lstrip(".")
        if host == name or host.endswith("." + name):
            return True
    return False


def proxy_for(url: str) -> str | None:
    """The proxy URL to reach ``url`` through, or None to go directly."""
    parts = urlsplit(url)
    scheme, host = parts.scheme.lower(), parts.hostname or ""
    proxies = urllib.request.getproxies_environment()
    if bypasses_proxy(host, parts.port, proxies.get("no", "")):
        return None
    return proxies.get(scheme) or proxies.get("all") or _git_http_settings(url, b"proxy")


def ca_files(url: str) -> list[str]:
    """The CA bundles named for ``url`` by the environment and git's configuration."""
    named = [os.environ.get(name, "") for name in CA_VARIABLES]
    named.append(_git_http_settings(url, b"sslCAInfo") or "")
    seen: list[str] = []
    for name in named:
        path = expand_user(name.strip()) if name.strip() else ""
        if path and path not in seen:
            seen.append(path)
    return seen


@functools.lru_cache(maxsize=8)
def ssl_context(extra_ca_files: tuple[str, ...]) -> ssl.SSLContext:
    """The system's trust store plus ``extra_ca_files``."""
    context: ssl.SSLContext
    try:
        import truststore

        context = truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    except (ImportError, OSError, ssl.SSLError) as exc:  # pragma: no cover - no truststore
        logger.debug("truststore is not available (%s); OpenSSL's default paths", exc)
        context = ssl.create_default_context()
    for path in extra_ca_files:
        try:
            context.load_verify_locations(cafile=path)
        except (OSError, ssl.SSLError) as exc:
            raise FetchError(
                f"cannot use the CA bundle {path}: {exc}",
                hint="check the file that "
                f"{' / '.join(CA_VARIABLES)} or git's http.sslCAInfo names",
            ) from exc
    return context


def _without_userinfo(proxy: str) -> tuple[str, dict[str, str]]:
    """The proxy URL without credentials, and the ``Proxy-Authorization`` header for them."""
    parsed = urllib3.util.parse_url(proxy if "://" in proxy else "http://" + proxy)
    headers: dict[str, str] = {}
    if parsed.auth:
        headers = urllib3.util.make_headers(proxy_basic_auth=unquote(parsed.auth))
    bare = parsed._replace(auth=None).url
    return bare, headers


# Connections are kept alive and shared by every listing and fetch of a run: one
# pool manager per way of reaching a host (proxy, trust, limits, headers), each
# keeping up to _CONNECTIONS_PER_HOST idle connections per origin for the next
# request, so a host costs one TCP and TLS handshake, not one per request.
_CONNECTIONS_PER_HOST = 16
_pools: dict[tuple[object, ...], Any] = {}
_pools_lock = threading.Lock()


def pool_for(url: str, *, headers: dict[str, str] | None = None) -> Any:
    """The shared urllib3 pool manager for ``url``: its proxy, its trust, the limits in force."""
    limit = limits()
    proxy = proxy_for(url)
    cas = tuple(ca_files(url))
    key = (proxy, cas, limit, tuple(sorted((headers or {}).items())))
    with _pools_lock:
        pool = _pools.get(key)
        if pool is None:
            pool = _pools[key] = _new_pool(url, proxy, cas, limit, headers)
        return pool


@functools.cache
def _trust(cas: tuple[str, ...]) -> ssl.SSLContext:
    return ssl_context(cas)


class _TrustWhenNeeded:
    """A pool manager that loads the trust store (~30 ms: truststore reads the system's
    CAs) when it first connects over TLS, not when it is made: a run on plain http
    never loads it. Every https pool it makes gets the one context for ``cas``."""

    gitdeps_cas: tuple[str, ...] = ()

    def _new_pool(
        self, scheme: str, host: str, port: int, request_context: dict[str, Any] | None = None
    ) -> Any:
        if scheme == "https" and request_context is not None:
            request_context["ssl_context"] = _trust(self.gitdeps_cas)
        return super()._new_pool(scheme, host, port, request_context)  # type: ignore[misc]


class _PoolManager(_TrustWhenNeeded, urllib3.PoolManager):
    pass


class _ProxyManager(_TrustWhenNeeded, urllib3.ProxyManager):
    pass


def _new_pool(
    url: str, proxy: str | None, cas: tuple[str, ...], limit: Limits, headers: dict[str, str] | None
) -> Any:
    timeout = urllib3.Timeout(connect=limit.connect, read=limit.read)
    retries = _retries(limit)
    tls_proxy = (proxy or "").lower().startswith("https:")
    context = _trust(cas) if tls_proxy else None  # a TLS proxy is met on every request
    manager: _PoolManager | _ProxyManager
    if proxy:
        bare, proxy_headers = _without_userinfo(proxy)
        logger.debug("reaching %s through the proxy %s", urlsplit(url).hostname, bare)
        manager = _ProxyManager(
            bare,
            proxy_headers=proxy_headers,
            proxy_ssl_context=context,
            ssl_context=context,
            timeout=timeout,
            retries=retries,
            headers=headers,
            maxsize=_CONNECTIONS_PER_HOST,
        )
    else:
        manager = _PoolManager(
            ssl_context=context,
            timeout=timeout,
            retries=retries,
            headers=headers,
            maxsize=_CONNECTIONS_PER_HOST,
        )
    # Every connection watched: no wait longer than the limits, whatever trickles in.
    manager.gitdeps_cas = cas
    manager.pool_classes_by_scheme = pool_classes()
    return manager


class Fault(enum.Enum):
    """Why a connection failed, as the exception types say it."""

    PROXY = "the proxy could not be reached or refused the tunnel"
    TLS = "certificate verify failed"
    NAME = "name or service not known"
    REFUSED = "connection refused"
    UNREACHABLE = "no route to host"
    TIMEOUT = "timed out"


def fault_of(exc: BaseException) -> tuple[Fault, str] | None:
    """The fault behind ``exc`` and a short reason, found by type along its chain of
    causes (dulwich wraps urllib3's errors, which wrap the socket's or ssl's, and
    urllib3's ``MaxRetryError.reason`` holds the last one); None if none is known.
    A proxy's fault comes first (its reason is what went wrong with the proxy)."""
    chain = list(_causes(exc))
    for error in chain:
        if isinstance(error, urllib3.exceptions.ProxyError):
            inner = _fault_in(list(_causes(error))[1:])
            if inner is not None:
                return Fault.PROXY, inner[1]
            original = getattr(error, "original_error", None) or error
            return Fault.PROXY, str(original).strip().splitlines()[0][:200] or Fault.PROXY.value
    return _fault_in(chain)


def _fault_in(chain: list[BaseException]) -> tuple[Fault, str] | None:
    for error in chain:
        if isinstance(error, ssl.SSLCertVerificationError):
            return Fault.TLS, f"certificate verify failed: {error.verify_message}"
    for error in chain:
        if isinstance(error, (urllib3.exceptions.NameResolutionError, socket.gaierror)):
            return Fault.NAME, Fault.NAME.value
    for error in chain:
        if isinstance(error, ConnectionRefusedError):
            return Fault.REFUSED, Fault.REFUSED.value
        if isinstance(error, OSError) and error.errno in (errno.EHOSTUNREACH, errno.ENETUNREACH):
            return Fault.UNREACHABLE, Fault.UNREACHABLE.value
    for error in chain:
        # NewConnectionError is a ConnectTimeoutError to urllib3: a refusal was found above
        if isinstance(error, (TimeoutError, urllib3.exceptions.TimeoutError)):
            return Fault.TIMEOUT, Fault.TIMEOUT.value
    return None


_LINKS = ("reason", "original_error")  # urllib3's MaxRetryError, ProxyError


def _causes(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    pending: list[BaseException] = [exc]
    while pending and len(seen) < 32:
        error = pending.pop(0)
        if id(error) in seen:
            continue
        seen.add(id(error))
        yield error
        links = (error.__cause__, error.__context__, *(getattr(error, a, None) for a in _LINKS))
        for linked in links:
            if isinstance(linked, BaseException):
                pending.append(linked)
