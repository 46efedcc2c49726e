"""`MockTransport`: the whole client in process, answered by a function instead of a server."""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from .._transport import Request, Response, StreamedResponse
from ..errors import APIConnectionError

Handler = Callable[[Request], Response | Awaitable[Response]]
"""A function (or coroutine function) that answers one request."""


class MockTransport:
    """A `Transport` that answers every request with `handler(request)`: no sockets at all.

    The client still adds its headers, retries, maps statuses to typed errors and decodes the
    bodies, so a test exercises everything but the network. The handler may be sync or
    async; it returns a `Response`, or raises `APIConnectionError` to simulate a failure
    (`request_sent=False`: no connection could be made; the default, True: the connection
    broke after the request may have reached the server). A streamed request gets the
    handler's body as its stream; a `Response` with `incomplete` set breaks that stream after
    its body, as a dropped connection would. An upload's body is `request.content` (a
    `Content`): read it with `async for chunk in request.content.chunks()`.

    ```python
    from twelvelabs_async import AsyncTwelveLabs, Request, Response
    from twelvelabs_async.testing import MockTransport

    attempts = []

    def handler(request: Request) -> Response:
        attempts.append(request)
        if len(attempts) == 1:
            return Response(503)
        return Response.from_json(200, {"task_id": "t1", "status": "ready"})

    async with AsyncTwelveLabs("key", transport=MockTransport(handler)) as client:
        task = await client.analyze.tasks.retrieve("t1")  # retried once after the 503
    ```

    Args:
        handler: answers one `Request` with a `Response` (or an awaitable of one).
    """

    def __init__(self, handler: Handler) -> None:
        self.handler = handler

    async def send(self, request: Request) -> Response:
        """The handler's response to `request`."""
        response = self.handler(request)
        if inspect.isawaitable(response):
            response = await response
        return response

    @asynccontextmanager
    async def stream(self, request: Request) -> AsyncIterator[StreamedResponse]:
        """The handler's response to `request`, its body as the stream."""
        response = await self.send(request)
        yield StreamedResponse(response.status, response.headers, _chunks(response))

    async def close(self) -> None:
        """Nothing to release."""


async def _chunks(response: Response) -> AsyncIterator[bytes]:
    if response.body:
        yield response.body
    if response.incomplete is not None:
        raise APIConnectionError(f"the stream broke: {response.incomplete}")
