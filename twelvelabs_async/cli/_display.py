"""Live progress for `tasks watch` and `demo`: results on stdout, progress on stderr.

Results (a line per finished task, or its JSON with `--json`) go to stdout, one a line, never
wrapped unless stdout is a terminal, where a long line is cut with `...` to the width. The
progress display and the summary go to stderr: a rich bar redrawn in place when stderr is a
terminal (and rich is installed), else a plain progress line at most once a second. When
stdout and stderr are the same terminal, the bar steps aside while a result is written, so
the two never mix.
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Iterator
from types import TracebackType
from typing import Any, TextIO

from ..models import AnalyzeTask
from ..tracking import Tracker
from ._common import to_json

_ORDER = ("unknown", "queued", "pending", "processing", "ready", "failed", "canceled")
_STYLE = {"ready": "green", "failed": "red", "canceled": "yellow"}


def _rich() -> Any:
    try:
        import rich.console
        import rich.live
        import rich.progress
        import rich.table
        import rich.text
    except ImportError:  # pragma: no cover - the cli extra brings rich
        return None
    return rich


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # pragma: no cover - a closed or odd stream
        return False


class Display:
    """Shows counts by status, throughput, requests and throttling while a tracker runs.

    `finished(task)` writes the task to stdout (a human line, or JSON with `json_lines`) and
    redraws the progress on stderr.
    """

    def __init__(self, total: int, *, json_lines: bool) -> None:
        self.total = total
        self.json_lines = json_lines
        self.out = sys.stdout
        self.err = sys.stderr
        self.started = time.monotonic()
        self._tracker: Tracker | None = None
        rich = _rich()
        self._rich = rich
        self._live: Any = None
        self._console: Any = None
        self._out_console: Any = None
        self._last_plain = 0.0
        self._last_line = ""
        if rich is not None and _is_terminal(self.out) and not json_lines:
            self._out_console = rich.console.Console(file=self.out, highlight=False)
        self._shared_screen = _is_terminal(self.out) and _is_terminal(self.err)

    def attach(self, tracker: Tracker) -> None:
        """Follow this tracker's counters."""
        self._tracker = tracker

    def __enter__(self) -> Display:
        rich = self._rich
        if rich is not None and _is_terminal(self.err):
            console = rich.console.Console(file=self.err, highlight=False)
            if console.is_terminal and not console.is_dumb_terminal:
                self._console = console
                self._live = self._started_live()
        return self

    def _started_live(self) -> Any:
        """A new bar on stderr (a fresh one: a restarted bar would redraw over the results).

        Transient: it is erased when it stops; `__exit__` prints its last frame for good.
        """
        live = self._rich.live.Live(
            console=self._console,
            get_renderable=self._render,  # redrawn 8 times a second: elapsed time moves on
            refresh_per_second=8,
            transient=True,
            redirect_stdout=False,
            redirect_stderr=False,
        )
        live.start(refresh=True)
        return live

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._live is not None:
            live, self._live = self._live, None
            live.stop()
            live.console.print(self._render())
        else:
            line = self.progress_line()
            if line != self._last_line:
                print(line, file=self.err, flush=True)

    def finished(self, task: AnalyzeTask, extra: str = "") -> None:
        """Write one finished task to stdout, then redraw the progress."""
        if self.json_lines:
            self._write(to_json(task))
        else:
            status = str(task.status)
            line = f"{status:<9} {task.task_id}  {extra or _detail(task)}"
            self._write(line, style=_STYLE.get(status, "default"), width=9)
        self.refresh()

    def _write(self, line: str, *, style: str = "", width: int = 0) -> None:
        with self._stepped_aside():
            if self._out_console is not None:
                text = self._rich.text.Text(line)
                if style:
                    text.stylize(style, 0, width)
                self._out_console.print(text, no_wrap=True, overflow="ellipsis", crop=True)
                self.out.flush()
            else:
                self.out.write(line + "\n")
                self.out.flush()

    @contextlib.contextmanager
    def _stepped_aside(self) -> Iterator[None]:
        """The bar off the screen while a result is written to the same terminal."""
        if self._live is None or not self._shared_screen:
            yield
            return
        self._live.stop()
        try:
            yield
        finally:
            self._live = self._started_live()

    def refresh(self) -> None:
        """Redraw (rich) or print a progress line at most once a second (plain)."""
        if self._live is not None:
            self._live.refresh()
            return
        now = time.monotonic()
        if now - self._last_plain >= 1.0:
            self._last_plain = now
            self._last_line = self.progress_line()
            print(self._last_line, file=self.err, flush=True)

    def progress_line(self) -> str:
        """`done/total`, counts by status, throughput, requests, retries and throttles."""
        t = self._tracker
        if t is None:
            return f"0/{self.total} done"
        counts = t.status_counts
        parts = [f"{s} {counts[s]}" for s in _ORDER if counts.get(s)]
        elapsed = max(1e-6, time.monotonic() - self.started)
        done = len(t.done)
        stats = t.stats
        return (
            f"{done}/{self.total} done | {', '.join(parts) or 'waiting'} | "
            f"{done / elapsed:.1f} tasks/s | {stats.total_requests} requests | "
            f"{stats.retries} retries | {stats.throttles} throttles"
        )

    def _render(self) -> Any:
        rich = self._rich
        table = rich.table.Table.grid(padding=(0, 2))
        t = self._tracker
        done = len(t.done) if t else 0
        bar = rich.progress.ProgressBar(total=max(1, self.total), completed=done, width=40)
        table.add_row(bar, f"{done}/{self.total}")
        table.add_row(rich.text.Text(self.progress_line(), no_wrap=True, overflow="ellipsis"))
        return table


def _detail(task: AnalyzeTask) -> str:
    """The start of the result, or the error; one line of printable text (no escapes)."""
    if task.result is not None:
        text = _printable(task.result.data)
        return text[:70] + ("..." if len(text) > 70 else "")
    if task.error is not None:
        return _printable(f"{task.error.code or 'error'}: {task.error.message}")
    return ""


def _printable(text: str) -> str:
    """Whitespace runs as one space, other control characters (a terminal escape) as `?`."""
    return "".join(c if c.isprintable() else "?" for c in " ".join(text.split()))
