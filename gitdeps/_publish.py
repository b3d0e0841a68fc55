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
from collections.abc import Sequence
from email.parser import HeaderParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import urllib3

from ._config import load_config
from ._credentials.base import Credential
from ._credentials.scope import Scope
from ._credentials.store import Credentials
from ._errors import AuthError, GitDepsError
from ._inputs.giturl import GitURL
from ._network import fault_of, pool_for
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


# Azure Artifacts' Python feeds refuse local version segments (the Developer Community
# item "local version segments for Python package feeds"; python-versioneer#304).
_NO_LOCAL_VERSIONS = ("pkgs.dev.azure.com", "pkgs.visualstudio.com")


def _check_feed_takes(host: str, wheel: Path) -> None:
    """Refuse before any upload what the feed would refuse after some."""
    version = wheel.name.split("-")[1] if wheel.name.count("-") >= 4 else ""
    if "+" in version and host.endswith(_NO_LOCAL_VERSIONS):
        raise GitDepsError.at(
            wheel.name,
            f"version {version} has a local segment ('+{version.split('+', 1)[1]}'), which "
            "Azure Artifacts refuses",
            hint="vendor that package from a tag (a tagged commit gets no '+g<commit>' "
            "label), or publish to a feed that takes local versions",
        )


def _authorization(credential: Credential) -> str:
    if credential.scheme == "bearer":
        # Feeds take Entra tokens as the password of Basic auth.
        pair = f"{credential.username or 'gitdeps'}:{credential.token.reveal()}"
        return "Basic " + base64.b64encode(pair.encode()).decode()
    return credential.authorization()


def _post(
    url: str, body: bytes, headers: dict[str, str], host: str, wheel: str
) -> tuple[int, str, str]:
    """POST ``body``; the answer's status, reason and Location (redirects not followed)."""
    try:
        response = pool_for(url).request(
            "POST", url, body=body, headers=headers, redirect=False, preload_content=False
        )
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        fault = fault_of(exc)
        why = fault[1] if fault else redact(str(exc).splitlines()[0] if str(exc) else repr(exc))
        raise GitDepsError(f"cannot reach {host} to upload {wheel}: {why}") from None
    try:
        response.drain_conn()
    finally:
        response.release_conn()
    return response.status, response.reason or "", response.headers.get("Location", "")


def publish(
    wheels: Sequence[str | os.PathLike[str]],
    repository_url: str,
    *,
    config: str | os.PathLike[str] | None = None,
    skip_existing: bool = False,
) -> list[Path]:
    """Upload ``wheels`` to ``repository_url``; return the ones uploaded.

    Each upload is one POST through gitdeps' own HTTP stack (its proxy, trust store
    and limits), the token attached for the feed's origin only. A redirect is never
    followed: the upload URL must answer itself, and only a 2xx is an upload."""
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
    settings = load_config(Path(config) if config else None)
    credentials = Credentials(config=settings, scope=Scope.of([url], settings))
    credential = credentials.for_url(url)
    for item in wheels:  # all checked before the first upload
        wheel = Path(item)
        if not wheel.is_file() or wheel.suffix != ".whl":
            raise GitDepsError.at(wheel, "not a wheel file", hint="pass the wheels of a wheelhouse")
        _check_feed_takes(host, wheel)
    uploaded = []
    for item in wheels:
        wheel = Path(item)
        body, content_type = _form(wheel)
        headers = {"Content-Type": content_type}
        if credential is not None:
            headers["Authorization"] = _authorization(credential)
        status, reason, location = _post(repository_url, body, headers, host, wheel.name)
        if 300 <= status < 400:
            where = urlsplit(urljoin(repository_url, location)).netloc if location else "nowhere"
            raise GitDepsError(
                f"{host} answered the upload of {wheel.name} with a redirect "
                f"(HTTP {status}) to {redact(where)}; nothing was uploaded",
                hint="give --repository-url as the feed's upload URL itself "
                "(gitdeps never follows a redirect with the feed's token)",
            )
        if status == 409 and skip_existing:
            progress.info("%s: already there", wheel.name)
            continue
        if status in (401, 403):
            found = f"the token from {credential.source}" if credential else "no credential"
            raise AuthError(
                f"{host} refused the upload of {wheel.name} ({status}) with {found}: "
                + credentials.hint(url)
            )
        if not 200 <= status < 300:
            raise GitDepsError(
                f"{host} refused the upload of {wheel.name}: HTTP {status} {reason}".rstrip()
                + ("; it is there already (use --skip-existing)" if status == 409 else "")
            )
        progress.info("%s: uploaded", wheel.name)
        uploaded.append(wheel)
    return uploaded
