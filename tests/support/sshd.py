"""OpenSSH's own sshd on 127.0.0.1, serving bare repositories to ``git-upload-pack``.

Keys are made per server; the client side is an ``ssh -F`` config, the way a
user's ``~/.ssh/config`` names a host, key and known-hosts file. ``.ci/run``
installs openssh-server; where sshd is missing the fixture says so.
"""

from __future__ import annotations

import getpass
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

__all__ = ["SSHD", "SshServer"]

SSHD = shutil.which("sshd") or "/usr/sbin/sshd"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _keygen(path: Path) -> None:
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "gitdeps-test", "-f", str(path)],
        check=True,
        stdin=subprocess.DEVNULL,
    )


class SshServer:
    """An sshd that lets this user in with a key made for the tests, and no other way."""

    def __init__(self, state: Path) -> None:
        self.state = state
        self.user = getpass.getuser()
        self.port = _free_port()
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> SshServer:
        state = self.state
        state.mkdir(parents=True, exist_ok=True)
        _keygen(state / "host_key")
        _keygen(state / "client_key")
        _keygen(state / "stranger_key")
        (state / "authorized_keys").write_text((state / "client_key.pub").read_text())
        (state / "sshd_config").write_text(
            f"Port {self.port}\n"
            "ListenAddress 127.0.0.1\n"
            f"HostKey {state / 'host_key'}\n"
            f"PidFile {state / 'sshd.pid'}\n"
            f"AuthorizedKeysFile {state / 'authorized_keys'}\n"
            f"AllowUsers {self.user}\n"
            "PermitRootLogin prohibit-password\n"
            "PasswordAuthentication no\n"
            "KbdInteractiveAuthentication no\n"
            "PubkeyAuthentication yes\n"
            "StrictModes no\n"
            "UsePAM no\n"
            "AcceptEnv GIT_PROTOCOL\n"
            "LogLevel ERROR\n"
        )
        host_key = (state / "host_key.pub").read_text().split()[:2]
        (state / "known_hosts").write_text(f"[127.0.0.1]:{self.port} {' '.join(host_key)}\n")
        (state / "no_known_hosts").write_text("")
        if os.geteuid() == 0:
            Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # sshd's privilege separation
        self._process = subprocess.Popen(
            [SSHD, "-D", "-e", "-f", str(state / "sshd_config")],
            stdin=subprocess.DEVNULL,
            stderr=(state / "sshd.log").open("wb"),
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return self
            except OSError:
                if self._process.poll() is not None:
                    break
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("sshd did not start: " + (state / "sshd.log").read_text())

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.wait(timeout=10)

    def ssh_command(self, *, key: str = "client_key", known_hosts: str = "known_hosts") -> str:
        """A ``GIT_SSH_COMMAND`` whose config names ``gitdeps-test`` for this server."""
        config = self.state / f"ssh_config-{key}-{known_hosts}"
        config.write_text(
            "Host gitdeps-test\n"
            "  HostName 127.0.0.1\n"
            f"  Port {self.port}\n"
            "Host *\n"
            f"  IdentityFile {self.state / key}\n"
            "  IdentitiesOnly yes\n"
            f"  UserKnownHostsFile {self.state / known_hosts}\n"
            "  GlobalKnownHostsFile /dev/null\n"
            "  StrictHostKeyChecking yes\n"
            "  SendEnv GIT_PROTOCOL\n"
        )
        return f"ssh -F {config}"

    def __enter__(self) -> SshServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
