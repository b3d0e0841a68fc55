"""Errors and warnings where the pipeline shows problems: GitHub Actions' workflow
commands (``::error file=...,line=...::``) and Azure Pipelines' logging commands
(``##vso[task.logissue ...]``), beside the plain line of the log.

Every text has passed :func:`gitdeps.redact` already (errors and log records are
redacted when made); it is escaped here as each format requires, so a message can
neither end the command early nor start another one.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Mapping, Sequence
from typing import TextIO

__all__ = ["AnnotationHandler", "annotation", "job_summary", "pipeline"]

# "requirements.txt:3: acme: ..." -> the file and line a message is about
_LOCATION = re.compile(r"^(?P<file>[^\s:][^:\n]*?):(?P<line>\d+)(?::|$)")


def pipeline(environ: Mapping[str, str] | None = None) -> str | None:
    """``"github"``, ``"azure"`` or None: which pipeline this runs in."""
    environ = os.environ if environ is None else environ
    if environ.get("GITHUB_ACTIONS", "").lower() == "true":
        return "github"
    if environ.get("TF_BUILD", "").lower() == "true":
        return "azure"
    return None


def _github_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _github_property(text: str) -> str:
    return _github_data(text).replace(":", "%3A").replace(",", "%2C")


def _azure_data(text: str) -> str:
    # the agent's escapes for a logging command's message (docs: "logging commands")
    return text.replace("%", "%AZP25").replace("\r", "%0D").replace("\n", "%0A")


def _azure_property(text: str) -> str:
    return _azure_data(text).replace(";", "%3B").replace("]", "%5D")


def annotation(kind: str, message: str, where: str) -> str:
    """One ``error`` or ``warning`` command for ``where`` (``github`` or ``azure``)."""
    found = _LOCATION.match(message)
    file, line = (found["file"], found["line"]) if found else (None, None)
    if where == "github":
        props = f" file={_github_property(file)},line={line}" if file else ""
        return f"::{kind}{props}::{_github_data(message)}"
    props = f";sourcepath={_azure_property(file)};linenumber={line}" if file else ""
    return f"##vso[task.logissue type={kind}{props}]{_azure_data(message)}"


class AnnotationHandler(logging.Handler):
    """Writes an annotation for every warning and error record of gitdeps' loggers."""

    def __init__(self, where: str, stream: TextIO) -> None:
        super().__init__(logging.WARNING)
        self._where = where
        self._stream = stream

    def emit(self, record: logging.LogRecord) -> None:
        try:
            kind = "error" if record.levelno >= logging.ERROR else "warning"
            first = record.getMessage().splitlines()[0] if record.getMessage() else ""
            self._stream.write(annotation(kind, first, self._where) + "\n")
        except Exception:
            self.handleError(record)


def _cell(text: str) -> str:
    """One Markdown table cell: no line break, no column break, no HTML."""
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("<", "&lt;").replace("\n", " ")


def job_summary(title: str, rows: Sequence[Sequence[str]], header: Sequence[str]) -> None:
    """Append a Markdown table to GitHub Actions' job summary (``$GITHUB_STEP_SUMMARY``),
    when this runs there; the texts are redacted already."""
    target = os.environ.get("GITHUB_STEP_SUMMARY")
    if pipeline() != "github" or not target:
        return
    lines = [f"### {title}", "", "| " + " | ".join(header) + " |"]
    lines.append("|" + "---|" * len(header))
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    try:
        with open(target, "a", encoding="utf-8") as summary:
            summary.write("\n".join(lines) + "\n\n")
    except OSError as exc:  # a summary is never the reason a run fails
        logging.getLogger("gitdeps").debug("cannot write the job summary %s: %s", target, exc)
