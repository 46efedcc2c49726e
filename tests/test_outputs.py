"""Typed access to JSON output: parse_json and parse_segments."""

from __future__ import annotations

import json
from typing import Any

import attrs
import pytest

from twelvelabs_async import (
    AnalyzeResult,
    AnalyzeTask,
    AnalyzeTaskResult,
    DecodeError,
    FinishReason,
    InvalidInputError,
    ResultNotReadyError,
    Segment,
    TaskStatus,
    TokenUsage,
    parse_json,
    parse_segments,
)


@attrs.frozen
class Chapter:
    title: str
    start: float


@attrs.frozen
class Summary:
    topic: str
    chapters: tuple[Chapter, ...]
    rating: int | None = None


SUMMARY = {
    "topic": "cats",
    "chapters": [{"title": "Intro", "start": 0}, {"title": "End", "start": 61.5}],
}


def task_result(data: str, finish_reason: str = "stop") -> AnalyzeTaskResult:
    return AnalyzeTaskResult(
        generation_id="g", data=data, finish_reason=finish_reason, usage=TokenUsage(5)
    )


def ready(data: str) -> AnalyzeTask:
    return AnalyzeTask(task_id="t1", status=TaskStatus.READY, result=task_result(data))


SOURCES = [
    pytest.param(ready, id="task"),
    pytest.param(task_result, id="task-result"),
    pytest.param(lambda d: AnalyzeResult(id="g", data=d, finish_reason="stop"), id="generate"),
]


# --- parse_json -------------------------------------------------------------------------------


@pytest.mark.parametrize("make", SOURCES)
def test_parse_json_plain(make: Any) -> None:
    """parse_json returns the decoded JSON of a task, a task result or a generate() result."""
    assert parse_json(make(json.dumps(SUMMARY))) == SUMMARY


@pytest.mark.parametrize("text", ["[1, 2]", '"just text"', "3.5", "null", "true"])
def test_parse_json_any_json_value(text: str) -> None:
    """Any JSON value is returned as decoded, not only objects."""
    assert parse_json(task_result(text)) == json.loads(text)


def test_parse_json_into_attrs_class() -> None:
    """into= structures the JSON into an attrs class (nested, ints accepted as floats)."""
    summary = parse_json(ready(json.dumps(SUMMARY)), into=Summary)
    assert summary == Summary("cats", (Chapter("Intro", 0.0), Chapter("End", 61.5)))
    assert isinstance(summary.chapters[0].start, float)


def test_parse_json_into_mismatch_names_path() -> None:
    """JSON that does not fit `into` raises DecodeError naming the JSON path at fault."""
    bad = {**SUMMARY, "chapters": [{"title": "Intro", "start": "zero"}]}
    with pytest.raises(DecodeError) as info:
        parse_json(task_result(json.dumps(bad)), into=Summary)
    assert info.value.path == "$.chapters[0].start"
    missing = {"chapters": []}
    with pytest.raises(DecodeError) as info:
        parse_json(task_result(json.dumps(missing)), into=Summary)
    assert info.value.path == "$.topic"


@pytest.mark.parametrize("finish_reason", ["length", FinishReason.LENGTH])
def test_parse_json_cut_off_mentions_length(finish_reason: str) -> None:
    """Non-JSON text with finish_reason "length" says the output was cut off at the limit."""
    with pytest.raises(DecodeError, match="not JSON") as info:
        parse_json(task_result('{"topic": "ca', finish_reason))
    assert "cut off" in info.value.message
    assert "finish_reason is 'length'" in info.value.message


def test_parse_json_not_json_without_length() -> None:
    """Non-JSON text that was not cut off says it is not JSON, without a cut-off hint."""
    with pytest.raises(DecodeError, match="the result is not JSON") as info:
        parse_json(AnalyzeResult(data="Here is a summary: cats.", finish_reason="stop"))
    assert "cut off" not in info.value.message
    assert info.value.path == "$"


@pytest.mark.parametrize("status", [TaskStatus.PROCESSING, TaskStatus.FAILED, "archiving"])
def test_parse_json_task_without_result(status: str) -> None:
    """A task that is not ready raises ResultNotReadyError (an InvalidInputError) naming it."""
    with pytest.raises(InvalidInputError) as info:
        parse_json(AnalyzeTask(task_id="t9", status=status))
    assert isinstance(info.value, ResultNotReadyError)
    assert (info.value.task_id, info.value.status) == ("t9", str(status))
    assert str(info.value).startswith("task t9 ")
    assert str(status) in str(info.value)


def test_parse_json_result_without_data() -> None:
    """A generate() result without data raises InvalidInputError."""
    with pytest.raises(InvalidInputError, match="this result has no data"):
        parse_json(AnalyzeResult(finish_reason="stop"))


# --- parse_segments ---------------------------------------------------------------------------

SEGMENTS = {
    "scenes": [
        {"start_time": 0, "end_time": 12.5, "metadata": {"mood": "calm", "people": 2}},
        {"start_time": 12.5, "end_time": 30, "metadata": {"mood": "tense", "people": 0}},
    ],
    "ads": [{"start_time": "00:01:00.000", "end_time": "00:01:30.500"}],
    "credits": [],
}


@pytest.mark.parametrize("make", SOURCES)
def test_parse_segments_typed(make: Any) -> None:
    """Each definition id maps to its Segment tuple, in order, with times and metadata kept."""
    assert parse_segments(make(json.dumps(SEGMENTS))) == {
        "scenes": (
            Segment(0, 12.5, {"mood": "calm", "people": 2}),
            Segment(12.5, 30, {"mood": "tense", "people": 0}),
        ),
        "ads": (Segment("00:01:00.000", "00:01:30.500", {}),),
        "credits": (),
    }


def test_parse_segments_time_array_metadata_kept() -> None:
    """A time_array field's events are kept as given inside metadata."""
    events = [{"start_time": 1, "end_time": 2, "who": "Ann"}]
    data = {"scenes": [{"start_time": 0, "end_time": 5, "metadata": {"events": events}}]}
    segments = parse_segments(task_result(json.dumps(data)))
    assert segments["scenes"][0].metadata == {"events": events}


def test_parse_segments_empty_object() -> None:
    """An empty JSON object gives an empty mapping."""
    assert parse_segments(task_result("{}")) == {}


@pytest.mark.parametrize(
    ("data", "path", "message"),
    [
        ([{"start_time": 0, "end_time": 1}], "$", "not a JSON object of definition ids"),
        ({"scenes": {"start_time": 0}}, "$.scenes", "segments of 'scenes' are not a JSON array"),
        ({"scenes": None}, "$.scenes", "are not a JSON array"),
        ({"scenes": [5]}, "$.scenes[0]", "segments of 'scenes' are malformed"),
        ({"ok": [], "s": [{"start_time": 0}]}, "$.s[0].end_time", "required field missing"),
        ({"s": [{"start_time": True, "end_time": 1}]}, "$.s[0].start_time", "expected float | str"),
        ({"s": [{"start_time": 0, "end_time": [1]}]}, "$.s[0].end_time", "malformed"),
        ({"s": [{"start_time": 0, "end_time": 1, "metadata": []}]}, "$.s[0].metadata", "malformed"),
        (
            {"s": [{"start_time": 0, "end_time": 1}, {"start_time": 1, "end_time": None}]},
            "$.s[1].end_time",
            "malformed",
        ),
    ],
)
def test_parse_segments_bad_shapes(data: Any, path: str, message: str) -> None:
    """Output not shaped {id: [segment, ...]} raises DecodeError naming the JSON path."""
    with pytest.raises(DecodeError) as info:
        parse_segments(task_result(json.dumps(data)))
    assert info.value.path == path
    assert message in info.value.message


def test_parse_segments_cut_off() -> None:
    """Truncated segmentation output raises DecodeError (via parse_json)."""
    with pytest.raises(DecodeError, match="the result is not JSON"):
        parse_segments(task_result('{"scenes": [{"start_time": 0, "end'))
