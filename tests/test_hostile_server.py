"""Hostile servers: huge and bombed bodies, endless lines, deep nesting, echoed keys, forged logs.

Where a real socket matters (a body read only up to its limit, a gzip bomb, a server that must
notice the client leave), a loopback server sends the body lazily; memory and CPU are measured
in processes of their own (`tests/_hostile.py`). The rest runs on `MockTransport`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from tests._server import MIB, LoopbackServer, gzip_bomb, lazy, long_line, reply
from tests.conftest import API_KEY, BASE_URL, FakeClock
from twelvelabs_async import (
    APIConnectionError,
    AsyncTwelveLabs,
    BadRequestError,
    ConfigurationError,
    DecodeError,
    Request,
    Response,
    ResponseTooLargeError,
    ServerError,
    TwelveLabsError,
    WebhookVerificationError,
    parse_json,
    webhooks,
)
from twelvelabs_async import _convert as convert
from twelvelabs_async._http import _iter_lines
from twelvelabs_async.models import AnalyzeTask, Segment
from twelvelabs_async.testing import MockTransport

ROOT = Path(__file__).resolve().parent.parent
TASK = {"task_id": "t1", "status": "ready"}
TASK_PATH = "analyze/tasks/t1"
VIDEO = "https://cdn.example/v.mp4"
DEEP = b"[" * 200_000
ANALYSIS = {
    "generation_id": "g",
    "data": "",
    "finish_reason": "stop",
    "usage": {"output_tokens": 1},
}
Factory = Callable[..., AsyncTwelveLabs]


@pytest.fixture
async def make(server: LoopbackServer, clock: FakeClock) -> AsyncIterator[Factory]:
    """Build clients of the loopback server (or of a MockTransport handler); closed at teardown."""
    made: list[AsyncTwelveLabs] = []

    def build(handler: Any = None, **kwargs: Any) -> AsyncTwelveLabs:
        if handler is None:
            kwargs.setdefault("base_url", server.base_url)
        else:
            kwargs.update(base_url=BASE_URL, transport=MockTransport(handler))
        made.append(AsyncTwelveLabs(API_KEY, clock=clock, rng=random.Random(7), **kwargs))
        return made[-1]

    yield build
    for c in made:
        await c.close()


async def ended(sent: asyncio.Queue[int], count: int = 1) -> list[int]:
    """What each of `count` lazy handlers wrote, once they have ended."""
    return [await sent.get() for _ in range(count)]


def ndjson(*lines: Any) -> bytes:
    """Lines of JSON, each ending in a newline."""
    return b"".join(json.dumps(line).encode() + b"\n" for line in lines)


# --- JSON nested too deeply -------------------------------------------------------------------


async def test_deep_reply_raises_decode_error(make: Factory) -> None:
    """A 200 of 200 KB of nested brackets raises DecodeError, not RecursionError."""
    client = make(lambda request: Response(200, body=DEEP), max_retries=0)
    with pytest.raises(DecodeError, match="nested too deeply") as info:
        await client.analyze.tasks.retrieve("t1")
    assert len(str(info.value)) < 500


async def test_deep_error_body_raises_the_status_error(make: Factory) -> None:
    """A 400 whose body is nested too deeply raises BadRequestError with the body as text."""
    client = make(lambda request: Response(400, body=DEEP))
    with pytest.raises(BadRequestError) as info:
        await client.analyze.tasks.retrieve("t1")
    assert info.value.body == DEEP[: 64 * 1024].decode()
    assert info.value.code is None


async def test_deep_streamed_line_raises_decode_error(make: Factory) -> None:
    """A streamed analysis line nested too deeply raises DecodeError."""
    client = make(lambda request: Response(200, body=DEEP + b"\n"))
    with pytest.raises(DecodeError, match="not JSON"):
        await client.analyze.stream(video=VIDEO, prompt="Hi").text()


async def test_deep_batch_result_line_raises_decode_error(make: Factory) -> None:
    """A batch results line nested too deeply raises DecodeError."""
    client = make(lambda request: Response(200, body=DEEP + b"\n"))
    with pytest.raises(DecodeError, match="not JSON"):
        [i async for i in client.analyze.batches.results("b1")]


def test_deep_result_text_raises_decode_error() -> None:
    """parse_json of a result whose text is nested too deeply raises DecodeError."""
    task = convert.structure({**TASK, "result": {**ANALYSIS, "data": DEEP.decode()}}, AnalyzeTask)
    with pytest.raises(DecodeError, match="nested too deeply"):
        parse_json(task)


def test_signed_deep_webhook_body_is_malformed() -> None:
    """A correctly signed webhook body nested too deeply fails verification as malformed_body."""
    signature = webhooks.sign(DEEP, "whsec_test", timestamp=1_700_000_000)
    with pytest.raises(WebhookVerificationError) as info:
        webhooks.verify(DEEP, signature, "whsec_test", now=1_700_000_000)
    assert (info.value.reason, info.value.path, info.value.http_status) == (
        "malformed_body",
        "$",
        400,
    )


def test_failure_while_explaining_a_bad_body_is_still_a_decode_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """When cattrs fails while locating a problem (a RecursionError), DecodeError is raised."""

    def fail(*args: Any, **kwargs: Any) -> list[str]:
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(convert.cattrs, "transform_error", fail)
    with pytest.raises(DecodeError) as info:
        convert.structure({"task_id": 5, "status": "ready"}, AnalyzeTask)
    assert info.value.path == "$"
    assert "RecursionError while locating the problem" in str(info.value)


def test_a_failure_outside_cattrs_validation_is_a_decode_error() -> None:
    """A hook's own TypeError (no array where one is due) surfaces as DecodeError at `$`."""
    with pytest.raises(DecodeError, match="TypeError: expected an array, got a string") as info:
        convert.structure("not a list", tuple[Segment, ...])
    assert info.value.path == "$"


# --- splitting lines --------------------------------------------------------------------------

BODY = b'{"a": 1}\n\n{"b": "two"}\nlast line, no newline'
LINES = [b'{"a": 1}', b"", b'{"b": "two"}', b"last line, no newline"]


async def lines_of(chunks: list[bytes], limit: int = 100) -> list[bytes]:
    """The lines `_iter_lines` makes of `chunks`."""

    async def source() -> AsyncIterator[bytes]:
        for chunk in chunks:
            yield chunk

    return [line async for line in _iter_lines(source(), "GET /x", limit, API_KEY)]


@pytest.mark.parametrize("size", [1, 2, 3, 7, 11, len(BODY)])
async def test_lines_are_the_same_however_the_body_is_chunked(size: int) -> None:
    """Lines split across chunks of any size are reassembled; blank lines are kept as b""."""
    chunks = [BODY[i : i + size] for i in range(0, len(BODY), size)]
    assert await lines_of(chunks) == LINES
    assert await lines_of([b"", *chunks, b""]) == LINES
    assert await lines_of([BODY + b"\n"]) == LINES


@pytest.mark.parametrize("size", [1, 4, 10, 11])
async def test_a_line_of_the_limit_passes_and_one_byte_more_does_not(size: int) -> None:
    """A 10-byte line passes a 10-byte limit; an 11-byte one raises, however it is chunked."""
    for body, fits in ((b"0123456789\nok\n", True), (b"0123456789A\nok\n", False)):
        chunks = [body[i : i + size] for i in range(0, len(body), size)]
        if fits:
            assert await lines_of(chunks, limit=10) == [b"0123456789", b"ok"]
        else:
            with pytest.raises(ResponseTooLargeError):
                await lines_of(chunks, limit=10)


async def test_an_unending_last_line_over_the_limit_raises() -> None:
    """A last line with no newline that grows past the limit raises before it is kept whole."""
    with pytest.raises(ResponseTooLargeError):
        await lines_of([b"ok\n", b"x" * 60, b"x" * 60], limit=100)


# --- memory and CPU, each measured in a fresh process -------------------------------------------

PROCESSES = (("gzip-bomb",), ("huge-json",), ("long-line", "long-line-in-chunks"))
"""The scenarios of `tests/_hostile.py`, by process: each memory measure comes first in one."""


@pytest.fixture(scope="module")
def measured() -> dict[str, dict[str, Any]]:
    """The scenarios of `tests/_hostile.py` run in processes of their own, all at once."""
    procs = [
        (
            names,
            subprocess.Popen(
                [sys.executable, "-m", "tests._hostile", *names],
                cwd=ROOT,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            ),
        )
        for names in PROCESSES
    ]
    results = {}
    for names, proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        results.update(zip(names, map(json.loads, out.splitlines()), strict=True))
    return results


@pytest.mark.parametrize("scenario", ["gzip-bomb", "huge-json"])
def test_huge_replies_cost_bounded_memory(
    measured: dict[str, dict[str, Any]], scenario: str
) -> None:
    """A 0.5 GB gzip bomb or a 1 GB reply raises ResponseTooLargeError, adding < 200 MB."""
    result = measured[scenario]
    assert result["error"] == "ResponseTooLargeError"
    assert result["rss_mib"] < 200


def test_a_400_mb_line_is_refused_fast_in_bounded_memory(
    measured: dict[str, dict[str, Any]],
) -> None:
    """A 400 MB streamed line raises ResponseTooLargeError within 2 s of CPU, adding < 200 MB."""
    result = measured["long-line"]
    assert result["error"] == "ResponseTooLargeError"
    assert result["cpu"] < 2.0
    assert result["rss_mib"] < 200


def test_splitting_a_long_line_takes_linear_time(measured: dict[str, dict[str, Any]]) -> None:
    """A 32 MiB line in 4 KiB chunks is split in < 1.5 s of CPU (searched from the start: ~6 s)."""
    result = measured["long-line-in-chunks"]
    assert result["error"] is None
    assert result["cpu"] < 1.5


# --- bodies over the limit ------------------------------------------------------------------------


async def test_reply_over_the_limit_is_retried_then_raises_too_large(
    server: LoopbackServer, make: Factory, clock: FakeClock
) -> None:
    """A 64 MiB reply over a 1 MiB limit raises ResponseTooLargeError, read no further, retried."""
    sent: asyncio.Queue[int] = asyncio.Queue()
    server.on("GET", TASK_PATH, lazy(200, b'{"task_id": "', 64 * MIB, sent=sent))
    with pytest.raises(ResponseTooLargeError) as info:
        await make(max_response_bytes=MIB, max_retries=2).analyze.tasks.retrieve("t1")
    assert isinstance(info.value, DecodeError)
    assert (info.value.limit, info.value.status_code, info.value.path) == (MIB, 200, "$")
    assert str(info.value).startswith("GET /analyze/tasks/t1: the response body is larger than")
    assert "1,048,576 bytes (max_response_bytes)" in str(info.value)
    assert len(server.seen("GET", TASK_PATH)) == 3
    assert len(clock.sleeps) == 2
    assert all(n < 16 * MIB for n in await ended(sent, 3))  # the server saw the client leave


async def test_paid_post_over_the_limit_is_not_retried(
    server: LoopbackServer, make: Factory, clock: FakeClock
) -> None:
    """POST /analyze whose answer is over the limit raises at once: the work may be done."""
    server.on("POST", "analyze", lazy(200, b'{"data": "', 4 * MIB))
    with pytest.raises(ResponseTooLargeError):
        await make(max_response_bytes=MIB).analyze.generate(video=VIDEO, prompt="Hi")
    assert len(server.seen("POST", "analyze")) == 1
    assert clock.sleeps == []


async def test_gzip_bomb_is_measured_inflated(server: LoopbackServer, make: Factory) -> None:
    """A gzip body of a few KiB that inflates to 8 MiB is over a 1 MiB limit."""
    server.on("GET", TASK_PATH, gzip_bomb(8))
    with pytest.raises(ResponseTooLargeError):
        await make(max_response_bytes=MIB, max_retries=0).analyze.tasks.retrieve("t1")


async def test_reply_at_the_limit_is_read(server: LoopbackServer, make: Factory) -> None:
    """A reply of exactly `max_response_bytes` is read and decoded."""
    body = json.dumps({**TASK, "pad": ""}).encode()
    server.on("GET", TASK_PATH, reply(200, body=body))
    task = await make(max_response_bytes=len(body)).analyze.tasks.retrieve("t1")
    assert task.task_id == "t1"


async def test_any_transport_reply_over_the_limit_is_too_large(make: Factory) -> None:
    """The limit holds for any transport: a MockTransport body over it raises as well."""
    client = make(lambda request: Response(200, body=b" " * 2000), max_response_bytes=1000)
    with pytest.raises(ResponseTooLargeError):
        await client.analyze.tasks.retrieve("t1")


async def test_error_body_is_read_to_64_kib_and_shown_short(
    server: LoopbackServer, make: Factory, caplog: pytest.LogCaptureFixture
) -> None:
    """A 500 with a 200 MB message: 64 KiB read, a short message and log lines, still retried."""
    caplog.set_level(logging.INFO, logger="twelvelabs_async")
    sent: asyncio.Queue[int] = asyncio.Queue()
    head = b'{"error": {"code": "boom", "message": "'
    server.on("GET", TASK_PATH, lazy(500, head, 200 * MIB, tail=b'"}}', sent=sent))
    with pytest.raises(ServerError) as info:
        await make(max_retries=2).analyze.tasks.retrieve("t1")
    error = info.value
    assert isinstance(error.body, str)  # cut short, it is no longer JSON: kept as text
    assert error.body.startswith('{"error": {"code": "boom", "message": "xxx')
    assert len(error.body) == 64 * 1024
    assert error.message.endswith("... [65,236 more characters]")
    assert len(str(error)) < 400
    assert len(server.seen("GET", TASK_PATH)) == 3
    assert all(len(r.getMessage()) < 600 for r in caplog.records)
    assert all(n < 16 * MIB for n in await ended(sent, 3))


async def test_stream_error_body_is_read_to_64_kib(server: LoopbackServer, make: Factory) -> None:
    """A streamed request answered 400 with a 50 MB body raises BadRequestError, read short."""
    sent: asyncio.Queue[int] = asyncio.Queue()
    server.on("POST", "analyze", lazy(400, b'{"message": "', 50 * MIB, sent=sent))
    with pytest.raises(BadRequestError) as info:
        await make().analyze.stream(video=VIDEO, prompt="Hi").text()
    assert len(info.value.body) == 64 * 1024
    assert len(str(info.value)) < 400
    assert (await ended(sent))[0] < 16 * MIB


async def test_streamed_line_over_the_limit_raises_too_large(
    server: LoopbackServer, make: Factory
) -> None:
    """An 8 MiB line over a 1 MiB line limit raises ResponseTooLargeError; the server stops."""
    sent: asyncio.Queue[int] = asyncio.Queue()
    server.on("POST", "analyze", long_line(8 * MIB, sent=sent))
    with pytest.raises(ResponseTooLargeError) as info:
        await make(max_line_bytes=MIB).analyze.stream(video=VIDEO, prompt="Hi").text()
    assert info.value.limit == MIB
    assert str(info.value).startswith("POST /analyze: a line of the streamed response is longer")
    assert "(max_line_bytes)" in str(info.value)
    assert (await ended(sent))[0] < 8 * MIB


async def test_batch_result_line_over_the_limit_raises_too_large(make: Factory) -> None:
    """A batch results line over the line limit raises ResponseTooLargeError after the others."""
    body = ndjson({"task_id": "t1", "status": "ready"}, {"task_id": "t2", "data": "x" * 5000})
    client = make(lambda request: Response(200, body=body), max_line_bytes=1000)
    seen: list[str] = []

    async def read() -> None:
        async for item in client.analyze.batches.results("b1"):
            seen.append(item.task_id)

    with pytest.raises(ResponseTooLargeError):
        await read()
    assert seen == ["t1"]


async def test_a_long_analysis_fits_the_default_limits(make: Factory) -> None:
    """A 4 MiB analysis in a batch results line, and in a task, is read with the defaults."""
    text = "word " * (MIB * 4 // 5)
    analysis = {**ANALYSIS, "data": text}
    result = {"task_id": "t1", "status": "ready", "data": analysis}
    task = {"task_id": "t1", "status": "ready", "result": analysis}

    def handler(request: Request) -> Response:
        return Response.from_json(200, task if "tasks" in request.url else result)

    client = make(handler)
    [item] = [i async for i in client.analyze.batches.results("b1")]
    assert item.data is not None
    assert item.data.data == text
    retrieved = await client.analyze.tasks.retrieve("t1")
    assert retrieved.result is not None
    assert retrieved.result.data == text


@pytest.mark.parametrize("option", ["max_response_bytes", "max_line_bytes"])
@pytest.mark.parametrize("value", [0, -1, 1.5, True, "1024", None])
def test_limits_must_be_positive_integers(option: str, value: Any) -> None:
    """A limit that is not an integer >= 1 is refused with ConfigurationError."""
    with pytest.raises(ConfigurationError, match=option):
        AsyncTwelveLabs(API_KEY, **{option: value})


# --- server text in errors and logs -------------------------------------------------------------


async def test_proxy_echo_of_the_api_key_is_redacted(server: LoopbackServer, make: Factory) -> None:
    """A proxy's 400 that echoes the request's headers shows [redacted] instead of the key."""
    from aiohttp import web

    async def echo(request: web.Request) -> web.StreamResponse:
        key = request.headers["x-api-key"]
        headers = dict(request.headers)
        return web.json_response(
            {"message": f"bad request; x-api-key: {key[:12]}...", "headers": headers},
            status=400,
        )

    server.on("GET", TASK_PATH, echo)
    with pytest.raises(BadRequestError) as info:
        await make().analyze.tasks.retrieve("t1")
    error = info.value
    assert error.message == "GET /analyze/tasks/t1: bad request; x-api-key: [redacted]..."
    assert error.body["headers"]["x-api-key"] == "[redacted]"
    for shown in (str(error), repr(error), json.dumps(error.body)):
        assert API_KEY[:8] not in shown


async def test_server_text_cannot_forge_log_lines(
    server: LoopbackServer, make: Factory, caplog: pytest.LogCaptureFixture
) -> None:
    """A 503 message with newlines and escape codes is logged on one escaped line."""
    caplog.set_level(logging.INFO, logger="twelvelabs_async")
    forged = "down\n2025-01-01 ERROR twelvelabs_async: fake line\x1b[2K"
    server.on("GET", TASK_PATH, reply(503, {"message": forged}), reply(200, TASK))
    await make().analyze.tasks.retrieve("t1")
    [record] = [r for r in caplog.records if r.name == "twelvelabs_async"]
    line = record.getMessage()
    assert "\n" not in line
    assert "\x1b" not in line
    assert "down\\n2025-01-01 ERROR twelvelabs_async: fake line\\x1b[2K" in line


async def test_malformed_reply_snippet_is_redacted(make: Factory) -> None:
    """A 2xx that is not JSON and starts with the key shows [redacted] in the DecodeError."""
    client = make(lambda request: Response(200, body=f"{API_KEY} oops".encode()), max_retries=0)
    with pytest.raises(DecodeError) as info:
        await client.analyze.tasks.retrieve("t1")
    assert "[redacted]" in str(info.value)
    assert API_KEY[:8] not in str(info.value)


async def test_transport_failure_text_is_escaped_and_redacted(make: Factory) -> None:
    """A transport's failure quoting the server is shown escaped, short and without the key."""

    def fail(request: Request) -> Response:
        raise APIConnectionError(f"BadStatusLine: '{API_KEY}\r\nX-Fake: 1' " + "z" * 5000)

    with pytest.raises(APIConnectionError) as info:
        await make(fail, max_retries=0).analyze.tasks.retrieve("t1")
    text = str(info.value)
    assert text.startswith("GET /analyze/tasks/t1: BadStatusLine: '[redacted]\\r\\nX-Fake: 1' zz")
    assert text.endswith("z... [4,739 more characters]")


@pytest.mark.parametrize(
    "answer",
    [
        Response(200, body=DEEP),
        Response(400, body=DEEP),
        Response(200, body=b" " * 5000),
        Response(500, body=b"\xff" * 100_000),
    ],
    ids=["deep-200", "deep-400", "over-limit", "not-utf8"],
)
async def test_nothing_but_library_errors_escape(make: Factory, answer: Response) -> None:
    """Whatever the hostile answer, only a TwelveLabsError reaches the caller."""
    client = make(lambda request: answer, max_response_bytes=1000, max_retries=1)
    with pytest.raises(TwelveLabsError):
        await client.analyze.tasks.retrieve("t1")
