"""Models and the one converter: structuring API JSON, open enums, paths in DecodeError, bodies."""

from __future__ import annotations

import copy
import json
import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import attrs
import pytest

from twelvelabs_async import (
    AnalysisMode,
    AnalyzeResult,
    AnalyzeTask,
    AssetVideo,
    Base64Video,
    DecodeError,
    FinishReason,
    ImageInput,
    MediaSource,
    PromptV2,
    ResponseFormat,
    SegmentDefinition,
    SegmentField,
    SegmentFieldItems,
    TaskError,
    TaskPage,
    TaskRef,
    TaskStatus,
    TimeRange,
    UrlVideo,
    is_terminal_status,
    models,
)
from twelvelabs_async._convert import structure, unstructure, unstructure_response
from twelvelabs_async._models.common import ALWAYS_SENT
from twelvelabs_async.webhooks import WebhookEvent, WebhookTaskData

SCHEMA = {"type": "object", "properties": {"title": {"type": "string"}}, "required": ["title"]}

FULL_TASK: dict[str, Any] = {
    "task_id": "6a1f0c",
    "custom_id": "order-42_a",
    "batch_id": "batch-7",
    "status": "ready",
    "created_at": "2025-03-01T12:00:00Z",
    "completed_at": "2025-03-01T12:05:30.250000+02:00",
    "video_source": {
        "type": "video_id",
        "url": "https://cdn.example.com/v.mp4",
        "asset_id": "asset-1",
        "video_id": "vid-1",
        "index_id": "idx-1",
        "system_metadata": {"duration": 612.5},
    },
    "request_params": {
        "analysis_mode": "time_based_metadata",
        "model_name": "pegasus1.6",
        "prompt": "Summarize the first thirty c",
        "prompt_v2": {
            "input_text": "Find <@logo>",
            "media_sources": [{"name": "logo", "media_type": "image", "url": "https://x/l.png"}],
        },
        "image": [{"name": "ref_1", "url": "https://x/1.png", "media_type": "image"}],
        "response_format": {
            "type": "segment_definitions",
            "json_schema": SCHEMA,
            "segment_time_format": "hh:mm:ss",
            "segment_definitions": [
                {
                    "id": "scenes",
                    "description": "Each scene",
                    "fields": [
                        {"name": "at", "type": "timestamp", "format": "seconds"},
                        {"name": "mood", "type": "string", "description": "d", "enum": ["a", "b"]},
                        {
                            "name": "events",
                            "type": "time_array",
                            "items": {
                                "type": "object",
                                "fields": [{"name": "who", "type": "string"}],
                            },
                        },
                    ],
                    "media_sources": [{"name": "m", "media_type": "image", "asset_id": "a2"}],
                    "time_ranges": [{"start_time": 0, "end_time": 12.5}],
                }
            ],
        },
        "temperature": 0.2,
        "max_tokens": 4096,
        "min_segment_duration": 2,
        "max_segment_duration": 30.5,
        "start_time": 1,
        "end_time": 600.0,
    },
    "result": {
        "generation_id": "gen-1",
        "data": '{"scenes": []}',
        "finish_reason": "stop",
        "usage": {"output_tokens": 321, "input_tokens": 1200},
    },
    "error": {"code": "partial_result", "message": "Some segments are missing."},
    "webhooks": [
        {"url": "https://h/a", "delivered": True, "attempts": 1},
        {"url": "https://h/b", "delivered": False, "attempts": 3, "last_error": "503"},
    ],
}


def test_full_task_every_field() -> None:
    """Every field of a full task response is structured into its typed model."""
    task = structure(FULL_TASK, AnalyzeTask)
    assert (task.task_id, task.custom_id, task.batch_id) == ("6a1f0c", "order-42_a", "batch-7")
    assert task.status is TaskStatus.READY
    assert task.created_at == datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
    assert task.completed_at == datetime(2025, 3, 1, 10, 5, 30, 250000, tzinfo=UTC)
    source = task.video_source
    assert source is not None
    assert (source.type, source.url, source.asset_id) == (
        "video_id",
        "https://cdn.example.com/v.mp4",
        "asset-1",
    )
    assert (source.video_id, source.index_id) == ("vid-1", "idx-1")
    assert source.system_metadata is not None
    assert source.system_metadata.duration == 612.5
    params = task.request_params
    assert params is not None
    assert params.analysis_mode is AnalysisMode.TIME_BASED_METADATA
    assert (params.model_name, params.prompt) == ("pegasus1.6", "Summarize the first thirty c")
    assert params.prompt_v2 == PromptV2(
        "Find <@logo>", (MediaSource("logo", url="https://x/l.png"),)
    )
    assert params.image == (ImageInput("ref_1", url="https://x/1.png", media_type="image"),)
    fmt = params.response_format
    assert fmt is not None
    assert (fmt.type, fmt.json_schema, fmt.segment_time_format) == (
        "segment_definitions",
        SCHEMA,
        "hh:mm:ss",
    )
    assert fmt.segment_definitions == (
        SegmentDefinition(
            id="scenes",
            description="Each scene",
            fields=(
                SegmentField("at", "timestamp", format="seconds"),
                SegmentField("mood", "string", description="d", enum=("a", "b")),
                SegmentField(
                    "events",
                    "time_array",
                    items=SegmentFieldItems("object", (SegmentField("who", "string"),)),
                ),
            ),
            media_sources=(MediaSource("m", asset_id="a2"),),
            time_ranges=(TimeRange(0.0, 12.5),),
        ),
    )
    assert (params.temperature, params.max_tokens) == (0.2, 4096)
    assert (params.min_segment_duration, params.max_segment_duration) == (2.0, 30.5)
    assert (params.start_time, params.end_time) == (1.0, 600.0)
    assert isinstance(params.start_time, float)
    result = task.result
    assert result is not None
    assert (result.generation_id, result.data) == ("gen-1", '{"scenes": []}')
    assert result.finish_reason is FinishReason.STOP
    assert (result.usage.output_tokens, result.usage.input_tokens) == (321, 1200)
    assert task.error == TaskError(message="Some segments are missing.", code="partial_result")
    assert [(w.url[-1], w.delivered, w.attempts, w.last_error) for w in task.webhooks] == [
        ("a", True, 1, None),
        ("b", False, 3, "503"),
    ]


def test_minimal_task_defaults() -> None:
    """Only task_id and status are required; every other field has an empty default."""
    task = structure({"task_id": "t", "status": "queued", "custom_id": None}, AnalyzeTask)
    assert task == AnalyzeTask(task_id="t", status=TaskStatus.QUEUED)
    assert task.webhooks == ()


def test_max_tokens_unlimited() -> None:
    """request_params.max_tokens may be the string "unlimited"."""
    task = structure(_at("$.request_params.max_tokens", "unlimited"), AnalyzeTask)
    assert task.request_params is not None
    assert task.request_params.max_tokens == "unlimited"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2025-03-01T12:00:00Z", datetime(2025, 3, 1, 12, tzinfo=UTC)),
        ("2025-03-01T12:00:00", datetime(2025, 3, 1, 12, tzinfo=UTC)),
        ("2025-03-01T12:00:00.5+00:00", datetime(2025, 3, 1, 12, 0, 0, 500000, tzinfo=UTC)),
        ("2025-03-01T14:00:00+02:00", datetime(2025, 3, 1, 12, tzinfo=UTC)),
    ],
)
def test_datetimes_are_timezone_aware(raw: str, expected: datetime) -> None:
    """Datetimes always come back timezone-aware; a naive string is read as UTC."""
    task = structure({"task_id": "t", "status": "ready", "created_at": raw}, AnalyzeTask)
    assert task.created_at is not None
    assert task.created_at.tzinfo is not None
    assert task.created_at == expected


def test_unknown_status_kept_as_str() -> None:
    """A status this version does not know is kept as a plain str and is not terminal."""
    task = structure({"task_id": "t", "status": "archiving"}, AnalyzeTask)
    assert task.status == "archiving"
    assert type(task.status) is str
    assert task.is_terminal is False


@pytest.mark.parametrize("status", list(TaskStatus))
def test_known_statuses(status: TaskStatus) -> None:
    """Known statuses equal their lowercase string; only ready/failed/canceled are terminal."""
    task = structure({"task_id": "t", "status": status.value}, AnalyzeTask)
    assert task.status is status
    assert task.status == status.name.lower()
    expected = status.value in {"ready", "failed", "canceled"}
    assert task.is_terminal is expected
    assert is_terminal_status(status.value) is expected


def test_unknown_keys_ignored() -> None:
    """Keys the models do not know are ignored at every level."""
    data = _at("$.surprise", {"x": 1})
    data["result"]["new_field"] = [1, 2]
    data["video_source"]["fps"] = 30
    assert structure(data, AnalyzeTask) == structure(FULL_TASK, AnalyzeTask)


def test_unknown_enum_values_kept_as_str() -> None:
    """An unknown finish_reason or analysis_mode is kept as its string."""
    data = _at("$.result.finish_reason", "content_filter")
    data["request_params"]["analysis_mode"] = "chapters"
    task = structure(data, AnalyzeTask)
    assert task.result is not None
    assert task.request_params is not None
    assert (task.result.finish_reason, task.request_params.analysis_mode) == (
        "content_filter",
        "chapters",
    )
    assert type(task.result.finish_reason) is str


def _at(json_path: str, value: Any) -> dict[str, Any]:
    """FULL_TASK with the value at `json_path` (e.g. `$.webhooks[1].attempts`) replaced.

    `...` deletes the key instead.
    """
    keys: list[Any] = [int(i) if i else k for k, i in re.findall(r"\.(\w+)|\[(\d+)\]", json_path)]
    data = copy.deepcopy(FULL_TASK)
    target: Any = data
    for key in keys[:-1]:
        target = target[key]
    if value is ...:
        del target[keys[-1]]
    else:
        target[keys[-1]] = value
    return data


@pytest.mark.parametrize(
    ("json_path", "value"),
    [
        ("$.result.usage.output_tokens", "5"),
        ("$.result.usage.output_tokens", True),
        ("$.result.usage.output_tokens", 5.5),
        ("$.webhooks[1].attempts", "3"),
        ("$.webhooks[0].attempts", False),
        ("$.webhooks[0].delivered", "yes"),
        ("$.task_id", ...),
        ("$.task_id", 123),
        ("$.status", 1),
        ("$.created_at", "yesterday"),
        ("$.created_at", 1700000000),
        ("$.result.generation_id", ...),
        ("$.request_params.temperature", True),
        ("$.request_params.max_tokens", False),
        ("$.request_params.max_tokens", 4096.5),
        ("$.request_params.response_format.json_schema", [1]),
        ("$.request_params.response_format.segment_definitions[0].id", ...),
        ("$.video_source.system_metadata.duration", "long"),
    ],
)
def test_decode_error_names_json_path(json_path: str, value: Any) -> None:
    """A body that does not fit raises DecodeError whose .path (and message) names the spot."""
    with pytest.raises(DecodeError) as info:
        structure(_at(json_path, value), AnalyzeTask, status_code=200)
    assert info.value.path == json_path
    assert json_path in info.value.message
    assert "AnalyzeTask" in info.value.message
    assert info.value.status_code == 200


@pytest.mark.parametrize(
    ("body", "kind"),
    [([], "an array"), ("ready", "a string"), (None, "null"), (3, "a number"), (True, "a boolean")],
)
def test_non_object_body(body: Any, kind: str) -> None:
    """A body that is not a JSON object raises DecodeError at "$" saying what it got."""
    with pytest.raises(DecodeError, match=f"expected a JSON object, got {kind}") as info:
        structure(body, AnalyzeTask)
    assert info.value.path == "$"


@pytest.mark.parametrize("field", ["temperature", "start_time", "min_segment_duration"])
def test_int_accepted_where_float_is(field: str) -> None:
    """A JSON integer is accepted for a float field (JSON does not tell them apart)."""
    task = structure({"task_id": "t", "status": "ready", "request_params": {field: 1}}, AnalyzeTask)
    assert getattr(task.request_params, field) == 1.0


def test_other_models_structure() -> None:
    """TaskRef, TaskPage and AnalyzeResult structure from their documented shapes."""
    ref = structure({"task_id": "t", "status": "canceled"}, TaskRef)
    assert ref == TaskRef("t", TaskStatus.CANCELED)
    page = structure({"data": [{"task_id": "a", "status": "ready"}], "page_info": {}}, TaskPage)
    assert [t.task_id for t in page.data] == ["a"]
    assert page.page_info.total_page is None
    warned = {"data": "part", "finish_reason": "length", "error": {"message": "cut"}}
    result = structure(warned, AnalyzeResult)
    assert result.finish_reason is FinishReason.LENGTH
    assert result.error == TaskError("cut")


# --- unstructure ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        (UrlVideo("https://x/v.mp4"), {"type": "url", "url": "https://x/v.mp4"}),
        (AssetVideo("a1"), {"type": "asset_id", "asset_id": "a1"}),
        (Base64Video("QUJD"), {"type": "base64_string", "base64_string": "QUJD"}),
        (ImageInput("logo", url="https://x/l.png"), {"name": "logo", "url": "https://x/l.png"}),
        (MediaSource("m", asset_id="a"), {"name": "m", "asset_id": "a", "media_type": "image"}),
        (PromptV2("hi"), {"input_text": "hi"}),
        (TimeRange(0, 2.5), {"start_time": 0, "end_time": 2.5}),
        (SegmentField("n", "string"), {"name": "n", "type": "string"}),
    ],
)
def test_unstructure_leaves_out_none_keeps_tags(model: object, expected: dict[str, Any]) -> None:
    """Unset (None/empty) fields are left out; fixed `type` tags and required defaults stay."""
    assert unstructure(model) == expected


def test_unstructure_keeps_falsy_values_that_were_set() -> None:
    """Set values that are falsy (0, 0.0, "") are written, only None is dropped."""
    assert unstructure(TimeRange(0.0, 0.0)) == {"start_time": 0.0, "end_time": 0.0}
    assert unstructure(TaskError(message="")) == {"message": ""}


def test_response_format_segments_shape() -> None:
    """ResponseFormat.segments(...) builds the segment_definitions wire shape."""
    fmt = ResponseFormat.segments(
        SegmentDefinition(
            "scenes",
            "Each scene",
            fields=(SegmentField("at", "timestamp", format="hh:mm:ss"),),
            time_ranges=(TimeRange(0, 10),),
        ),
        SegmentDefinition("ads", "Adverts"),
        time_format="seconds",
    )
    assert unstructure(fmt) == {
        "type": "segment_definitions",
        "segment_definitions": [
            {
                "id": "scenes",
                "description": "Each scene",
                "fields": [{"name": "at", "type": "timestamp", "format": "hh:mm:ss"}],
                "time_ranges": [{"start_time": 0, "end_time": 10}],
            },
            {"id": "ads", "description": "Adverts"},
        ],
        "segment_time_format": "seconds",
    }
    assert "segment_time_format" not in unstructure(
        ResponseFormat.segments(SegmentDefinition("a", "b"))
    )


def test_response_format_schema_shape() -> None:
    """ResponseFormat.schema(...) is exactly {"type": "json_schema", "json_schema": ...}."""
    assert unstructure(ResponseFormat.schema(SCHEMA)) == {
        "type": "json_schema",
        "json_schema": SCHEMA,
    }


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (datetime(2025, 3, 1, 12, 0, tzinfo=UTC), "2025-03-01T12:00:00Z"),
        (datetime(2025, 3, 1, 12, 0), "2025-03-01T12:00:00Z"),
        (datetime(2025, 3, 1, 12, 0, 0, 250000, tzinfo=UTC), "2025-03-01T12:00:00.250000Z"),
        (
            datetime(2025, 3, 1, 14, 0, tzinfo=timezone(timedelta(hours=2))),
            "2025-03-01T14:00:00+02:00",
        ),
    ],
)
def test_datetimes_unstructured_as_rfc3339(value: datetime, expected: str) -> None:
    """Datetimes are written as RFC 3339 strings, UTC as "Z", naive read as UTC."""
    assert (
        unstructure(AnalyzeTask(task_id="t", status="ready", created_at=value))["created_at"]
        == expected
    )


def test_full_task_round_trip() -> None:
    """A full task survives unstructure -> JSON -> structure unchanged."""
    task = structure(FULL_TASK, AnalyzeTask)
    assert structure(json.loads(json.dumps(unstructure(task))), AnalyzeTask) == task


CREATED = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        (AnalyzeTask(task_id="t", status="ready"), {"task_id": "t", "status": "ready"}),
        (models.BatchItemRef(task_id="t"), {"task_id": "t"}),
        (models.BatchResult(task_id="t", status="queued"), {"task_id": "t", "status": "queued"}),
        (
            WebhookTaskData(id="t", status="ready", created_at=CREATED),
            {"id": "t", "status": "ready", "created_at": "2026-01-01T00:00:00Z"},
        ),
    ],
)
def test_response_preset_writes_always_sent_fields_as_null(
    model: object, expected: dict[str, Any]
) -> None:
    """The response preset writes an unset `custom_id` as null; the default one leaves it out."""
    assert unstructure(model) == expected
    assert unstructure_response(model) == {**expected, "custom_id": None}


def test_response_preset_writes_set_values_and_leaves_other_nones_out() -> None:
    """A set `custom_id` is written as given, and other unset fields stay out of the response."""
    task = AnalyzeTask(task_id="t", status="ready", custom_id="c-1")
    assert unstructure_response(task) == {"task_id": "t", "status": "ready", "custom_id": "c-1"}
    assert unstructure_response(TaskRef(task_id="t", status="queued")) == {
        "task_id": "t",
        "status": "queued",
    }


def test_always_sent_is_marked_on_the_response_models_that_echo_custom_id() -> None:
    """The rule lives on the models: `custom_id` of each response that echoes it, and an
    embedding task's `data` (null until ready), nothing else.
    """
    classes = [value for name, value in vars(models).items() if not name.startswith("_")]
    classes += [WebhookEvent, WebhookTaskData]
    marked = {
        (cls.__name__, field.name)
        for cls in classes
        if isinstance(cls, type) and attrs.has(cls)
        for field in attrs.fields(cls)
        if field.metadata.get(ALWAYS_SENT)
    }
    assert marked == {
        ("AnalyzeTask", "custom_id"),
        ("BatchItemRef", "custom_id"),
        ("BatchResult", "custom_id"),
        ("WebhookTaskData", "custom_id"),
        ("EmbeddingTask", "data"),
    }
