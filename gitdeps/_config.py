"""Configuration: ``gitdeps.toml``, or ``[tool.gitdeps]`` in ``pyproject.toml``.

Only credential providers are configured here, per host::

    [hosts."dev.azure.com"]
    provider = "azure-identity"        # env, azure-identity, azure-cli, msal, git-credential,
                                       #   netrc, keyring
    credential = "managed-identity"    # azure-identity: default, managed-identity,
                                       #   workload-identity, azure-cli, environment
    client-id = "00000000-..."         # a user-assigned managed identity

    [hosts."github.com"]
    provider = "env"
    variable = "GITHUB_PAT"            # env: this variable, not GITDEPS_TOKEN_GITHUB_COM

    [hosts."git.corp.example"]         # no provider: the usual sources; the table names
    origins = ["http://git.corp.example:8080"]  # where its credentials may go (default:
                                       #   https://<host>), for hosts met only in dependencies

And the shared wheel cache on Azure Blob Storage::

    [cache]
    remote = "https://acct.blob.core.windows.net/gitdeps-wheels"
    read-only = true                   # download, never upload (pull-request builds)
    credential = "managed-identity"    # azure-identity, as for a host (default: default)
    client-id = "00000000-..."
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ._credentials import registry as _registry
from ._credentials.base import AZURE_CREDENTIALS, HostConfig
from ._errors import GitDepsError
from ._secret import shown
from ._toml import tomllib

__all__ = [
    "AZURE_CREDENTIALS",
    "PROVIDERS",
    "Config",
    "ConfigError",
    "HostConfig",
    "RemoteCacheConfig",
    "load_config",
]

# "env" is the environment (GITDEPS_TOKEN_<HOST> or `variable`); "azure-cli" is short for
# azure-identity's Azure CLI credential; every other name is a registered provider.
PROVIDERS = ("env", *_registry.PROVIDERS, "azure-cli")


class ConfigError(GitDepsError):
    """The configuration file cannot be used."""

    exit_code = 3


@dataclasses.dataclass(frozen=True)
class RemoteCacheConfig:
    """``[cache]``: a container URL (with an optional path prefix) and how to reach it."""

    remote: str
    read_only: bool = False
    credential: str = "default"  # which azure-identity credential, when no key or SAS is set
    client_id: str | None = None


@dataclasses.dataclass(frozen=True)
class Config:
    hosts: Mapping[str, HostConfig] = dataclasses.field(default_factory=dict)
    source: str | None = None
    cache: RemoteCacheConfig | None = None

    def for_host(self, host: str) -> HostConfig | None:
        return self.hosts.get(host.lower())


def load_config(path: Path | None = None, *, root: Path | None = None) -> Config:
    """``path`` if given; else ``gitdeps.toml``, else ``pyproject.toml``'s ``[tool.gitdeps]``
    in ``root`` (default: the working directory); else an empty configuration."""
    if path is not None:
        return _parse(path, _read(path, required=True), table=None)
    root = root or Path()
    own = root / "gitdeps.toml"
    if own.is_file():
        return _parse(own, _read(own, required=True), table=None)
    pyproject = root / "pyproject.toml"
    if pyproject.is_file():
        data = _read(pyproject, required=False)
        tool = data.get("tool", {}).get("gitdeps")
        if isinstance(tool, dict):
            return _parse(pyproject, tool, table="tool.gitdeps")
    return Config()


def _variable(value: object, label: str, provider: str | None) -> str | None:
    if value is None:
        return None
    if provider != "env" or not isinstance(value, str) or not value.strip():
        raise ConfigError.at(label, 'variable names an environment variable, for provider = "env"')
    return value.strip()


def _origins(value: object, label: str, host: str) -> tuple[str, ...]:
    """``origins = ["http://host:8080", ...]``: where this host's credentials may go
    (none given: ``https://<host>``, which :class:`~gitdeps._credentials.scope.Scope` adds)."""
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError.at(label, 'origins must be a list of URLs, like ["https://host:8443"]')
    origins = []
    for text in value:
        parts = urlsplit(text.strip())
        try:
            port = parts.port
        except ValueError:
            port = -1
        if (
            parts.scheme not in ("http", "https")
            or (parts.hostname or "") != host
            or port == -1
            or parts.username
            or parts.password
            or parts.path.strip("/")
        ):
            raise ConfigError.at(
                label,
                f"origins: {shown(text)} is not an origin of {host}",
                hint=f'give scheme, host and port only, like "https://{host}:8443"',
            )
        origins.append(text.strip())
    return tuple(origins)


def _read(path: Path, *, required: bool) -> dict[str, Any]:
    try:
        data: dict[str, Any] = tomllib.loads(path.read_text(encoding="utf-8"))
        return data
    except FileNotFoundError:
        if required:
            raise ConfigError.at(
                path, "configuration file not found", hint="check --config"
            ) from None
        return {}
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError.at(path, f"not valid TOML: {exc}") from None


def _parse(path: Path, data: Mapping[str, Any], *, table: str | None) -> Config:
    where = f"{path} [{table}]" if table else str(path)
    hosts = data.get("hosts", {})
    if not isinstance(hosts, dict):
        raise ConfigError.at(where, "'hosts' must be a table of host names")
    parsed: dict[str, HostConfig] = {}
    for host, entry in hosts.items():
        label = f'{where}: [hosts."{host}"]'
        if not isinstance(entry, dict):
            raise ConfigError(f"{label} must be a table")
        unknown = set(entry) - {
            "provider", "credential", "client-id", "tenant", "username", "scheme", "variable",
            "origins",
        }  # fmt: skip
        if unknown:
            raise ConfigError.at(label, f"unknown key {shown(sorted(unknown)[0])}")
        provider = entry.get("provider")
        if provider is not None and provider not in PROVIDERS:
            raise ConfigError.at(
                label, f"provider {shown(provider)} is not one of {', '.join(PROVIDERS)}"
            )
        credential = entry.get("credential", "default")
        if credential not in AZURE_CREDENTIALS:
            raise ConfigError.at(
                label,
                f"credential {shown(credential)} is not one of {', '.join(AZURE_CREDENTIALS)}",
            )
        scheme = entry.get("scheme")
        if scheme not in (None, "basic", "bearer"):
            raise ConfigError.at(label, "scheme must be 'basic' or 'bearer'")
        if provider == "azure-cli":  # shorthand for azure-identity's Azure CLI credential
            provider, credential = "azure-identity", "azure-cli"
        parsed[host.lower()] = HostConfig(
            provider=provider,
            credential=credential,
            client_id=entry.get("client-id"),
            tenant=entry.get("tenant"),
            username=entry.get("username"),
            scheme=scheme,
            variable=_variable(entry.get("variable"), label, provider),
            origins=_origins(entry.get("origins"), label, host.lower()),
        )
    return Config(hosts=parsed, source=where, cache=_cache(where, data.get("cache")))


def _cache(where: str, table: object) -> RemoteCacheConfig | None:
    if table is None:
        return None
    label = f"{where}: [cache]"
    if not isinstance(table, dict):
        raise ConfigError(f"{label} must be a table")
    unknown = set(table) - {"remote", "read-only", "credential", "client-id"}
    if unknown:
        raise ConfigError.at(label, f"unknown key {shown(sorted(unknown)[0])}")
    remote = table.get("remote")
    if not isinstance(remote, str) or not remote.strip():
        raise ConfigError.at(label, "remote must be the URL of a blob container")
    read_only = table.get("read-only", False)
    if not isinstance(read_only, bool):
        raise ConfigError.at(label, "read-only must be true or false")
    credential = table.get("credential", "default")
    if credential not in AZURE_CREDENTIALS:
        raise ConfigError.at(
            label, f"credential {shown(credential)} is not one of {', '.join(AZURE_CREDENTIALS)}"
        )
    client_id = table.get("client-id")
    if client_id is not None and not isinstance(client_id, str):
        raise ConfigError.at(label, "client-id must be a string")
    return RemoteCacheConfig(remote.strip(), read_only, credential, client_id)
