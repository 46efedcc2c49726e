"""Calls against a hostile server, in a process of their own, and what each cost.

`python -m tests._hostile SCENARIO...` serves each scenario on loopback (in this process: the
lazy replies of `tests._server` hold one MiB, however large the body they send), warms the
client up with one small request, makes the one call, and prints a JSON object a line: the
class of the exception it raised (or null), the peak resident memory the call added
(`ru_maxrss`, in MiB) and the CPU seconds it took (`time.process_time()`, server included).
The peak is a process's own, so only the first scenario's memory starts from a fresh process;
the tests in `test_hostile_server.py` read the memory of first scenarios only.

`long-line-in-chunks` needs no server: a transport hands the client a 32 MiB line in 4 KiB
chunks, to measure the splitting of lines alone.
"""

from __future__ import annotations

import asyncio
import json
import resource
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from tests._server import MIB, LoopbackServer, gzip_bomb, lazy, long_line, reply
from twelvelabs_async import AsyncTwelveLabs, Request, Response, StreamedResponse

API_KEY = "tlk_hostile_test_key_0123456789"
TASK = {"task_id": "t1", "status": "ready"}
VIDEO = "https://cdn.example/v.mp4"
Call = Callable[[AsyncTwelveLabs], Awaitable[Any]]


async def retrieve(client: AsyncTwelveLabs) -> Any:
    """One `retrieve()` of task t1."""
    return await client.analyze.tasks.retrieve("t1")


async def stream_text(client: AsyncTwelveLabs) -> Any:
    """A streamed analysis read to its end."""
    return await client.analyze.stream(video=VIDEO, prompt="Summarize").text()


SERVED: dict[str, tuple[str, str, Any, Call]] = {
    "gzip-bomb": ("GET", "analyze/tasks/t1", gzip_bomb(512), retrieve),
    "huge-json": ("GET", "analyze/tasks/t1", lazy(200, b'{"task_id": "', 1024 * MIB), retrieve),
    "long-line": ("POST", "analyze", long_line(400 * MIB), stream_text),
}


class ChunkedLine:
    """A transport whose every stream is one line of `size` bytes, in chunks of `chunk` bytes."""

    def __init__(self, size: int, chunk: int) -> None:
        self.size = size
        self.chunk = chunk

    async def send(self, request: Request) -> Response:
        """Not used."""
        raise NotImplementedError

    async def _chunks(self) -> AsyncIterator[bytes]:
        head = b'{"event_type": "text_generation", "text": "'
        yield head
        piece = b"x" * self.chunk
        for _ in range((self.size - len(head)) // self.chunk):
            yield piece
        yield b'"}\n'

    @asynccontextmanager
    async def stream(self, request: Request) -> AsyncIterator[StreamedResponse]:
        """The line, chunk by chunk."""
        yield StreamedResponse(200, {"Content-Type": "application/x-ndjson"}, self._chunks())

    async def close(self) -> None:
        """Nothing to release."""


async def measure(client: AsyncTwelveLabs, call: Call) -> dict[str, Any]:
    """Run `call` once; its exception's class, the peak memory it added, its CPU seconds."""
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    cpu = time.process_time()
    error = None
    try:
        await call(client)
    except Exception as exc:
        error = type(exc).__name__
    return {
        "error": error,
        "rss_mib": (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss) / 1024,
        "cpu": time.process_time() - cpu,
    }


async def main(scenario: str) -> dict[str, Any]:
    """Serve `scenario`, warm the client up, and measure the one call."""
    if scenario == "long-line-in-chunks":
        transport = ChunkedLine(32 * MIB, 4 * 1024)
        async with AsyncTwelveLabs(API_KEY, transport=transport, max_line_bytes=64 * MIB) as client:
            return await measure(client, stream_text)
    method, path, handler, call = SERVED[scenario]
    async with LoopbackServer() as server:
        server.on("GET", "analyze/tasks/warm", reply(200, {**TASK, "task_id": "warm"}))
        server.on(method, path, handler)
        async with AsyncTwelveLabs(API_KEY, base_url=server.base_url, max_retries=0) as client:
            await client.analyze.tasks.retrieve("warm")
            return await measure(client, call)


if __name__ == "__main__":
    for name in sys.argv[1:]:
        print(json.dumps(asyncio.run(main(name))), flush=True)
