"""The live display of a run in a terminal: one line per package in flight with its
stage and time, an N/M bar, log lines above it, and a summary table at the end.

Drawn with rich (what pip draws its progress bars with), imported only when a run
is shown live: a run whose stderr is no terminal, or under ``-v`` or ``-q``, never
loads it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import IO, Any

from ._progress import Finished, Stage

__all__ = ["LiveDisplay", "summary_table"]

_STAGE_STYLE = {
    "resolving": "blue",
    "fetching": "cyan",
    "environment": "magenta",
    "building": "yellow",
    "cached": "green",
}


class LiveDisplay:
    """A ``_progress.Display`` drawn on ``stream``, refreshed a few times a second."""

    def __init__(self, stream: IO[str], *, color: bool) -> None:
        from rich.console import Console
        from rich.live import Live

        self.console = Console(
            file=stream, highlight=False, no_color=not color, force_terminal=True, soft_wrap=True
        )
        self._lock = threading.Lock()
        self._flight: dict[str, tuple[Stage, float]] = {}  # package -> stage, since
        self._known: set[str] = set()
        self._finished: list[Finished] = []
        self._status = ""
        self._started = time.monotonic()
        self._live = Live(
            get_renderable=self._render,
            console=self.console,
            transient=True,
            refresh_per_second=8,
            redirect_stdout=False,
            redirect_stderr=False,
        )

    # -- Display ------------------------------------------------------------
    def stage(self, package: str, stage: Stage) -> None:
        with self._lock:
            self._known.add(package)
            self._flight[package] = (stage, self._flight.get(package, (stage, time.monotonic()))[1])

    def forget(self, package: str) -> None:
        with self._lock:
            if self._flight.get(package, ("",))[0] == "resolving":
                del self._flight[package]
                if not any(f.package == package for f in self._finished):
                    self._known.discard(package)

    def done(self, finished: Finished) -> None:
        with self._lock:
            self._known.add(finished.package)
            self._flight.pop(finished.package, None)
            self._finished.append(finished)

    # -- the run ------------------------------------------------------------
    def __enter__(self) -> LiveDisplay:
        self._live.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._live.stop()

    @property
    def finished(self) -> tuple[Finished, ...]:
        with self._lock:
            return tuple(self._finished)

    def handler(self, format_record: Callable[[logging.LogRecord], str]) -> logging.Handler:
        """Log lines printed above the display; progress lines become its status line."""
        return _AboveTheDisplay(self, format_record)

    def set_status(self, text: str) -> None:
        with self._lock:
            self._status = text

    def _render(self) -> Any:
        from rich.progress_bar import ProgressBar
        from rich.table import Table
        from rich.text import Text

        now = time.monotonic()
        with self._lock:
            flight = sorted(self._flight.items(), key=lambda item: item[1][1])
            done, known, status = len(self._finished), len(self._known), self._status
        grid = Table.grid(padding=(0, 2))
        grid.add_column(no_wrap=True)
        grid.add_column(no_wrap=True)
        grid.add_column(justify="right", no_wrap=True)
        for package, (stage, since) in flight:
            grid.add_row(
                Text(package, style="bold"),
                Text(stage, style=_STAGE_STYLE.get(stage, "")),
                Text(f"{now - since:.1f} s", style="dim"),
            )
        bar = Table.grid(padding=(0, 1))
        bar.add_row(
            ProgressBar(total=max(known, 1), completed=done, width=30),
            Text(f"{done}/{known} packages", style="bold"),
            Text(f"{now - self._started:.1f} s", style="dim"),
            Text(status, style="dim", overflow="ellipsis", no_wrap=True),
        )
        outer = Table.grid()
        outer.add_row(grid)
        outer.add_row(bar)
        return outer


class _AboveTheDisplay(logging.Handler):
    def __init__(self, live: LiveDisplay, format_record: Callable[[logging.LogRecord], str]):
        super().__init__()
        self._display = live
        self._format = format_record

    def emit(self, record: logging.LogRecord) -> None:
        from rich.text import Text

        try:
            line = self._format(record)
            if record.name == "gitdeps.progress" and record.levelno == logging.INFO:
                self._display.set_status(line.strip())
                return
            self._display.console.print(Text.from_ansi(line))
        except Exception:  # a log line must never end the run
            self.handleError(record)


def summary_table(finished: Sequence[Finished], stream: IO[str], *, color: bool) -> None:
    """Package, version, where its wheel came from, and seconds, one row each."""
    from rich.console import Console
    from rich.table import Table

    table = Table(box=None, pad_edge=False, header_style="bold")
    table.add_column("package")
    table.add_column("version")
    table.add_column("source")
    table.add_column("seconds", justify="right")
    for row in sorted(finished, key=lambda f: f.package):
        table.add_row(row.package, row.version, row.source, f"{row.seconds:.1f}")
    Console(file=stream, highlight=False, no_color=not color, force_terminal=color).print(table)
