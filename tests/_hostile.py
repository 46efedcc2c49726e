"""Calls against a hostile server, in a process of their own, and what each cost.

`python -m tests._hostile SCENARIO...` makes each scenario's one call and prints a JSON object
a line: the class of the exception it raised (or null), the peak resident memory the call added
(`ru_maxrss`, in MiB) and the CPU seconds it took (`time.process_time()`). The tests in
`test_hostile_server.py` run it, so that each measure starts from a fresh process.

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

from twelvelabs_async import AsyncTwelveLabs, Request, Response, StreamedResponse

MIB = 1024 * 1024
API_KEY = "tlk_hostile_test_key_0123456789"
VIDEO = "https://cdn.example/v.mp4"
Call = Callable[[AsyncTwelveLabs], Awaitable[Any]]


async def stream_text(client: AsyncTwelveLabs) -> Any:
    """A streamed analysis read to its end."""
    return await client.analyze.stream(video=VIDEO, prompt="Summarize").text()


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
    """Measure the one call of `scenario`."""
    assert scenario == "long-line-in-chunks", scenario
    async with AsyncTwelveLabs(API_KEY, transport=ChunkedLine(32 * MIB, 4 * 1024)) as client:
        return await measure(client, stream_text)


if __name__ == "__main__":
    for name in sys.argv[1:]:
        print(json.dumps(asyncio.run(main(name))), flush=True)
