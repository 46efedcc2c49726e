"""Run the `twelvelabs-async` command line as a subprocess against an in-process simulator.

The simulator keeps serving from the test's event loop while the test awaits the subprocess
(`asyncio.create_subprocess_exec`), so the command talks to it over loopback like to the API.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import sys
import tempfile
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from twelvelabs_async.testing import Simulator, simulate

KEY = "tlk_cli_secret_4f1d2a9b7c3e"
"""The simulator's key, in the environment of every run: no output may ever contain it."""
NOWHERE = "http://127.0.0.1:9/v1.3"
"""The base URL of runs without a simulator: nothing listens, so no request leaves the host."""
SCRIPT = shutil.which("twelvelabs-async", path=str(Path(sys.executable).parent))
"""The installed console script next to this interpreter, if the package is installed."""
_UNSET = {"FORCE_COLOR", "PY_COLORS", "CLICOLOR_FORCE", "TTY_COMPATIBLE", "TTY_INTERACTIVE"}
_PYCACHE = str(Path(tempfile.gettempdir()) / "twelvelabs-async-cli-tests-pycache")
"""Bytecode of the runs, outside the work tree: without it (PYTHONDONTWRITEBYTECODE) every
run compiles the package again, doubling the second of imports each start costs."""


@dataclass(frozen=True)
class Result:
    """A finished run: exit code, stdout and stderr."""

    code: int
    out: str
    err: str

    def json_lines(self) -> list[dict[str, Any]]:
        """Every stdout line parsed as JSON (fails on any line that is not)."""
        return [json.loads(line) for line in self.out.splitlines()]


def cli_env(sim: Simulator | None = None, **changes: str | None) -> dict[str, str]:
    """The environment of a run: key and base URL of `sim` (or nowhere), plain output.

    `changes` set variables, or remove them when None.
    """
    env = {
        k: v for k, v in os.environ.items() if not k.startswith("TWELVELABS_") and k not in _UNSET
    }
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.update(
        PYTHONPYCACHEPREFIX=_PYCACHE,
        COLUMNS="200",
        TWELVELABS_API_KEY=KEY,
        TWELVELABS_BASE_URL=sim.base_url if sim is not None else NOWHERE,
    )
    for name, value in changes.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


@asynccontextmanager
async def cli_sim(**settings: Any) -> AsyncIterator[Simulator]:
    """A simulator accepting `KEY`; tasks finish within 0.2-0.5 s unless `settings` say else."""
    options: dict[str, Any] = {"api_key": KEY, "duration": (0.2, 0.5), "seed": 11}
    async with simulate(**(options | settings)) as sim:
        yield sim


async def start(
    *args: str,
    sim: Simulator | None = None,
    env: Mapping[str, str] | None = None,
    stdin: int | None = asyncio.subprocess.DEVNULL,
    stdout: int = asyncio.subprocess.PIPE,
    script: str | None = None,
) -> asyncio.subprocess.Process:
    """Start `python -m twelvelabs_async ARGS` (or `script ARGS`)."""
    command = [script] if script else [sys.executable, "-m", "twelvelabs_async"]
    return await asyncio.create_subprocess_exec(
        *command,
        *args,
        stdin=stdin,
        stdout=stdout,
        stderr=asyncio.subprocess.PIPE,
        env=dict(env) if env is not None else cli_env(sim),
    )


async def finish(
    proc: asyncio.subprocess.Process,
    stdin: str | None = None,
    *,
    before: str = "",
    timeout: float = 30.0,
) -> Result:
    """Wait for the process (killing it past `timeout`) and check its output is clean.

    `before` is stdout already read by the caller. Clean: no traceback, and the key nowhere.
    """
    try:
        out, err = await asyncio.wait_for(
            proc.communicate(stdin.encode() if stdin is not None else None), timeout
        )
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.communicate()
    assert proc.returncode is not None
    result = Result(proc.returncode, before + (out or b"").decode(), err.decode())
    assert_clean(result)
    return result


def assert_clean(result: Result) -> None:
    """No Python traceback on stderr, and the API key in neither stream."""
    assert "Traceback" not in result.err, result.err
    assert KEY not in result.out
    assert KEY not in result.err


async def cli(
    *args: str,
    sim: Simulator | None = None,
    env: Mapping[str, str] | None = None,
    stdin: str | None = None,
    script: str | None = None,
    timeout: float = 30.0,
) -> Result:
    """Run the command line to its end; see `start` and `finish`."""
    proc = await start(
        *args,
        sim=sim,
        env=env,
        stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
        script=script,
    )
    return await finish(proc, stdin, timeout=timeout)


async def cli_many(*runs: list[str], sim: Simulator | None = None) -> list[Result]:
    """Run several command lines at once (each start costs about a second of imports)."""
    return list(await asyncio.gather(*(cli(*args, sim=sim) for args in runs)))


async def cli_on_terminal(
    *args: str,
    sim: Simulator | None = None,
    stdout_too: bool = False,
    columns: int = 80,
    timeout: float = 30.0,
) -> Result:
    """Run the command line with stderr (and, with `stdout_too`, stdout) on a terminal.

    The terminal is a pseudo-terminal `columns` wide, as a person's shell would give; `err` of
    the result is everything the terminal received (escape sequences included), `out` what
    went to the stdout pipe ("" with `stdout_too`). Checked clean like every run.
    """
    import fcntl
    import pty
    import struct
    import termios

    main_fd, terminal = pty.openpty()
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
    env = cli_env(sim, COLUMNS=None, TERM="xterm-256color")
    try:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "twelvelabs_async", *args,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=terminal if stdout_too else asyncio.subprocess.PIPE,
            stderr=terminal,
            env=env,
        )  # fmt: skip
    finally:
        os.close(terminal)  # the child holds its own copy: reads end when it exits
    screen = asyncio.create_task(asyncio.to_thread(_read_terminal, main_fd))
    try:
        out, _ = await asyncio.wait_for(proc.communicate(), timeout)
        seen = await asyncio.wait_for(screen, timeout)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.communicate()
        await asyncio.gather(screen, return_exceptions=True)
        os.close(main_fd)
    assert proc.returncode is not None
    result = Result(proc.returncode, (out or b"").decode(), seen.decode(errors="replace"))
    assert_clean(result)
    return result


def _read_terminal(fd: int) -> bytes:
    """Everything written to the terminal, until the last writer closes it."""
    seen = b""
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # EIO: no process holds the terminal any more
            return seen
        if not chunk:
            return seen
        seen += chunk
