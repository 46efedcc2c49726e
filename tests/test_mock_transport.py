"""The whole client on `MockTransport`: the retry loop, headers and errors, with no sockets."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import pytest

from tests.conftest import API_KEY, BASE_URL, FakeClock
from twelvelabs_async import (
    APIConnectionError,
    APITimeoutError,
    AsyncTwelveLabs,
    ClientClosedError,
    ConfigurationError,
    DecodeError,
    NotFoundError,
    RateLimitError,
    Request,
    Response,
    ServerError,
    StreamEnd,
    TextGeneration,
    __version__,
)
from twelvelabs_async.analyze.tasks import TaskSource
from twelvelabs_async.testing import MockTransport

TASK = {"task_id": "t1", "status": "ready"}
RESULT = {"id": "g", "data": "text", "finish_reason": "stop", "usage": {"output_tokens": 1}}
GENERATE = {"video": "https://cdn.example.com/v.mp4", "prompt": "Summarize"}
BATCH = {
    "batch_id": "b1",
    "status": "canceling",
    "analysis_mode": "general",
    "model_name": "pegasus1.5",
    "total_items": 1,
    "created_at": "2025-01-01T00:00:00Z",
    "expires_at": "2025-01-02T00:00:00Z",
}
CUT = "ClientPayloadError: Response payload is not completed"
Reply = Response | BaseException


class Script:
    """A handler that answers with scripted replies in order (the last repeats) and records."""

    def __init__(self, *replies: Reply) -> None:
        self.replies = list(replies)
        self.requests: list[Request] = []

    def __call__(self, request: Request) -> Response:
        self.requests.append(request)
        reply = self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]
        if isinstance(reply, BaseException):
            raise reply
        return reply


Factory = Callable[..., AsyncTwelveLabs]


@pytest.fixture
async def make(clock: FakeClock) -> AsyncIterator[Factory]:
    """Build clients on a MockTransport with the fake clock; all closed at teardown."""
    made: list[AsyncTwelveLabs] = []

    def build(handler: Any, **kwargs: Any) -> AsyncTwelveLabs:
        made.append(
            AsyncTwelveLabs(
                API_KEY,
                base_url=BASE_URL,
                transport=MockTransport(handler),
                clock=clock,
                rng=random.Random(7),
                **kwargs,
            )
        )
        return made[-1]

    yield build
    for c in made:
        await c.close()


def ok(data: Any = TASK) -> Response:
    """A 200 with `data` as JSON."""
    return Response.from_json(200, data)


# --- attempts, sleeps and headers -------------------------------------------------------------


async def test_every_attempt_carries_the_client_headers(make: Factory, clock: FakeClock) -> None:
    """503, 503, 200: three attempts, two sleeps, each request with the key, UA and Accept."""
    script = Script(Response(503), Response(503), ok())
    task = await make(script).analyze.tasks.retrieve("t1")
    assert task.status == "ready"
    assert len(script.requests) == 3
    assert len(clock.sleeps) == 2
    for request in script.requests:
        assert request.method == "GET"
        assert request.url == f"{BASE_URL}/analyze/tasks/t1"
        assert request.timeout == 60.0
        assert request.headers["x-api-key"] == API_KEY
        assert request.headers["User-Agent"] == f"twelvelabs-async/{__version__}"
        assert request.headers["Accept"] == "application/json"


@pytest.mark.parametrize("max_retries", [0, 1, 3])
async def test_persistent_503_makes_max_retries_plus_one_attempts(
    make: Factory, clock: FakeClock, max_retries: int
) -> None:
    """max_retries=N makes N+1 attempts on a persistent 503, then raises ServerError."""
    script = Script(Response(503))
    with pytest.raises(ServerError):
        await make(script, max_retries=max_retries).analyze.tasks.retrieve("t1")
    assert len(script.requests) == max_retries + 1
    assert len(clock.sleeps) == max_retries


async def test_retries_zero_means_one_attempt(make: Factory, clock: FakeClock) -> None:
    """`retries=0` (as the tracker's source passes) makes one attempt and never sleeps."""
    script = Script(Response(503), ok())
    client = make(script)
    with pytest.raises(ServerError):
        await TaskSource(client._http).fetch("t1")
    assert len(script.requests) == 1
    assert clock.sleeps == []


async def test_create_sends_the_same_idempotency_key_on_every_retry(make: Factory) -> None:
    """A create retried after a reset, a timeout and a 503 sends one key and one body."""
    script = Script(
        APIConnectionError("reset"),
        APITimeoutError("slow"),
        Response(503),
        Response.from_json(200, {"task_id": "t1", "status": "queued"}),
    )
    ref = await make(script).analyze.tasks.create(video="https://cdn.example/v.mp4", prompt="Hi")
    assert ref.task_id == "t1"
    assert len(script.requests) == 4
    keys = {r.headers["Idempotency-Key"] for r in script.requests}
    assert len(keys) == 1
    assert len(keys.pop()) == 32
    assert all(r.json == script.requests[0].json for r in script.requests)


async def test_batch_create_is_retried_after_a_reset(make: Factory) -> None:
    """A batch create (with its Idempotency-Key) is repeated after a reset, with the same key."""
    created = {**BATCH, "status": "pending", "items": [{"task_id": "t1", "custom_id": None}]}
    script = Script(APIConnectionError("reset"), Response.from_json(200, created))
    batch = await make(script).analyze.batches.create(
        requests=[{"video": {"type": "asset_id", "asset_id": "a1"}, "prompt": {"input_text": "x"}}],
        analysis_mode="general",
        idempotency_key="my-key",
    )
    assert batch.batch_id == "b1"
    assert [r.headers["Idempotency-Key"] for r in script.requests] == ["my-key", "my-key"]


async def test_async_handler_is_awaited(make: Factory) -> None:
    """A coroutine function works as the handler."""

    async def handler(request: Request) -> Response:
        return ok()

    assert (await make(handler).analyze.tasks.retrieve("t1")).task_id == "t1"


async def test_listeners_see_every_response(make: Factory) -> None:
    """A listener gets (status, headers) of every response, retried ones included."""
    script = Script(Response(429, {"retry-after-ms": "10"}), Response(503), ok())
    client = make(script)
    seen: list[tuple[int, str | None]] = []
    client._http.add_listener(
        lambda status, headers: seen.append((status, headers.get("Retry-After-Ms")))
    )
    await client.analyze.tasks.retrieve("t1")
    assert seen == [(429, "10"), (503, None), (200, None)]


async def test_deadline_stops_a_retry_that_would_sleep_past_it(
    make: Factory, clock: FakeClock
) -> None:
    """A server delay longer than the time left to the deadline raises the error at once."""
    script = Script(Response(503, {"Retry-After": "5"}), ok())
    client = make(script)
    with pytest.raises(ServerError):
        await client._http.request(
            "GET", "analyze/tasks/t1", json.loads, deadline=clock.monotonic() + 4
        )
    assert len(script.requests) == 1
    assert clock.sleeps == []


# --- what may be repeated ---------------------------------------------------------------------


async def test_generate_is_not_repeated_once_it_may_have_reached_the_server(
    make: Factory,
) -> None:
    """POST /analyze after a reset or a timeout is raised at once, naming the request."""
    for failure in (APIConnectionError("reset"), APITimeoutError("slow")):
        script = Script(failure, ok(RESULT))
        with pytest.raises(APIConnectionError) as info:
            await make(script).analyze.generate(**GENERATE)
        assert type(info.value) is type(failure)
        assert str(info.value) == f"POST /analyze: {failure}"
        assert info.value.request_sent is True
        assert len(script.requests) == 1


async def test_generate_is_repeated_when_it_never_reached_the_server(make: Factory) -> None:
    """POST /analyze is retried after a failure to connect, and after a 503."""
    script = Script(APIConnectionError("refused", request_sent=False), Response(503), ok(RESULT))
    result = await make(script).analyze.generate(**GENERATE)
    assert result.data == "text"
    assert len(script.requests) == 3
    assert "Idempotency-Key" not in script.requests[0].headers


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (Response(200, body=b"<html>"), "POST /analyze: the response body is not valid JSON"),
        (
            Response(200, body=b'{"da', incomplete=CUT),
            "POST /analyze: the response body was cut off",
        ),
    ],
    ids=["not-json", "cut-off"],
)
async def test_generate_never_repeats_a_malformed_2xx(
    make: Factory, clock: FakeClock, bad: Response, message: str
) -> None:
    """A malformed 2xx of POST /analyze raises DecodeError after one attempt."""
    script = Script(bad, ok(RESULT))
    with pytest.raises(DecodeError) as info:
        await make(script).analyze.generate(**GENERATE)
    assert str(info.value).startswith(message)
    assert info.value.status_code == 200
    assert len(script.requests) == 1
    assert clock.sleeps == []


async def test_reads_are_repeated_after_every_transient_failure(make: Factory) -> None:
    """A GET is retried after a reset, a timeout, a cut-off body and a non-JSON body."""
    script = Script(
        APIConnectionError("reset"),
        APITimeoutError("slow"),
        Response(200, body=b'{"task', incomplete=CUT),
        Response(200, body=b"<html>"),
        ok(),
    )
    task = await make(script, max_retries=4).analyze.tasks.retrieve("t1")
    assert task.task_id == "t1"
    assert len(script.requests) == 5


async def test_cut_off_read_raises_decode_error_when_retries_run_out(make: Factory) -> None:
    """A GET whose 2xx body stays cut off raises DecodeError naming the request."""
    script = Script(Response(200, body=b'{"task', incomplete=CUT))
    with pytest.raises(DecodeError) as info:
        await make(script, max_retries=1).analyze.tasks.retrieve("t1")
    assert str(info.value) == f"GET /analyze/tasks/t1: the response body was cut off: {CUT}"
    assert len(script.requests) == 2


@pytest.mark.parametrize("resource", ["tasks", "batches"])
async def test_delete_succeeds_on_a_2xx_whose_body_is_cut_off(
    make: Factory, clock: FakeClock, resource: str
) -> None:
    """A DELETE expects no body: a cut-off 2xx is success, after one attempt."""
    script = Script(Response(200, body=b"{", incomplete=CUT))
    client = make(script)
    await getattr(client.analyze, resource).delete("x1")
    assert [r.method for r in script.requests] == ["DELETE"]
    assert clock.sleeps == []


async def test_delete_is_repeated_after_a_reset(make: Factory) -> None:
    """A DELETE is idempotent, so it is repeated after a reset."""
    script = Script(APIConnectionError("reset"), Response(204))
    await make(script).analyze.tasks.delete("t1")
    assert len(script.requests) == 2


async def test_cancels_are_repeated_after_a_reset(make: Factory) -> None:
    """Task and batch cancel are documented idempotent: repeated after a reset or timeout."""
    tasks = Script(
        APIConnectionError("reset"), Response.from_json(200, {**TASK, "status": "canceled"})
    )
    client = make(tasks)
    assert (await client.analyze.tasks.cancel("t1")).status == "canceled"
    assert [r.method for r in tasks.requests] == ["POST", "POST"]
    batches = Script(APITimeoutError("slow"), Response.from_json(200, BATCH))
    assert (await make(batches).analyze.batches.cancel("b1")).status == "canceling"
    assert len(batches.requests) == 2


# --- error mapping ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        {"code": "resource_not_exist", "message": "no such task"},
        {"error": {"code": "resource_not_exist", "message": "no such task"}},
    ],
    ids=["flat", "nested"],
)
async def test_both_error_body_shapes_are_mapped(make: Factory, body: dict[str, Any]) -> None:
    """A 404 in either body shape raises NotFoundError with its code and message, once."""
    script = Script(Response.from_json(404, body))
    with pytest.raises(NotFoundError) as info:
        await make(script).analyze.tasks.retrieve("t1")
    assert info.value.code == "resource_not_exist"
    assert info.value.message == "GET /analyze/tasks/t1: no such task"
    assert info.value.body == body
    assert len(script.requests) == 1


async def test_empty_429_is_retried_after_the_server_delay(make: Factory, clock: FakeClock) -> None:
    """An empty-bodied 429 with `Retry-After: 2` waits 2 s (plus jitter), then succeeds."""
    script = Script(Response(429, {"Retry-After": "2"}), ok())
    await make(script).analyze.tasks.retrieve("t1")
    assert len(clock.sleeps) == 1
    assert 2.0 <= clock.sleeps[0] <= 2.2


async def test_empty_429_raised_with_retry_after(make: Factory, clock: FakeClock) -> None:
    """An empty 429 past the retries is a RateLimitError with a message and `retry_after`."""
    reset_at = str(int(clock.time()) + 5)
    script = Script(Response(429, {"x-ratelimit-reset": reset_at}))
    with pytest.raises(RateLimitError) as info:
        await make(script, max_retries=0).analyze.generate(**GENERATE)
    assert info.value.retry_after == 5.0
    assert info.value.body is None
    assert info.value.message.startswith("POST /analyze: rate limit exceeded")
    assert info.value.headers["X-Ratelimit-Reset"] == reset_at


@pytest.mark.parametrize(
    "headers",
    [
        {"Retry-After": "-5"},
        {"Retry-After": "0"},
        {"Retry-After": "Thu, 01 Jan 1970 00:00:00 GMT"},  # the fake clock is 11 days on
        {"Retry-After": "nan"},
        {"Retry-After": "1e1"},
        {"retry-after-ms": "-100"},
        {"X-Ratelimit-Reset": "1000"},
        {"X-Ratelimit-Reset": "1_000"},
        {"X-Ratelimit-Reset": "1_000_005"},
    ],
    ids=lambda headers: repr(headers),
)
async def test_unusable_delay_hints_back_off_as_if_there_were_none(
    make: Factory, clock: FakeClock, headers: dict[str, str]
) -> None:
    """A wait asked for that is negative, past or not a plain number: the usual backoff."""
    with pytest.raises(RateLimitError) as info:
        await make(Script(Response(429, headers))).analyze.tasks.retrieve("t1")
    assert info.value.retry_after is None
    hinted = list(clock.sleeps)
    clock.sleeps.clear()
    with pytest.raises(RateLimitError):
        await make(Script(Response(429))).analyze.tasks.retrieve("t1")
    assert hinted == clock.sleeps  # the same seeded backoff as with no hint at all
    assert len(hinted) == 3
    assert min(hinted) > 0


# --- streams ----------------------------------------------------------------------------------

EVENTS = [
    {"event_type": "stream_start", "metadata": {"generation_id": "g1"}},
    {"event_type": "text_generation", "text": "Hello "},
    {"event_type": "text_generation", "text": "world"},
    {"event_type": "stream_end", "finish_reason": "stop", "metadata": {"generation_id": "g1"}},
]
NDJSON = b"".join(json.dumps(e).encode() + b"\n" for e in EVENTS)


async def test_streamed_analysis_reads_the_handler_body(make: Factory) -> None:
    """The handler's body is the stream; the request asks for NDJSON and `stream: true`."""
    script = Script(Response(503), Response(200, body=NDJSON))
    async with make(script).analyze.stream(**GENERATE) as stream:
        texts = [e.text async for e in stream if isinstance(e, TextGeneration)]
    assert texts == ["Hello ", "world"]
    assert isinstance(stream.end, StreamEnd)
    assert len(script.requests) == 2
    assert script.requests[0].headers["Accept"] == "application/x-ndjson, application/json"
    assert script.requests[0].json["stream"] is True


async def test_streamed_analysis_is_not_repeated_once_it_may_have_reached_the_server(
    make: Factory,
) -> None:
    """The streamed POST /analyze is repeated only when it never reached the server."""
    script = Script(APIConnectionError("refused", request_sent=False), APIConnectionError("reset"))
    with pytest.raises(APIConnectionError) as info:
        await make(script).analyze.stream(**GENERATE).text()
    assert str(info.value) == "POST /analyze: reset"
    assert len(script.requests) == 2


async def test_stream_that_breaks_raises_after_its_lines(make: Factory) -> None:
    """A stream cut off after two events yields them, then raises; it is not repeated."""
    script = Script(Response(200, body=NDJSON[: NDJSON.index(b"world")], incomplete=CUT))
    seen: list[object] = []

    async def read() -> None:
        async for event in make(script).analyze.stream(**GENERATE):
            seen.append(event)

    with pytest.raises(APIConnectionError) as info:
        await read()
    assert str(info.value) == f"POST /analyze: the stream broke: {CUT}"
    assert len(seen) == 2
    assert len(script.requests) == 1


async def test_batch_results_are_repeated_after_a_reset(make: Factory) -> None:
    """The results stream is a GET: repeated after a reset; an error status maps as usual."""
    line = b'{"task_id": "t1", "custom_id": null, "status": "queued"}\n'
    script = Script(APIConnectionError("reset"), Response(200, body=line))
    async with make(script).analyze.batches.results("b1") as results:
        items = [item async for item in results]
    assert [i.task_id for i in items] == ["t1"]
    assert len(script.requests) == 2
    missing = Script(Response.from_json(404, {"error": {"code": "resource_not_exist"}}))
    with pytest.raises(NotFoundError):
        async with make(missing).analyze.batches.results("b2"):
            pass  # pragma: no cover


# --- the client and its transport -------------------------------------------------------------


async def test_transport_and_session_together_are_refused() -> None:
    """transport= with session= raises ConfigurationError; so does a non-transport."""
    async with aiohttp.ClientSession() as session:
        with pytest.raises(ConfigurationError, match="not both"):
            AsyncTwelveLabs(API_KEY, session=session, transport=MockTransport(Script(ok())))
    with pytest.raises(ConfigurationError, match="transport must be a Transport"):
        AsyncTwelveLabs(API_KEY, transport=object())  # type: ignore[arg-type]


async def test_closing_the_client_leaves_the_transport_alone(make: Factory) -> None:
    """A closed client sends nothing through its transport, and never closed it."""
    closes: list[str] = []

    class Counting(MockTransport):
        async def close(self) -> None:
            closes.append("close")

    script = Script(ok())
    client = AsyncTwelveLabs(API_KEY, base_url=BASE_URL, transport=Counting(script))
    assert not client._http.owns_session
    await client.close()
    with pytest.raises(ClientClosedError):
        await client.analyze.tasks.retrieve("t1")
    with pytest.raises(ClientClosedError):
        async with client.analyze.stream(**GENERATE):
            pass  # pragma: no cover
    assert script.requests == []
    assert closes == []


@pytest.fixture
def clean_env() -> dict[str, str]:
    """The environment for a child interpreter, without coverage's start hook."""
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("COVERAGE_PROCESS_START", None)
    return env


def test_the_library_never_imports_testing(clean_env: dict[str, str]) -> None:
    """Importing the package and building a client loads no `twelvelabs_async.testing`."""
    code = (
        "import sys, twelvelabs_async as t; t.AsyncTwelveLabs('k'); "
        "print(sorted(m for m in sys.modules if m.startswith('twelvelabs_async.testing')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=clean_env, check=True
    )
    assert result.stdout.strip() == "[]"
