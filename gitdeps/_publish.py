"""``publish()``: upload vendored wheels to a package index (twine's upload protocol).

For locked-down VMs that install from a feed (Azure Artifacts, a private index):
the wheels of a wheelhouse go up with the feed's token from the same providers
as git hosts (``GITDEPS_TOKEN_PKGS_DEV_AZURE_COM``, managed identity, ...).
"""

from __future__ import annotations

import base64
import hashlib
import logging
import os
import urllib.error
import urllib.request
from collections.abc import Sequence
from email.parser import HeaderParser
from pathlib import Path

import urllib3

from ._config import load_config
from ._credentials.store import Credentials
from ._errors import AuthError, GitDepsError
from ._inputs.giturl import GitURL
from ._secret import redact

__all__ = ["publish"]

logger = logging.getLogger("gitdeps")
progress = logging.getLogger("gitdeps.progress")

_FIELDS = {  # upload form field -> METADATA header
    "name": "Name",
    "version": "Version",
    "summary": "Summary",
    "metadata_version": "Metadata-Version",
    "author": "Author",
    "license": "License",
    "requires_python": "Requires-Python",
}


def _form(wheel: Path) -> tuple[bytes, str]:
    import zipfile

    data = wheel.read_bytes()
    with zipfile.ZipFile(wheel) as archive:
        (metadata_name,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        headers = HeaderParser().parsestr(archive.read(metadata_name).decode("utf-8"))
    fields: list[tuple[str, str]] = [
        (":action", "file_upload"),
        ("protocol_version", "1"),
        ("filetype", "bdist_wheel"),
        ("pyversion", wheel.name.split("-")[-3]),
        ("sha256_digest", hashlib.sha256(data).hexdigest()),
    ]
    for field, header in _FIELDS.items():
        if headers.get(header):
            fields.append((field, str(headers[header])))
    fields += [("requires_dist", str(r)) for r in headers.get_all("Requires-Dist") or ()]
    form: list[tuple[str, str | tuple[str, bytes, str]]] = list(fields)
    form.append(("content", (wheel.name, data, "application/octet-stream")))
    body, content_type = urllib3.encode_multipart_formdata(form)
    return body, content_type


def publish(
    wheels: Sequence[str | os.PathLike[str]],
    repository_url: str,
    *,
    config: str | os.PathLike[str] | None = None,
    skip_existing: bool = False,
) -> list[Path]:
    """Upload ``wheels`` to ``repository_url``; return the ones uploaded."""
    from urllib.parse import urlsplit

    parts = urlsplit(repository_url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise GitDepsError(f"--repository-url {redact(repository_url)}: give an http(s) URL")
    if parts.username or parts.password:
        raise GitDepsError(
            "--repository-url holds a credential",
            hint="give the URL alone and the token through "
            "GITDEPS_TOKEN_... or a provider in gitdeps.toml",
        )
    host = parts.hostname.lower()
    url = GitURL(scheme=parts.scheme, host=host, port=parts.port, path=parts.path or "/")
    credentials = Credentials(config=load_config(Path(config) if config else None))
    credential = credentials.for_url(url)
    uploaded = []
    for item in wheels:
        wheel = Path(item)
        if not wheel.is_file() or wheel.suffix != ".whl":
            raise GitDepsError.at(wheel, "not a wheel file", hint="pass the wheels of a wheelhouse")
        body, content_type = _form(wheel)
        request = urllib.request.Request(repository_url, data=body, method="POST")  # noqa: S310
        request.add_header("Content-Type", content_type)
        if credential is not None:
            if credential.scheme == "bearer":
                # Feeds take Entra tokens as the password of Basic auth.
                pair = f"{credential.username or 'gitdeps'}:{credential.token.reveal()}"
                request.add_header(
                    "Authorization", "Basic " + base64.b64encode(pair.encode()).decode()
                )
            else:
                request.add_header("Authorization", credential.authorization())
        try:
            with urllib.request.urlopen(request, timeout=120):  # noqa: S310 - http(s) checked above
                pass
        except urllib.error.HTTPError as exc:
            if exc.code == 409 and skip_existing:
                progress.info("%s: already there", wheel.name)
                continue
            if exc.code in (401, 403):
                found = f"the token from {credential.source}" if credential else "no credential"
                raise AuthError(
                    f"{host} refused the upload of {wheel.name} ({exc.code}) with {found}: "
                    + credentials.hint(url)
                ) from None
            raise GitDepsError(
                f"{host} refused the upload of {wheel.name}: HTTP {exc.code} {exc.reason}"
                + ("; it is there already (use --skip-existing)" if exc.code == 409 else "")
            ) from None
        except OSError as exc:
            raise GitDepsError(
                f"cannot reach {host} to upload {wheel.name}: {redact(str(exc))}"
            ) from None
        progress.info("%s: uploaded", wheel.name)
        uploaded.append(wheel)
    return uploaded
