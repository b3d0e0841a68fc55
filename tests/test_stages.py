"""Unit tests of the resolve stage and the graph, with a fake git client: the lock policy
is the table in docs/lock.md, each repository is listed once, conflicts name both
requesters, a cycle ends, a failure stops the walk. No server, no build."""

from __future__ import annotations

import re
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

from gitdeps import (
    FetchError,
    GitDepsError,
    Interrupted,
    LockError,
    RequirementError,
    SeveralErrors,
)
from gitdeps._fetch.checkout import Checkout
from gitdeps._fetch.client import OnTree
from gitdeps._inputs.giturl import GitURL, parse_git_url
from gitdeps._inputs.requirements import GitRequirement
from gitdeps._outputs.lock import Lock, LockedPackage
from gitdeps._resolve import graph as graph_module
from gitdeps._resolve.graph import Graph, Node, walk
from gitdeps._resolve.refs import RemoteRefs
from gitdeps._resolve.resolver import LockPolicy, Resolver

MAIN_NOW = "a" * 40  # where main points on the host
MAIN_LOCKED = "b" * 40  # where it pointed when the lock was written


class FakeHost:
    """A GitClient that answers from a table and counts what it was asked."""

    def __init__(self, refs: dict[str, dict[str, str]], history: tuple[str, ...] = ()) -> None:
        self.refs = refs
        self.history = history
        self.asked: Counter[str] = Counter()
        self._lock = threading.Lock()

    def list_refs(self, url: GitURL) -> RemoteRefs:
        with self._lock:
            self.asked[url.repo] += 1
        time.sleep(0.01)  # long enough for other threads to ask at the same time
        return RemoteRefs(self.refs[url.repo], head="refs/heads/main")

    def find_commits(self, url: GitURL, prefix: str, where: Path) -> list[str]:
        assert where.is_dir() and not any(where.iterdir())
        return [c for c in self.history if c.startswith(prefix)]

    def fetch_tree(
        self, url: GitURL, commit: str, where: Path, *, on_tree: OnTree | None = None
    ) -> Checkout:
        raise AssertionError("the resolve stage fetches no tree")


def _requirement(
    text: str, by: str = "requirements.txt:1", name: str | None = "acme"
) -> GitRequirement:
    url, _credential = parse_git_url(text)
    return GitRequirement(name=name, url=url, requested_by=by)


def _lock_of(requirement: GitRequirement, commit: str) -> Lock:
    url = requirement.url
    entry = LockedPackage(
        name="acme",
        version="1.0+g" + commit[:12],
        url=url.repo,
        requested_revision=url.ref or "",
        commit=commit,
        subdirectory=url.subdirectory or "",
        wheel="acme-1.0-py3-none-any.whl",
        sha256="0" * 64,
    )
    return Lock(packages=(entry,))


ACME = "git+https://h.test/o/acme.git@main"
HOST = {"https://h.test/o/acme.git": {"refs/heads/main": MAIN_NOW, "HEAD": MAIN_NOW}}


# -- the lock policy: docs/lock.md's table, row by row -----------------------------
@pytest.mark.parametrize(
    ("run", "covered", "expected"),
    [
        ("vendor", True, MAIN_LOCKED),  # uses the locked commit
        ("vendor", False, MAIN_NOW),  # resolves the ref
        ("--upgrade", True, MAIN_NOW),  # re-resolves the ref
        ("--upgrade", False, MAIN_NOW),
        ("--upgrade-package acme", True, MAIN_NOW),
        ("--upgrade-package other", True, MAIN_LOCKED),
        ("--locked", True, MAIN_LOCKED),
        ("--locked", False, LockError),  # fails, naming the requirement
    ],
)
def test_the_lock_policy_is_the_table_in_the_docs(
    tmp_path: Path, run: str, covered: bool, expected: str | type[Exception]
) -> None:
    requirement = _requirement(ACME)
    other = _requirement("git+https://h.test/o/acme.git@v2")  # not what the lock covers
    lock = _lock_of(requirement if covered else other, MAIN_LOCKED)
    policy = {
        "vendor": LockPolicy(lock=lock),
        "--upgrade": LockPolicy(lock=None),  # vendor() drops the lock with --upgrade
        "--upgrade-package acme": LockPolicy(lock=lock, upgrade=frozenset({"acme"})),
        "--upgrade-package other": LockPolicy(lock=lock, upgrade=frozenset({"other"})),
        "--locked": LockPolicy(lock=lock, path=tmp_path / "gitdeps.lock", locked=True),
    }[run]
    host = FakeHost(HOST)
    resolver = Resolver(policy, host, tmp_path)
    if isinstance(expected, str):
        assert resolver.commit(requirement) == expected
        # a locked commit asks no host anything
        assert sum(host.asked.values()) == (0 if expected == MAIN_LOCKED else 1)
    else:
        with pytest.raises(
            expected, match=r"git\+https://h.test/o/acme.git@main is not in the lock"
        ):
            resolver.commit(requirement)
        assert not host.asked


def test_a_full_hash_asks_no_host_and_a_short_one_searches_the_history(tmp_path: Path) -> None:
    deep = "c0ffee" + "1" * 34
    host = FakeHost(HOST, history=(deep, "d" * 40))
    resolver = Resolver(LockPolicy(), host, tmp_path)
    assert resolver.commit(_requirement(f"git+https://h.test/o/acme.git@{'E' * 40}")) == "e" * 40
    assert not host.asked
    assert resolver.commit(_requirement("git+https://h.test/o/acme.git@c0ffee1")) == deep
    assert list(tmp_path.iterdir()) == []  # the search's folder is gone again


def test_each_repository_is_listed_once_however_many_threads_ask(tmp_path: Path) -> None:
    host = FakeHost(HOST)
    resolver = Resolver(LockPolicy(), host, tmp_path)
    requirements = [_requirement(ACME, by=f"requirements.txt:{n}") for n in range(8)]
    results: list[str] = []
    threads = [
        threading.Thread(target=lambda r=r: results.append(resolver.commit(r)))
        for r in requirements
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert results == [MAIN_NOW] * 8
    assert host.asked == Counter({"https://h.test/o/acme.git": 1})
    tagged = {**HOST["https://h.test/o/acme.git"], "refs/tags/v1": MAIN_NOW}
    host.refs["https://h.test/o/acme.git"] = tagged
    fresh = Resolver(LockPolicy(), host, tmp_path)
    url = requirements[0].url
    assert fresh.tags_at(url, MAIN_NOW) is None  # not listed yet: unknown, not "no tags"
    fresh.commit(requirements[0])
    assert fresh.tags_at(url, MAIN_NOW) == ("v1",)


# -- the graph ---------------------------------------------------------------------
def test_one_node_per_distribution_records_every_requester() -> None:
    graph: Graph[str] = Graph()
    first = _requirement(ACME, by="requirements.txt:1")
    second = _requirement(ACME, by="acme-ml 1.0")
    assert graph.add("acme", Node(first, MAIN_NOW)) is True
    assert graph.add("acme", Node(second, MAIN_NOW)) is False
    graph.set_built("acme", "the wheel")
    (package,) = graph.packages()
    assert package.requested_by == ("requirements.txt:1", "acme-ml 1.0")
    assert package.built == "the wheel"
    assert graph.key_of(second) == "acme"


def test_two_commits_of_one_distribution_stop_the_run_naming_both_requesters() -> None:
    graph: Graph[str] = Graph()
    graph.add("acme", Node(_requirement(ACME, by="requirements.txt:1"), MAIN_NOW))
    other = _requirement("git+https://h.test/o/acme.git@v2", by="acme-ml 1.0")
    with pytest.raises(GitDepsError) as caught:
        graph.add("acme", Node(other, MAIN_LOCKED))
    message = str(caught.value)
    assert "acme is asked for at two different commits" in message
    assert "@main (aaaaaaaaaaaa) by requirements.txt:1" in message
    assert "@v2 (bbbbbbbbbbbb) by acme-ml 1.0" in message


def test_one_commit_with_two_config_settings_is_a_conflict_too() -> None:
    graph: Graph[str] = Graph()
    plain = _requirement(ACME, by="requirements.txt:1")
    tuned = GitRequirement(
        name="acme", url=plain.url, requested_by="requirements.txt:2", config_settings=(("k", "v"),)
    )
    graph.add("acme", Node(plain, MAIN_NOW))
    with pytest.raises(
        GitDepsError,
        match=re.escape(
            "different --config-settings by requirements.txt:1 and by requirements.txt:2"
        ),
    ):
        graph.add("acme", Node(tuned, MAIN_NOW))


def test_a_dependency_cycle_ends_with_each_distribution_visited_once() -> None:
    # a -> b -> c -> a, and a -> c
    edges = {"a": ["b", "c"], "b": ["c"], "c": ["a"]}
    graph: Graph[str] = Graph()
    visits: Counter[str] = Counter()

    def visit(name: str) -> list[str]:
        visits[name] += 1
        node = Node(_requirement(f"git+https://h.test/o/{name}.git", name=name), MAIN_NOW)
        if not graph.add(name, node):
            return []
        graph.set_built(name, name)
        return edges[name]

    walk(["a"], visit, on_fail=lambda: None, on_stop=lambda: None)
    assert [p.key for p in graph.packages()] == ["a", "b", "c"]
    assert visits["a"] == 2 and visits["c"] == 2  # asked twice, added once


def test_a_failure_stops_the_walk_and_what_is_under_way() -> None:
    failed, stopped = threading.Event(), threading.Event()
    started: list[str] = []

    def visit(name: str) -> list[str]:
        started.append(name)
        if name == "bad":
            raise GitDepsError("requirements.txt:2: bad: the host said no")
        if name == "building":  # a build killed by on_fail ends with Interrupted
            assert failed.wait(30), "on_fail was not called"
            raise Interrupted("stopped while building")
        return ["child"]  # of a visit that ends after the failure: never visited

    with pytest.raises(GitDepsError, match="the host said no") as caught:
        walk(["building", "bad"], visit, on_fail=failed.set, on_stop=stopped.set)
    assert type(caught.value) is GitDepsError  # one failure is raised as it is
    assert "child" not in started
    assert stopped.is_set()  # and whatever is left is cut short on the way out


def test_every_failure_of_the_visits_under_way_is_reported_in_order() -> None:
    failed = threading.Event()

    def visit(name: str) -> list[str]:
        if name == "typo":
            raise RequirementError("ref 'v9' not found", input="requirements.txt:1: acme")
        if name == "also":  # ends during the grace, failing on its own
            assert failed.wait(30), "on_fail was not called"
            raise FetchError("repository not found", input="requirements.txt:3: beta")
        if name == "late":
            assert failed.wait(30)
            raise Interrupted("stopped before building gamma")
        return []

    with pytest.raises(SeveralErrors) as caught:
        walk(["typo", "fine", "also", "late"], visit, on_fail=failed.set, on_stop=lambda: None)
    error = caught.value
    assert [type(e) for e in error.errors] == [RequirementError, FetchError]
    assert error.exit_code == RequirementError.exit_code  # the first one's
    assert error.stopped == 1 and str(error).startswith("2 requirements failed")
    lines = error.render().splitlines()
    assert lines[:2] == [
        "requirements.txt:1: acme: ref 'v9' not found",
        "requirements.txt:3: beta: repository not found",
    ]


def test_a_visit_still_under_way_after_the_grace_is_cut_short(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(graph_module, "_FAIL_GRACE", 0.05)
    stopped = threading.Event()

    def visit(name: str) -> list[str]:
        if name == "bad":
            raise GitDepsError("bad: the host said no")
        assert stopped.wait(30), "on_stop was not called"  # a listing a slow host holds
        raise Interrupted("stopped while listing")

    with pytest.raises(GitDepsError, match="the host said no"):
        walk(["hung", "bad"], visit, on_fail=lambda: None, on_stop=stopped.set)
    assert stopped.is_set()


# -- errors carry their facts ------------------------------------------------------
def test_an_error_keeps_its_input_hint_and_detail_apart(tmp_path: Path) -> None:
    from gitdeps import RequirementError
    from gitdeps._inputs.requirements import parse_requirement_files

    (tmp_path / "requirements.txt").write_text("# first\nacme @ git+https://h.test/a.git --nope\n")
    with pytest.raises(RequirementError) as caught:
        parse_requirement_files([tmp_path / "requirements.txt"])
    error = caught.value
    assert error.input is not None and error.input.endswith("requirements.txt:2")
    assert not error.message.startswith(error.input)  # the input is a field, not text
    assert str(error) == f"{error.input}: {error.message}"

    with pytest.raises(RequirementError) as caught:
        parse_requirement_files([tmp_path / "missing.txt"])
    missing = caught.value  # what to do is a field too, and the line reads as before
    assert missing.hint == "check the path" and "missing.txt" in missing.message
    assert str(missing) == f"{missing.message}; check the path"

    built = GitDepsError("the backend failed", hint="check the build", detail="line 1\nline 2")
    built.add_context("acme")
    built.add_context("requirements.txt:3")
    assert built.input == "requirements.txt:3: acme"
    assert str(built) == "requirements.txt:3: acme: the backend failed; check the build"
    assert built.render() == str(built) + " (-v shows more)"
    assert built.render(verbose=True).splitlines()[1:] == ["    | line 1", "    | line 2"]


def test_every_error_class_is_exported() -> None:
    import importlib
    import pkgutil

    import gitdeps

    classes: set[type] = set()
    for module in pkgutil.walk_packages(gitdeps.__path__, "gitdeps."):
        if module.name.endswith("__main__"):
            continue
        for value in vars(importlib.import_module(module.name)).values():
            if isinstance(value, type) and issubclass(value, GitDepsError):
                classes.add(value)
    public = {c.__name__ for c in classes if not c.__name__.startswith("_")}
    assert len(public) >= 8
    assert public <= set(gitdeps.__all__)
