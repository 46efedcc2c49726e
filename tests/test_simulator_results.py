"""Simulated results look real: free text, segments that follow definitions, JSON that fits."""

from __future__ import annotations

import copy
from typing import Any

import attrs
import jsonschema
import pytest

from tests._simulator_support import URL, SimClock, seconds_of, sim_and_client
from twelvelabs_async import (
    AnalyzeTask,
    AsyncTwelveLabs,
    DecodeError,
    ResponseFormat,
    SegmentDefinition,
    SegmentField,
    SegmentFieldItems,
    TimeRange,
    parse_json,
    parse_segments,
)
from twelvelabs_async.testing import Simulator

FIELDS = (
    SegmentField("label", "string", "what is seen"),
    SegmentField("confidence", "number", "0-1"),
    SegmentField("people", "integer", "how many people"),
    SegmentField("outdoor", "boolean", "outside or not"),
    SegmentField("mood", "string", "the mood", enum=("calm", "tense", "joyful")),
    SegmentField("tags", "array", "keywords", items=SegmentFieldItems("string")),
    SegmentField("scores", "array", "scores", items=SegmentFieldItems("integer")),
    SegmentField("peak", "timestamp", "the key moment", format="hh:mm:ss.fff"),
    SegmentField("cut", "timestamp", "a cut", format="seconds"),
    SegmentField(
        "speakers",
        "time_array",
        "who speaks when",
        items=SegmentFieldItems(
            "object",
            fields=(
                SegmentField("who", "string", "the speaker"),
                SegmentField("loud", "boolean", "shouting"),
            ),
        ),
    ),
)
SCENES = SegmentDefinition("scene", "Each scene", fields=FIELDS)
ADS = SegmentDefinition("ad", "Each advert", fields=(SegmentField("brand", "string", "brand"),))
BARE = SegmentDefinition("goal", "Each goal")
PYTHON_TYPES: dict[str, type | tuple[type, ...]] = {
    "string": str,
    "number": (int, float),
    "integer": int,
    "boolean": bool,
}


async def _ready(
    sim: Simulator, client: AsyncTwelveLabs, clock: SimClock, **create: Any
) -> AnalyzeTask:
    """Create a task, jump to its end and return the ready task."""
    ref = await client.analyze.tasks.create(video=URL, **create)
    clock.set(sim.terminal_at[ref.task_id])
    task = await client.analyze.tasks.retrieve(ref.task_id)
    assert task.status == "ready"
    assert task.result is not None
    assert task.result.finish_reason == "stop"
    assert task.result.generation_id
    assert task.result.usage.output_tokens > 0
    return task


def _check_scalar(value: Any, kind: str) -> None:
    assert isinstance(value, PYTHON_TYPES[kind]), (value, kind)
    if kind in ("number", "integer"):
        assert not isinstance(value, bool), value


def _check_field(
    field: SegmentField, value: Any, span: tuple[float, float], fmt: str | None
) -> None:
    start, end = span
    if field.enum:
        assert value in field.enum
    elif field.type == "timestamp":
        assert start <= seconds_of(value, field.format) <= end + 0.001
    elif field.type == "array":
        assert field.items is not None
        assert isinstance(value, list)
        assert value
        for item in value:
            _check_scalar(item, field.items.type)
    elif field.type == "time_array":
        assert field.items is not None
        assert isinstance(value, list)
        for event in value:
            names = {"start_time", "end_time"} | {f.name for f in field.items.fields}
            assert set(event) == names
            event_start = seconds_of(event["start_time"], fmt)
            event_end = seconds_of(event["end_time"], fmt)
            assert start - 0.001 <= event_start <= event_end <= end + 0.001
            for sub in field.items.fields:
                _check_scalar(event[sub.name], sub.type)
    else:
        _check_scalar(value, field.type)


async def test_general_result_is_free_text_about_the_prompt() -> None:
    """A general task's result is plain prose that mentions the prompt."""
    async with sim_and_client() as (sim, client, clock):
        task = await _ready(sim, client, clock, prompt="Who is on the bridge?")
        assert task.result is not None
        assert task.result.data.startswith("Regarding 'Who is on the bridge'")
        assert len(task.result.data.split()) > 30
        with pytest.raises(DecodeError, match="not JSON"):
            parse_json(task)


@pytest.mark.parametrize("time_format", [None, "seconds", "hh:mm:ss", "hh:mm:ss.fff"])
async def test_segments_follow_the_definitions_inside_the_video(time_format: str | None) -> None:
    """Each definition id gets segments inside the video, with every field typed as declared."""
    async with sim_and_client() as (sim, client, clock):
        task = await _ready(
            sim,
            client,
            clock,
            analysis_mode="time_based_metadata",
            response_format=ResponseFormat.segments(SCENES, ADS, BARE, time_format=time_format),
        )
        assert task.video_source is not None
        assert task.video_source.system_metadata is not None
        duration = task.video_source.system_metadata.duration
        assert duration is not None
        segments = parse_segments(task)
        assert list(segments) == ["scene", "ad", "goal"]
        for definition in (SCENES, ADS, BARE):
            assert segments[definition.id]
            for segment in segments[definition.id]:
                start = seconds_of(segment.start_time, time_format)
                end = seconds_of(segment.end_time, time_format)
                assert 0 <= start <= end <= duration + 0.001
                assert set(segment.metadata) == {f.name for f in definition.fields}
                for field in definition.fields:
                    _check_field(field, segment.metadata[field.name], (start, end), time_format)


async def test_segments_stay_inside_the_requested_window() -> None:
    """With start_time/end_time every segment lies inside that window."""
    async with sim_and_client() as (sim, client, clock):
        task = await _ready(
            sim,
            client,
            clock,
            analysis_mode="time_based_metadata",
            response_format=ResponseFormat.segments(BARE, ADS),
            start_time=10.0,
            end_time=25.0,
        )
        for segments in parse_segments(task).values():
            for segment in segments:
                assert isinstance(segment.start_time, float)
                assert isinstance(segment.end_time, float)
                assert 10.0 <= segment.start_time <= segment.end_time <= 25.0


async def test_segments_stay_inside_each_definitions_time_ranges() -> None:
    """A definition with time_ranges gets segments only inside those ranges."""
    ranged = attrs.evolve(BARE, time_ranges=(TimeRange(2.0, 6.0), TimeRange(20.0, 28.0)))
    async with sim_and_client() as (sim, client, clock):
        task = await _ready(
            sim,
            client,
            clock,
            analysis_mode="time_based_metadata",
            response_format=ResponseFormat.segments(ranged),
        )
        segments = parse_segments(task)["goal"]
        assert segments
        for segment in segments:
            start, end = float(segment.start_time), float(segment.end_time)
            assert (2.0 <= start <= end <= 6.0) or (20.0 <= start <= end <= 28.0)


SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "title": {"type": "string"},
        "rating": {"type": "integer", "minimum": 1, "maximum": 5},
        "score": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1},
        "count": {"type": "integer", "exclusiveMinimum": 10, "exclusiveMaximum": 12},
        "family_friendly": {"type": "boolean"},
        "mood": {"type": "string", "enum": ["calm", "tense"]},
        "kind": {"const": "video"},
        "recorded_on": {"type": "string", "format": "date"},
        "uid": {"type": "string", "format": "uuid"},
        "note": {"anyOf": [{"type": "string"}, {"type": "null"}]},
        "nothing": {"type": "null"},
        "highlight": {"type": "timestamp", "format": "hh:mm:ss"},
        "people": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "properties": {
                    "name": {"type": "string"},
                    "seen_at": {"type": "timestamp", "format": "seconds"},
                    "role": {"$ref": "#/$defs/role"},
                },
                "required": ["name", "seen_at", "role"],
            },
        },
        "optional_extra": {"type": "string"},
    },
    "required": [
        "title",
        "rating",
        "score",
        "count",
        "family_friendly",
        "mood",
        "kind",
        "recorded_on",
        "uid",
        "note",
        "nothing",
        "highlight",
        "people",
    ],
    "$defs": {"role": {"type": "string", "enum": ["host", "guest"]}},
}


def _without_timestamps(schema: Any) -> Any:
    """The schema with the API's custom `timestamp` type swapped for what it returns."""
    if isinstance(schema, dict):
        if schema.get("type") == "timestamp":
            seconds = schema.get("format") == "seconds"
            return {"type": "number"} if seconds else {"type": "string", "pattern": "^\\d\\d:"}
        return {key: _without_timestamps(value) for key, value in schema.items()}
    if isinstance(schema, list):
        return [_without_timestamps(value) for value in schema]
    return schema


def _check_json_output(data: Any) -> None:
    assert set(data) == set(SCHEMA["required"])
    strict = _without_timestamps(copy.deepcopy(SCHEMA))
    checker = jsonschema.Draft202012Validator.FORMAT_CHECKER
    jsonschema.Draft202012Validator(strict, format_checker=checker).validate(data)
    assert data["count"] == 11
    assert seconds_of(data["highlight"], "hh:mm:ss") >= 0
    for person in data["people"]:
        assert seconds_of(person["seen_at"], "seconds") >= 0


async def test_json_schema_task_result_has_every_required_property_typed() -> None:
    """A json_schema task returns JSON holding each required property with its declared type."""
    async with sim_and_client() as (sim, client, clock):
        task = await _ready(
            sim, client, clock, prompt="Describe", response_format=ResponseFormat.schema(SCHEMA)
        )
        _check_json_output(parse_json(task))


async def test_generate_with_json_schema_returns_json_that_fits() -> None:
    """`analyze.generate` with a json_schema response_format returns JSON that fits it."""
    async with sim_and_client() as (_sim, client, _clock):
        result = await client.analyze.generate(
            video=URL, prompt="Describe", response_format=ResponseFormat.schema(SCHEMA)
        )
        _check_json_output(parse_json(result))


@attrs.frozen
class Summary:
    title: str
    rating: int


async def test_json_schema_result_parses_into_a_typed_class() -> None:
    """`parse_json(task, into=...)` structures the simulated JSON into an attrs class."""
    schema = {
        "type": "object",
        "properties": {"title": {"type": "string"}, "rating": {"type": "integer"}},
        "required": ["title", "rating"],
    }
    async with sim_and_client() as (sim, client, clock):
        task = await _ready(
            sim, client, clock, prompt="Rate it", response_format=ResponseFormat.schema(schema)
        )
        summary = parse_json(task, Summary)
        assert isinstance(summary.title, str)
        assert isinstance(summary.rating, int)


async def test_results_are_reproducible_from_the_seed() -> None:
    """Two simulators with the same seed give the same ids and results; retrieves repeat."""
    outputs = []
    for _ in range(2):
        async with sim_and_client(seed=42) as (sim, client, clock):
            task = await _ready(sim, client, clock, prompt="Same")
            again = await client.analyze.tasks.retrieve(task.task_id)
            assert again == task
            outputs.append((task.task_id, task.result))
    assert outputs[0] == outputs[1]
