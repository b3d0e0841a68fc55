"""Talking to git hosts with dulwich: list refs, resolve a ref, fetch one commit.

The credential is attached per request, as a header, and only to requests for
the repository's own origin: a redirect elsewhere never carries it. It is never
part of a URL, so no ``.git/config``, argv or log line can hold it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import shlex
import subprocess
import tempfile
import threading
import time
import zlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urljoin, urlsplit

import urllib3
from dulwich.client import (
    HTTPUnauthorized,
    LocalGitClient,
    Urllib3HttpGitClient,
    default_user_agent_string,
)
from dulwich.errors import (
    ApplyDeltaError,
    ChecksumMismatch,
    GitProtocolError,
    HangupException,
    NotGitRepository,
    ObjectFormatException,
)

from .._credentials.base import Credential
from .._credentials.store import Credentials, token_variable
from .._deadlines import DeadlinePassed, Exchange, current_exchange, exchange
from .._errors import AuthError, FetchError, GitDepsError, Interrupted
from .._inputs.giturl import GitURL, origin_of
from .._network import CA_VARIABLES, Fault, fault_of, limits, pool_for
from .._resolve.refs import RemoteRefs, is_full_commit, listing_key, resolve_ref
from .._secret import redact
from .._stop import check, stopping
from .._subprocess import adopt
from .advertisement import RefFilter, TooManyRefs
from .packs import DamagedPack

if TYPE_CHECKING:
    from dulwich.repo import Repo

__all__ = [
    "History",
    "RemoteRefs",
    "fetch_commit",
    "fetch_history",
    "find_commits",
    "http_pool",
    "listing_key",
    "is_full_commit",
    "list_refs",
    "resolve_ref",
]

logger = logging.getLogger("gitdeps")

T = TypeVar("T")


class _QuietFilterFallback(logging.Filter):
    """dulwich warns when a server ignores a partial-clone filter; the full fetch that
    follows is the intended fallback, so the warning is only noise."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "object filtering not recognized" not in record.getMessage()


logging.getLogger("dulwich.client").addFilter(_QuietFilterFallback())


def http_pool(url: GitURL) -> Any:
    """An HTTP connection pool for ``url``'s host: its proxy, its trust, gitdeps' limits."""
    return pool_for(url.repo, headers={"User-agent": default_user_agent_string()})


class _HostAnswered(GitProtocolError):
    """A host answered with an HTTP status that is not success: which host, and what."""

    def __init__(self, status: int, url: str) -> None:
        super().__init__(f"unexpected http resp {status} for {url}")
        self.status = status
        self.url = url

    @property
    def host(self) -> str:
        parts = urlsplit(self.url)
        return parts.netloc.rpartition("@")[2] or self.url


class _OriginBoundClient(Urllib3HttpGitClient):
    """dulwich's HTTP client, sending ``Authorization`` to one origin only, and passing
    on only the refs under ``refs`` (prefixes) from a ref advertisement."""

    def __init__(self, url: str, authorization: str | None, refs: Sequence[bytes]) -> None:
        pool = pool_for(url, headers={"User-agent": default_user_agent_string()})
        # No timeout of dulwich's own: it would override the pool's connect/read pair.
        super().__init__(url, pool_manager=pool, timeout=None, quiet=True)
        self._gitdeps_authorization = authorization
        self._gitdeps_origin = origin_of(url)
        self._gitdeps_refs = refs
        self._gitdeps_failed = False

    def _http_request(
        self,
        url: str,
        headers: dict[str, str] | None = None,
        data: Any = None,
        raise_for_status: bool = True,
    ) -> Any:
        if self._gitdeps_failed:
            # dulwich would go on (to the dumb protocol, say): a failed exchange ends here.
            raise GitProtocolError("an earlier request of this exchange failed")
        request_headers = dict(headers or {})
        if self._gitdeps_authorization and origin_of(url) == self._gitdeps_origin:
            request_headers["Authorization"] = self._gitdeps_authorization
        try:
            response, read = super()._http_request(
                url, request_headers, data, raise_for_status=False
            )
        except BaseException:
            self._gitdeps_failed = True
            raise
        if raise_for_status and response.status != 200:
            # As dulwich would, but naming the URL that answered (after redirects).
            answered = _answered_url(response, url)
            if response.status == 401:
                raise HTTPUnauthorized(response.headers.get("WWW-Authenticate"), answered)
            if response.status == 404:
                raise NotGitRepository(answered)
            raise _HostAnswered(response.status, answered)
        if "/info/refs" in url or (isinstance(data, bytes) and b"command=ls-refs" in data):
            read = RefFilter(read, self._gitdeps_refs, limits().max_refs).read
        return response, read


def _answered_url(response: Any, url: str) -> str:
    """The URL that gave ``response``: the last redirect urllib3 followed, if any (its
    ``geturl()`` forgets a redirect once a retry of the target follows it)."""
    answered = url
    for attempt in getattr(getattr(response, "retries", None), "history", None) or ():
        if attempt.redirect_location:
            answered = urljoin(answered, attempt.redirect_location)
    return answered


_LISTED = (b"HEAD", b"refs/heads/", b"refs/tags/")  # what git fetch asks a host for


def _client(
    url: GitURL, credential: Credential | None, refs: Sequence[bytes] = _LISTED
) -> tuple[Any, bytes]:
    """A client for ``url``; over HTTP, one that keeps only the refs under ``refs``."""
    if url.scheme == "file":
        return LocalGitClient(), _file_path(url).encode()
    if url.scheme == "ssh":
        from dulwich.client import SSHGitClient

        client = SSHGitClient(
            url.host,
            port=url.port,
            username=url.user,
            vendor=_watched_ssh_vendor(),
            ssh_command=ssh_command(),
        )
        return client, url.path.encode("utf-8")
    authorization = credential.authorization() if credential else None
    return _OriginBoundClient(url.repo, authorization, refs), b""


def _watched_ssh_vendor() -> Any:
    """dulwich's ssh vendor, each ssh it starts ended with the run (``adopt``: it is in our
    process group, so a SIGTERM sent to gitdeps alone would not reach it) and killed at
    the exchange's deadline."""
    from dulwich.client import SubprocessSSHVendor

    class Watched(SubprocessSSHVendor):
        def run_command(self, *args: Any, **kwargs: Any) -> Any:
            check("connecting over ssh")
            wrapper = super().run_command(*args, **kwargs)
            proc = wrapper.proc
            adopt(proc)
            bound = current_exchange()
            if bound is not None:
                timer = threading.Timer(
                    max(0.0, bound.deadline - time.monotonic()), _expire_ssh, (proc, bound)
                )
                timer.daemon = True
                timer.start()
            return wrapper

    return Watched()


def _expire_ssh(proc: subprocess.Popen[bytes], bound: Exchange) -> None:
    if proc.poll() is None:
        bound.expired = True
        with contextlib.suppress(OSError):
            proc.kill()


@contextmanager
def _bounded(client: Any, url: GitURL, doing: str) -> Iterator[None]:
    """Run one listing or fetch under the deadline (every request of it, headers and
    body: :mod:`gitdeps._deadlines`); say so when it is what stopped it."""
    with exchange(limits().deadline) as bound:
        try:
            yield
            failure: BaseException | None = None
        except (GitProtocolError, OSError, urllib3.exceptions.HTTPError, DeadlinePassed) as exc:
            failure = exc
            if not (stopping() or bound.expired or isinstance(exc, DeadlinePassed)):
                raise
        finally:
            close = getattr(client, "close", None)
            if close is not None:
                close()
        # A transfer cut short can look complete: what the watchdog cut is never used.
        if stopping():
            raise Interrupted(f"stopped while {doing} {url.repo}") from failure
        if failure is not None or bound.expired:
            raise FetchError(
                f"{doing} {url.repo} took longer than {limits().deadline:.0f} s, so it was stopped",
                hint=f"{url.hostport} is too slow or stalled: try again, or raise "
                "GITDEPS_FETCH_DEADLINE",
            ) from failure


def ssh_command() -> str:
    """The ssh command git would run (``GIT_SSH_COMMAND``, ``GIT_SSH``, else ``ssh``).

    OpenSSH gets ``BatchMode`` (a prompt for a passphrase or an unknown host key would
    wait for ever with nobody to answer it) and a connect timeout; options the user
    gave come first, and for ssh the first value of an option wins.
    """
    command = os.environ.get("GIT_SSH_COMMAND")
    if not command:
        program = os.environ.get("GIT_SSH")
        command = shlex.quote(program) if program else "ssh"
    words = shlex.split(command)
    if words and Path(words[0]).name.lower() in ("ssh", "ssh.exe"):
        # A peer gone silent is noticed (three unanswered keep-alives of 15 s), not waited on.
        command += (
            f" -o BatchMode=yes -o ConnectTimeout={max(1, round(limits().connect))}"
            " -o ServerAliveInterval=15 -o ServerAliveCountMax=3"
        )
    return command


def _file_path(url: GitURL) -> str:
    from urllib.parse import unquote

    return unquote(url.path)


def _answered_by(exc: HTTPUnauthorized, url: GitURL) -> str:
    """The host that answered 401 (after redirects), lower-cased."""
    answered = urlsplit(str(getattr(exc, "url", "") or url.repo)).hostname
    return answered.lower() if answered else url.host


@dataclasses.dataclass
class _Used:
    credential: Credential | None


def _run(
    url: GitURL,
    credentials: Credentials,
    action: str,
    operation: Callable[[Credential | None], T],
    *,
    commit: str | None = None,
) -> T:
    """``operation`` with the origin's credential; on a 401 with none, once more with the
    credential helpers' answer (they are asked only when a host wants credentials), and
    the helpers told whether it worked."""
    with _errors(url, credentials, action, commit=commit) as used:
        try:
            result = operation(used.credential)
        except HTTPUnauthorized as exc:
            if _answered_by(exc, url) != url.host:
                raise
            if used.credential is not None:
                credentials.report(url, used.credential, accepted=False)
                raise
            later = credentials.after_unauthorized(url)
            if later is None:
                raise
            used.credential = later
            try:
                result = operation(later)
            except HTTPUnauthorized:
                credentials.report(url, later, accepted=False)
                raise
        if used.credential is not None:
            credentials.report(url, used.credential, accepted=True)
        return result


@contextmanager
def _errors(
    url: GitURL, credentials: Credentials, action: str, *, commit: str | None = None
) -> Iterator[_Used]:
    """Turn dulwich's and urllib3's failures into messages that say what to do."""
    used = _Used(credentials.for_url(url))
    where = url.hostport
    try:
        yield used
    except HTTPUnauthorized as exc:
        credential = used.credential
        other = _answered_by(exc, url)
        if other != url.host:
            raise AuthError(
                f"{url.repo} redirects to {other}, which asks for credentials",
                hint="gitdeps never "
                f"sends {url.host}'s token to another host: write the repository's final URL "
                f"in the requirement and set {token_variable(other)}",
            ) from None
        if credential is None:
            raise AuthError(
                f"{where} asks for credentials to {action} {url.repo} and none were found: "
                f"{credentials.hint(url)}"
            ) from None
        raise AuthError(
            f"{where} rejected the token from {credential.source} (401) for {url.repo}: "
            "it may have expired or be mistyped",
            hint="renew it",
        ) from None
    except NotGitRepository as exc:
        credential = used.credential
        if url.scheme == "file":
            raise FetchError(
                f"no git repository at {_file_path(url)}", hint="check the path"
            ) from None
        extra = (
            f"; if it is private, {credentials.hint(url)}"
            if credential is None
            else f", or the token from {credential.source} cannot read it"
        )
        answered = str(exc.args[0]) if exc.args else ""
        moved = (
            f" (redirected to {redact(answered)})"
            if answered.startswith("http") and (origin_of(answered) != url.origin)
            else ""
        )
        raise FetchError(
            f"repository not found (404): {url.repo}{moved}",
            hint=f"check the URL{extra}",
        ) from None
    except TooManyRefs as exc:
        raise FetchError(
            f"{url.hostport} listed more than {exc.limit} branches and tags for {url.repo}",
            hint="gitdeps stops there so that a broken or hostile host cannot fill memory: if the "
            "repository really holds that many, raise GITDEPS_MAX_REFS",
        ) from None
    except (
        DamagedPack,
        zlib.error,
        ChecksumMismatch,
        ApplyDeltaError,
        ObjectFormatException,
    ) as exc:
        # A pack whose data, delta or checksum does not add up: damaged on the way (a
        # proxy, a broken connection) or on the host.
        reason = _reason(redact(str(exc)))
        if not isinstance(exc, DamagedPack):
            reason = f"{type(exc).__name__}: {reason}"
        raise FetchError(
            f"what {url.hostport} sent for {url.repo} is damaged ({reason})",
            hint="try again, and if it persists, check the repository on the host",
        ) from None
    except urllib3.exceptions.HTTPError as exc:
        # ReadTimeoutError, ProtocolError, ...: the connection broke or stalled mid-answer
        fault = fault_of(exc)
        reason = fault[1] if fault is not None else _reason(redact(str(exc)))
        raise FetchError(
            f"the connection to {url.hostport} broke or timed out while reading {url.repo} "
            f"({type(exc).__name__}: {reason})",
            hint="try again, or raise GITDEPS_HTTP_TIMEOUT for a slow host",
        ) from exc
    except (GitProtocolError, HangupException, OSError) as exc:
        credential = used.credential
        text = redact(str(exc))
        if url.scheme == "ssh":
            raise _ssh_error(url, action, text, exc) from None
        fault = fault_of(exc)
        if fault is not None and fault[0] is Fault.TLS:
            raise FetchError(
                f"the TLS certificate of {where} is not trusted, so {url.repo} could not be "
                f"read ({fault[1]})",
                hint="if a corporate proxy or a private CA signs it, put "
                f"that CA in the system's trust store or name its bundle in "
                f"{' or '.join(CA_VARIABLES[:2])} (git's http.sslCAInfo works too)",
            ) from exc
        if fault is not None and fault[0] is Fault.PROXY:
            raise FetchError(
                f"cannot reach {where} through the proxy for {url.repo}: {fault[1]}",
                hint="check HTTPS_PROXY / HTTP_PROXY (and NO_PROXY), or git's http.proxy",
            ) from exc
        # git http-backend hangs up on a want it will not serve (upload-pack said "not our
        # ref" on its standard error, which HTTP does not carry).
        if commit is not None and ("not our ref" in text or isinstance(exc, HangupException)):
            raise FetchError(
                f"{url.hostport} would not send commit {commit[:12]} of {url.repo}: it does not "
                "exist there, or the host refuses to fetch a commit that is no longer a branch "
                "or tag tip"
            ) from None
        if isinstance(exc, _HostAnswered):
            raise _status_error(exc, url, action, credential, credentials) from None
        if fault is not None:
            raise FetchError(
                f"cannot reach {where} to {action} {url.repo}: {fault[1]}",
                hint="check the host name, the network and any proxy settings",
            ) from exc
        raise FetchError(f"could not {action} {url.repo}: {text}") from None


def _status_error(
    exc: _HostAnswered,
    url: GitURL,
    action: str,
    credential: Credential | None,
    credentials: Credentials,
) -> GitDepsError:
    """An HTTP status as what to do, naming the host that answered (after redirects)."""
    where = exc.host
    if exc.status == 403 and credential is not None:
        return AuthError(
            f"{where} refused access (403) to {url.repo} with the token from "
            f"{credential.source}: give it read access to the repository (code read scope)"
        )
    if exc.status == 403:
        return AuthError(f"{where} refused access (403) to {url.repo}: {credentials.hint(url)}")
    return FetchError(
        f"{where} answered HTTP {exc.status} to {action} {url.repo}; try again later, or check "
        "the host's status"
    )


def _ssh_error(url: GitURL, action: str, text: str, exc: BaseException) -> GitDepsError:
    """What ssh said, as what to do."""
    where = url.netloc
    if isinstance(exc, FileNotFoundError):
        return FetchError(
            f"no ssh client to {action} {url.repo}: install OpenSSH, or set GIT_SSH_COMMAND"
        )
    if "Host key verification failed" in text or "host key" in text.lower():
        port = f"-p {url.port} " if url.port else ""
        return FetchError(
            f"the ssh host key of {url.hostport} is not known (or has changed), so {url.repo} "
            f"was not fetched; check the host's published fingerprint, then add its key with "
            f"'ssh-keyscan {port}{url.host} >> ~/.ssh/known_hosts'"
        )
    if "Permission denied" in text or "publickey" in text:
        return AuthError(
            f"{where} refused the ssh key offered to {action} {url.repo}: load the key that "
            "has access into ssh-agent, name it in ~/.ssh/config, or set "
            "GIT_SSH_COMMAND='ssh -i /path/to/key'"
        )
    if any(w in text for w in ("Could not resolve", "Connection refused", "timed out", "No route")):
        return FetchError(
            f"cannot reach {url.hostport} over ssh to {action} {url.repo}: {_reason(text)}"
        )
    if "not our ref" in text:
        return FetchError(f"{url.hostport} would not send the commit asked for from {url.repo}")
    first = text.strip().splitlines()[0][:200] if text.strip() else "the connection closed"
    return FetchError(f"could not {action} {url.repo} over ssh: {first}")


def _reason(text: str) -> str:
    """The telling part of a message that comes as text only: ssh's standard error, or
    an error of dulwich's own (an HTTP failure is classified by type: ``fault_of``)."""
    for marker in (
        "Connection refused",
        "timed out",
        "Could not resolve hostname",
        "No route to host",
    ):
        if marker in text:
            return marker.lower()
    return text.splitlines()[0][:200] if text else "no answer"


def list_refs(url: GitURL, credentials: Credentials) -> RemoteRefs:
    """One ``ls-remote`` of HEAD, the branches and the tags (and the ref ``url`` names,
    if it is a full name elsewhere), as ``git fetch`` asks: a host's pull-request and
    review refs, often most of a large advertisement, are not sent."""
    prefixes = list(_LISTED)
    extra = listing_key(url)[1]
    if extra:
        prefixes.append(extra.encode("utf-8"))

    def ls_remote(credential: Credential | None) -> Any:
        client, path = _client(url, credential, prefixes)
        with _bounded(client, url, "listing the refs of"):
            return client.get_refs(path, ref_prefix=prefixes)

    result = _run(url, credentials, "list refs of", ls_remote)
    refs: dict[str, str] = {}
    peeled: dict[str, str] = {}
    for raw_name, raw_sha in result.refs.items():
        if raw_sha is None:
            continue
        name, sha = raw_name.decode("utf-8", "replace"), raw_sha.decode("ascii")
        if name.endswith("^{}"):
            peeled[name[:-3]] = sha
        else:
            refs[name] = sha
    if url.scheme == "file":  # a local listing carries no peeled values: peel here
        peeled.update(_peeled_locally(url, refs))
    refs.update(peeled)  # an annotated tag means the commit it points at
    head = result.symrefs.get(b"HEAD")
    return RemoteRefs(refs=refs, head=head.decode() if head else None)


def _peeled_locally(url: GitURL, refs: Mapping[str, str]) -> dict[str, str]:
    """The commits a local repository's annotated tags point at."""
    from dulwich.refs import Ref
    from dulwich.repo import Repo

    peeled: dict[str, str] = {}
    try:
        with Repo(_file_path(url)) as source:
            for name in refs:
                if name.startswith("refs/tags/"):
                    target = source.get_peeled(Ref(name.encode("utf-8", "surrogateescape")))
                    if target is not None:
                        peeled[name] = target.decode("ascii")
    except (OSError, KeyError, ValueError, NotGitRepository):
        return {}
    return peeled


def find_commits(url: GitURL, prefix: str, credentials: Credentials, repo_dir: Path) -> list[str]:
    """Commits of every branch's and tag's history whose hash starts with ``prefix``.

    Only commits travel (a ``tree:0`` filter; a server without partial clone sends
    everything, which is what pip's clone holds too).
    """
    from dulwich.objects import Commit
    from dulwich.repo import Repo

    def determine_wants(
        refs: Mapping[bytes, bytes | None], depth: int | None = None
    ) -> list[bytes]:
        return sorted(
            {sha for name, sha in refs.items() if sha is not None and not name.endswith(b"^{}")}
        )

    repo = Repo.init_bare(str(repo_dir), mkdir=True)
    try:

        def fetch(credential: Credential | None) -> None:
            client, path = _client(url, credential)
            with _bounded(client, url, "searching the history of"):
                _fetch_filtered(
                    client,
                    url,
                    path,
                    repo,
                    determine_wants,
                    ref_prefix=(b"refs/heads/", b"refs/tags/"),
                    filter_spec=b"tree:0",
                )

        _run(url, credentials, "search the history of", fetch)
        wanted = prefix.lower().encode("ascii")
        store = repo.object_store
        return sorted(
            sha.decode("ascii")
            for sha in store
            if sha.startswith(wanted) and isinstance(store[sha], Commit)
        )
    finally:
        repo.close()


def fetch_commit(
    url: GitURL,
    commit: str,
    credentials: Credentials,
    repo_dir: Path,
    *,
    progress: Callable[[bytes], None] | None = None,
) -> Repo:
    """Fetch ``commit`` alone (depth 1) into a new bare repository at ``repo_dir``."""
    from dulwich.repo import Repo

    repo = Repo.init_bare(str(repo_dir), mkdir=True)
    want = commit.encode("ascii")

    def determine_wants(
        refs: Mapping[bytes, bytes | None], depth: int | None = None
    ) -> list[bytes]:
        return [want]

    try:
        _fetch_into(
            repo,
            url=url,
            commit=commit,
            credentials=credentials,
            determine_wants=determine_wants,
            progress=progress,
        )
    except BaseException:
        repo.close()
        raise
    return repo


def _fetch_into(
    repo: Repo,
    *,
    url: GitURL,
    commit: str,
    credentials: Credentials,
    determine_wants: Callable[..., list[bytes]],
    progress: Callable[[bytes], None] | None,
) -> None:
    def fetch(credential: Credential | None) -> None:
        # The commit is known: of the refs, only HEAD (and a v0 host's capabilities).
        client, path = _client(url, credential, [b"HEAD"])
        with _bounded(client, url, "fetching from"):
            if isinstance(client, LocalGitClient):  # a copy between local object stores
                if _stream_local(path, [commit], repo, history=False):
                    from dulwich.objects import ObjectID

                    repo.update_shallow({ObjectID(commit.encode("ascii"))}, set())
                else:
                    client.fetch(path, repo, determine_wants=determine_wants, depth=1)  # type: ignore[arg-type]
            else:
                _fetch_pack(client, path, repo, determine_wants, progress)

    _run(url, credentials, "fetch from", fetch, commit=commit)
    from dulwich.objects import ObjectID

    if ObjectID(commit.encode("ascii")) not in repo.object_store:
        raise FetchError(
            f"commit {commit[:12]} not found in {url.repo}",
            hint="check the ref (was the branch force-pushed?)",
        )


def _stream_local(path: bytes, revisions: list[str], repo: Repo, *, history: bool) -> bool:
    """A local repository's objects streamed in by git (bounded memory), if git is here."""
    from .localpack import can_stream, stream_objects

    if not can_stream():
        return False
    pack_dir = Path(repo.object_store.pack_dir)
    return stream_objects(
        Path(os.fsdecode(path)), revisions, pack_dir, walk=history, blobs=not history
    )


def _local_history(
    path: bytes, repo: Repo, seen: dict[bytes, bytes], symrefs: dict[bytes, bytes]
) -> bool:
    """The refs of a local repository, as a listing would give them (False: unreadable)."""
    from dulwich.repo import Repo as LocalRepo

    try:
        with LocalRepo(os.fsdecode(path)) as source:
            refs = source.get_refs()
            for name in refs:
                with contextlib.suppress(KeyError, ValueError):
                    target = source.refs.read_ref(name)
                    if target is not None and target.startswith(b"ref: "):
                        symrefs[name] = target[5:]
    except (OSError, ValueError, NotGitRepository):
        return False
    seen.update({name: sha for name, sha in refs.items() if sha is not None})
    return True


def _fetch_filtered(
    client: Any,
    url: GitURL,
    path: bytes,
    repo: Repo,
    determine_wants: Callable[..., list[bytes]],
    *,
    ref_prefix: Sequence[bytes],
    filter_spec: bytes,
) -> Any:
    """A whole-history fetch with a partial-clone filter: over the network through the
    streaming pack path (a host that ignores the filter costs disk, not memory); from a
    local repository with dulwich's local copy, when git did not stream it."""
    if url.scheme == "file":
        return client.fetch(
            path,
            repo,
            determine_wants=determine_wants,
            ref_prefix=list(ref_prefix),
            filter_spec=filter_spec,
        )
    return _fetch_pack(
        client,
        path,
        repo,
        determine_wants,
        None,
        depth=None,
        ref_prefix=ref_prefix,
        filter_spec=filter_spec,
    )


def _fetch_pack(
    client: Any,
    path: bytes,
    repo: Repo,
    determine_wants: Callable[..., list[bytes]],
    progress: Callable[[bytes], None] | None,
    *,
    depth: int | None = 1,
    ref_prefix: Sequence[bytes] = (b"HEAD",),
    filter_spec: bytes | None = None,
) -> Any:
    """A fetch (depth 1 unless told), its pack written to disk as it arrives and indexed
    a chunk at a time (:mod:`gitdeps._fetch.packs`): dulwich's own indexing holds each
    object whole, twice. Every fetch over the network comes here: a host that ignores
    ``filter_spec`` and sends every blob costs disk, not memory."""
    from .packs import index_pack

    pack_dir = Path(repo.object_store.pack_dir)
    handle, incoming = tempfile.mkstemp(dir=pack_dir, prefix="incoming-", suffix=".pack")
    try:
        with os.fdopen(handle, "wb") as pack:
            result = client.fetch_pack(
                path,
                determine_wants,
                repo.get_graph_walker(),
                pack.write,
                progress=progress,
                depth=depth,
                ref_prefix=list(ref_prefix),
                filter_spec=filter_spec,
            )
        if result.object_format not in (None, "sha1"):
            raise FetchError(
                f"{result.object_format} repositories are not supported yet; only SHA-1"
            )
        if Path(incoming).stat().st_size:
            index_pack(Path(incoming), pack_dir)
        if depth is not None:
            repo.update_shallow(result.new_shallow, result.new_unshallow)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(incoming)
    return result


@dataclasses.dataclass(frozen=True)
class History:
    """What :func:`fetch_history` brought: a repository and the refs a build may read."""

    repo: Repo
    tags: Mapping[bytes, bytes]  # b"refs/tags/v1.0" -> the tag (or commit) object id
    branch: bytes | None  # b"refs/heads/main" when HEAD should be on a branch, as pip leaves it
    tags_at_commit: tuple[str, ...]  # names of the tags that point at the commit itself


def fetch_history(
    url: GitURL, commit: str, ref: str | None, credentials: Credentials, repo_dir: Path
) -> History:
    """Every commit, tree and tag reachable from ``commit`` and from every tag, no blobs.

    pip builds from a ``--filter=blob:none`` clone; version plugins (setuptools_scm,
    hatch-vcs, pdm-backend, pbr, versioneer, dunamai) read that history with the git
    CLI. Asking for the same filter costs commits and trees, not file contents; a
    server without partial-clone support sends the blobs too (what uv fetches).
    """
    from dulwich.repo import Repo

    repo = Repo.init_bare(str(repo_dir), mkdir=True)
    seen: dict[bytes, bytes] = {}
    symrefs: dict[bytes, bytes] = {}

    def determine_wants(
        refs: Mapping[bytes, bytes | None], depth: int | None = None
    ) -> list[bytes]:
        for name, sha in refs.items():
            if sha is not None and not name.endswith(b"^{}"):
                seen[name] = sha
        tags = {sha for name, sha in seen.items() if name.startswith(b"refs/tags/")}
        return sorted({commit.encode("ascii"), *tags})

    def fetch(credential: Credential | None) -> None:
        client, path = _client(url, credential)
        if isinstance(client, LocalGitClient) and _local_history(path, repo, seen, symrefs):
            wants = [w.decode("ascii") for w in determine_wants(dict(seen))]
            if _stream_local(path, wants, repo, history=True):
                return
        with _bounded(client, url, "fetching the history of"):
            result = _fetch_filtered(
                client,
                url,
                path,
                repo,
                determine_wants,
                ref_prefix=(b"HEAD", b"refs/heads/", b"refs/tags/"),
                filter_spec=b"blob:none",
            )
        symrefs.update(result.symrefs or {})

    try:
        _run(url, credentials, "fetch the history of", fetch, commit=commit)
    except BaseException:
        repo.close()
        raise
    from dulwich.objects import ObjectID, Tag

    store = repo.object_store
    tags = {n: s for n, s in seen.items() if n.startswith(b"refs/tags/") and ObjectID(s) in store}
    at_commit = []
    for name, sha in tags.items():
        target = store[ObjectID(sha)]
        while isinstance(target, Tag) and ObjectID(target.object[1]) in store:
            target = store[ObjectID(target.object[1])]
        if target.id == commit.encode("ascii"):
            at_commit.append(name[len(b"refs/tags/") :].decode("utf-8", "replace"))
    return History(
        repo=repo,
        tags=tags,
        branch=_branch(ref, seen, symrefs),
        tags_at_commit=tuple(sorted(at_commit)),
    )


def _branch(
    ref: str | None, refs: Mapping[bytes, bytes], symrefs: Mapping[bytes, bytes]
) -> bytes | None:
    """The branch pip's checkout would be on: the ref's own, or HEAD's when none is named."""
    if ref is None:
        head = symrefs.get(b"HEAD")
        return head if head and head.startswith(b"refs/heads/") else None
    name = ref if ref.startswith("refs/heads/") else f"refs/heads/{ref}"
    encoded = name.encode("utf-8", "surrogateescape")
    return encoded if encoded in refs else None
