"""Typed results: a ready task's or batch item's result, a stream's end event, never None."""

from __future__ import annotations

import json
from typing import Any

import pytest

from twelvelabs_async import (
    AnalyzeTask,
    AnalyzeTaskResult,
    AsyncTwelveLabs,
    BatchItemStatus,
    BatchResult,
    DecodeError,
    InvalidInputError,
    Request,
    Response,
    ResultNotReadyError,
    StreamEnd,
    TaskError,
    TaskStatus,
    TokenUsage,
)
from twelvelabs_async._convert import structure
from twelvelabs_async.testing import MockTransport

RESULT = AnalyzeTaskResult(
    generation_id="g1", data="A cat.", finish_reason="stop", usage=TokenUsage(output_tokens=3)
)


# --- AnalyzeTask.ready_result / BatchResult.ready_result --------------------------------------


def test_ready_task_gives_its_result() -> None:
    """A ready task's ready_result() is its result, typed AnalyzeTaskResult (never None)."""
    task = AnalyzeTask(task_id="t1", status=TaskStatus.READY, result=RESULT)
    assert task.ready_result() is RESULT
    assert task.ready_result().data == "A cat."


@pytest.mark.parametrize(
    ("task", "expected"),
    [
        (
            AnalyzeTask(task_id="t1", status="processing"),
            "task t1 is not ready (status 'processing'): wait until it is",
        ),
        (
            AnalyzeTask(
                task_id="t2",
                status="failed",
                error=TaskError(message="The video is too short.", code="video_too_short"),
            ),
            "task t2 failed (video_too_short: The video is too short.): it has no result",
        ),
        (AnalyzeTask(task_id="t3", status="failed"), "task t3 failed: it has no result"),
        (AnalyzeTask(task_id="t4", status="canceled"), "task t4 was canceled: it has no result"),
        (
            AnalyzeTask(task_id="t5", status="ready"),
            "task t5 is ready but the API sent no result with it; retrieve it again",
        ),
        (
            AnalyzeTask(task_id="t6", status="archived", result=RESULT),
            "task t6 is not ready (status 'archived')",
        ),
    ],
    ids=["running", "failed", "failed-without-error", "canceled", "ready-without-result", "new"],
)
def test_task_that_is_not_ready_raises_naming_it(task: AnalyzeTask, expected: str) -> None:
    """ready_result() of any other task raises ResultNotReadyError naming the task and status."""
    with pytest.raises(ResultNotReadyError) as info:
        task.ready_result()
    assert str(info.value).startswith(expected)
    assert (info.value.task_id, info.value.status) == (task.task_id, str(task.status))
    assert isinstance(info.value, InvalidInputError)


def test_not_ready_message_shows_server_text_escaped() -> None:
    """A task error's message and code from the server are shown escaped and cut short."""
    hostile = TaskError(message="bad\nFAKE LOG LINE " + "x" * 1000, code="c\x1b[31m")
    task = AnalyzeTask(task_id="t1", status="failed", error=hostile)
    with pytest.raises(ResultNotReadyError) as info:
        task.ready_result()
    message = str(info.value)
    assert "\n" not in message
    assert "\x1b" not in message
    assert "bad\\nFAKE LOG LINE" in message
    assert len(message) < 500


def test_ready_batch_item_gives_its_data() -> None:
    """A ready batch item's ready_result() is its data; another status raises naming its task."""
    item = BatchResult(task_id="t1", status=BatchItemStatus.READY, custom_id="c1", data=RESULT)
    assert item.ready_result() is RESULT
    failed = BatchResult(task_id="t2", status="failed", error=TaskError(message="no video"))
    with pytest.raises(ResultNotReadyError, match=r"^batch item t2 failed \(no video\)"):
        failed.ready_result()
    queued = BatchResult(task_id="t3", status="queued")
    with pytest.raises(ResultNotReadyError, match=r"status 'queued'") as info:
        queued.ready_result()
    assert (info.value.task_id, info.value.status) == ("t3", "queued")


def test_stream_end_usage() -> None:
    """StreamEnd.usage is metadata.usage, or None when the event carries no metadata."""
    event = structure(
        {"event_type": "stream_end", "metadata": {"usage": {"output_tokens": 7}}}, StreamEnd
    )
    assert event.usage == TokenUsage(output_tokens=7)
    assert StreamEnd(finish_reason="stop").usage is None


# --- AnalyzeStream.end_event -------------------------------------------------------------------

EVENTS = [
    {"event_type": "stream_start", "metadata": {"generation_id": "g1"}},
    {"event_type": "text_generation", "text": "A cat "},
    {"event_type": "text_generation", "text": "sleeps."},
    {
        "event_type": "stream_end",
        "finish_reason": "stop",
        "metadata": {"generation_id": "g1", "usage": {"output_tokens": 4}},
    },
]


def _streaming(events: list[dict[str, Any]]) -> AsyncTwelveLabs:
    body = b"".join(json.dumps(e).encode() + b"\n" for e in events)

    def handler(request: Request) -> Response:
        return Response(200, {"Content-Type": "application/x-ndjson"}, body)

    return AsyncTwelveLabs("test-key", transport=MockTransport(handler))


async def test_end_event_after_the_stream_was_read() -> None:
    """After reading the stream to its end, end_event() is the StreamEnd, typed."""
    async with _streaming(EVENTS) as client:
        stream = client.analyze.stream(video="https://example.com/v.mp4", prompt="Describe")
        assert await stream.text() == "A cat sleeps."
    assert stream.end_event() is stream.end
    assert stream.end_event().finish_reason == "stop"
    assert stream.end_event().usage == TokenUsage(output_tokens=4)


async def test_end_event_before_the_end_raises() -> None:
    """Before the stream is read, or after a `break`, end_event() raises ResultNotReadyError."""
    async with _streaming(EVENTS) as client:
        stream = client.analyze.stream(video="https://example.com/v.mp4", prompt="Describe")
        with pytest.raises(ResultNotReadyError, match="not been read to its end") as info:
            stream.end_event()
        assert (info.value.task_id, info.value.status) == (None, None)
        async with stream:
            async for _event in stream:
                break
        with pytest.raises(ResultNotReadyError):
            stream.end_event()


async def test_end_event_of_a_stream_without_stream_end() -> None:
    """A stream read to its end without a stream_end event: end_event() is a DecodeError."""
    async with _streaming(EVENTS[:-1]) as client:
        stream = client.analyze.stream(video="https://example.com/v.mp4", prompt="Describe")
        assert await stream.text() == "A cat sleeps."
    with pytest.raises(DecodeError, match="without a stream_end event"):
        stream.end_event()
