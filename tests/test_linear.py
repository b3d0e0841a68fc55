"""Parsing and redaction take linear time, and mean exactly what the regexes meant.

A 100 KB line of spaces took 73 s to be refused, and a build printing one long
line took 12.8 s to redact: both used a regex that retries from every position.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gitdeps import RequirementError, redact
from gitdeps._inputs.requirements import _strip_comment, parse_requirement_files
from gitdeps._secret import _mask_userinfo

_COMMENT = re.compile(r"(^|\s+)#.*$")
_USERINFO = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]*://)(?P<userinfo>[^/?#@\s]*)@")

_url_ish = st.text(alphabet="ab1+.-:/@?# \t", max_size=60)


@given(st.text(alphabet=st.characters(exclude_characters="\n\r"), max_size=80) | _url_ish)
def test_comment_stripping_means_what_pips_regex_means(line: str) -> None:
    assert _strip_comment(line) == _COMMENT.sub("", line)


@given(st.text(max_size=120) | _url_ish)
def test_userinfo_masking_means_what_the_regex_meant(text: str) -> None:
    expected = _USERINFO.sub(lambda m: m["scheme"] + ("****@" if m["userinfo"] else "@"), text)
    assert _mask_userinfo(text) == expected


def _timed(call: object) -> float:
    started = time.perf_counter()
    call()  # type: ignore[operator]
    return time.perf_counter() - started


@pytest.mark.parametrize(
    "line",
    [" " * 5_000_000, "pkg" + " " * 5_000_000 + "x", "a" * 5_000_000, "#" * 5_000_000],
    ids=["spaces", "spaces-then-text", "one-word", "hashes"],
)
def test_a_multi_megabyte_line_is_parsed_or_refused_quickly(tmp_path: Path, line: str) -> None:
    path = tmp_path / "requirements.txt"
    path.write_text(line + "\n")

    def parse() -> None:
        try:
            parse_requirement_files([path])
        except RequirementError:
            pass

    assert _timed(parse) < 5


@pytest.mark.parametrize(
    "text",
    ["a" * 5_000_000, "x://" * 1_000_000, "https://" + "u" * 5_000_000, "ab1+.-" * 1_000_000],
    ids=["letters", "schemes", "one-long-userinfo", "scheme-characters"],
)
def test_redacting_a_multi_megabyte_output_is_quick(text: str) -> None:
    assert _timed(lambda: redact(text)) < 5


def test_a_build_printing_twenty_megabytes_is_redacted_quickly() -> None:
    output = ("building 'ext' extension " + "x" * 100 + "\n") * 160_000
    assert len(output) > 20_000_000
    assert _timed(lambda: redact(output)) < 10


@pytest.mark.parametrize(
    ("text", "lines"),
    [
        # a trailing comment does not stop the continuation: the next line is swallowed
        ("one # note \\\ntwo\nthree\n", ["one", "three"]),
        # a comment line never continues
        ("# note \\\ntwo\n", ["two"]),
        ("   # indented note \\\ntwo\n", ["two"]),
        ("one \\\ntwo\n", ["one two"]),
        ("one\\\\\ntwo\n", ["onetwo"]),  # every trailing backslash goes
        ("one \\\n", ["one"]),  # a continuation at the end of the file
        ("one#not-a-comment\n", ["one#not-a-comment"]),
    ],
)
def test_continuations_and_comments_as_pip_reads_them(
    tmp_path: Path, text: str, lines: list[str]
) -> None:
    from gitdeps._inputs.requirements import _logical_lines

    assert [line for _, line in _logical_lines(text)] == lines
