"""The one seam between the resources and HTTP: requests, one retry loop, errors.

Resources call `HTTPTransport.request()` / `.stream()` and never touch a transport. A
`Transport` (`_transport`; aiohttp unless the client was given another) moves the bytes and
wraps every failure to get a response in `APIConnectionError` / `APITimeoutError`. Status codes
become typed errors through the pure `errors.error_from_response`; whether and when to try again
is the pure `_retry.decide`. Both `request()` and `stream()` run through `_retrying`.

Nothing a server sends is trusted: a body is read only up to a limit (a smaller one for an error
status), a streamed line only up to another, and server text reaches an exception or a log line
only through `_untrusted.shown` (cut short, escaped, the API key redacted).

Every attempt is logged at DEBUG on the `twelvelabs_async` logger, one line with its fields as
the record's attributes (`_request_log`); every retry at INFO.
"""

from __future__ import annotations

import logging
import random
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

import attrs

from ._clock import Clock
from ._priority import REQUEST_PRIORITY
from ._request_log import Attempt
from ._retry import RetryPolicy, decide, failure_of, is_idempotent, server_requested_delay
from ._transport import AiohttpTransport, Content, Request, StreamedResponse, Transport
from ._untrusted import loads, shown
from .errors import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    ClientClosedError,
    DecodeError,
    ResponseTooLargeError,
    error_from_response,
)

if TYPE_CHECKING:
    import aiohttp

    from .coordination import Coordinator

logger = logging.getLogger("twelvelabs_async")

T = TypeVar("T")
Params = Sequence[tuple[str, str]]
Headers = Mapping[str, str]
Decoder = Callable[[bytes, int], T]
Listener = Callable[[int, Mapping[str, str]], None]

MAX_ERROR_BODY_BYTES = 64 * 1024
"""The most bytes of an error status's body read: enough for any error the API writes (a few
hundred bytes) or a proxy's error page, of which a message shows a few hundred characters."""


def decode_json(body: bytes, status: int) -> Any:
    """Parse a JSON body, or raise `DecodeError` when it is empty, cut off or not JSON.

    Any failure to decode it is a `DecodeError`, a document nested too deeply included.
    """
    try:
        return loads(body)
    except ValueError as exc:
        snippet = body[:80].decode("utf-8", errors="replace")
        raise DecodeError(
            f"the response body is not valid JSON ({exc}); it starts with {snippet!r}",
            status_code=status,
        ) from None


def no_body(body: bytes, status: int) -> None:
    """The decoder of a request that expects no body (a DELETE): any 2xx succeeds.

    The body is not read, so a 2xx whose body is cut off succeeds as well.
    """
    return None


class HTTPTransport:
    """Sends requests for one client: auth headers, per-request timeout, retries, error mapping.

    Args:
        api_key: sent as `x-api-key`; never shown in a repr, log line or error.
        base_url: the API root.
        user_agent: the `User-Agent` header.
        timeout: the per-request timeout (for a stream: of connecting and of each read).
        max_connections: the pool size of the aiohttp transport created here.
        max_response_bytes: the most bytes of a response body read, after decompression
            (of an error status's body: at most `MAX_ERROR_BODY_BYTES`); a 2xx body over it
            raises `ResponseTooLargeError`.
        max_line_bytes: the most bytes of one line of a streamed response; a longer line
            raises `ResponseTooLargeError`.
        retry: the retry policy.
        clock: where time is read and retries sleep.
        session: an aiohttp session for the transport created here to borrow.
        transport: the transport to send through (borrowed: never closed here); None for an
            `AiohttpTransport` created, and closed, here.
        rng: the source of jitter.
        coordinator: where every attempt takes a token of a budget shared with other
            processes first (at the priority `REQUEST_PRIORITY` says), and reports its answer
            after; None for none.
    """

    def __init__(
        self,
        *,
        api_key: str,
        base_url: str,
        user_agent: str,
        timeout: float,
        max_connections: int,
        max_response_bytes: int,
        max_line_bytes: int,
        retry: RetryPolicy,
        clock: Clock,
        session: aiohttp.ClientSession | None = None,
        transport: Transport | None = None,
        rng: random.Random | None = None,
        coordinator: Coordinator | None = None,
    ) -> None:
        self.coordinator = coordinator
        """The coordinator every request of this client takes part in, or None."""
        self._headers = {
            "x-api-key": api_key,
            "User-Agent": user_agent,
            "Accept": "application/json",
        }
        self.base_url = base_url
        self.timeout = timeout
        self.max_connections = max_connections
        self.max_response_bytes = max_response_bytes
        self.max_error_body_bytes = min(max_response_bytes, MAX_ERROR_BODY_BYTES)
        self.max_line_bytes = max_line_bytes
        self.retry = retry
        self.clock = clock
        self.rng = rng or random.Random()
        self._own: AiohttpTransport | None = None
        if transport is None:
            transport = self._own = AiohttpTransport(
                session=session, max_connections=max_connections
            )
        self.transport: Transport = transport
        """What sends the requests."""
        self._closed = False
        self._listeners: list[Listener] = []

    def add_listener(self, listener: Listener) -> None:
        """Call `listener(status, headers)` for every response received (e.g. rate limits)."""
        self._listeners.append(listener)

    def remove_listener(self, listener: Listener) -> None:
        """Stop calling a listener added with `add_listener`."""
        self._listeners.remove(listener)

    def _received(self, attempt: Attempt, status: int, headers: Mapping[str, str]) -> None:
        """A response arrived: note it for the attempt's log line and tell the listeners."""
        attempt.received(status, headers)
        for listener in tuple(self._listeners):
            listener(status, headers)

    async def _admit(self) -> None:
        """Wait for a token of the coordinator's shared budget (when there is a coordinator)."""
        if self.coordinator is not None:
            await self.coordinator.acquire(REQUEST_PRIORITY.get())

    async def _report(self, status: int, headers: Mapping[str, str]) -> None:
        """Tell the coordinator what an answer says of the shared budget."""
        if self.coordinator is not None:
            await self.coordinator.report(status, headers)

    @property
    def closed(self) -> bool:
        """True after `close()`."""
        return self._closed

    @property
    def owns_session(self) -> bool:
        """True when this transport created its session (and so will close it)."""
        return self._own is not None and self._own.owns_session

    async def close(self) -> None:
        """Close the transport created here (which closes its own session, not a borrowed one).

        A transport passed in is left open, like a borrowed session.
        """
        if self._closed:
            return
        self._closed = True
        if self._own is not None:
            await self._own.close()

    def url(self, path: str) -> str:
        """The absolute URL of an API path (whose ids `path_id` has checked)."""
        return f"{self.base_url}/{path}"

    def _request(
        self,
        method: str,
        path: str,
        params: Params | None,
        body: Any,
        extra: Headers | None,
        content: Content | None = None,
    ) -> Request:
        """A request of `path`: the client's headers (plus `extra`) and timeout."""
        return Request(
            method=method,
            url=self.url(path),
            timeout=self.timeout,
            params=params,
            json=body,
            content=content,
            headers={**self._headers, **extra} if extra else self._headers,
            max_body_bytes=self.max_response_bytes,
            max_error_body_bytes=self.max_error_body_bytes,
        )

    async def request(
        self,
        method: str,
        path: str,
        decode: Decoder[T],
        *,
        params: Params | None = None,
        json_body: Any = None,
        content: Content | None = None,
        headers: Mapping[str, str] | None = None,
        deadline: float | None = None,
        idempotent: bool | None = None,
        retries: int | None = None,
    ) -> T:
        """Send a request with retries and return `decode(body, status)` of the 2xx response.

        What is retried follows the one rule of `_retry.decide`.

        Args:
            method: the HTTP method.
            path: the API path relative to the base URL, its ids checked by `path_id`.
            decode: turns the body into the result; raises `DecodeError` when it cannot.
                `no_body` for a request that expects no body (any 2xx succeeds).
            params: query parameters (repeat a key to send a list).
            json_body: the JSON body, or None for none.
            content: a body other than JSON (a multipart upload), streamed; never retried
                when its bytes can be produced once only (`Content.replayable`).
            headers: extra request headers (e.g. `Idempotency-Key`).
            deadline: a time on the clock's `monotonic()` that no retry may sleep past (the
                last error is raised instead); None for no limit.
            idempotent: whether repeating the request cannot do the work twice; None (the
                default) decides by the method and an `Idempotency-Key` header
                (`_retry.is_idempotent`). Pass True for an operation the API documents as
                idempotent.
            retries: overrides the client's `max_retries` for this request (the tracker
                passes 0 and schedules retries itself, inside its request budget).
        """
        request = self._request(method, path, params, json_body, headers, content)
        context = f"{method} /{path}"
        if content is not None and not content.replayable:
            retries = 0  # its bytes are gone once sent

        async def attempt(this: Attempt) -> T:
            await self._admit()
            response = await self.transport.send(request)
            self._received(this, response.status, response.headers)
            await self._report(response.status, response.headers)
            if not 200 <= response.status < 300:
                raise self._error(response.status, response.headers, response.body, context)
            if decode is no_body:
                return decode(response.body, response.status)
            if len(response.body) > self.max_response_bytes:
                raise ResponseTooLargeError(
                    f"{context}: the response body is larger than the limit of "
                    f"{self.max_response_bytes:,} bytes (max_response_bytes); it was not "
                    "read further",
                    limit=self.max_response_bytes,
                    status_code=response.status,
                )
            if response.incomplete is not None:
                raise DecodeError(
                    f"{context}: the response body was cut off: {response.incomplete}",
                    status_code=response.status,
                )
            try:
                return decode(response.body, response.status)
            except DecodeError as exc:
                raise DecodeError(
                    f"{context}: {shown(exc.message, self._key)}",
                    path=exc.path,
                    status_code=exc.status_code,
                ) from None

        if idempotent is None:
            idempotent = is_idempotent(method, headers)
        return await self._retrying(attempt, method, path, idempotent, deadline, retries)

    async def put_external(
        self, url: str, content: Content, *, timeout: float | None = None
    ) -> Mapping[str, str]:
        """PUT `content` to an absolute URL outside the API (a presigned URL), once, bare.

        Nothing of the client's credentials goes with it: no `x-api-key` (such a URL carries
        its own authorization, and the key must never reach a third party), no other client
        header but `User-Agent`. Sent once and never retried here: a presigned URL is
        single-use, so the caller retries on a fresh one. TLS is verified and redirects are
        not followed, as for every request. The attempt is logged like any other, naming the
        URL's host only (its path and query, which holds the signature, are never logged).

        Args:
            url: the absolute `http(s)` URL, as the API handed it out.
            content: the body; its `content_type` is sent as `Content-Type`.
            timeout: the per-request timeout (for a body: of each wait for progress); None
                for the client's.

        Returns:
            The response headers of a 2xx (its body is not read).

        Raises:
            APIError: the subclass for any other status (403 for a refused or expired URL).
            APIConnectionError: no response (`APITimeoutError` past the timeout).
            ClientClosedError: the client is closed.
        """
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise DecodeError(f"not an absolute http(s) URL: {shown(url, self._key)}")
        if self._closed:
            raise ClientClosedError(
                "this AsyncTwelveLabs client is closed; create a new client to send requests"
            )
        request = Request(
            method="PUT",
            url=url,
            timeout=self.timeout if timeout is None else timeout,
            content=content,
            headers={"User-Agent": self._headers["User-Agent"]},
            max_body_bytes=self.max_error_body_bytes,
            max_error_body_bytes=self.max_error_body_bytes,
        )
        where = f"<presigned URL at {shown(parts.hostname, self._key)}>"
        context = f"PUT {where}"
        this = Attempt("PUT", where.removeprefix("/"), 1, 1, self.clock.monotonic())
        try:
            response = await self.transport.send(request)
            this.received(response.status, response.headers)  # not the API's: no listener
            if not 200 <= response.status < 300:
                raise self._error(response.status, response.headers, response.body, context)
        except APIConnectionError as exc:
            error = _in_context(exc, context, self._key)
            self._logged(this, error)
            raise error from None
        except BaseException as exc:
            self._logged(this, exc)
            raise
        self._logged(this, None)
        return response.headers

    @asynccontextmanager
    async def stream(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        accept: str = "application/x-ndjson, application/json",
        retries: int | None = None,
    ) -> AsyncIterator[AsyncIterator[bytes]]:
        """Open a streamed response and yield an iterator over its body's lines.

        Failures before the body starts (error statuses, connection errors) are retried like
        `request()`, by the same rule: a GET after any connection failure, other methods only
        when the request never reached the server. Once lines flow, nothing is retried. The
        response is released on exit. `accept` is the `Accept` header; `retries` overrides
        `max_retries`.
        """
        request = self._request(method, path, None, json_body, {"Accept": accept})
        context = f"{method} /{path}"

        async def attempt(this: Attempt) -> tuple[AsyncExitStack, StreamedResponse]:
            await self._admit()
            async with AsyncExitStack() as stack:
                response = await stack.enter_async_context(self.transport.stream(request))
                self._received(this, response.status, response.headers)
                await self._report(response.status, response.headers)
                if 200 <= response.status < 300:
                    return stack.pop_all(), response  # the caller releases it
                body = await _head(response.chunks, self.max_error_body_bytes)
            raise self._error(response.status, response.headers, body, context)

        idempotent = is_idempotent(method, request.headers)
        opened, response = await self._retrying(attempt, method, path, idempotent, None, retries)
        async with opened:
            yield _iter_lines(response.chunks, context, self.max_line_bytes, self._key)

    async def _retrying(
        self,
        attempt: Callable[[Attempt], Awaitable[T]],
        method: str,
        path: str,
        idempotent: bool,
        deadline: float | None,
        retries: int | None,
    ) -> T:
        """The one retry loop: run `attempt` until it succeeds or `decide` gives up.

        Each attempt, whatever ends it (a cancellation too), is logged at DEBUG (`_logged`).
        """
        policy = self.retry if retries is None else attrs.evolve(self.retry, max_retries=retries)
        context = f"{method} /{path}"
        number = 0
        while True:
            if self._closed:
                raise ClientClosedError(
                    "this AsyncTwelveLabs client is closed; create a new client to send requests"
                )
            this = Attempt(method, path, number + 1, policy.max_retries + 1, self.clock.monotonic())
            try:
                result = await attempt(this)
            except APIConnectionError as exc:
                error: APIError | APIConnectionError | DecodeError = _in_context(
                    exc, context, self._key
                )
            except (APIError, DecodeError) as exc:
                error = exc
            except BaseException as exc:  # cancelled, or a bug: logged, then raised as is
                self._logged(this, exc)
                raise
            else:
                self._logged(this, None)
                return result
            self._logged(this, error)
            time_left = None if deadline is None else deadline - self.clock.monotonic()
            delay = decide(
                failure_of(error),
                number,
                policy,
                self.rng,
                idempotent=idempotent,
                time_left=time_left,
                now=self.clock.time(),
            )
            if delay is None:
                raise error from None
            logger.info(
                "retrying %s in %.2fs (retry %d of %d) after %s: %s",
                context,
                delay,
                number + 1,
                policy.max_retries,
                type(error).__name__,
                error,
            )
            await self.clock.sleep(delay)
            number += 1

    def _logged(self, attempt: Attempt, error: BaseException | None) -> None:
        """Log an attempt's outcome at DEBUG, its fields as the record's attributes."""
        if logger.isEnabledFor(logging.DEBUG):
            message, args, extra = attempt.record(self.clock.monotonic(), error, self._key)
            logger.debug(message, *args, extra=extra)

    def _error(
        self, status: int, headers: Mapping[str, str], body: bytes, context: str
    ) -> APIError:
        hint = server_requested_delay(status, headers, self.clock.time())
        return error_from_response(
            status,
            headers,
            body[: self.max_error_body_bytes],  # what a transport read past the limit is unused
            retry_after=hint,
            context=context,
            secret=self._key,
        )

    @property
    def _key(self) -> str:
        return self._headers["x-api-key"]


def _in_context(exc: APIConnectionError, context: str, secret: str) -> APIConnectionError:
    """The transport's failure, its message prefixed with the request (`GET /path: ...`).

    The message may quote the server (a malformed status line, say): it is shown safely.
    """
    cls = APITimeoutError if isinstance(exc, APITimeoutError) else APIConnectionError
    return cls(f"{context}: {shown(str(exc), secret)}", request_sent=exc.request_sent)


async def _head(chunks: AsyncIterator[bytes], limit: int) -> bytes:
    """The first `limit` bytes of a streamed body; the rest is never read."""
    body = bytearray()
    async for chunk in chunks:
        body += chunk
        if len(body) >= limit:
            break
    return bytes(body[:limit])


async def _iter_lines(
    chunks: AsyncIterator[bytes], context: str, limit: int, secret: str
) -> AsyncIterator[bytes]:
    """Yield the body's lines (without the newline), reassembling lines split across chunks.

    Linear in the body's length: each chunk is searched for newlines once, from where the last
    line ended, and the start of a line split across chunks is kept as a list of pieces,
    joined once when its newline comes. A line longer than `limit` bytes raises
    `ResponseTooLargeError` as soon as that many bytes of it have arrived.
    """
    pieces: list[bytes] = []  # the start of the current line, from earlier chunks
    size = 0  # its length
    try:
        async for chunk in chunks:
            start = 0
            while (end := chunk.find(b"\n", start)) >= 0:
                if size + end - start > limit:
                    raise _line_too_long(context, limit)
                if pieces:
                    pieces.append(chunk[start:end])
                    line = b"".join(pieces)
                    pieces, size = [], 0
                else:
                    line = chunk[start:end]
                yield line
                start = end + 1
            if start < len(chunk):
                size += len(chunk) - start
                if size > limit:
                    raise _line_too_long(context, limit)
                pieces.append(chunk[start:] if start else chunk)
    except APIConnectionError as exc:  # the stream stalled or broke
        raise _in_context(exc, context, secret) from None
    if pieces:
        yield b"".join(pieces)


def _line_too_long(context: str, limit: int) -> ResponseTooLargeError:
    return ResponseTooLargeError(
        f"{context}: a line of the streamed response is longer than the limit of {limit:,} "
        "bytes (max_line_bytes); the stream was not read further",
        limit=limit,
    )
