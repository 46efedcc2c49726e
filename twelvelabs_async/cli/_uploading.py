"""Upload progress on stderr: a rich bar per file and the total rate, or plain lines.

A rich display is drawn when stderr is a terminal, rich is installed and `--json` is not
given; otherwise a plain line per file at most once a second and at each file's end
(`clip.mp4: 48.0 of 96.0 MiB (50 %), 3 of 6 chunks, 12.3 MiB/s`). Results stay on stdout.
"""

from __future__ import annotations

import os
import sys
import time
from types import TracebackType
from typing import Any

from ..models import UploadProgress
from ._display import _is_terminal, _rich

MIB = 1024 * 1024


def mib(size: float) -> str:
    """A size in MiB with one decimal."""
    return f"{size / MIB:,.1f} MiB"


class UploadDisplay:
    """Shows each file's upload: bytes sent of its size, chunks, and the bytes per second.

    Use it as a context manager; `callback(path)` gives the `progress=` function of one
    file's upload, and `stage(path, text)` says what happens to a file after its upload.
    """

    def __init__(self, paths: list[str], *, plain: bool) -> None:
        self.started = time.monotonic()
        self._sizes = {p: os.path.getsize(p) if os.path.isfile(p) else 0 for p in paths}
        self._sent = dict.fromkeys(paths, 0)
        self._last_plain: dict[str, float] = {}
        rich = _rich()
        self._use_rich = rich is not None and not plain and _is_terminal(sys.stderr)
        self._progress: Any = None
        self._rows: dict[str, Any] = {}
        self._total: Any = None

    def __enter__(self) -> UploadDisplay:
        if self._use_rich:
            import rich.progress as rp

            self._progress = rp.Progress(
                rp.TextColumn("{task.description}"),
                rp.BarColumn(),
                rp.DownloadColumn(binary_units=True),
                rp.TransferSpeedColumn(),
                rp.TextColumn("{task.fields[stage]}"),
                transient=False,
                console=None,
            )
            self._progress.start()
            for path, size in self._sizes.items():
                row = self._progress.add_task(os.path.basename(path), total=size, stage="")
                self._rows[path] = row
            if len(self._sizes) > 1:
                total = sum(self._sizes.values())
                self._total = self._progress.add_task("total", total=total, stage="")
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._progress is not None:
            self._progress.stop()

    def callback(self, path: str) -> Any:
        """The `progress=` function for the upload of `path`."""

        def report(progress: UploadProgress) -> None:
            self._sent[path] = progress.bytes_sent
            if self._progress is not None:
                self._progress.update(self._rows[path], completed=progress.bytes_sent)
                if self._total is not None:
                    self._progress.update(self._total, completed=sum(self._sent.values()))
                return
            now = time.monotonic()
            finished = progress.bytes_sent >= progress.total_bytes
            if not finished and now - self._last_plain.get(path, 0.0) < 1.0:
                return
            self._last_plain[path] = now
            share = progress.bytes_sent / progress.total_bytes if progress.total_bytes else 1.0
            print(
                f"{os.path.basename(path)}: {mib(progress.bytes_sent)} of "
                f"{mib(progress.total_bytes)} ({share:.0%}), {progress.chunks_done} of "
                f"{progress.total_chunks} chunks, {mib(self.rate())}/s",
                file=sys.stderr,
                flush=True,
            )

        return report

    def stage(self, path: str, text: str) -> None:
        """Say what happens to `path` now (`waiting until ready`, `ready`, ...)."""
        if self._progress is not None:
            self._progress.update(self._rows[path], stage=text)
            return
        print(f"{os.path.basename(path)}: {text}", file=sys.stderr, flush=True)

    def rate(self) -> float:
        """Bytes sent per second over every file since the display started."""
        elapsed = max(time.monotonic() - self.started, 1e-6)
        return sum(self._sent.values()) / elapsed

    def summary(self) -> str:
        """One line: bytes sent, files, seconds and the rate."""
        elapsed = time.monotonic() - self.started
        sent = sum(self._sent.values())
        return (
            f"uploaded {mib(sent)} in {len(self._sizes)} file(s) in {elapsed:.1f}s "
            f"({mib(sent / max(elapsed, 1e-6))}/s)"
        )
