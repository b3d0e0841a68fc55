"""Azurite, Microsoft's Azure Storage emulator (from the npm registry), on 127.0.0.1.

The real Blob service protocol: shared-key and SAS authentication, conditional
uploads, ranged downloads. ``.ci/run`` installs it (``npm install -g azurite``).
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path
from types import TracebackType

__all__ = ["ACCOUNT", "KEY", "Azurite", "azurite_command"]

# The emulator's well-known development account (documented by Microsoft, not a secret).
ACCOUNT = "devstoreaccount1"
KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


def azurite_command() -> str | None:
    return shutil.which("azurite-blob")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class Azurite:
    """``azurite-blob`` on a free loopback port, its data under ``workspace``."""

    def __init__(self, workspace: Path) -> None:
        self.workspace = workspace
        self.port = 0
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def account_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/{ACCOUNT}"

    @property
    def connection_string(self) -> str:
        return (
            f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey={KEY};"
            f"BlobEndpoint={self.account_url};"
        )

    def container_url(self, name: str) -> str:
        return f"{self.account_url}/{name}"

    def start(self) -> Azurite:
        command = azurite_command()
        if command is None:
            raise RuntimeError("azurite-blob is not installed: npm install -g azurite")
        self.workspace.mkdir(parents=True, exist_ok=True)
        for _attempt in range(3):  # another process may take the port between probe and bind
            self.port = _free_port()
            self._process = subprocess.Popen(
                [
                    command, "--blobHost", "127.0.0.1", "--blobPort", str(self.port),
                    "--location", str(self.workspace), "--silent", "--skipApiVersionCheck",
                    "--disableTelemetry", "--loose",
                ],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )  # fmt: skip
            if self._wait_until_listening(30.0):
                return self
            self.stop()
        raise RuntimeError("azurite-blob did not start listening")

    def _wait_until_listening(self, seconds: float) -> bool:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self._process is None or self._process.poll() is not None:
                return False
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return True
            except OSError:
                time.sleep(0.1)
        return False

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(timeout=10)
        self._process = None

    def __enter__(self) -> Azurite:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
