"""Testing your own code without sockets: `MockTransport` answers each request with a function.

Needs twelvelabs-async (see Install), pytest and pytest-asyncio. Run it with plain
`pytest docs/examples/test_with_mock_transport.py`: `pytestmark` below marks every test as
asyncio, so no `asyncio_mode` setting is needed.
"""

from __future__ import annotations

import pytest

from twelvelabs_async import APIConnectionError, AsyncTwelveLabs, NotFoundError, Request, Response
from twelvelabs_async.testing import InstantClock, MockTransport

pytestmark = pytest.mark.asyncio  # every test here is a coroutine


# --- the code under test: your application's own function --------------------------------
async def status_of(client: AsyncTwelveLabs, task_id: str) -> str:
    """A task's status, or "unknown" when the API does not know the id."""
    try:
        task = await client.analyze.tasks.retrieve(task_id)
    except NotFoundError:
        return "unknown"
    return task.status


# --- the tests ----------------------------------------------------------------------------
async def test_status_of_a_known_task() -> None:
    """The handler sees each request as the client sends it, and answers it."""
    seen: list[Request] = []

    def handler(request: Request) -> Response:
        seen.append(request)
        return Response.from_json(200, {"task_id": "t1", "status": "ready"})

    async with AsyncTwelveLabs("test-key", transport=MockTransport(handler)) as client:
        assert await status_of(client, "t1") == "ready"
    assert seen[0].method == "GET"
    assert seen[0].url == "https://api.twelvelabs.io/v1.3/analyze/tasks/t1"
    assert seen[0].headers["x-api-key"] == "test-key"


async def test_status_of_an_unknown_task() -> None:
    """Error statuses become the library's typed errors, as with the real API."""
    body = {"error": {"code": "resource_not_exist", "message": "no such task"}}

    def handler(request: Request) -> Response:
        return Response.from_json(404, body)

    async with AsyncTwelveLabs("test-key", transport=MockTransport(handler)) as client:
        assert await status_of(client, "nope") == "unknown"


async def test_outages_are_retried_away() -> None:
    """A failed connection and a 503 are retried (instantly, with InstantClock)."""
    replies: list[Response | Exception] = [
        APIConnectionError("connection refused", request_sent=False),
        Response(503, {"Retry-After": "2"}),
        Response.from_json(200, {"task_id": "t1", "status": "processing"}),
    ]

    async def handler(request: Request) -> Response:  # a handler may be async
        reply = replies.pop(0)
        if isinstance(reply, Exception):
            raise reply
        return reply

    clock = InstantClock()
    transport = MockTransport(handler)
    async with AsyncTwelveLabs("test-key", transport=transport, clock=clock) as client:
        assert await status_of(client, "t1") == "processing"
    assert replies == []
    assert len(clock.sleeps) == 2
    assert clock.sleeps[1] >= 2.0  # the server's Retry-After was honoured
