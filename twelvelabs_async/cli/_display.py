"""Live progress for `tasks watch` and `demo`: rich when installed, plain lines otherwise."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any, TextIO

from ..models import AnalyzeTask
from ..tracking import Tracker

_ORDER = ("unknown", "queued", "pending", "processing", "ready", "failed", "canceled")
_STYLE = {"ready": "green", "failed": "red", "canceled": "yellow"}


def _rich() -> Any:
    try:
        import rich.console
        import rich.live
        import rich.progress
        import rich.table
    except ImportError:  # pragma: no cover - the cli extra brings rich
        return None
    return rich


class Display:
    """Shows counts by status, throughput, requests and throttling while a tracker runs.

    Finished tasks are printed as they finish: a human line on `out`, or (`json_lines`)
    nothing here, since the caller writes JSON Lines to stdout and progress goes to stderr.
    """

    def __init__(self, total: int, *, json_lines: bool, out: TextIO | None = None) -> None:
        self.total = total
        self.json_lines = json_lines
        self.out = out or sys.stdout
        self.started = time.monotonic()
        self._tracker: Tracker | None = None
        self._rich = _rich()
        self._live: Any = None
        self._console: Any = None
        self._last_plain = 0.0

    def attach(self, tracker: Tracker) -> None:
        """Follow this tracker's counters."""
        self._tracker = tracker

    def __enter__(self) -> Display:
        if self._rich is not None:
            stream = sys.stderr if self.json_lines else self.out
            self._console = self._rich.console.Console(file=stream, highlight=False)
            self._live = self._rich.live.Live(
                self._render(), console=self._console, refresh_per_second=8, transient=False
            )
            self._live.__enter__()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._live is not None:
            self._live.update(self._render())
            self._live.__exit__(exc_type, exc, tb)

    def finished(self, task: AnalyzeTask, extra: str = "") -> None:
        """Report one finished task."""
        if not self.json_lines:
            status = str(task.status)
            detail = extra or _detail(task)
            if self._console is not None:
                style = _STYLE.get(status, "white")
                self._console.print(f"[{style}]{status:<9}[/] {task.task_id}  {detail}")
            else:
                print(f"{status:<9} {task.task_id}  {detail}", file=self.out, flush=True)
        self.refresh()

    def refresh(self) -> None:
        """Redraw (rich) or print a progress line at most once a second (plain)."""
        if self._live is not None:
            self._live.update(self._render())
            return
        now = time.monotonic()
        if now - self._last_plain >= 1.0:
            self._last_plain = now
            print(self.progress_line(), file=sys.stderr, flush=True)

    def progress_line(self) -> str:
        """`done/total`, counts by status, throughput, requests and throttles, as text."""
        t = self._tracker
        if t is None:
            return f"0/{self.total}"
        counts = t.status_counts
        parts = [f"{s} {counts[s]}" for s in _ORDER if counts.get(s)]
        elapsed = max(1e-6, time.monotonic() - self.started)
        done = len(t.done)
        return (
            f"{done}/{self.total} done | {', '.join(parts)} | {done / elapsed:.1f} tasks/s | "
            f"{t.stats.total_requests} requests | {t.stats.throttles} throttles"
        )

    def _render(self) -> Any:
        rich = self._rich
        table = rich.table.Table.grid(padding=(0, 2))
        t = self._tracker
        done = len(t.done) if t else 0
        bar = rich.progress.ProgressBar(total=max(1, self.total), completed=done, width=40)
        table.add_row(bar, f"{done}/{self.total}")
        table.add_row(self.progress_line(), "")
        return table


def _detail(task: AnalyzeTask) -> str:
    if task.result is not None:
        text = " ".join(task.result.data.split())
        return text[:70] + ("..." if len(text) > 70 else "")
    if task.error is not None:
        return f"{task.error.code or 'error'}: {task.error.message}"
    return ""


Printer = Callable[[AnalyzeTask], None]
