"""The HTTP seam against a real loopback server: retries, server delays, failures, cancellation."""

from __future__ import annotations

import asyncio
import gc
import logging
import random
import warnings
from collections.abc import AsyncIterator, Callable
from email.utils import formatdate
from typing import Any

import aiohttp
import pytest

from tests._server import (
    Handler,
    LoopbackServer,
    closed_port,
    cut_off,
    hang,
    reply,
    reset,
)
from tests.conftest import API_KEY, FakeClock
from twelvelabs_async import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    AsyncTwelveLabs,
    BadRequestError,
    ConflictError,
    DecodeError,
    NotFoundError,
    RateLimitError,
    ServerError,
    TwelveLabsError,
    UnprocessableEntityError,
)

TASK = {"task_id": "t1", "status": "ready"}
TASK_PATH = "analyze/tasks/t1"
Factory = Callable[..., AsyncTwelveLabs]


@pytest.fixture
async def make(server: LoopbackServer, clock: FakeClock) -> AsyncIterator[Factory]:
    """Build clients on the loopback server with the fake clock; all closed at teardown."""
    made: list[AsyncTwelveLabs] = []

    def build(**kwargs: Any) -> AsyncTwelveLabs:
        kwargs.setdefault("base_url", server.base_url)
        made.append(AsyncTwelveLabs(API_KEY, clock=clock, rng=random.Random(7), **kwargs))
        return made[-1]

    yield build
    for c in made:
        await c.close()


def assert_wrapped(exc: BaseException) -> None:
    """The error is ours, and no aiohttp exception is attached to it."""
    assert isinstance(exc, TwelveLabsError)
    assert not isinstance(exc, aiohttp.ClientError)
    assert not isinstance(exc.__cause__, aiohttp.ClientError)


@pytest.mark.parametrize("max_retries", [0, 1, 3, 5])
async def test_persistent_503_is_tried_max_retries_plus_one_times(
    server: LoopbackServer, make: Factory, clock: FakeClock, max_retries: int
) -> None:
    """max_retries=N makes exactly N+1 attempts on a persistent 503, sleeping N times."""
    server.on("GET", TASK_PATH, reply(503, {"error": {"code": "unavailable", "message": "down"}}))
    client = make(max_retries=max_retries)
    with pytest.raises(ServerError) as info:
        await client.analyze.tasks.retrieve("t1")
    assert info.value.status_code == 503
    assert info.value.code == "unavailable"
    assert len(server.seen("GET", TASK_PATH)) == max_retries + 1
    assert len(clock.sleeps) == max_retries
    for i, delay in enumerate(clock.sleeps):
        assert 0.0 <= delay <= min(8.0, 0.5 * 2**i)


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504])
async def test_transient_statuses_are_retried(
    server: LoopbackServer, make: Factory, clock: FakeClock, status: int
) -> None:
    """408, 429 and 5xx are retried, and the later 200 is returned."""
    server.on("GET", TASK_PATH, reply(status), reply(200, TASK))
    task = await make().analyze.tasks.retrieve("t1")
    assert task.task_id == "t1"
    assert task.status == "ready"
    assert len(server.seen("GET", TASK_PATH)) == 2
    assert len(clock.sleeps) == 1


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, BadRequestError),
        (404, NotFoundError),
        (409, ConflictError),
        (422, UnprocessableEntityError),
    ],
)
async def test_final_statuses_are_never_retried(
    server: LoopbackServer, make: Factory, clock: FakeClock, status: int, cls: type[APIError]
) -> None:
    """400, 404, 409 and 422 raise after one attempt, with no sleep."""
    server.on("GET", TASK_PATH, reply(status, {"code": "nope", "message": "refused"}))
    with pytest.raises(cls) as info:
        await make().analyze.tasks.retrieve("t1")
    assert info.value.status_code == status
    assert info.value.code == "nope"
    assert info.value.message == "GET /analyze/tasks/t1: refused"
    assert len(server.seen("GET", TASK_PATH)) == 1
    assert clock.sleeps == []


async def test_retry_after_seconds_is_honoured(
    server: LoopbackServer, make: Factory, clock: FakeClock
) -> None:
    """`Retry-After: 3` makes the next attempt wait 3 s plus at most 10 % jitter."""
    server.on("GET", TASK_PATH, reply(503, headers={"Retry-After": "3"}), reply(200, TASK))
    await make().analyze.tasks.retrieve("t1")
    assert len(clock.sleeps) == 1
    assert 3.0 <= clock.sleeps[0] <= 3.3


async def test_retry_after_http_date_is_honoured(
    server: LoopbackServer, make: Factory, clock: FakeClock
) -> None:
    """A `Retry-After` HTTP date 10 s ahead of the clock waits 10 s plus at most 1 s."""
    when = formatdate(clock.time() + 10, usegmt=True)
    server.on("GET", TASK_PATH, reply(429, headers={"Retry-After": when}), reply(200, TASK))
    await make().analyze.tasks.retrieve("t1")
    assert len(clock.sleeps) == 1
    assert 10.0 <= clock.sleeps[0] <= 11.0


async def test_ratelimit_reset_is_honoured(
    server: LoopbackServer, make: Factory, clock: FakeClock
) -> None:
    """A 429 with `X-Ratelimit-Reset` 5 s ahead (epoch seconds) waits 5 s plus jitter."""
    headers = {"X-Ratelimit-Reset": str(int(clock.time()) + 5), "X-Ratelimit-Remaining": "0"}
    server.on("GET", TASK_PATH, reply(429, headers=headers), reply(200, TASK))
    await make().analyze.tasks.retrieve("t1")
    assert len(clock.sleeps) == 1
    assert 5.0 <= clock.sleeps[0] <= 5.5


async def test_retry_after_beyond_max_server_delay_raises_at_once(
    server: LoopbackServer, make: Factory, clock: FakeClock
) -> None:
    """A `Retry-After` over the 60 s policy limit raises RateLimitError at once with it."""
    server.on("GET", TASK_PATH, reply(429, headers={"Retry-After": "120"}), reply(200, TASK))
    with pytest.raises(RateLimitError) as info:
        await make().analyze.tasks.retrieve("t1")
    assert info.value.retry_after == 120.0
    assert info.value.status_code == 429
    assert info.value.headers["Retry-After"] == "120"
    assert len(server.seen("GET", TASK_PATH)) == 1
    assert clock.sleeps == []


async def test_each_retry_is_logged(
    server: LoopbackServer, make: Factory, caplog: pytest.LogCaptureFixture
) -> None:
    """Every retry is logged at INFO on `twelvelabs_async`, naming the request and the error."""
    caplog.set_level(logging.INFO, logger="twelvelabs_async")
    server.on("GET", TASK_PATH, reply(503), reply(500), reply(200, TASK))
    await make().analyze.tasks.retrieve("t1")
    records = [r for r in caplog.records if r.name == "twelvelabs_async"]
    assert len(records) == 2
    assert all(r.levelno == logging.INFO for r in records)
    messages = [r.getMessage() for r in records]
    assert messages[0].startswith("retrying GET /analyze/tasks/t1 in ")
    assert "(retry 1 of 3) after ServerError: 503" in messages[0]
    assert "(retry 2 of 3) after ServerError: 500" in messages[1]


async def test_cut_off_body_is_retried_for_get_then_decode_error(
    server: LoopbackServer, make: Factory, clock: FakeClock
) -> None:
    """A 200 whose body stops short of Content-Length is retried, then raises DecodeError."""
    server.on("GET", TASK_PATH, cut_off(b'{"task_id": "t1", "sta', length=200))
    with pytest.raises(DecodeError) as info:
        await make(max_retries=2).analyze.tasks.retrieve("t1")
    assert_wrapped(info.value)
    assert info.value.status_code == 200
    assert info.value.path == "$"
    assert "GET /analyze/tasks/t1" in str(info.value)
    assert "cut off" in str(info.value)
    assert len(server.seen("GET", TASK_PATH)) == 3
    assert len(clock.sleeps) == 2


async def test_non_json_body_is_retried_for_get_then_decode_error(
    server: LoopbackServer, make: Factory, clock: FakeClock
) -> None:
    """A 200 with a non-JSON body is retried, then raises DecodeError at path `$`."""
    server.on("GET", TASK_PATH, reply(200, body=b"<html>gateway</html>"))
    with pytest.raises(DecodeError) as info:
        await make(max_retries=2).analyze.tasks.retrieve("t1")
    assert info.value.path == "$"
    assert info.value.status_code == 200
    assert str(info.value).startswith("GET /analyze/tasks/t1: the response body is not valid JSON")
    assert "<html>gateway" in str(info.value)
    assert len(server.seen("GET", TASK_PATH)) == 3


async def test_wrong_shape_json_names_the_path(
    server: LoopbackServer, make: Factory, clock: FakeClock
) -> None:
    """A 200 whose JSON has the wrong shape is retried, then DecodeError names the JSON path."""
    server.on("GET", TASK_PATH, reply(200, {"task_id": 5, "status": "ready"}))
    with pytest.raises(DecodeError) as info:
        await make(max_retries=1).analyze.tasks.retrieve("t1")
    assert info.value.path == "$.task_id"
    assert "$.task_id" in str(info.value)
    assert "AnalyzeTask" in str(info.value)
    assert len(server.seen("GET", TASK_PATH)) == 2
    assert len(clock.sleeps) == 1


@pytest.mark.parametrize(
    "bad",
    [
        reply(200, body=b"not json"),
        reply(200, [1, 2]),
        cut_off(b'{"data": "partial'),
    ],
    ids=["not-json", "wrong-shape", "cut-off"],
)
async def test_generate_never_retries_a_malformed_2xx(
    server: LoopbackServer, make: Factory, clock: FakeClock, bad: Handler
) -> None:
    """POST /analyze (paid, no idempotency key) raises DecodeError after one attempt."""
    server.on("POST", "analyze", bad, reply(200, {"id": "g", "data": "text"}))
    with pytest.raises(DecodeError) as info:
        await make().analyze.generate(video="https://cdn.example/v.mp4", prompt="Summarize")
    assert_wrapped(info.value)
    assert str(info.value).startswith("POST /analyze: ")
    assert len(server.seen("POST", "analyze")) == 1
    assert clock.sleeps == []


async def test_connection_refused_raises_after_retries(make: Factory, clock: FakeClock) -> None:
    """A closed port raises APIConnectionError after max_retries sleeps."""
    client = make(base_url=f"http://127.0.0.1:{closed_port()}/v1.3", max_retries=2)
    with pytest.raises(APIConnectionError) as info:
        await client.analyze.tasks.retrieve("t1")
    assert_wrapped(info.value)
    assert not isinstance(info.value, APITimeoutError)
    assert str(info.value).startswith("GET /analyze/tasks/t1: ClientConnectorError")
    assert len(clock.sleeps) == 2


async def test_server_that_never_answers_times_out(
    server: LoopbackServer, make: Factory, clock: FakeClock
) -> None:
    """With timeout=0.2 a silent server raises APITimeoutError (a TimeoutError) after retries."""
    server.on("GET", TASK_PATH, hang())
    with pytest.raises(APITimeoutError) as info:
        await make(timeout=0.2, max_retries=1).analyze.tasks.retrieve("t1")
    assert_wrapped(info.value)
    assert isinstance(info.value, TimeoutError)
    assert isinstance(info.value, APIConnectionError)
    assert "GET /analyze/tasks/t1" in str(info.value)
    assert "0.2s per-request timeout" in str(info.value)
    assert len(server.seen("GET", TASK_PATH)) == 2
    assert len(clock.sleeps) == 1


async def test_cancellation_mid_request_leaves_no_warning(
    server: LoopbackServer, make: Factory
) -> None:
    """Cancelling a request while the server sleeps warns of nothing; the client still works."""
    started = asyncio.Event()
    server.on("GET", TASK_PATH, hang(started))
    server.on("GET", "analyze/tasks/t2", reply(200, {"task_id": "t2", "status": "queued"}))
    client = make()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        pending = asyncio.create_task(client.analyze.tasks.retrieve("t1"))
        await started.wait()
        pending.cancel()
        with pytest.raises(asyncio.CancelledError):
            await pending
        task = await client.analyze.tasks.retrieve("t2")
        await client.close()
        gc.collect()
    assert task.status == "queued"
    assert client.closed
    assert [str(w.message) for w in caught] == []


async def test_connection_reset_is_retried_then_raises(
    server: LoopbackServer, make: Factory, clock: FakeClock
) -> None:
    """A connection closed with no response is retried, then raises APIConnectionError."""
    server.on("GET", TASK_PATH, reset())
    with pytest.raises(APIConnectionError) as info:
        await make(max_retries=2).analyze.tasks.retrieve("t1")
    assert_wrapped(info.value)
    assert "ServerDisconnectedError" in str(info.value)
    assert len(clock.sleeps) == 2  # three attempts by the client ...
    # ... each of which aiohttp itself re-sends once on a fresh connection (GET is idempotent).
    assert len(server.seen("GET", TASK_PATH)) == 6


async def test_connection_reset_then_success_returns(server: LoopbackServer, make: Factory) -> None:
    """One reset followed by a 200 is invisible to the caller."""
    server.on("GET", TASK_PATH, reset(), reply(200, TASK))
    task = await make().analyze.tasks.retrieve("t1")
    assert task.task_id == "t1"
    assert len(server.seen("GET", TASK_PATH)) == 2


@pytest.mark.parametrize(
    "handler",
    [reset(), cut_off(b"{"), hang(), reply(502, body=b"bad gateway")],
    ids=["reset", "cut-off", "hang", "502"],
)
async def test_aiohttp_exceptions_never_escape(
    server: LoopbackServer, make: Factory, handler: Handler
) -> None:
    """Every transport failure surfaces as a TwelveLabsError subclass, never an aiohttp one."""
    server.on("GET", TASK_PATH, handler)
    with pytest.raises(Exception) as info:  # noqa: PT011 - the type is what is checked
        await make(timeout=0.2, max_retries=1).analyze.tasks.retrieve("t1")
    assert_wrapped(info.value)


# --- paid work without an idempotency key -------------------------------------------------

GENERATE = {"video": "https://cdn.example.com/v.mp4", "prompt": "Summarize"}
RESULT = {"id": "g", "data": "text", "finish_reason": "stop", "usage": {"output_tokens": 1}}


async def test_generate_is_not_repeated_after_a_reset(
    server: LoopbackServer, make: Factory
) -> None:
    """A reset after POST /analyze was sent may have started paid work: raised, not retried."""
    server.on("POST", "analyze", reset(), reply(200, RESULT))
    client = make(max_retries=3)
    with pytest.raises(APIConnectionError) as info:
        await client.analyze.generate(**GENERATE)
    assert info.value.request_sent is True
    assert 1 <= len(server.seen("POST", "analyze")) <= 2  # aiohttp may resend once by itself


async def test_generate_is_not_repeated_after_a_timeout(
    server: LoopbackServer, make: Factory
) -> None:
    """A per-request timeout on POST /analyze is raised at once: the server may still be working."""
    server.on("POST", "analyze", hang(), reply(200, RESULT))
    client = make(max_retries=3, timeout=0.2)
    with pytest.raises(APITimeoutError) as info:
        await client.analyze.generate(**GENERATE)
    assert info.value.request_sent is True
    assert len(server.seen("POST", "analyze")) == 1


async def test_generate_retries_a_503(server: LoopbackServer, make: Factory) -> None:
    """An error status means the work was not done: POST /analyze is retried after a 503."""
    server.on("POST", "analyze", reply(503), reply(200, RESULT))
    result = await make(max_retries=3).analyze.generate(**GENERATE)
    assert result.data == "text"
    assert len(server.seen("POST", "analyze")) == 2


async def test_generate_retries_when_no_connection_could_be_made(
    make: Factory, clock: FakeClock
) -> None:
    """A refused connection never reached the server, so even paid work is retried."""
    client = make(base_url=f"http://127.0.0.1:{closed_port()}/v1.3", max_retries=2)
    with pytest.raises(APIConnectionError) as info:
        await client.analyze.generate(**GENERATE)
    assert info.value.request_sent is False
    assert len(clock.sleeps) == 2


async def test_reads_are_retried_after_a_timeout(server: LoopbackServer, make: Factory) -> None:
    """A GET that timed out is safe to repeat and is retried."""
    server.on("GET", TASK_PATH, hang(), reply(200, TASK))
    task = await make(max_retries=2, timeout=0.2).analyze.tasks.retrieve("t1")
    assert task.task_id == "t1"
    assert len(server.seen("GET", TASK_PATH)) == 2
