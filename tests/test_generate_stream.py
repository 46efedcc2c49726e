"""client.analyze.generate (aioresponses) and client.analyze.stream (a real loopback server)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from aiohttp import web
from aioresponses import aioresponses
from yarl import URL

from tests._server import LoopbackServer, closed_port, hang, ndjson, reply
from tests.conftest import API_KEY, BASE_URL, FakeClock
from twelvelabs_async import (
    AiohttpTransport,
    AnalyzeStream,
    APIConnectionError,
    APITimeoutError,
    AsyncTwelveLabs,
    BadRequestError,
    DecodeError,
    FinishReason,
    NotFoundError,
    RateLimitError,
    ResponseFormat,
    StreamEnd,
    StreamEvent,
    StreamStart,
    TextGeneration,
    TokenUsage,
    TwelveLabsError,
    UnknownEvent,
)

VIDEO = "https://cdn.example/v.mp4"
ANALYZE = f"{BASE_URL}/analyze"
EVENTS: list[dict[str, Any]] = [
    {"event_type": "stream_start", "metadata": {"generation_id": "g1"}},
    {"event_type": "text_generation", "text": "Hel"},
    {"event_type": "text_generation", "text": "lo, wor"},
    {"event_type": "future_event", "detail": {"x": 1}},
    {"event_type": "text_generation", "text": "ld"},
    {
        "event_type": "stream_end",
        "finish_reason": "stop",
        "metadata": {"generation_id": "g1", "usage": {"output_tokens": 4, "input_tokens": 90}},
    },
]


def ndjson_bytes(events: list[dict[str, Any]]) -> bytes:
    """Events as NDJSON, with a blank line inside and no newline after the last line."""
    lines = [json.dumps(e).encode() for e in events]
    return b"\n".join(lines[:2]) + b"\n\n" + b"\n".join(lines[2:])


def split(data: bytes, size: int) -> list[bytes]:
    """Chunks of `size` bytes, so that lines break mid-JSON."""
    return [data[i : i + size] for i in range(0, len(data), size)]


async def collect(stream: AnalyzeStream, into: list[StreamEvent]) -> None:
    """Read a stream inside `async with`, appending each event to `into`."""
    async with stream:
        async for event in stream:
            into.append(event)


# --- generate ----------------------------------------------------------------------------------


async def test_generate_sends_stream_false_and_returns_typed_result(
    client: AsyncTwelveLabs, mock_api: aioresponses
) -> None:
    """Generate posts the body with `"stream": false` and decodes the result."""
    mock_api.post(
        ANALYZE,
        payload={
            "id": "g1",
            "data": '{"title": "A"}',
            "finish_reason": "stop",
            "usage": {"output_tokens": 12, "input_tokens": 300},
        },
    )
    schema = {"type": "object", "properties": {"title": {"type": "string"}}}
    result = await client.analyze.generate(
        video=VIDEO, prompt="Title?", response_format=ResponseFormat.schema(schema)
    )
    assert result.id == "g1"
    assert result.data == '{"title": "A"}'
    assert result.finish_reason == FinishReason.STOP
    assert result.usage == TokenUsage(output_tokens=12, input_tokens=300)
    assert result.error is None
    assert len(mock_api.requests) == 1
    (call,) = mock_api.requests[("POST", URL(ANALYZE))]
    assert call.kwargs["json"] == {
        "video": {"type": "url", "url": VIDEO},
        "prompt": "Title?",
        "response_format": {"type": "json_schema", "json_schema": schema},
        "stream": False,
    }
    assert "Idempotency-Key" not in call.kwargs["headers"]


async def test_generate_length_finish_carries_a_warning(
    client: AsyncTwelveLabs, mock_api: aioresponses
) -> None:
    """finish_reason `length` comes back with the partial data and the error warning."""
    mock_api.post(
        ANALYZE,
        payload={
            "id": "g2",
            "data": "The video shows a man wal",
            "finish_reason": "length",
            "usage": {"output_tokens": 512},
            "error": {"code": "token_limit_exceeded", "message": "output truncated"},
        },
    )
    result = await client.analyze.generate(video=VIDEO, prompt="Describe", max_tokens=512)
    assert result.finish_reason == FinishReason.LENGTH
    assert result.data == "The video shows a man wal"
    assert result.error is not None
    assert (result.error.code, result.error.message) == ("token_limit_exceeded", "output truncated")
    (call,) = mock_api.requests[("POST", URL(ANALYZE))]
    assert call.kwargs["json"]["max_tokens"] == 512
    assert call.kwargs["json"]["stream"] is False


async def test_generate_flat_400_is_not_retried(
    client: AsyncTwelveLabs, mock_api: aioresponses
) -> None:
    """A flat 400 from /analyze raises BadRequestError after one request."""
    mock_api.post(ANALYZE, status=400, payload={"code": "parameter_invalid", "message": "video"})
    with pytest.raises(BadRequestError) as info:
        await client.analyze.generate(video=VIDEO, prompt="x")
    assert info.value.code == "parameter_invalid"
    assert len(mock_api.requests[("POST", URL(ANALYZE))]) == 1


# --- stream ------------------------------------------------------------------------------------


async def test_stream_events_are_typed_across_split_chunks(
    server: LoopbackServer, api: AsyncTwelveLabs
) -> None:
    """Lines split mid-JSON are reassembled into typed events; unknown ones pass through."""
    server.on("POST", "analyze", ndjson(split(ndjson_bytes(EVENTS), 7)))
    async with api.analyze.stream(video=VIDEO, prompt="Describe") as stream:
        events = [event async for event in stream]
    assert [type(e) for e in events] == [
        StreamStart,
        TextGeneration,
        TextGeneration,
        UnknownEvent,
        TextGeneration,
        StreamEnd,
    ]
    start, unknown, end = events[0], events[3], events[5]
    assert isinstance(start, StreamStart)
    assert start.metadata is not None
    assert start.metadata.generation_id == "g1"
    assert [e.text for e in events if isinstance(e, TextGeneration)] == ["Hel", "lo, wor", "ld"]
    assert unknown == UnknownEvent(event_type="future_event", data=EVENTS[3])
    assert isinstance(end, StreamEnd)
    assert end.metadata is not None
    assert end.finish_reason == FinishReason.STOP
    assert end.metadata.usage == TokenUsage(output_tokens=4, input_tokens=90)
    assert stream.end is end
    (seen,) = server.seen("POST", "analyze")
    assert seen.json() == {
        "video": {"type": "url", "url": VIDEO},
        "prompt": "Describe",
        "stream": True,
    }
    assert seen.headers["Accept"] == "application/x-ndjson, application/json"
    assert seen.headers["x-api-key"] == API_KEY


async def test_stream_text_joins_the_fragments(
    server: LoopbackServer, api: AsyncTwelveLabs
) -> None:
    """`.text()` returns the joined text and leaves the StreamEnd in `.end`."""
    server.on("POST", "analyze", ndjson(split(ndjson_bytes(EVENTS), 3)))
    stream = api.analyze.stream(video=VIDEO, prompt="Describe")
    assert await stream.text() == "Hello, world"
    assert isinstance(stream.end, StreamEnd)
    assert stream.end.finish_reason == "stop"
    with pytest.raises(RuntimeError, match="closed"):
        await stream.text()


async def test_breaking_out_early_releases_the_connection(
    server: LoopbackServer, api: AsyncTwelveLabs
) -> None:
    """Leaving `async with` after a `break` closes the connection: the server sees it go."""
    gone = asyncio.Event()

    async def endless(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(status=200)
        await resp.prepare(request)
        try:
            await resp.write(json.dumps(EVENTS[0]).encode() + b"\n")
            while True:
                await resp.write(b'{"event_type": "text_generation", "text": "more "}\n')
                await asyncio.sleep(0.01)
        finally:
            gone.set()

    server.on("POST", "analyze", endless)
    texts = 0
    async with api.analyze.stream(video=VIDEO, prompt="Go on") as stream:
        async for event in stream:
            if isinstance(event, TextGeneration):
                texts += 1
                if texts == 3:
                    break
    assert texts == 3
    await asyncio.wait_for(gone.wait(), timeout=10)
    transport = api._http.transport
    assert isinstance(transport, AiohttpTransport)
    session = transport.session
    assert session is not None
    assert session.connector is not None
    assert len(session.connector._acquired) == 0
    assert stream.end is None


async def test_malformed_line_raises_decode_error(
    server: LoopbackServer, api: AsyncTwelveLabs
) -> None:
    """A line that is not JSON raises DecodeError quoting it, after the good events."""
    body = json.dumps(EVENTS[0]).encode() + b'\n{"event_type": "text_gen\n' + b"x" * 10
    server.on("POST", "analyze", ndjson(split(body, 5)))
    seen: list[StreamEvent] = []
    with pytest.raises(DecodeError, match="a streamed line is not JSON") as info:
        await collect(api.analyze.stream(video=VIDEO, prompt="x"), seen)
    assert '{"event_type": "text_gen' in str(info.value)
    assert [type(e) for e in seen] == [StreamStart]


async def test_line_without_event_type_raises_decode_error(
    server: LoopbackServer, api: AsyncTwelveLabs
) -> None:
    """A JSON line with no event_type raises DecodeError at `$.event_type`."""
    server.on("POST", "analyze", ndjson([b'{"text": "hi"}\n']))
    with pytest.raises(DecodeError) as info:
        await api.analyze.stream(video=VIDEO, prompt="x").text()
    assert info.value.path == "$.event_type"


async def test_error_status_before_the_stream_is_mapped(
    server: LoopbackServer, api: AsyncTwelveLabs, clock: FakeClock
) -> None:
    """A 404 before any line raises NotFoundError with its code, without a retry."""
    body = {"error": {"code": "resource_not_exist", "message": "no such asset"}}
    server.on("POST", "analyze", reply(404, body))
    with pytest.raises(NotFoundError) as info:
        async with api.analyze.stream(video=VIDEO, prompt="x"):
            pass  # pragma: no cover
    assert info.value.code == "resource_not_exist"
    assert info.value.message == "POST /analyze: no such asset"
    assert len(server.seen("POST", "analyze")) == 1
    assert clock.sleeps == []


async def test_503_before_the_stream_is_retried(
    server: LoopbackServer, api: AsyncTwelveLabs, clock: FakeClock
) -> None:
    """A 503 before any line is retried, then the stream is read normally."""
    server.on("POST", "analyze", reply(503), ndjson([ndjson_bytes(EVENTS)]))
    text = await api.analyze.stream(video=VIDEO, prompt="x").text()
    assert text == "Hello, world"
    assert len(server.seen("POST", "analyze")) == 2
    assert len(clock.sleeps) == 1
    assert 0.0 <= clock.sleeps[0] <= 0.5


async def test_long_retry_after_before_the_stream_raises(
    server: LoopbackServer, api: AsyncTwelveLabs, clock: FakeClock
) -> None:
    """A 429 asking for longer than the policy allows raises RateLimitError at once."""
    server.on("POST", "analyze", reply(429, headers={"Retry-After": "300"}))
    with pytest.raises(RateLimitError) as info:
        await api.analyze.stream(video=VIDEO, prompt="x").text()
    assert info.value.retry_after == 300.0
    assert len(server.seen("POST", "analyze")) == 1
    assert clock.sleeps == []


async def test_connection_dropped_mid_stream_raises(
    server: LoopbackServer, api: AsyncTwelveLabs, clock: FakeClock
) -> None:
    """A connection closed mid-stream raises APIConnectionError, and is not retried."""
    body = ndjson_bytes(EVENTS[:3])[:-5]
    server.on("POST", "analyze", ndjson(split(body, 9), drop=True))
    seen: list[StreamEvent] = []
    with pytest.raises(APIConnectionError, match="the stream broke") as info:
        await collect(api.analyze.stream(video=VIDEO, prompt="x"), seen)
    assert type(info.value) is APIConnectionError
    assert str(info.value).startswith("POST /analyze: the stream broke: ClientPayloadError")
    assert [type(e) for e in seen] == [StreamStart, TextGeneration]
    assert len(server.seen("POST", "analyze")) == 1
    assert clock.sleeps == []


async def test_stalled_stream_times_out(server: LoopbackServer, clock: FakeClock) -> None:
    """A stream that stops sending for longer than the timeout raises APITimeoutError."""

    async def stall(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(status=200)
        await resp.prepare(request)
        await resp.write(json.dumps(EVENTS[0]).encode() + b"\n")
        return await hang()(request)

    server.on("POST", "analyze", stall)
    async with AsyncTwelveLabs(
        API_KEY, base_url=server.base_url, clock=clock, timeout=0.2
    ) as client:
        with pytest.raises(APITimeoutError, match=r"stalled for over 0\.2s"):
            await client.analyze.stream(video=VIDEO, prompt="x").text()


async def test_stream_connection_refused_after_retries(clock: FakeClock) -> None:
    """A stream to a closed port raises APIConnectionError after max_retries sleeps."""
    async with AsyncTwelveLabs(
        API_KEY, base_url=f"http://127.0.0.1:{closed_port()}", clock=clock, max_retries=2
    ) as client:
        with pytest.raises(APIConnectionError) as info:
            await client.analyze.stream(video=VIDEO, prompt="x").text()
    assert isinstance(info.value, TwelveLabsError)
    assert "POST /analyze: ClientConnectorError" in str(info.value)
    assert len(clock.sleeps) == 2
