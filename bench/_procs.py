"""Subprocesses of the benchmarks: read their startup lines, measure their CPU, stop them."""

from __future__ import annotations

import contextlib
import os
import resource
import signal
import subprocess
import threading
from pathlib import Path

START_TIMEOUT = 60.0
"""Seconds a started process may take to print what it was asked for."""
STOP_TIMEOUT = 10.0
"""Seconds between SIGINT and SIGKILL when stopping a process."""


def stop(proc: subprocess.Popen[str]) -> None:
    """SIGINT, then SIGKILL if it is still running after a timeout."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    for stream in (proc.stdin, proc.stdout):
        if stream is not None:
            with contextlib.suppress(OSError):
                stream.close()


def read_lines(
    proc: subprocess.Popen[str], wanted: tuple[str, ...], what: str, log: Path
) -> dict[str, str]:
    """Read stdout until every `wanted` key was printed (`KEY=value`, or a bare `KEY`)."""
    found: dict[str, str] = {}

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            key, _, value = line.strip().partition("=")
            if key in wanted:
                found[key] = value
            if len(found) == len(wanted):
                return

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(START_TIMEOUT)
    if len(found) < len(wanted):
        # Only stderr is shown: the simulator's stdout carries its API key.
        detail = log.read_text(errors="replace").strip()[-2000:]
        state = "still starting" if proc.poll() is None else f"exited with {proc.returncode}"
        raise RuntimeError(f"the {what} did not start ({state}): {detail or 'no stderr'}")
    return found


_CLK_TCK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def cpu_of(pid: int) -> float | None:
    """CPU seconds (user + system) a process has used, from /proc; None where unavailable."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / _CLK_TCK


def peak_rss_kb() -> int:
    """This process's peak RSS in KB: `VmHWM` from /proc where there is one, else `ru_maxrss`.

    On Linux `ru_maxrss` survives `exec`: a client started by a parent that holds 60 MB reports
    60 MB before it has done anything, which hides its own growth below that. `VmHWM` belongs
    to the process's own memory map and starts from zero at `exec`.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
