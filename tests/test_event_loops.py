"""One client, several event loops: its own session follows the loop; a borrowed one refuses."""

from __future__ import annotations

import asyncio
import gc
import warnings
from collections.abc import Iterator

import aiohttp
import pytest

from tests._server import LoopbackServer, in_a_thread, reply
from tests.conftest import API_KEY
from twelvelabs_async import AiohttpTransport, AsyncTwelveLabs, ClientClosedError

TASK = {"task_id": "t1", "status": "ready"}
TASK_PATH = "analyze/tasks/t1"


@pytest.fixture
def threaded() -> Iterator[tuple[LoopbackServer, asyncio.AbstractEventLoop]]:
    """A loopback server answering t1, on a loop of its own in a thread."""
    with in_a_thread() as (server, loop):
        server.on("GET", TASK_PATH, reply(200, TASK))
        yield server, loop


@pytest.fixture
def caught() -> Iterator[list[warnings.WarningMessage]]:
    """Every warning raised in the test, garbage collection included (ResourceWarnings)."""
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        yield seen
        gc.collect()


def client_of(server: LoopbackServer) -> tuple[AiohttpTransport, AsyncTwelveLabs]:
    """A client of `server` on an AiohttpTransport made here, to look at its session."""
    transport = AiohttpTransport()
    return transport, AsyncTwelveLabs(API_KEY, base_url=server.base_url, transport=transport)


async def closed(session: aiohttp.ClientSession) -> None:
    """Return once `session` is closed (the pytest timeout bounds the wait)."""
    while not session.closed:  # noqa: ASYNC110 - another loop closes it; nothing to wait on
        await asyncio.sleep(0.01)


def test_own_session_follows_a_second_asyncio_run(
    threaded: tuple[LoopbackServer, asyncio.AbstractEventLoop],
    caught: list[warnings.WarningMessage],
) -> None:
    """A client used by two asyncio.run() calls works in both and leaves nothing open."""
    server, _ = threaded
    client = AsyncTwelveLabs(API_KEY, base_url=server.base_url)
    first = asyncio.run(client.analyze.tasks.retrieve("t1"))
    second = asyncio.run(client.analyze.tasks.retrieve("t1"))
    asyncio.run(client.close())
    gc.collect()
    assert first.task_id == second.task_id == "t1"
    assert len(server.seen("GET", TASK_PATH)) == 2
    assert [str(w.message) for w in caught] == []


def test_own_session_is_closed_when_its_loop_ends(
    threaded: tuple[LoopbackServer, asyncio.AbstractEventLoop],
    caught: list[warnings.WarningMessage],
) -> None:
    """An AiohttpTransport's own session is closed as asyncio.run() ends, client closed or not."""
    transport, client = client_of(threaded[0])
    asyncio.run(client.analyze.tasks.retrieve("t1"))
    assert transport.session is not None
    assert transport.session.closed
    del client, transport
    gc.collect()
    assert [str(w.message) for w in caught] == []


def test_client_moves_from_another_threads_running_loop(
    threaded: tuple[LoopbackServer, asyncio.AbstractEventLoop],
    caught: list[warnings.WarningMessage],
) -> None:
    """Used from a loop running in another thread, then here: the old session is closed there."""
    server, loop = threaded
    transport, client = client_of(server)
    there = asyncio.run_coroutine_threadsafe(client.analyze.tasks.retrieve("t1"), loop)
    assert there.result(timeout=10).task_id == "t1"
    old = transport.session
    assert old is not None
    assert asyncio.run(client.analyze.tasks.retrieve("t1")).task_id == "t1"
    assert transport.session is not old
    asyncio.run_coroutine_threadsafe(closed(old), loop).result(timeout=10)
    asyncio.run(client.close())
    assert [str(w.message) for w in caught] == []


async def test_client_used_by_a_thread_then_back_here(server: LoopbackServer) -> None:
    """A client of this loop used in a thread's asyncio.run(), then here again, works each time."""
    server.on("GET", TASK_PATH, reply(200, TASK))
    async with AsyncTwelveLabs(API_KEY, base_url=server.base_url) as client:
        here = await client.analyze.tasks.retrieve("t1")
        there = await asyncio.to_thread(asyncio.run, client.analyze.tasks.retrieve("t1"))
        again = await client.analyze.tasks.retrieve("t1")
    assert here == there == again
    assert len(server.seen("GET", TASK_PATH)) == 3


def test_borrowed_session_of_another_loop_raises_client_closed(
    threaded: tuple[LoopbackServer, asyncio.AbstractEventLoop],
) -> None:
    """A borrowed session used from a loop other than its own raises ClientClosedError at once."""
    server, _ = threaded

    async def open_session() -> aiohttp.ClientSession:
        return aiohttp.ClientSession()

    loop = asyncio.new_event_loop()
    session = loop.run_until_complete(open_session())
    try:
        client = AsyncTwelveLabs(API_KEY, base_url=server.base_url, session=session)
        with pytest.raises(ClientClosedError, match="belongs to another event loop") as info:
            asyncio.run(client.analyze.tasks.retrieve("t1"))
        assert "inside the event loop that uses them" in str(info.value)
        with pytest.raises(ClientClosedError, match="belongs to another event loop"):
            asyncio.run(client.analyze.stream(video="https://cdn.example/v.mp4", prompt="x").text())
        assert server.requests == []
        asyncio.run(client.close())
        assert not session.closed
    finally:
        loop.run_until_complete(session.close())
        loop.close()
