"""Git LFS: files stored with LFS arrive with their content, not their pointer text.

The checkout lists the files whose content is an LFS pointer. Their objects are
asked for in one request to the repository's LFS batch endpoint
(``<repo>.git/info/lfs/objects/batch``, as git-lfs derives it), downloaded with
the basic transfer adapter, checked against the pointer's SHA-256 and size, and
written in place of the pointer. The host's credential goes to the batch
endpoint and to downloads on the repository's own origin only; a download on
another origin (blob storage) gets only the headers the batch answer gave for
it. Anything that fails stops the run: a build must never see the pointer text
where it expects the file.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

from .._credentials.base import Credential
from .._credentials.store import Credentials
from .._errors import AuthError, FetchError
from .._inputs.giturl import GitURL, origin_of
from .checkout import Checkout, LfsPointer
from .git import http_pool

__all__ = ["fetch_lfs", "lfs_endpoint"]

_MEDIA_TYPE = "application/vnd.git-lfs+json"
_MAX_REDIRECTS = 5
_CHUNK = 1 << 20


def lfs_endpoint(url: GitURL) -> str:
    """The LFS server of a repository, as git-lfs derives it from the remote URL."""
    repo = url.repo.rstrip("/")
    return (repo if repo.endswith(".git") else repo + ".git") + "/info/lfs"


@dataclasses.dataclass(frozen=True)
class _Download:
    href: str
    headers: Mapping[str, str]


def fetch_lfs(tree: Checkout, url: GitURL, credentials: Credentials, scratch: Path) -> None:
    """Replace every LFS pointer in ``tree`` with its object's content."""
    if not tree.lfs:
        return
    if url.scheme == "ssh":
        raise FetchError(
            f"{url.repo} stores {tree.lfs[0].path} (and {len(tree.lfs) - 1} more) with Git LFS, "
            "which gitdeps fetches over https only",
            hint="use the repository's https URL",
        )
    wanted = {p.oid: p.size for p in tree.lfs}
    pool = http_pool(url)  # one for the batch request and every download: kept alive
    downloads = _batch(pool, url, credentials, wanted)
    by_oid: dict[str, list[LfsPointer]] = {}
    for pointer in tree.lfs:
        by_oid.setdefault(pointer.oid, []).append(pointer)
    for oid, pointers in sorted(by_oid.items()):
        fetched = _download(
            pool, url, credentials, downloads[oid], oid=oid, size=wanted[oid], scratch=scratch
        )
        for pointer in pointers:
            _place(tree, pointer, fetched)
        fetched.unlink()


def _batch(
    pool: Any, url: GitURL, credentials: Credentials, wanted: Mapping[str, int]
) -> dict[str, _Download]:
    endpoint = lfs_endpoint(url) + "/objects/batch"
    body = json.dumps(
        {
            "operation": "download",
            "transfers": ["basic"],
            "objects": [{"oid": oid, "size": size} for oid, size in sorted(wanted.items())],
            "hash_algo": "sha256",
        }
    ).encode()
    headers = {"Accept": _MEDIA_TYPE, "Content-Type": _MEDIA_TYPE}
    credential = credentials.for_url(url)
    status, data = _post(pool, url, endpoint, body=body, headers=headers, credential=credential)
    if status == 401 and credential is None:
        credential = credentials.after_unauthorized(url)
        if credential is not None:
            status, data = _post(
                pool, url, endpoint, body=body, headers=headers, credential=credential
            )
    if status == 401:
        raise AuthError(
            f"{url.hostport} asks for credentials to download Git LFS files of {url.repo}"
            + (
                f" and rejected the token from {credential.source}"
                if credential
                else f" and none were found: {credentials.hint(url)}"
            )
        )
    if status != 200:
        raise FetchError(
            f"{url.hostport} answered HTTP {status} to the Git LFS batch request for {url.repo}",
            hint="is Git LFS enabled for the repository?",
        )
    try:
        answer = json.loads(data)
        objects = {str(o["oid"]): o for o in answer["objects"]}
    except (ValueError, KeyError, TypeError) as exc:
        raise FetchError(f"{url.hostport} sent an unreadable Git LFS batch answer: {exc}") from exc
    downloads = {}
    for oid in wanted:
        found: Any = objects.get(oid)
        error = found.get("error") if isinstance(found, dict) else {"message": "not listed"}
        action = (found.get("actions") or {}).get("download") if not error else None
        if error or not isinstance(action, dict) or "href" not in action:
            reason = error.get("message", "no download offered") if error else "no download offered"
            raise FetchError(
                f"Git LFS object {oid[:12]} of {url.repo} cannot be downloaded: {reason}",
                hint="was it pushed (git lfs push --all)?",
            )
        href = urljoin(endpoint, str(action["href"]))
        extra = {str(k): str(v) for k, v in (action.get("header") or {}).items()}
        downloads[oid] = _Download(href, extra)
    return downloads


def _post(
    pool: Any,
    url: GitURL,
    endpoint: str,
    *,
    body: bytes,
    headers: Mapping[str, str],
    credential: Credential | None,
) -> tuple[int, bytes]:
    sent = dict(headers)
    if credential is not None and origin_of(endpoint) == origin_of(url.repo):
        sent["Authorization"] = credential.authorization()
    response = _request(pool, "POST", endpoint, headers=sent, body=body, url=url)
    try:
        return response.status, response.data
    finally:
        response.release_conn()


def _request(
    pool: Any,
    method: str,
    target: str,
    *,
    headers: Mapping[str, str],
    body: bytes | None,
    url: GitURL,
) -> Any:
    try:
        return pool.request(
            method, target, headers=dict(headers), body=body, redirect=False, preload_content=False
        )
    except OSError as exc:
        raise FetchError(
            f"cannot reach {origin_of(target)[1]} for Git LFS files of {url.repo}: {exc}"
        ) from exc
    except Exception as exc:  # urllib3's own errors (timeouts, protocol) are not OSErrors
        raise FetchError(
            f"cannot download Git LFS files of {url.repo} from {origin_of(target)[1]}: "
            f"{type(exc).__name__}"
        ) from exc


def _download(
    pool: Any,
    url: GitURL,
    credentials: Credentials,
    download: _Download,
    *,
    oid: str,
    size: int,
    scratch: Path,
) -> Path:
    """The object's bytes in a file under ``scratch``, verified against ``oid`` and ``size``."""
    credential = credentials.for_url(url)
    target = download.href
    for _ in range(_MAX_REDIRECTS + 1):
        headers = dict(download.headers)
        # Our credential only to our own origin, and only if the answer gave none.
        same = origin_of(target) == origin_of(url.repo)
        if credential is not None and same and "authorization" not in map(str.lower, headers):
            headers["Authorization"] = credential.authorization()
        response = _request(pool, "GET", target, headers=headers, body=None, url=url)
        if response.status in (301, 302, 303, 307, 308) and response.headers.get("Location"):
            response.release_conn()
            target = urljoin(target, response.headers["Location"])
            continue
        break
    else:
        raise FetchError(f"too many redirects downloading Git LFS object {oid[:12]} of {url.repo}")
    try:
        if response.status != 200:
            raise FetchError(
                f"{origin_of(target)[1]} answered HTTP {response.status} for Git LFS object "
                f"{oid[:12]} of {url.repo}"
            )
        return _verified(response.stream(_CHUNK), oid, size, scratch, url)
    finally:
        response.release_conn()


def _verified(chunks: Iterator[bytes], oid: str, size: int, scratch: Path, url: GitURL) -> Path:
    fd, name = tempfile.mkstemp(prefix="lfs-", dir=scratch)
    path = Path(name)
    digest = hashlib.sha256()
    received = 0
    try:
        with os.fdopen(fd, "wb") as handle:
            for chunk in chunks:
                received += len(chunk)
                if received > size:
                    break
                digest.update(chunk)
                handle.write(chunk)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    if received != size or digest.hexdigest() != oid:
        path.unlink(missing_ok=True)
        raise FetchError(
            f"Git LFS object {oid[:12]} of {url.repo} arrived damaged ({received} bytes, "
            f"expected {size}, or another SHA-256)",
            hint="try again",
        )
    return path


def _place(tree: Checkout, pointer: LfsPointer, content: Path) -> None:
    """Put ``content`` where the pointer file is; keep its mode, date it at the commit.

    The index records the pointer (as git's does, through the LFS filter); the file's
    stat data is what it compares, and a date before the index is written keeps git
    from re-reading the content, so ``git status`` stays clean as in pip's clone.
    """
    final = tree.root / pointer.path
    mode = final.stat().st_mode & 0o777
    fd, name = tempfile.mkstemp(prefix=".lfs-", dir=final.parent)
    try:
        with os.fdopen(fd, "wb") as out, open(content, "rb") as source:
            while block := source.read(_CHUNK):
                out.write(block)
        os.chmod(name, mode)
        os.utime(name, (tree.commit_time, tree.commit_time))
        os.replace(name, final)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise
