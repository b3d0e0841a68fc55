"""``publish()``: upload vendored wheels to a package index (twine's upload protocol).

For locked-down VMs that install from a feed (Azure Artifacts, a private index):
the wheels of a wheelhouse go up with the feed's token from the same providers
as git hosts (``GITDEPS_TOKEN_PKGS_DEV_AZURE_COM``, managed identity, ...).

Before each upload the feed's own index is read for that name: a file already
there with the same digest is skipped, one with another digest (another build
under the same version) stops the run, whatever ``skip_existing`` says. With
``public_versions`` each wheel goes up at its version without the ``+g<commit>``
label (for feeds that refuse local versions, as Azure Artifacts does), the pins
between the wheels published together rewritten to match.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import logging
import os
import re
import tempfile
from collections.abc import Mapping, Sequence
from email.parser import HeaderParser
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

import urllib3
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import (
    InvalidWheelFilename,
    NormalizedName,
    canonicalize_name,
    parse_wheel_filename,
)
from packaging.version import InvalidVersion, Version

from ._build.wheel import read_wheel, rewrite_wheel, sha256_file
from ._config import load_config
from ._credentials.base import Credential
from ._credentials.scope import Scope
from ._credentials.store import Credentials
from ._errors import AuthError, GitDepsError
from ._inputs.giturl import GitURL, origin_of
from ._network import fault_of, pool_for
from ._outputs.vendored import exact_pin
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
            hint="publish with --public-versions (each wheel at its version without the "
            "label), or to a feed that takes local versions",
        )


def _public_copies(wheels: Sequence[Path], into: Path) -> list[Path]:
    """Each wheel at its public version (``1.2.0+g1a2b3c`` as ``1.2.0``), and each pin of
    one of these wheels on another (``acme-core==0.3.0+g49a0bc``) rewritten to match."""
    infos = [(wheel, read_wheel(wheel)) for wheel in wheels]
    local = {canonicalize_name(info.name): Version(info.version) for _, info in infos}
    copies = []
    for wheel, info in infos:
        replace: dict[str, str] = {}
        for value in info.requires_dist:
            pin = _pin_of(value)
            if pin is None or pin[1].local is None:
                continue
            name, version, requirement = pin
            if local.get(name) != version:
                raise GitDepsError.at(
                    wheel.name,
                    f"pins {requirement.name}=={version}, which is not among the wheels published",
                    hint="publish the whole wheelhouse together (the default)",
                )
            replace[value] = exact_pin(value, {name: version.public})
        public = Version(info.version).public
        if public == info.version and not replace:
            copies.append(wheel)
            continue
        copies.append(rewrite_wheel(wheel, into, version=public, replace_requires=replace))
        logger.info("%s: published as %s", wheel.name, copies[-1].name)
    return copies


def _pin_of(value: str) -> tuple[NormalizedName, Version, Requirement] | None:
    """``(name, version, requirement)`` of a ``name==version`` Requires-Dist value."""
    try:
        requirement = Requirement(value)
    except InvalidRequirement:
        return None
    specifiers = list(requirement.specifier)
    if len(specifiers) != 1 or specifiers[0].operator != "==" or "*" in specifiers[0].version:
        return None
    return canonicalize_name(requirement.name), Version(specifiers[0].version), requirement


@dataclasses.dataclass(frozen=True)
class _Feed:
    """Where the feed lists what it holds: its simple index (PEP 503), and how to ask."""

    simple: str
    host: str
    headers: Mapping[str, str]

    @classmethod
    def beside(cls, upload: str, index_url: str | None, headers: Mapping[str, str]) -> _Feed:
        """The index of the upload URL: ``.../pypi/upload/`` lists at ``.../pypi/simple/``
        (Azure Artifacts, devpi), ``/`` at ``/simple/`` (pypiserver)."""
        if index_url is None:
            path = urlsplit(upload).path
            if re.search(r"/upload/?$", path):
                index_url = urljoin(upload, re.sub(r"/upload/?$", "/simple/", path))
            else:
                index_url = urljoin(upload if upload.endswith("/") else upload + "/", "simple/")
        simple = index_url if index_url.endswith("/") else index_url + "/"
        return cls(simple, (urlsplit(simple).hostname or "").lower(), headers)

    def digests(self, name: str) -> dict[str, str | None] | None:
        """File name -> sha256 (None when the index shows none) of ``name`` on the feed;
        empty when the feed has no such project, None when it cannot be read."""
        url = urljoin(self.simple, canonicalize_name(name) + "/")
        same_origin = origin_of(url)
        headers = {"Accept": "text/html", **self.headers}
        for _ in range(3):
            try:
                response = pool_for(url).request(
                    "GET", url, headers=headers, redirect=False, preload_content=False
                )
                try:
                    body = response.read(16 << 20) if response.status == 200 else b""
                finally:
                    response.release_conn()
            except (urllib3.exceptions.HTTPError, OSError) as exc:
                logger.debug("cannot read %s: %s", url, redact(str(exc)))
                return None
            location = response.headers.get("Location", "")
            if 300 <= response.status < 400 and location:
                url = urljoin(url, location)
                if origin_of(url) != same_origin:
                    logger.warning(
                        "%s: the feed sends its index page to %s (an upstream source?), so a "
                        "package of that name exists there too: see docs/howto/vm-feed.md",
                        name,
                        redact(urlsplit(url).netloc),
                    )
                    return {}
                continue
            if response.status == 404:
                return {}
            if response.status != 200:
                logger.debug("%s answered %s for %s", self.host, response.status, url)
                return None
            return _files_on(body.decode("utf-8", "replace"))
        return None


def _files_on(page: str) -> dict[str, str | None]:
    files: dict[str, str | None] = {}
    for href in re.findall(r"""<a\s[^>]*href\s*=\s*["']([^"']+)["']""", page, re.IGNORECASE):
        parts = urlsplit(href.replace("&amp;", "&"))
        name = unquote(parts.path.rsplit("/", 1)[-1])
        match = re.search(r"(?:^|&)sha256=([0-9a-fA-F]{64})", parts.fragment)
        files[name] = match.group(1).lower() if match else None
    return files


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
    public_versions: bool = False,
    index_url: str | None = None,
) -> list[Path]:
    """Upload ``wheels`` to ``repository_url``; return the ones uploaded (with
    ``public_versions``, the copies that went up).

    Each upload is one POST through gitdeps' own HTTP stack (its proxy, trust store
    and limits), the token attached for the feed's origin only. A redirect is never
    followed: the upload URL must answer itself, and only a 2xx is an upload. A wheel
    the feed holds already with the same digest is skipped; with another digest, the
    run stops before it (``index_url`` is where the feed lists its files; by default
    beside the upload URL)."""
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
    paths = [Path(item) for item in wheels]
    for wheel in paths:
        if not wheel.is_file() or wheel.suffix != ".whl":
            raise GitDepsError.at(wheel, "not a wheel file", hint="pass the wheels of a wheelhouse")
    auth = {"Authorization": _authorization(credential)} if credential is not None else {}
    hint = credentials.hint(url)
    feed = _Feed.beside(repository_url, index_url, auth if _same_origin(index_url, url) else {})
    with tempfile.TemporaryDirectory(prefix="gitdeps-publish-") as scratch:
        if public_versions:
            paths = _public_copies(paths, Path(scratch))
        for wheel in paths:  # all checked before the first upload
            _check_feed_takes(host, wheel)
        uploader = _Uploader(repository_url, host, feed, auth, credential, hint, skip_existing)
        return uploader.upload_all(paths)


def _same_origin(index_url: str | None, upload: GitURL) -> bool:
    """The feed's token goes to its index only on the upload URL's own origin."""
    return index_url is None or origin_of(index_url) == upload.origin


@dataclasses.dataclass(frozen=True)
class _Uploader:
    """The uploads of one publish run, one wheel at a time."""

    repository_url: str
    host: str
    feed: _Feed
    auth: Mapping[str, str]
    credential: Credential | None
    hint: str  # what to do when the feed refuses the credential
    skip_existing: bool

    def upload_all(self, wheels: Sequence[Path]) -> list[Path]:
        return [wheel for wheel in wheels if self.upload(wheel)]

    def upload(self, wheel: Path) -> bool:
        """Upload ``wheel``; False when the feed has it already, byte for byte."""
        host, name, digest = self.host, read_wheel(wheel).name, sha256_file(wheel)
        on_feed = self.feed.digests(name)
        if on_feed is not None:
            if on_feed.get(wheel.name) == digest:
                progress.info("%s: already there (same sha256)", wheel.name)
                return False
            clash = _clash(wheel.name, on_feed)
            if clash is not None:
                raise _another_build(wheel.name, clash, on_feed[clash], digest, host)
        body, content_type = _form(wheel)
        headers = {"Content-Type": content_type, **self.auth}
        status, reason, location = _post(self.repository_url, body, headers, host, wheel.name)
        if 300 <= status < 400:
            target = urljoin(self.repository_url, location) if location else ""
            raise GitDepsError(
                f"{host} answered the upload of {wheel.name} with a redirect "
                f"(HTTP {status}) to {redact(urlsplit(target).netloc or 'nowhere')}; "
                "nothing was uploaded",
                hint="give --repository-url as the feed's upload URL itself "
                "(gitdeps never follows a redirect with the feed's token)",
            )
        if status == 409 and self.skip_existing:
            # Said to be there, and the index did not show it: is it this build?
            listed = self.feed.digests(name) or {}
            if listed.get(wheel.name) != digest:
                raise _another_build(wheel.name, wheel.name, listed.get(wheel.name), digest, host)
            progress.info("%s: already there (same sha256)", wheel.name)
            return False
        if status in (401, 403):
            found = (
                f"the token from {self.credential.source}" if self.credential else "no credential"
            )
            raise AuthError(
                f"{host} refused the upload of {wheel.name} ({status}) with {found}: " + self.hint
            )
        if not 200 <= status < 300:
            raise GitDepsError(
                f"{host} refused the upload of {wheel.name}: HTTP {status} {reason}".rstrip()
                + ("; it is there already (use --skip-existing)" if status == 409 else "")
            )
        progress.info("%s: uploaded", wheel.name)
        return True


def _clash(wheel: str, on_feed: Mapping[str, str | None]) -> str | None:
    """A file on the feed that an installer could take instead of ``wheel``: the same
    name and version, and a tag in common (``py2.py3-none-any`` beside ``py3-none-any``);
    ``wheel``'s own name when that is there (with another digest)."""
    if wheel in on_feed:
        return wheel
    name, version, _, tags = parse_wheel_filename(wheel)
    for other in on_feed:
        try:
            other_name, other_version, _, other_tags = parse_wheel_filename(other)
        except (InvalidWheelFilename, InvalidVersion):
            continue  # an sdist, or a name no installer takes
        if (other_name, other_version) == (name, version) and tags & other_tags:
            return other
    return None


def _another_build(
    wheel: str, there: str, theirs: str | None, ours: str, host: str
) -> GitDepsError:
    """A file on the feed that is not this wheel and could be taken for it: never
    replaced, and this wheel not published beside it."""
    held = "it" if there == wheel else there
    if theirs is None:
        said = f"and the feed's index shows no sha256 for {held}: it may be another build"
    else:
        said = f"with another sha256 ({theirs[:12]}..., this wheel's is {ours[:12]}...)"
    if there != wheel:
        said = f"as {there}, {said}"
    return GitDepsError.at(
        wheel,
        f"is on {host} already {said}: another build under the same version; it is not "
        "replaced, and nothing more was uploaded",
        hint="give the package a new version (tag a release), or publish the commit "
        "that was published before",
    )
