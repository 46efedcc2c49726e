"""One DEBUG line per request attempt on `twelvelabs_async`: method, path, status or failure,
elapsed time, attempt number and the server's request id; its fields on the record; nothing
secret, nothing a server sends unescaped.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from tests.conftest import API_KEY, BASE_URL, FakeClock
from twelvelabs_async import (
    APIConnectionError,
    AsyncTwelveLabs,
    DecodeError,
    NotFoundError,
    Request,
    Response,
)
from twelvelabs_async._request_log import FIELDS, REQUEST_ID_CHARS, Attempt, request_id
from twelvelabs_async.testing import MockTransport

TASK = {"task_id": "t1", "status": "ready"}
NDJSON = b'{"event_type": "stream_start"}\n{"event_type": "stream_end"}\n'
Handler = Callable[[Request], Any]
Factory = Callable[..., AsyncTwelveLabs]


@pytest.fixture
async def make(clock: FakeClock) -> AsyncIterator[Factory]:
    """Clients on a `MockTransport` of a handler, on the fake clock; closed at teardown."""
    made: list[AsyncTwelveLabs] = []

    def build(handler: Handler, **kwargs: Any) -> AsyncTwelveLabs:
        transport = MockTransport(handler)
        made.append(
            AsyncTwelveLabs(
                API_KEY,
                base_url=BASE_URL,
                transport=transport,
                clock=clock,
                rng=random.Random(7),
                **kwargs,
            )
        )
        return made[-1]

    yield build
    for c in made:
        await c.close()


@pytest.fixture
def debug(caplog: pytest.LogCaptureFixture) -> Callable[[], list[logging.LogRecord]]:
    """Capture `twelvelabs_async` at DEBUG; returns a getter of its DEBUG records."""
    caplog.set_level(logging.DEBUG, logger="twelvelabs_async")

    def records() -> list[logging.LogRecord]:
        return [
            r for r in caplog.records if r.name == "twelvelabs_async" and r.levelno == logging.DEBUG
        ]

    return records


def replies(*answers: Response | BaseException) -> Handler:
    """A handler that gives these answers in order (the last one repeats)."""
    queue = list(answers)

    def handler(request: Request) -> Response:
        answer = queue.pop(0) if len(queue) > 1 else queue[0]
        if isinstance(answer, BaseException):
            raise answer
        return answer

    return handler


def fields(record: logging.LogRecord) -> dict[str, Any]:
    """The structured fields an attempt's record carries."""
    return {name: getattr(record, name) for name in FIELDS}


async def test_a_successful_request_is_one_debug_line_with_its_fields(
    make: Factory, debug: Callable[[], list[logging.LogRecord]]
) -> None:
    """A 200 logs method, path, status, elapsed, attempt and request id, also as attributes."""
    ok = Response.from_json(200, TASK, headers={"X-Request-Id": "req-42"})
    await make(replies(ok)).analyze.tasks.retrieve("t1")
    [record] = debug()
    assert record.getMessage() == (
        "GET /analyze/tasks/t1 -> 200 in 0.0 ms (attempt 1 of 4, request id req-42)"
    )
    assert fields(record) == {
        "method": "GET",
        "path": "/analyze/tasks/t1",
        "status": 200,
        "error": None,
        "elapsed_ms": 0.0,
        "attempt": 1,
        "max_attempts": 4,
        "request_id": "req-42",
    }


async def test_elapsed_time_is_read_on_the_clients_clock(
    make: Factory, clock: FakeClock, debug: Callable[[], list[logging.LogRecord]]
) -> None:
    """An answer that takes 0.25 s of (virtual) time is logged as 250.0 ms."""

    async def slow(request: Request) -> Response:
        await clock.sleep(0.25)
        return Response.from_json(200, TASK)

    await make(slow).analyze.tasks.retrieve("t1")
    [record] = debug()
    assert fields(record)["elapsed_ms"] == 250.0
    assert "-> 200 in 250.0 ms (attempt 1 of 4)" in record.getMessage()


async def test_each_attempt_of_a_retried_request_has_its_line_around_the_retry_line(
    make: Factory, caplog: pytest.LogCaptureFixture, debug: Callable[[], list[logging.LogRecord]]
) -> None:
    """503, connection reset, 200: three DEBUG lines, numbered, between the two INFO retries."""
    handler = replies(
        Response(503, {"X-Request-Id": "r1"}),
        APIConnectionError("reset by peer"),
        Response.from_json(200, TASK, headers={"X-Request-Id": "r3"}),
    )
    await make(handler).analyze.tasks.retrieve("t1")
    lines = [(r.levelname, r.getMessage()) for r in caplog.records]
    assert [level for level, _ in lines] == ["DEBUG", "INFO", "DEBUG", "INFO", "DEBUG"]
    assert lines[0][1].startswith("GET /analyze/tasks/t1 -> 503 ServerError in ")
    assert lines[0][1].endswith("(attempt 1 of 4, request id r1)")
    assert lines[1][1].startswith("retrying GET /analyze/tasks/t1 in ")
    assert lines[2][1].startswith("GET /analyze/tasks/t1 -> APIConnectionError in ")
    assert lines[2][1].endswith("(attempt 2 of 4)")
    assert lines[4][1].endswith("(attempt 3 of 4, request id r3)")
    first, second, third = (fields(r) for r in debug())
    assert (first["status"], first["error"], first["request_id"]) == (503, "ServerError", "r1")
    assert (second["status"], second["error"], second["request_id"]) == (
        None,
        "APIConnectionError",
        None,
    )
    assert [third["attempt"], third["status"], third["error"]] == [3, 200, None]


async def test_a_final_error_and_a_malformed_success_are_logged_with_status_and_class(
    make: Factory, debug: Callable[[], list[logging.LogRecord]]
) -> None:
    """A 404 logs `404 NotFoundError`; a 200 that is not JSON logs `200 DecodeError`."""
    client = make(
        replies(Response.from_json(404, {"code": "resource_not_exist"}), Response(200, body=b"x")),
        max_retries=0,
    )
    with pytest.raises(NotFoundError):
        await client.analyze.tasks.retrieve("t1")
    with pytest.raises(DecodeError):
        await client.analyze.tasks.retrieve("t1")
    messages = [r.getMessage() for r in debug()]
    assert messages[0].startswith("GET /analyze/tasks/t1 -> 404 NotFoundError in ")
    assert messages[1].startswith("GET /analyze/tasks/t1 -> 200 DecodeError in ")
    assert all(m.endswith("(attempt 1 of 1)") for m in messages)


async def test_a_streamed_request_logs_its_attempt_when_the_response_starts(
    make: Factory, debug: Callable[[], list[logging.LogRecord]]
) -> None:
    """`analyze.stream` logs one line for the 503 and one for the 200 that streams."""
    client = make(replies(Response(503), Response(200, body=NDJSON)))
    await client.analyze.stream(video="https://cdn.example.com/v.mp4", prompt="Hi").text()
    messages = [r.getMessage() for r in debug()]
    assert len(messages) == 2
    assert messages[0].startswith("POST /analyze -> 503 ServerError in ")
    assert messages[1].startswith("POST /analyze -> 200 in ")


async def test_a_cancelled_attempt_is_logged_and_the_cancellation_goes_on(
    make: Factory, debug: Callable[[], list[logging.LogRecord]]
) -> None:
    """Cancelling a call mid-request logs `CancelledError` for the attempt and still cancels."""
    started = asyncio.Event()

    async def hang(request: Request) -> Response:
        started.set()
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    call = asyncio.create_task(make(hang).analyze.tasks.retrieve("t1"))
    await started.wait()
    call.cancel()
    with pytest.raises(asyncio.CancelledError):
        await call
    [record] = debug()
    assert record.getMessage().startswith("GET /analyze/tasks/t1 -> CancelledError in ")
    assert fields(record)["error"] == "CancelledError"


async def test_query_values_are_never_logged(
    make: Factory, debug: Callable[[], list[logging.LogRecord]]
) -> None:
    """A list filtered by a signed video URL logs the path only, not the query."""
    page = {"data": [], "page_info": {"page": 1, "total_page": 1, "total_results": 0}}
    signed = "https://cdn.example.com/v.mp4?X-Amz-Signature=s3cr3t"
    sent: list[Request] = []

    def handler(request: Request) -> Response:
        sent.append(request)
        return Response.from_json(200, page)

    _ = [t async for t in make(handler).analyze.tasks.list(video_url=signed)]
    assert ("video_url", signed) in (sent[0].params or ())
    [record] = debug()
    assert fields(record)["path"] == "/analyze/tasks"
    assert "s3cr3t" not in record.getMessage()
    assert "s3cr3t" not in repr(record.__dict__)


async def test_the_request_id_is_escaped_cut_short_and_never_shows_the_key(
    make: Factory, debug: Callable[[], list[logging.LogRecord]]
) -> None:
    """A request id echoing the key, with a newline and escapes, is redacted, escaped and cut."""
    forged = f"{API_KEY}\n2025-01-01 ERROR forged\x1b[2K" + "x" * 500
    answer = Response.from_json(200, TASK, headers={"X-Request-Id": forged})
    await make(replies(answer)).analyze.tasks.retrieve("t1")
    [record] = debug()
    line = record.getMessage()
    assert API_KEY not in line
    assert API_KEY not in repr(record.__dict__)
    assert "\n" not in line
    assert "\x1b" not in line
    rid = fields(record)["request_id"]
    assert rid.startswith("[redacted]\\n2025-01-01 ERROR forged\\x1b[2K")
    assert rid.endswith("more characters]")
    assert len(rid) < REQUEST_ID_CHARS + 40


def test_the_request_id_headers_are_read_in_order_case_insensitively() -> None:
    """X-Request-Id wins over Request-Id and X-Amzn-RequestId; none present is None."""
    headers = Response(200, {"request-id": "b", "x-amzn-requestid": "c"}).headers
    assert request_id(headers, API_KEY) == "b"
    headers = Response(200, {"X-AMZN-REQUESTID": "c", "x-request-id": "a"}).headers
    assert request_id(headers, API_KEY) == "a"
    assert request_id(Response(200, {"X-Correlation-Id": "d"}).headers, API_KEY) == "d"
    assert request_id(Response(200, {"Server": "x"}).headers, API_KEY) is None
    assert request_id(Response(200, {"X-Request-Id": ""}).headers, API_KEY) is None
    assert request_id(None, API_KEY) is None


def test_a_record_has_exactly_the_documented_fields() -> None:
    """`Attempt.record` returns every name of FIELDS as `extra`, and nothing else."""
    attempt = Attempt("DELETE", "analyze/tasks/t1", 2, 4, started=10.0)
    attempt.received(204, Response(204).headers)
    message, args, extra = attempt.record(10.5, None, API_KEY)
    assert tuple(extra) == FIELDS
    assert message % args == "DELETE /analyze/tasks/t1 -> 204 in 500.0 ms (attempt 2 of 4)"


async def test_nothing_is_logged_per_attempt_above_debug(
    make: Factory, caplog: pytest.LogCaptureFixture
) -> None:
    """At INFO, a request that succeeds at once logs nothing at all."""
    caplog.set_level(logging.INFO, logger="twelvelabs_async")
    await make(replies(Response.from_json(200, TASK))).analyze.tasks.retrieve("t1")
    assert [r for r in caplog.records if r.name == "twelvelabs_async"] == []
