"""Shared fixtures: a fake clock, an aioresponses mock for aiohttp >= 3.14, clients, Redis."""

from __future__ import annotations

import asyncio
import heapq
import inspect
import itertools
import random
import weakref
from collections.abc import AsyncIterator, Iterator
from types import SimpleNamespace
from typing import Any

import aioresponses.core as aioresponses_core
import pytest
from aiohttp import ClientResponse
from aioresponses import aioresponses

from tests._redis_server import session_server
from tests._server import LoopbackServer
from twelvelabs_async import AsyncTwelveLabs

BASE_URL = "https://api.test/v1.3"
API_KEY = "tlk_test_secret_key_0123456789"


class CompatClientResponse(ClientResponse):
    """Test-only shim for aioresponses 0.7.9 on aiohttp >= 3.14 (aioresponses issue #289).

    aiohttp 3.14 made `stream_writer` a required argument of `ClientResponse.__init__`, and
    aioresponses (newest release 0.7.9) does not pass it. aiohttp only reads
    `stream_writer.output_size`, so a stand-in object is enough. On older aiohttp this class
    passes everything through unchanged.
    """

    def __init__(self, method: str, url: Any, **kwargs: Any) -> None:
        if "stream_writer" in _CLIENT_RESPONSE_PARAMS and "stream_writer" not in kwargs:
            kwargs["stream_writer"] = SimpleNamespace(output_size=0)
        super().__init__(method, url, **kwargs)


_CLIENT_RESPONSE_PARAMS = inspect.signature(ClientResponse.__init__).parameters


_DRIVERS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, int] = weakref.WeakKeyDictionary()
"""How many `FakeClock` drivers run on each event loop (each is always ready to run)."""


class FakeClock:
    """Virtual time for tests: nothing really waits, yet concurrent sleepers wake in order.

    `sleep(d)` records `d` and suspends until virtual time reaches now + d. Whenever the event
    loop has gone idle (nothing but this clock's driver ready to run, for a few rounds in a
    row), time jumps to the earliest sleeper's wake-up time (like trio's autojump clock), so
    deadlines, backoff and scheduling run instantly and deterministically, however much work
    (many requests through aioresponses, say) stands between two sleeps.
    """

    IDLE_ROUNDS = 3

    def __init__(self, start: float = 1_000_000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []
        self._waiters: list[tuple[float, int, asyncio.Future[None]]] = []
        self._seq = itertools.count()
        self._driver: asyncio.Task[None] | None = None

    def monotonic(self) -> float:
        """Seconds on the fake monotonic clock."""
        return self.now

    def time(self) -> float:
        """The fake wall clock (the same value)."""
        return self.now

    async def sleep(self, seconds: float) -> None:
        """Record the delay and wait until virtual time has advanced by it."""
        self.sleeps.append(seconds)
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        heapq.heappush(self._waiters, (self.now + seconds, next(self._seq), future))
        if self._driver is None or self._driver.done():
            self._driver = loop.create_task(self._drive())
        try:
            await future
        finally:
            if not future.done():
                future.cancel()

    async def _drive(self) -> None:
        loop = asyncio.get_running_loop()
        _DRIVERS[loop] = _DRIVERS.get(loop, 0) + 1
        try:
            await self._advance(loop)
        finally:
            _DRIVERS[loop] -= 1

    async def _advance(self, loop: asyncio.AbstractEventLoop) -> None:
        while True:
            idle = 0
            while idle < self.IDLE_ROUNDS:
                await asyncio.sleep(0)
                # asyncio's queue of ready callbacks (private, but plain) holds nothing but the
                # other clocks' drivers (one step each): every other task waits on a future, a
                # real timer or I/O, none has a step to run.
                busy = len(loop._ready) > _DRIVERS[loop] - 1  # type: ignore[attr-defined]
                idle = 0 if busy else idle + 1
            while self._waiters and self._waiters[0][2].done():
                heapq.heappop(self._waiters)
            if not self._waiters:
                return
            when, _, future = heapq.heappop(self._waiters)
            self.now = max(self.now, when)
            future.set_result(None)


@pytest.fixture
def clock() -> FakeClock:
    """A fresh fake clock."""
    return FakeClock()


@pytest.fixture
def mock_api(monkeypatch: pytest.MonkeyPatch) -> Iterator[aioresponses]:
    """aioresponses, patched to build responses that aiohttp >= 3.14 accepts."""
    monkeypatch.setattr(aioresponses_core, "ClientResponse", CompatClientResponse)
    with aioresponses() as mocked:
        yield mocked


@pytest.fixture
async def client(clock: FakeClock) -> AsyncIterator[AsyncTwelveLabs]:
    """A client on the fake base URL with the fake clock and seeded jitter."""
    async with AsyncTwelveLabs(API_KEY, base_url=BASE_URL, clock=clock, rng=random.Random(7)) as c:
        yield c


@pytest.fixture
async def server() -> AsyncIterator[LoopbackServer]:
    """A loopback HTTP server with scripted replies (`tests/_server.py`)."""
    async with LoopbackServer() as srv:
        yield srv


@pytest.fixture
async def api(server: LoopbackServer, clock: FakeClock) -> AsyncIterator[AsyncTwelveLabs]:
    """A client of the loopback `server`, on the fake clock, with its own retries."""
    async with AsyncTwelveLabs(
        API_KEY, base_url=server.base_url, clock=clock, rng=random.Random(7)
    ) as c:
        yield c


@pytest.fixture
async def poller(clock: FakeClock) -> AsyncIterator[AsyncTwelveLabs]:
    """A client that never retries inside a request, so every sleep is the caller's (a
    tracker's, or `wait()`'s).
    """
    async with AsyncTwelveLabs(
        API_KEY, base_url=BASE_URL, clock=clock, rng=random.Random(3), max_retries=0
    ) as c:
        yield c


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Redis server for the session: `TWELVELABS_TEST_REDIS_URL`, else a private
    `redis-server` on a free loopback port; skipped without one, failed under `CI=true`
    (`tests/_redis_server.py`).
    """
    yield from session_server(tmp_path_factory.mktemp("redis"))
