"""The transport seam: plain request and response values, and the one adapter to aiohttp.

`HTTPTransport` (in `_http`) builds a `Request`, hands it to a `Transport`, and turns the
`Response` into data or a typed error; it retries. A transport only moves bytes: it sends one
request and reads the whole body (`send`), or opens a streamed response (`stream`). This
module is the only place in the library that uses the aiohttp client (`AiohttpTransport`);
tests and users can put an in-process transport in its place
(`twelvelabs_async.testing.MockTransport`), as with httpx's transports.
"""

from __future__ import annotations

import asyncio
import contextlib
import json as jsonlib
from collections.abc import AsyncGenerator, AsyncIterator, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, Protocol, runtime_checkable

import aiohttp
import attrs
from multidict import CIMultiDict, CIMultiDictProxy

from .errors import APIConnectionError, APITimeoutError, ClientClosedError, ConfigurationError

_SECRET_HEADERS = frozenset({"x-api-key"})
"""Request headers whose values a repr never shows."""


def _params(value: Sequence[tuple[str, str]] | None) -> tuple[tuple[str, str], ...] | None:
    return None if value is None else tuple((str(k), str(v)) for k, v in value)


def _headers(value: Mapping[str, str]) -> Mapping[str, str]:
    """Headers as a read-only, case-insensitive mapping (as HTTP header names are)."""
    if isinstance(value, CIMultiDictProxy):
        return value
    return CIMultiDictProxy(CIMultiDict(value))


@runtime_checkable
class Content(Protocol):
    """A request body other than JSON, produced while it is sent (a multipart upload, say).

    `chunks()` gives a fresh iterator of the body's bytes for each attempt. A body whose bytes
    can be produced once only (`replayable` False: an iterator the caller handed over) is never
    sent twice: the client does not retry it.
    """

    @property
    def content_type(self) -> str:
        """The `Content-Type` header, e.g. `multipart/form-data; boundary=...`."""
        ...

    @property
    def length(self) -> int | None:
        """The body's length in bytes, sent as `Content-Length`; None sends it chunked."""
        ...

    @property
    def replayable(self) -> bool:
        """Whether `chunks()` may be called again, for another attempt."""
        ...

    def chunks(self) -> AsyncIterator[bytes]:
        """The body's bytes, piece by piece, as the transport asks for them."""
        ...


def _described(content: Content | None) -> str:
    if content is None:
        return "None"
    return (
        f"<{type(content).__name__} {content.content_type.split(';')[0]} length={content.length}>"
    )


def _hidden(headers: Mapping[str, str]) -> str:
    shown = {k: "<hidden>" if k.lower() in _SECRET_HEADERS else v for k, v in headers.items()}
    return repr(shown)


@attrs.frozen(kw_only=True)
class Request:
    """One HTTP request, as the client hands it to a `Transport`.

    Its `repr` never shows the API key (`x-api-key` is printed as `<hidden>`).

    Attributes:
        method: the HTTP method, e.g. `GET`.
        url: the absolute URL, without the query string.
        timeout: seconds: for `Transport.send`, the bound of the whole exchange; for
            `Transport.stream`, the bound of connecting and of each read of the body.
        params: query parameters, in order (a key repeats for a list), or None.
        json: the JSON body, or None for no body.
        content: a body other than JSON, streamed as it is sent (`Content`), or None; never
            together with `json`. Its `repr` shows only its type and length.
        headers: the request headers (a case-insensitive mapping).
        max_body_bytes: for `Transport.send`, the most bytes of a 2xx body (counted after
            decompression) the client will take, or None for no limit. A transport may stop
            reading a longer body there: it then closes the connection and returns the first
            `max_body_bytes + 1` bytes, so that the client sees the body is too large.
        max_error_body_bytes: the same, for the body of any other status.
    """

    method: str
    url: str
    timeout: float
    params: tuple[tuple[str, str], ...] | None = attrs.field(default=None, converter=_params)
    json: Any = None
    content: Content | None = attrs.field(default=None, repr=_described)
    headers: Mapping[str, str] = attrs.field(factory=dict, converter=_headers, repr=_hidden)
    max_body_bytes: int | None = None
    max_error_body_bytes: int | None = None


@attrs.frozen
class Response:
    """A response read whole: status, headers and body.

    ```python
    Response(200, body=b'{"task_id": "t1", "status": "ready"}')
    Response.from_json(404, {"error": {"code": "resource_not_exist", "message": "no"}})
    Response(429, {"Retry-After": "2"})             # an empty body
    ```

    Attributes:
        status: the HTTP status.
        headers: the response headers (a case-insensitive mapping).
        body: the body bytes (what arrived, when it was cut off; the first `limit + 1`, when
            the transport stopped reading at the request's limit).
        incomplete: why a 2xx body stops short of what was announced (the connection
            closed early), or None when it was read whole. A transport raises
            `APIConnectionError` instead for an error status whose body was cut off.
    """

    status: int
    headers: Mapping[str, str] = attrs.field(factory=dict, converter=_headers)
    body: bytes = b""
    incomplete: str | None = None

    @classmethod
    def from_json(
        cls, status: int, data: Any, *, headers: Mapping[str, str] | None = None
    ) -> Response:
        """A response whose body is `data` as JSON, with `Content-Type: application/json`."""
        all_headers = {"Content-Type": "application/json", **(headers or {})}
        return cls(status, all_headers, jsonlib.dumps(data).encode())


@attrs.frozen
class StreamedResponse:
    """A response whose body is read as it arrives.

    Attributes:
        status: the HTTP status.
        headers: the response headers (a case-insensitive mapping).
        chunks: the body, chunk by chunk as it arrives; raises `APIConnectionError` when the
            connection breaks and `APITimeoutError` when a read waits past the timeout.
    """

    status: int
    headers: Mapping[str, str] = attrs.field(converter=_headers)
    chunks: AsyncIterator[bytes]


@runtime_checkable
class Transport(Protocol):
    """What sends the client's requests: pass one as `AsyncTwelveLabs(transport=...)`.

    A transport moves bytes and nothing else: the client adds the headers, retries, and maps
    statuses to errors. A failure to get a response is raised as `APIConnectionError` (with
    `request_sent=False` only when the request certainly never reached the server) or
    `APITimeoutError`; use after close raises `ClientClosedError`; any other exception is a bug
    and escapes as is. Redirects are never followed (they would carry the API key elsewhere).
    `send` may stop reading a body at the request's limit (`Request.max_body_bytes`); the
    client holds every response to its limits, whatever the transport returns.
    """

    async def send(self, request: Request) -> Response:
        """Send `request` and read the whole response, within `request.timeout` seconds."""
        ...

    def stream(self, request: Request) -> AbstractAsyncContextManager[StreamedResponse]:
        """Open a streamed response; it is released when the context exits.

        `request.timeout` bounds connecting and each read of the body, not the whole stream.
        """
        ...

    async def close(self) -> None:
        """Release what the transport holds; safe to call more than once."""
        ...


class AiohttpTransport:
    """The transport over aiohttp that `AsyncTwelveLabs` uses unless given another.

    Without a session, it creates one on first use (inside the running event loop), with a
    connection pool of `max_connections`, and closes it in `close()`. An aiohttp session
    belongs to the event loop it was created in, so used from another loop (a second
    `asyncio.run()`, another thread's loop) the transport creates a new session there and
    closes the old one in its own loop. A session it created is also closed when its loop
    shuts down (as `asyncio.run()` ends), so that none is left open. One loop at a time:
    requests still running in the old loop when another loop takes over are broken off.

    A session you pass is borrowed: used as is (its connector decides the pool) and never
    closed. Used from an event loop other than its own, it raises `ClientClosedError`:
    create the session, and the client, inside the loop that uses them.

    `send` reads a body only up to the request's `max_body_bytes` (or `max_error_body_bytes`),
    counted after decompression, and closes the connection past it rather than read the rest.

    Args:
        session: an `aiohttp.ClientSession` to borrow, or None to create one.
        max_connections: the pool size of the session it creates.
    """

    def __init__(
        self, *, session: aiohttp.ClientSession | None = None, max_connections: int = 64
    ) -> None:
        if session is not None and not isinstance(session, aiohttp.ClientSession):
            raise ConfigurationError("session must be an aiohttp.ClientSession")
        self.max_connections = max_connections
        self._session = session
        self._owns_session = session is None
        self._closed = False
        self._loop: asyncio.AbstractEventLoop | None = None
        """The event loop of the session it created."""
        self._closer: AsyncGenerator[None, None] | None = None
        """Closes the session it created: on `close()`, or when the session's loop shuts down."""

    @property
    def owns_session(self) -> bool:
        """True when this transport creates its session (and so closes it)."""
        return self._owns_session

    @property
    def session(self) -> aiohttp.ClientSession | None:
        """The session in use: the borrowed one, or the own one once created (else None)."""
        return self._session

    async def close(self) -> None:
        """Close the session it created (in its own event loop); a borrowed one is left open."""
        if self._closed:
            return
        self._closed = True
        closer, loop = self._closer, self._loop
        self._session = self._closer = self._loop = None
        if closer is not None and loop is not None:
            await _finish(closer, loop)

    async def _get_session(self) -> aiohttp.ClientSession:
        if self._closed:
            raise ClientClosedError("this transport is closed; create a new one")
        loop = asyncio.get_running_loop()
        session = self._session
        if not self._owns_session:
            assert session is not None
            if session.closed:
                raise ClientClosedError(
                    "the aiohttp session passed to AsyncTwelveLabs(session=...) was closed by "
                    "its owner; pass an open session or let the client create its own"
                )
            if _loop_of(session) not in (loop, None):
                raise ClientClosedError(
                    "the aiohttp session passed to AsyncTwelveLabs(session=...) belongs to "
                    "another event loop than the one running; create the session and the "
                    "client inside the event loop that uses them, or let the client create "
                    "its own session"
                )
            return session
        if session is not None and self._loop is loop and not session.closed:
            return session
        # First use, or use from another loop: a session of this loop (created lazily, inside
        # the running loop), whose closer this loop finalizes when it shuts down.
        old_closer, old_loop = self._closer, self._loop
        connector = aiohttp.TCPConnector(
            limit=self.max_connections, limit_per_host=self.max_connections
        )
        self._session = session = aiohttp.ClientSession(connector=connector)
        self._loop = loop
        self._closer = _closes_with_its_loop(session)
        await anext(self._closer)
        if old_closer is not None and old_loop is not None:
            await _finish(old_closer, old_loop)
        return session

    async def send(self, request: Request) -> Response:
        """Send the request and read the body, all within `request.timeout` seconds.

        A 2xx whose body is cut off is returned with `incomplete` saying so. A body longer
        than the request's limit is read no further: its first `limit + 1` bytes are returned.

        A request with `content` (an upload) may last longer than the timeout: then the
        timeout bounds each wait for progress (connecting, each piece of the body taken by the
        connection, the answer), not the whole exchange.
        """
        session = await self._get_session()
        content = request.content
        if content is None:
            timeout = aiohttp.ClientTimeout(total=request.timeout)
            return await self._send(session, request, None, request.headers, timeout)
        headers = {**request.headers, "Content-Type": content.content_type}
        if content.length is not None:
            headers["Content-Length"] = str(content.length)
        timeout = aiohttp.ClientTimeout(
            total=None, sock_connect=request.timeout, sock_read=request.timeout
        )
        progress = _Progress(request.timeout)
        try:
            async with asyncio.timeout(None) as watchdog:
                progress.watch(watchdog)
                return await self._send(session, request, progress.body(content), headers, timeout)
        except (TimeoutError, APIConnectionError) as exc:
            if progress.failure is not None:  # the body itself failed: its error, as raised
                raise progress.failure from None
            if isinstance(exc, APIConnectionError):
                raise
            raise APITimeoutError(
                f"the upload made no progress for {request.timeout:g}s (the per-request timeout)"
            ) from None
        finally:
            progress.stop()

    async def _send(
        self,
        session: aiohttp.ClientSession,
        request: Request,
        data: AsyncIterator[bytes] | None,
        headers: Mapping[str, str],
        timeout: aiohttp.ClientTimeout,
    ) -> Response:
        try:
            async with session.request(
                request.method,
                request.url,
                params=request.params,
                json=request.json,
                data=data,
                headers=headers,
                timeout=timeout,
                allow_redirects=False,  # a redirect elsewhere would carry the x-api-key header
            ) as resp:
                success = 200 <= resp.status < 300
                limit = request.max_body_bytes if success else request.max_error_body_bytes
                try:
                    body = await _read(resp, limit)
                except aiohttp.ClientPayloadError as exc:
                    if not success:
                        raise
                    return Response(resp.status, resp.headers, incomplete=_describe(exc))
                return Response(resp.status, resp.headers, body)
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise _failure(exc, request.timeout) from None

    @asynccontextmanager
    async def stream(self, request: Request) -> AsyncIterator[StreamedResponse]:
        """Open a streamed response: connecting and each read are bounded by the timeout."""
        session = await self._get_session()
        # A stream may last long: the timeout bounds connecting and each read, not the total.
        timeout = aiohttp.ClientTimeout(
            total=None, sock_connect=request.timeout, sock_read=request.timeout
        )
        try:
            resp = await session.request(
                request.method,
                request.url,
                params=request.params,
                json=request.json,
                headers=request.headers,
                timeout=timeout,
                allow_redirects=False,
            )
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise _failure(exc, request.timeout) from None
        try:
            yield StreamedResponse(resp.status, resp.headers, _chunks(resp, request.timeout))
        finally:
            resp.release()  # a body not read to its end closes the connection: never drained


class _Progress:
    """An upload's watchdog: the request is cancelled when `timeout` seconds pass without progress.

    Each piece of the body taken by the connection moves the deadline on (aiohttp asks for the
    next piece once it has written the last); so does the end of the body, after which the
    answer must begin within the timeout. The pieces are taken in aiohttp's writer task, which
    may outlive the request: once stopped, the watchdog is left alone. An exception raised by
    the body itself (a file that shrank, the caller's iterator failing) is kept in `failure`,
    so that the request raises it rather than aiohttp's "failed to send" wrapping of it.
    """

    def __init__(self, timeout: float) -> None:
        self._timeout = timeout
        self._watchdog: asyncio.Timeout | None = None
        self.failure: Exception | None = None

    def watch(self, watchdog: asyncio.Timeout) -> None:
        """Start the clock on `watchdog` (entered by the caller)."""
        self._watchdog = watchdog
        self._touch()

    def stop(self) -> None:
        """The request is over: no later piece moves the deadline."""
        self._watchdog = None

    def _touch(self) -> None:
        if self._watchdog is not None:
            self._watchdog.reschedule(asyncio.get_running_loop().time() + self._timeout)

    async def body(self, content: Content) -> AsyncIterator[bytes]:
        """`content`'s bytes, moving the deadline on as each piece is taken."""
        try:
            async for chunk in content.chunks():
                self._touch()
                yield chunk
        except Exception as exc:
            self.failure = exc
            raise
        self._touch()


def _loop_of(session: aiohttp.ClientSession) -> asyncio.AbstractEventLoop | None:
    """The event loop a session was created in (aiohttp keeps it; `session.loop` is deprecated)."""
    loop = getattr(session, "_loop", None)
    return loop if isinstance(loop, asyncio.AbstractEventLoop) else None


async def _closes_with_its_loop(session: aiohttp.ClientSession) -> AsyncGenerator[None, None]:
    """Suspended while `session` is in use; closes it when finished.

    It is started inside the session's loop, so that loop finalizes it when it shuts down
    (`asyncio.run()` and `asyncio.Runner` close every async generator still suspended, while
    the loop still runs): the session is closed there, cleanly, even if the transport never
    was.
    """
    try:
        yield
    finally:
        await session.close()


async def _finish(closer: AsyncGenerator[None, None], loop: asyncio.AbstractEventLoop) -> None:
    """Close a session through its closer, in the session's own loop when that still runs."""
    if loop is asyncio.get_running_loop() or loop.is_closed():
        await closer.aclose()  # here; a closed loop has already finalized it, or never will
        return
    # Another loop, maybe another thread's: as asyncio itself finalizes a generator. Nothing
    # is left to do if that loop closed meanwhile.
    with contextlib.suppress(RuntimeError):
        loop.call_soon_threadsafe(loop.create_task, closer.aclose())


async def _read(resp: aiohttp.ClientResponse, limit: int | None) -> bytes:
    """The body, read up to `limit + 1` bytes at most: past the limit the connection is closed."""
    if limit is None:
        return await resp.read()
    body = bytearray()
    async for chunk in resp.content.iter_any():
        body += chunk
        if len(body) > limit:
            resp.close()  # stop reading: closing the connection costs less than draining it
            del body[limit + 1 :]
            break
    return bytes(body)


async def _chunks(resp: aiohttp.ClientResponse, stall_after: float) -> AsyncIterator[bytes]:
    try:
        async for chunk in resp.content.iter_any():
            yield chunk
    except TimeoutError:
        raise APITimeoutError(f"the stream stalled for over {stall_after:g}s") from None
    except aiohttp.ClientError as exc:
        raise APIConnectionError(f"the stream broke: {_describe(exc)}") from None


def _failure(exc: BaseException, timeout: float) -> APIConnectionError:
    """Wrap a transport failure; `request_sent` is False only when no connection was made."""
    if isinstance(exc, TimeoutError):
        return APITimeoutError(
            f"no response within the {timeout:g}s per-request timeout",
            request_sent=not isinstance(exc, aiohttp.ConnectionTimeoutError),
        )
    return APIConnectionError(
        _describe(exc), request_sent=not isinstance(exc, aiohttp.ClientConnectorError)
    )


def _describe(exc: BaseException) -> str:
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
