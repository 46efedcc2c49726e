"""The last-page rule of page-number pagination, and NDJSON lines into typed stream events."""

from __future__ import annotations

import json
from typing import Any

import pytest

from twelvelabs_async import (
    DecodeError,
    FinishReason,
    GenerationMetadata,
    PageInfo,
    StreamEnd,
    StreamStart,
    TaskError,
    TextGeneration,
    TokenUsage,
    UnknownEvent,
)
from twelvelabs_async._pagination import is_last_page
from twelvelabs_async.analyze import parse_event

# --- is_last_page -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("number", "limit", "items", "info", "last"),
    [
        (1, 10, 10, PageInfo(total_page=3), False),
        (2, 10, 10, PageInfo(total_page=3), False),
        (3, 10, 10, PageInfo(total_page=3), True),
        (4, 10, 0, PageInfo(total_page=3), True),
        (1, 10, 10, PageInfo(total_page=1), True),
        (1, 10, 0, PageInfo(total_page=0), True),
        (1, 10, 3, PageInfo(total_page=2), False),
        (2, 10, 10, PageInfo(total_page=2, total_results=20), True),
    ],
)
def test_total_page_decides_when_given(
    number: int, limit: int, items: int, info: PageInfo, last: bool
) -> None:
    """With page_info.total_page, a page is last exactly when its number reaches total_page."""
    assert is_last_page(number, limit, items, info) is last


@pytest.mark.parametrize(
    ("limit", "items", "last"),
    [(10, 10, False), (10, 9, True), (10, 0, True), (50, 50, False), (50, 1, True), (1, 1, False)],
)
def test_short_page_ends_without_total_page(limit: int, items: int, last: bool) -> None:
    """Without total_page, a short or empty page is the last; a full page is not."""
    assert is_last_page(1, limit, items, PageInfo()) is last
    assert is_last_page(7, limit, items, PageInfo(page=7, total_results=999)) is last


# --- parse_event ------------------------------------------------------------------------------


def line(data: dict[str, Any]) -> bytes:
    return json.dumps(data).encode() + b"\n"


@pytest.mark.parametrize(
    ("data", "event"),
    [
        ({"event_type": "stream_start"}, StreamStart()),
        (
            {"event_type": "stream_start", "metadata": {"generation_id": "g1"}},
            StreamStart(metadata=GenerationMetadata(generation_id="g1")),
        ),
        ({"event_type": "text_generation", "text": "Hel"}, TextGeneration("Hel")),
        ({"event_type": "text_generation", "text": ""}, TextGeneration("")),
        ({"event_type": "stream_end"}, StreamEnd()),
        (
            {
                "event_type": "stream_end",
                "finish_reason": "length",
                "metadata": {"generation_id": "g1", "usage": {"output_tokens": 7}},
                "error": {"code": "token_limit", "message": "cut"},
            },
            StreamEnd(
                finish_reason=FinishReason.LENGTH,
                metadata=GenerationMetadata("g1", TokenUsage(output_tokens=7)),
                error=TaskError(message="cut", code="token_limit"),
            ),
        ),
    ],
)
def test_known_events_are_typed(data: dict[str, Any], event: object) -> None:
    """Each known event_type becomes its typed event, with nested fields structured."""
    parsed = parse_event(line(data))
    assert parsed == event
    assert type(parsed) is type(event)


def test_event_unknown_keys_ignored() -> None:
    """Keys an event does not define are ignored."""
    data = {"event_type": "text_generation", "text": "x", "index": 3}
    assert parse_event(line(data)) == TextGeneration("x")


def test_stream_end_unknown_finish_reason_kept() -> None:
    """An unknown finish_reason on stream_end is kept as its string."""
    event = parse_event(line({"event_type": "stream_end", "finish_reason": "safety"}))
    assert isinstance(event, StreamEnd)
    assert event.finish_reason == "safety"
    assert type(event.finish_reason) is str


def test_unknown_event_type_passed_through() -> None:
    """An event_type this version does not know becomes UnknownEvent carrying the whole JSON."""
    data = {"event_type": "tool_call", "name": "search", "args": {"q": "cats"}}
    event = parse_event(line(data))
    assert event == UnknownEvent(event_type="tool_call", data=data)


@pytest.mark.parametrize("raw", [b"", b"\n", b"   \r\n", b"\t"])
def test_blank_line_is_none(raw: bytes) -> None:
    """A blank line (keep-alive) gives None."""
    assert parse_event(raw) is None


def test_surrounding_whitespace_ignored() -> None:
    """Whitespace around a JSON line (CRLF endings, indentation) is ignored."""
    assert parse_event(b'  {"event_type": "text_generation", "text": " a "}\r\n') == (
        TextGeneration(" a ")
    )


@pytest.mark.parametrize("raw", [b"not json", b'{"event_type": "text_gen', b"data: {}"])
def test_non_json_line_raises(raw: bytes) -> None:
    """A line that is not JSON raises DecodeError quoting the start of the line."""
    with pytest.raises(DecodeError) as info:
        parse_event(raw)
    assert "a streamed line is not JSON" in info.value.message
    assert raw[:8].decode() in info.value.message
    assert info.value.path == "$"


@pytest.mark.parametrize(
    "raw", [b"[1, 2]", b'"text"', b"42", b"null", b'{"text": "x"}', b'{"event_type": 5}']
)
def test_line_without_event_type_raises(raw: bytes) -> None:
    """JSON that is not an object with a string event_type raises DecodeError at $.event_type."""
    with pytest.raises(DecodeError, match="a streamed line has no event_type") as info:
        parse_event(raw)
    assert info.value.path == "$.event_type"


def test_known_event_with_bad_field_raises_with_path() -> None:
    """A known event whose fields do not fit raises DecodeError naming the field."""
    with pytest.raises(DecodeError) as info:
        parse_event(line({"event_type": "text_generation"}))
    assert info.value.path == "$.text"
    with pytest.raises(DecodeError) as info:
        parse_event(
            line({"event_type": "stream_end", "metadata": {"usage": {"output_tokens": "7"}}})
        )
    assert info.value.path == "$.metadata.usage.output_tokens"
