"""A wheel cache shared by every machine, on Azure Blob Storage: read-through, write-back.

An organisation's pipelines vendor the same private commits on fresh agents: with a
remote cache, each commit is built once, by whichever agent gets there first, and
downloaded by the rest. Layout under the container (and an optional path prefix)::

    v1/entries/<key>.json        {"wheel", "sha256", "size", "tags", "gitdeps"}
    v1/wheels/<sha256>/<wheel>   the wheel itself, addressed by its content

``<key>`` is the local cache's key (credential-free repository URL, commit,
subdirectory, build isolation, ``--config-settings``, interpreter and platform).
Both blobs are uploaded only if absent (``If-None-Match: *``): the first writer wins
and nothing is ever replaced, so concurrent agents cannot tear an entry. A download is
checked against the SHA-256 its entry records; with ``--locked`` the lock's hash is
checked after that, as for a local wheel.

The remote cache is never the reason a run fails: a slow, unreachable or refusing
store is one warning with the reason, after which this run goes on without it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import ipaddress
import json
import logging
import os
import threading
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .._config import ConfigError, RemoteCacheConfig
from .._credentials.base import AZURE_CREDENTIALS
from .._secret import Secret, redact, shown

__all__ = ["RemoteCache", "RemoteStats", "remote_settings"]

logger = logging.getLogger("gitdeps")

_LAYOUT = "v1"
_MAX_WHEEL = 2 << 30  # a wheel bigger than 2 GiB is not a wheel we take from a cache
_CONNECT_TIMEOUT = 5  # seconds; a cache that cannot answer quickly is not worth waiting for
_READ_TIMEOUT = 30
_ENV_URL = "GITDEPS_REMOTE_CACHE"
_ENV_READ_ONLY = "GITDEPS_REMOTE_CACHE_READ_ONLY"


def remote_settings(
    configured: RemoteCacheConfig | None,
    *,
    url: str | None = None,
    read_only: bool | None = None,
) -> RemoteCacheConfig | None:
    """The remote cache in force: ``--remote-cache`` (``url``), else ``GITDEPS_REMOTE_CACHE``,
    else ``[cache] remote`` in gitdeps.toml; read-only from any of the three."""
    chosen = url or os.environ.get(_ENV_URL) or (configured.remote if configured else None)
    if not chosen or chosen.strip().lower() in ("none", "off"):
        return None
    env_read_only = os.environ.get(_ENV_READ_ONLY, "").strip().lower()
    if env_read_only not in ("", "0", "1", "true", "false", "yes", "no"):
        raise ConfigError(f"{_ENV_READ_ONLY}={shown(env_read_only)}: set it to 1 or 0")
    only = bool(
        read_only
        or env_read_only in ("1", "true", "yes")
        or (configured is not None and configured.read_only)
    )
    base = configured or RemoteCacheConfig(chosen)
    settings = dataclasses.replace(base, remote=chosen.strip(), read_only=only)
    _Location.parse(settings.remote)  # refused now, with the reason, not at first use
    return settings


@dataclasses.dataclass(frozen=True)
class _Location:
    account_url: str  # https://acct.blob.core.windows.net, or http://127.0.0.1:10000/acct
    account: str
    container: str
    prefix: str  # "" or "some/path/"

    @classmethod
    def parse(cls, url: str) -> _Location:
        parts = urlsplit(url)
        if parts.scheme not in ("https", "http") or not parts.hostname:
            raise ConfigError(
                f"remote cache {shown(url)}: give the URL of a blob container, e.g. "
                "https://ACCOUNT.blob.core.windows.net/CONTAINER"
            )
        if parts.query or parts.username or parts.password:
            raise ConfigError(
                "the remote cache URL carries a credential (a SAS or user info)",
                hint="keep the URL "
                "plain and put the SAS in AZURE_STORAGE_SAS_TOKEN (or use an identity)",
            )
        segments = [s for s in parts.path.split("/") if s]
        path_style = _is_ip_or_local(parts.hostname)  # the emulator: /ACCOUNT/CONTAINER
        needed = 2 if path_style else 1
        if len(segments) < needed:
            raise ConfigError(
                f"remote cache {url}: no container in the URL; add /CONTAINER"
                + (" after /ACCOUNT" if path_style else "")
            )
        if path_style:
            account = segments.pop(0)
            account_url = f"{parts.scheme}://{parts.netloc}/{account}"
        else:
            account = parts.hostname.split(".")[0]
            account_url = f"{parts.scheme}://{parts.netloc}"
        container, *prefix = segments
        return cls(account_url, account, container, "".join(p + "/" for p in prefix))


def _is_ip_or_local(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


@dataclasses.dataclass(frozen=True)
class RemoteStats:
    hits: int = 0  # wheels downloaded and verified
    misses: int = 0  # looked up, and no entry (or one for other tags at the commit)
    uploads: int = 0
    failed: int = 0  # lookups with no answer: the store failed, or its wheel was refused


_FAILED: Any = object()  # what _guard gives for a call the store failed


class RemoteCache:
    """Read-through, write-back wheels in one blob container. Thread-safe."""

    def __init__(self, settings: RemoteCacheConfig) -> None:
        self.settings = settings
        self.location = _Location.parse(settings.remote)
        self._client: Any = None
        self._lock = threading.Lock()
        self._broken: str | None = None
        self._denied_writes = False
        self._counts = {"hits": 0, "misses": 0, "uploads": 0, "failed": 0}

    @property
    def stats(self) -> RemoteStats:
        return RemoteStats(**self._counts)

    # -- reading ---------------------------------------------------------------
    def get(
        self, key: str, *, tags: tuple[str, ...] | None, into: Path
    ) -> tuple[Path, tuple[str, ...]] | None:
        """The wheel stored for ``key``, downloaded into ``into`` and verified, and the
        tags at its commit when it was built; None on a miss, when the tags at the commit
        are not those (``tags``, if known), or on any failure of the store."""
        if self._broken:
            self._count("failed")
            return None
        entry: tuple[str, str, int, tuple[str, ...]] | None = self._guard(
            "reading", lambda: self._read_entry(key)
        )
        if entry is _FAILED:
            self._count("failed")
            return None
        if entry is None:
            logger.debug("remote cache: no entry %s", key)
            self._count("misses")
            return None
        name, digest, size, built_with = entry
        if tags is not None and built_with != tags:
            self._count("misses")
            return None
        target = into / name
        got: str = self._guard("downloading", lambda: self._download(digest, name, size, target))
        if got is _FAILED:
            target.unlink(missing_ok=True)
            self._count("failed")
            return None
        if got != digest:
            target.unlink(missing_ok=True)
            logger.warning(
                "remote cache: %s does not match the SHA-256 its entry records (got %s, "
                "recorded %s); building it here instead",
                name,
                got[:12],
                digest[:12],
            )
            self._count("failed")
            return None
        logger.debug("remote cache: %s from entry %s", name, key)
        self._count("hits")
        return target, built_with

    def _read_entry(self, key: str) -> tuple[str, str, int, tuple[str, ...]] | None:
        from azure.core.exceptions import ResourceNotFoundError

        blob = self._container().get_blob_client(self._entry_name(key))
        try:
            raw = blob.download_blob(max_concurrency=1).readall()
        except ResourceNotFoundError:
            return None
        try:
            data = json.loads(raw[:65536])
            name, digest, size = str(data["wheel"]), str(data["sha256"]), int(data["size"])
            tags = tuple(str(t) for t in data.get("tags", ()))
        except (ValueError, KeyError, TypeError):
            logger.warning("remote cache: the entry for %s is not readable; ignoring it", key[:12])
            return None
        if "/" in name or "\\" in name or not name.endswith(".whl") or len(digest) != 64:
            logger.warning("remote cache: the entry for %s names no wheel; ignoring it", key[:12])
            return None
        return name, digest.lower(), size, tags

    def _download(self, digest: str, name: str, size: int, target: Path) -> str:
        """Stream the wheel to ``target``; return the SHA-256 of what arrived."""
        if size > _MAX_WHEEL:
            raise _Refused(f"the stored wheel {name} is {size} bytes")
        blob = self._container().get_blob_client(self._wheel_name(digest, name))
        hasher = hashlib.sha256()
        received = 0
        with target.open("wb") as out:
            for chunk in blob.download_blob(max_concurrency=1).chunks():
                received += len(chunk)
                if received > _MAX_WHEEL:
                    raise _Refused(f"the stored wheel {name} is larger than {_MAX_WHEEL} bytes")
                hasher.update(chunk)
                out.write(chunk)
        return hasher.hexdigest()

    # -- writing ---------------------------------------------------------------
    def put(self, key: str, wheel: Path, *, digest: str, tags: tuple[str, ...]) -> None:
        """Upload ``wheel`` for ``key`` unless the store has it, read-only, or failed."""
        if self._broken or self.settings.read_only or self._denied_writes:
            return
        self._guard("uploading to", lambda: self._upload(key, wheel, digest, tags))

    def _upload(self, key: str, wheel: Path, digest: str, tags: tuple[str, ...]) -> None:
        from azure.core.exceptions import ResourceExistsError, ResourceNotFoundError

        from .. import __version__

        container = self._container()
        with wheel.open("rb") as data:
            try:  # content first, so an entry never names a wheel that is not there
                container.upload_blob(self._wheel_name(digest, wheel.name), data, overwrite=False)
            except ResourceExistsError:
                pass  # the same bytes, by their name: someone else uploaded them
            except ResourceNotFoundError as exc:
                if getattr(exc, "error_code", None) != "ContainerNotFound":
                    raise
                with contextlib.suppress(ResourceExistsError):  # the first writer makes it
                    container.create_container()
                data.seek(0)
                with contextlib.suppress(ResourceExistsError):
                    container.upload_blob(
                        self._wheel_name(digest, wheel.name), data, overwrite=False
                    )
        entry = {
            "wheel": wheel.name,
            "sha256": digest,
            "size": wheel.stat().st_size,
            "tags": list(tags),
            "gitdeps": __version__,
        }
        try:
            container.upload_blob(
                self._entry_name(key), json.dumps(entry, indent=1).encode(), overwrite=False
            )
        except ResourceExistsError:
            return  # first writer wins
        logger.debug("remote cache: uploaded %s as entry %s", wheel.name, key)
        self._count("uploads")

    # -- plumbing ----------------------------------------------------------------
    def _entry_name(self, key: str) -> str:
        return f"{self.location.prefix}{_LAYOUT}/entries/{key}.json"

    def _wheel_name(self, digest: str, name: str) -> str:
        return f"{self.location.prefix}{_LAYOUT}/wheels/{digest}/{name}"

    def _count(self, what: str) -> None:
        with self._lock:
            self._counts[what] += 1

    def _guard(self, doing: str, call: Any) -> Any:
        """``call()``, or ``_FAILED``: a failure of the store is a warning and turns it off
        for this run (a refused write turns off only writing)."""
        from azure.core.exceptions import AzureError, HttpResponseError

        try:
            return call()
        except _Refused as exc:
            logger.warning("remote cache: %s; building it here instead", exc)
            return _FAILED
        except HttpResponseError as exc:
            if doing == "uploading to" and exc.status_code in (401, 403):
                with self._lock:
                    first, self._denied_writes = not self._denied_writes, True
                if first:
                    logger.warning(
                        "remote cache %s refused an upload (%s); this run only downloads "
                        "from it (give the identity write access, or set read-only = true)",
                        self._where(),
                        exc.status_code,
                    )
                return _FAILED
            reason = f"HTTP {exc.status_code}: {_first_line(exc)}"
            if getattr(exc, "error_code", None) == "ContainerNotFound":
                reason = "the container does not exist; create it (az storage container create)"
        except (AzureError, OSError, ValueError) as exc:
            reason = _first_line(exc)
        with self._lock:
            first, self._broken = self._broken is None, self._broken or reason
        if first:
            logger.warning(
                "remote cache %s: %s failed (%s); this run goes on without it",
                self._where(),
                doing,
                reason,
            )
        return _FAILED

    def _where(self) -> str:
        return f"{self.location.account_url}/{self.location.container}"

    def _container(self) -> Any:
        with self._lock:
            if self._client is None:
                from azure.storage.blob import ContainerClient, LinearRetry

                self._client = ContainerClient(
                    self.location.account_url,
                    self.location.container,
                    credential=_credential(self.settings, self.location.account),
                    connection_timeout=_CONNECT_TIMEOUT,
                    read_timeout=_READ_TIMEOUT,
                    # Storage's own default waits 15 s, then 18 s, ... before retrying: a
                    # cache is worth two quick retries, not a minute of a build.
                    retry_policy=LinearRetry(backoff=1, random_jitter_range=1, retry_total=2),
                )
            return self._client

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None


class _Refused(Exception):
    """A stored object gitdeps will not take."""


def _first_line(exc: BaseException) -> str:
    text = redact(str(exc)).strip()
    return (text.splitlines()[0][:200] if text else type(exc).__name__) or type(exc).__name__


def _credential(settings: RemoteCacheConfig, account: str) -> Any:
    """A SAS (``AZURE_STORAGE_SAS_TOKEN``), an account key (``AZURE_STORAGE_KEY``, or in
    ``AZURE_STORAGE_CONNECTION_STRING``), else an Entra ID identity through azure-identity."""
    sas = os.environ.get("AZURE_STORAGE_SAS_TOKEN", "").strip().lstrip("?")
    key = os.environ.get("AZURE_STORAGE_KEY", "").strip()
    connection = _connection_string(os.environ.get("AZURE_STORAGE_CONNECTION_STRING", ""))
    sas = sas or connection.get("sharedaccesssignature", "").lstrip("?")
    key = key or connection.get("accountkey", "")
    if sas:
        Secret(sas)  # known to redaction from here on
        from azure.core.credentials import AzureSasCredential

        return AzureSasCredential(sas)
    if key:
        Secret(key)
        from azure.core.credentials import AzureNamedKeyCredential

        return AzureNamedKeyCredential(connection.get("accountname", account), key)
    if settings.credential not in AZURE_CREDENTIALS:  # pragma: no cover - checked on load
        raise ConfigError(f"remote cache: unknown credential {shown(settings.credential)}")
    from .._credentials.azure_identity import azure_token_credential

    return azure_token_credential(settings.credential, settings.client_id)


# The storage emulator's documented development account (Azurite, the old emulator).
_DEVELOPMENT = {
    "accountname": "devstoreaccount1",
    "accountkey": "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/"
    "KBHBeksoGMGw==",
}


def _connection_string(text: str) -> dict[str, str]:
    fields: dict[str, str] = {}
    for part in text.split(";"):
        name, sep, value = part.partition("=")
        if sep:
            fields[name.strip().lower()] = value.strip()
    if fields.get("usedevelopmentstorage", "").lower() == "true":
        fields = {**_DEVELOPMENT, **fields}
    return fields
