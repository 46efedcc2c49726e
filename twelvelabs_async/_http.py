"""The one seam to aiohttp: building requests, retries, and turning responses into data or errors.

Resources call `HTTPTransport.request()` / `.stream()` and never touch aiohttp. Every aiohttp
exception is wrapped here (`APIConnectionError`, `APITimeoutError`); status codes become typed
errors through the pure `errors.error_from_response`; retry decisions come from `_retry`.
"""

from __future__ import annotations

import json
import logging
import random
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import aiohttp
import attrs

from ._clock import Clock
from ._retry import RetryPolicy, is_retryable_status, retry_delay, server_requested_delay
from .errors import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    ClientClosedError,
    DecodeError,
    TwelveLabsError,
    error_from_response,
)

logger = logging.getLogger("twelvelabs_async")

T = TypeVar("T")
Params = Sequence[tuple[str, str]]
Decoder = Callable[[bytes, int], T]
Listener = Callable[[int, Mapping[str, str]], None]


def decode_json(body: bytes, status: int) -> Any:
    """Parse a JSON body, or raise `DecodeError` when it is empty, cut off or not JSON."""
    try:
        return json.loads(body)
    except ValueError as exc:
        snippet = body[:80].decode("utf-8", errors="replace")
        raise DecodeError(
            f"the response body is not valid JSON ({exc}); it starts with {snippet!r}",
            status_code=status,
        ) from None


class HTTPTransport:
    """Sends requests for one client: auth headers, per-request timeout, retries, error mapping."""

    def __init__(
        self,
        *,
        api_key: str,
        base_url: str,
        user_agent: str,
        timeout: float,
        max_connections: int,
        retry: RetryPolicy,
        clock: Clock,
        session: aiohttp.ClientSession | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self._headers = {
            "x-api-key": api_key,
            "User-Agent": user_agent,
            "Accept": "application/json",
        }
        self.base_url = base_url
        self.timeout = timeout
        self.max_connections = max_connections
        self.retry = retry
        self.clock = clock
        self.rng = rng or random.Random()
        self._session = session
        self._owns_session = session is None
        self._closed = False
        self._listeners: list[Listener] = []

    def add_listener(self, listener: Listener) -> None:
        """Call `listener(status, headers)` for every response received (e.g. rate limits)."""
        self._listeners.append(listener)

    def remove_listener(self, listener: Listener) -> None:
        """Stop calling a listener added with `add_listener`."""
        self._listeners.remove(listener)

    def _notify(self, status: int, headers: Mapping[str, str]) -> None:
        for listener in tuple(self._listeners):
            listener(status, headers)

    @property
    def closed(self) -> bool:
        """True after `close()`."""
        return self._closed

    @property
    def owns_session(self) -> bool:
        """True when this transport created its session (and so will close it)."""
        return self._owns_session

    async def close(self) -> None:
        """Close the session if this transport created it; a borrowed session is left open."""
        if self._closed:
            return
        self._closed = True
        session, self._session = self._session, None
        if session is not None and self._owns_session:
            await session.close()

    def _get_session(self) -> aiohttp.ClientSession:
        if self._closed:
            raise ClientClosedError(
                "this AsyncTwelveLabs client is closed; create a new client to send requests"
            )
        if self._session is None:
            # Created lazily, inside the running event loop, on the first request.
            connector = aiohttp.TCPConnector(
                limit=self.max_connections, limit_per_host=self.max_connections
            )
            self._session = aiohttp.ClientSession(connector=connector)
        elif self._session.closed:
            raise ClientClosedError(
                "the aiohttp session passed to AsyncTwelveLabs(session=...) was closed by its "
                "owner; pass an open session or let the client create its own"
            )
        return self._session

    def url(self, path: str) -> str:
        """The absolute URL of an API path (whose ids are already quoted)."""
        return f"{self.base_url}/{path}"

    async def request(
        self,
        method: str,
        path: str,
        decode: Decoder[T],
        *,
        params: Params | None = None,
        json_body: Any = None,
        headers: Mapping[str, str] | None = None,
        retry_malformed: bool = True,
        deadline: float | None = None,
        idempotent: bool = True,
        retries: int | None = None,
    ) -> T:
        """Send a request with retries and return `decode(body, status)` of the 2xx response.

        Args:
            method: the HTTP method.
            path: the API path relative to the base URL, ids already quoted.
            decode: turns the body into the result; raises `DecodeError` when it cannot.
            params: query parameters (repeat a key to send a list).
            json_body: the JSON body, or None for none.
            headers: extra request headers (e.g. `Idempotency-Key`).
            retry_malformed: retry a 2xx that is cut off or undecodable (safe for reads and
                for requests with an idempotency key).
            deadline: a time on the clock's `monotonic()` that no retry may sleep past (the
                last error is raised instead); None for no limit.
            idempotent: False for paid work without an idempotency key: a connection failure
                is then retried only when the request never reached the server.
            retries: overrides the client's `max_retries` for this request (the tracker
                passes 0 and schedules retries itself, inside its request budget).
        """
        context = f"{method} /{path}"
        retry = 0
        while True:
            try:
                status, resp_headers, body = await self._send_once(
                    method, path, params=params, json_body=json_body, headers=headers
                )
                if 200 <= status < 300:
                    return decode(body, status)
            except APIConnectionError as exc:
                # Work that is not idempotent is repeated only if it never reached the server.
                if (not idempotent and exc.request_sent) or not await self._backoff(
                    retry, context, exc, None, {}, deadline, retries
                ):
                    raise
                retry += 1
                continue
            except DecodeError as exc:  # a 2xx whose body is cut off or undecodable
                if not retry_malformed or not await self._backoff(
                    retry, context, exc, None, {}, deadline, retries
                ):
                    raise DecodeError(
                        f"{context}: {exc.message}", path=exc.path, status_code=exc.status_code
                    ) from None
                retry += 1
                continue
            error = self._error(status, resp_headers, body, context)
            if not is_retryable_status(status) or not await self._backoff(
                retry, context, error, status, resp_headers, deadline, retries
            ):
                raise error
            retry += 1

    def _error(
        self, status: int, headers: Mapping[str, str], body: bytes, context: str
    ) -> APIError:
        hint = server_requested_delay(status, headers, self.clock.time())
        return error_from_response(status, headers, body, retry_after=hint, context=context)

    async def _backoff(
        self,
        retry: int,
        context: str,
        error: TwelveLabsError,
        status: int | None,
        headers: Mapping[str, str],
        deadline: float | None = None,
        retries: int | None = None,
    ) -> bool:
        """Sleep before the next retry and return True, or return False when none is due."""
        hint = server_requested_delay(status, headers, self.clock.time()) if headers else None
        policy = self.retry if retries is None else attrs.evolve(self.retry, max_retries=retries)
        delay = retry_delay(retry, policy, self.rng, server_delay=hint)
        if delay is None or (deadline is not None and self.clock.monotonic() + delay > deadline):
            return False
        logger.info(
            "retrying %s in %.2fs (retry %d of %d) after %s: %s",
            context,
            delay,
            retry + 1,
            policy.max_retries,
            type(error).__name__,
            error,
        )
        await self.clock.sleep(delay)
        return True

    async def _send_once(
        self,
        method: str,
        path: str,
        *,
        params: Params | None,
        json_body: Any,
        headers: Mapping[str, str] | None,
    ) -> tuple[int, Mapping[str, str], bytes]:
        session = self._get_session()
        timeout = aiohttp.ClientTimeout(total=self.timeout)
        try:
            async with session.request(
                method,
                self.url(path),
                params=params,
                json=json_body,
                headers=self._merge_headers(headers),
                timeout=timeout,
                allow_redirects=False,  # a redirect elsewhere would carry the x-api-key header
            ) as resp:
                try:
                    body = await resp.read()
                except aiohttp.ClientPayloadError as exc:
                    if not 200 <= resp.status < 300:
                        raise
                    # The request succeeded but its answer is incomplete: a malformed 2xx,
                    # retried only where a retry is safe (`retry_malformed`).
                    raise DecodeError(
                        f"the response body was cut off: {_describe(exc)}",
                        status_code=resp.status,
                    ) from None
                self._notify(resp.status, resp.headers)
                return resp.status, resp.headers, body
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise self._transport_error(exc, f"{method} /{path}") from None

    def _transport_error(self, exc: BaseException, context: str) -> APIConnectionError:
        """Wrap a transport failure; `request_sent` is False only when no connection was made."""
        if isinstance(exc, TimeoutError):
            return APITimeoutError(
                f"{context}: no response within the {self.timeout:g}s per-request timeout",
                request_sent=not isinstance(exc, aiohttp.ConnectionTimeoutError),
            )
        return APIConnectionError(
            f"{context}: {_describe(exc)}",
            request_sent=not isinstance(exc, aiohttp.ClientConnectorError),
        )

    def _merge_headers(self, extra: Mapping[str, str] | None) -> dict[str, str]:
        return {**self._headers, **extra} if extra else self._headers

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
        `request()`: a GET after any connection failure, other methods only when the request
        never reached the server. Once lines flow, nothing is retried. The response is
        released on exit. `accept` is the `Accept` header; `retries` overrides `max_retries`.
        """
        context = f"{method} /{path}"
        resp = await self._open_stream(method, path, json_body, context, accept, retries)
        try:
            yield _iter_lines(resp, context, self.timeout)
        finally:
            resp.release()

    async def _open_stream(
        self,
        method: str,
        path: str,
        json_body: Any,
        context: str,
        accept: str,
        retries: int | None,
    ) -> aiohttp.ClientResponse:
        # A stream may last long: the timeout bounds connecting and each read, not the total.
        timeout = aiohttp.ClientTimeout(
            total=None, sock_connect=self.timeout, sock_read=self.timeout
        )
        headers = self._merge_headers({"Accept": accept})
        retry = 0
        while True:
            session = self._get_session()
            try:
                resp = await session.request(
                    method,
                    self.url(path),
                    json=json_body,
                    headers=headers,
                    timeout=timeout,
                    allow_redirects=False,
                )
                self._notify(resp.status, resp.headers)
                if 200 <= resp.status < 300:
                    return resp
                try:
                    body = await resp.read()
                finally:
                    resp.release()
            except (TimeoutError, aiohttp.ClientError) as exc:
                # A streamed analysis is paid work: repeat it only if it never reached the
                # server. A GET (batch results) is a read and may always be repeated.
                failure = self._transport_error(exc, context)
                if (failure.request_sent and method != "GET") or not await self._backoff(
                    retry, context, failure, None, {}, retries=retries
                ):
                    raise failure from None
                retry += 1
                continue
            error = self._error(resp.status, resp.headers, body, context)
            if not is_retryable_status(resp.status) or not await self._backoff(
                retry, context, error, resp.status, resp.headers, retries=retries
            ):
                raise error
            retry += 1


async def _iter_lines(
    resp: aiohttp.ClientResponse, context: str, stall_after: float
) -> AsyncIterator[bytes]:
    """Yield the body's lines (without the newline), reassembling lines split across chunks."""
    buffer = bytearray()
    try:
        async for chunk in resp.content.iter_any():
            buffer.extend(chunk)
            while (end := buffer.find(b"\n")) >= 0:
                line = bytes(buffer[:end])
                del buffer[: end + 1]
                yield line
    except TimeoutError:
        raise APITimeoutError(f"{context}: the stream stalled for over {stall_after:g}s") from None
    except aiohttp.ClientError as exc:
        raise APIConnectionError(f"{context}: the stream broke: {_describe(exc)}") from None
    if buffer:
        yield bytes(buffer)


def _describe(exc: BaseException) -> str:
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
