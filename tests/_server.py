"""A real loopback HTTP server (aiohttp.web on 127.0.0.1, port 0) with scripted replies.

Each route gets a queue of replies: each request takes the next one and the last one repeats.
Every request is recorded (method, path, query, headers, body) so that tests can count
attempts and inspect exactly what the client sent. Handlers are cancelled when the client
disconnects, so a handler that hangs never outlives its test.

The hostile replies (`lazy`, `gzip_bomb`, `long_line`) write huge bodies a block at a time, as
the client reads them: the server holds one block, however large the body it pretends to send,
and stops when the client closes the connection.
"""

from __future__ import annotations

import asyncio
import json
import socket
import struct
import threading
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from aiohttp import web
from multidict import CIMultiDictProxy

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
PREFIX = "/v1.3"


@asynccontextmanager
async def serving(app: web.Application) -> AsyncIterator[str]:
    """Serve `app` on a free loopback port for the block; yields `http://127.0.0.1:<port>`."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


@dataclass(frozen=True)
class Seen:
    """One request as the server received it."""

    method: str
    path: str
    query: list[tuple[str, str]]
    headers: CIMultiDictProxy[str]
    body: bytes

    def json(self) -> Any:
        """The request body decoded as JSON."""
        return json.loads(self.body)


class LoopbackServer:
    """An aiohttp.web server on 127.0.0.1 with an ephemeral port; use as `async with`."""

    def __init__(self) -> None:
        self.requests: list[Seen] = []
        self._routes: dict[tuple[str, str], list[Handler]] = {}
        self._runner: web.AppRunner | None = None
        self.port = 0

    @property
    def base_url(self) -> str:
        """The API root to give the client."""
        return f"http://127.0.0.1:{self.port}{PREFIX}"

    def on(self, method: str, path: str, *replies: Handler) -> None:
        """Answer `method path` (relative to the API root) with `replies`, the last repeating."""
        self._routes[(method, f"{PREFIX}/{path}")] = list(replies)

    def seen(self, method: str, path: str) -> list[Seen]:
        """The requests received for `method path` (relative to the API root)."""
        full = f"{PREFIX}/{path}"
        return [r for r in self.requests if r.method == method and r.path == full]

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        self.requests.append(
            Seen(request.method, request.path, list(request.query.items()), request.headers, body)
        )
        replies = self._routes.get((request.method, request.path))
        if not replies:
            return web.json_response({"code": "no_route", "message": request.path}, status=418)
        reply = replies.pop(0) if len(replies) > 1 else replies[0]
        return await reply(request)

    async def __aenter__(self) -> LoopbackServer:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        self._runner = web.AppRunner(
            app, handler_cancellation=True, shutdown_timeout=1.0, access_log=None
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


@contextmanager
def in_a_thread() -> Iterator[tuple[LoopbackServer, asyncio.AbstractEventLoop]]:
    """A `LoopbackServer` on an event loop of its own, run by a thread: it outlives any
    `asyncio.run()` of the test. Yields the server and its loop (to run a client there too).
    """
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    server = LoopbackServer()

    def run(coro: Awaitable[Any]) -> Any:
        async def main() -> Any:
            return await coro

        return asyncio.run_coroutine_threadsafe(main(), loop).result(timeout=10)

    run(server.__aenter__())
    try:
        yield server, loop
    finally:
        run(server.__aexit__(None, None, None))
        run(loop.shutdown_asyncgens())
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.close()


# --- replies --------------------------------------------------------------------------------


def reply(
    status: int = 200,
    data: Any = None,
    *,
    body: bytes | None = None,
    headers: Mapping[str, str] | None = None,
) -> Handler:
    """A reply with a JSON body (`data`) or raw `body` bytes."""

    async def handler(request: web.Request) -> web.StreamResponse:
        raw = body if body is not None else (b"" if data is None else json.dumps(data).encode())
        hdrs = {"Content-Type": "application/json", **(headers or {})}
        return web.Response(status=status, body=raw, headers=hdrs)

    return handler


def cut_off(partial: bytes, *, length: int = 1000, status: int = 200) -> Handler:
    """A reply announcing `Content-Length: length` that sends only `partial` and then closes."""

    async def handler(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(status=status, headers={"Content-Type": "application/json"})
        resp.content_length = length
        await resp.prepare(request)
        await resp.write(partial)
        assert request.transport is not None
        request.transport.close()
        return resp

    return handler


def reset() -> Handler:
    """Close the connection without sending any response."""

    async def handler(request: web.Request) -> web.StreamResponse:
        assert request.transport is not None
        request.transport.close()
        return web.Response()

    return handler


def hang(started: asyncio.Event | None = None) -> Handler:
    """Never answer (the handler is cancelled when the client goes away)."""

    async def handler(request: web.Request) -> web.StreamResponse:
        if started is not None:
            started.set()
        await asyncio.sleep(3600)
        raise AssertionError("unreachable")  # pragma: no cover

    return handler


def ndjson(chunks: Iterable[bytes], *, drop: bool = False) -> Handler:
    """A chunked 200 that writes each chunk separately; with `drop`, close instead of ending."""

    async def handler(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(status=200, headers={"Content-Type": "application/x-ndjson"})
        await resp.prepare(request)
        for chunk in chunks:
            await resp.write(chunk)
            await asyncio.sleep(0.005)  # let each chunk reach the client on its own
        if drop:
            assert request.transport is not None
            request.transport.close()
            return resp
        await resp.write_eof()
        return resp

    return handler


def closed_port() -> int:
    """A local port that nothing listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


# --- hostile replies -------------------------------------------------------------------------

MIB = 1024 * 1024
BLOCK = b"x" * MIB
"""What the lazy replies repeat: one MiB of `x`."""


def lazy(
    status: int,
    head: bytes,
    size: int,
    *,
    tail: bytes = b"",
    content_type: str = "application/json",
    sent: asyncio.Queue[int] | None = None,
) -> Handler:
    """`head`, then `x` up to `size` bytes in all, then `tail`, written a MiB at a time.

    When the handler ends (the body sent, or the client gone), the number of bytes it wrote is
    put in `sent`.
    """

    async def handler(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(status=status, headers={"Content-Type": content_type})
        resp.content_length = size + len(tail)
        written = 0
        try:
            await resp.prepare(request)
            await resp.write(head)
            written = len(head)
            while written < size:
                await resp.write(BLOCK[: min(size - written, MIB)])
                written = min(size, written + MIB)
            await resp.write(tail)
            await resp.write_eof()
        finally:
            if sent is not None:
                sent.put_nowait(written)
        return resp

    return handler


def long_line(size: int, *, sent: asyncio.Queue[int] | None = None) -> Handler:
    """A streamed 200 whose first NDJSON line (a text_generation event) is `size` bytes long."""
    head = b'{"event_type": "text_generation", "text": "'
    return lazy(200, head, size - 2, tail=b'"}\n', content_type="application/x-ndjson", sent=sent)


def gzip_bomb(mebibytes: int, *, status: int = 200) -> Handler:
    """A `Content-Encoding: gzip` body of about 1 KiB a MiB that inflates to `mebibytes` MiB.

    The zeros are compressed once; the stream repeats that block (each ends in a full flush,
    so that it stands alone) and ends with a valid gzip trailer.
    """
    zeros = bytes(MIB)
    compress = zlib.compressobj(9, zlib.DEFLATED, 31)
    first = compress.compress(zeros) + compress.flush(zlib.Z_FULL_FLUSH)
    block = compress.compress(zeros) + compress.flush(zlib.Z_FULL_FLUSH)

    async def handler(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(
            status=status,
            headers={"Content-Type": "application/json", "Content-Encoding": "gzip"},
        )
        await resp.prepare(request)
        await resp.write(first)
        crc = zlib.crc32(zeros)
        for _ in range(mebibytes - 1):
            await resp.write(block)
            crc = zlib.crc32(zeros, crc)
        # The last block (final, empty), then the CRC-32 and the size of what it inflates to.
        await resp.write(b"\x03\x00" + struct.pack("<II", crc, (mebibytes * MIB) & 0xFFFFFFFF))
        await resp.write_eof()
        return resp

    return handler
