"""A keyring backend for tests, through keyring's own plugin interface."""

from __future__ import annotations

import keyring.backend
import keyring.credentials

__all__ = ["MemoryKeyring"]


class MemoryKeyring(keyring.backend.KeyringBackend):
    """Credentials by service name, in memory; records every service asked."""

    priority = 1

    def __init__(self, entries: dict[str, tuple[str, str]]) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.entries = entries
        self.asked: list[str] = []

    def get_credential(
        self, service: str, username: str | None
    ) -> keyring.credentials.Credential | None:
        self.asked.append(service)
        found = self.entries.get(service)
        return keyring.credentials.SimpleCredential(*found) if found else None

    def get_password(self, service: str, username: str) -> str | None:
        found = self.entries.get(service)
        return found[1] if found else None

    def set_password(self, service: str, username: str, password: str) -> None:
        self.entries[service] = (username, password)

    def delete_password(self, service: str, username: str) -> None:
        self.entries.pop(service, None)
