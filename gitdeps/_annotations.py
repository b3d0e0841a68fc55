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
from collections.abc import Mapping
from typing import TextIO

__all__ = ["AnnotationHandler", "annotation", "pipeline"]

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
