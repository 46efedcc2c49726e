"""Contract: every simulator body validates against the official SDK's models and the OpenAPI.

Each body is checked twice:

- parsed by the official SDK (`twelvelabs` 1.3.6) on its own wire path, `parse_obj_as`, with a
  walk that fails on any `model_extra` (its models use `extra="allow"`, so unknown fields would
  otherwise pass silently);
- validated (JSON Schema 2020-12) against the OpenAPI schemas in `contract/openapi_schemas.json`
  (see `contract/extract_schemas.py`), made strict here: no property the schema does not list.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import jsonschema
import pydantic
import pytest
from twelvelabs.analyze_async.tasks import TasksListResponse
from twelvelabs.core.pydantic_utilities import parse_obj_as
from twelvelabs.types import (
    AnalyzeTaskResponse,
    CancelAnalyzeTaskResponse,
    CreateAnalyzeTaskResponse,
    ErrorResponse,
    FlatErrorResponse,
    NonStreamAnalyzeResponse,
    StreamAnalyzeResponse,
)

from tests._simulator_support import URL, SimClock, raw, sim_and_client
from tests.contract import extract_schemas
from twelvelabs_async.testing import Faults, Simulator

CONTRACT = Path(__file__).with_name("contract")
SPEC = CONTRACT / "openapi-v1.3.json.gz"
"""The vendor's OpenAPI export (`../shared/api/openapi-v1.3.json`), gzipped into the repo."""
VIDEO = {"type": "url", "url": URL}
IMAGE_URL = "https://images.example.com/a.png"
B64 = "aGVsbG8gd29ybGQ="


def _strict(node: Any) -> Any:
    """Every object schema that lists properties refuses any other property."""
    if isinstance(node, dict):
        out = {key: _strict(value) for key, value in node.items()}
        if isinstance(node.get("properties"), dict) and node["properties"]:
            out.setdefault("additionalProperties", False)
        return out
    if isinstance(node, list):
        return [_strict(item) for item in node]
    return node


DOCUMENT = json.loads((CONTRACT / "openapi_schemas.json").read_text("utf-8"))
STRICT = _strict(DOCUMENT)


def extras(value: Any, path: str = "$") -> list[str]:
    """Where a parsed SDK model kept fields it does not declare (`model_extra`)."""
    found: list[str] = []
    if isinstance(value, pydantic.BaseModel):
        if value.model_extra:
            found.append(f"{path}: {sorted(value.model_extra)}")
        for name in type(value).model_fields:
            found += extras(getattr(value, name), f"{path}.{name}")
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            found += extras(item, f"{path}[{i}]")
    elif isinstance(value, dict):
        for key, item in value.items():
            found += extras(item, f"{path}.{key}")
    return found


def schema_errors(name: str, body: Any) -> list[str]:
    """Why `body` does not fit the strict OpenAPI schema `name` (empty when it fits)."""
    root = {**STRICT, "$ref": f"#/components/schemas/{name}"}
    errors = jsonschema.Draft202012Validator(root).iter_errors(body)
    return sorted(f"{list(e.absolute_path)}: {e.message}" for e in errors)


def check(body: Any, model: Any, schema: str) -> Any:
    """Assert `body` parses as the SDK `model` without extras and fits OpenAPI `schema`."""
    parsed = parse_obj_as(model, body)
    assert extras(parsed) == [], f"fields the SDK does not know: {extras(parsed)}"
    assert schema_errors(schema, body) == []
    return parsed


# --- the checker itself -------------------------------------------------------------------------


def test_checker_catches_an_unknown_field_both_ways() -> None:
    """A field neither the SDK nor the OpenAPI knows is reported by both checks."""
    body = {
        "task_id": "t",
        "custom_id": None,
        "status": "queued",
        "created_at": "2026-01-01T00:00:00Z",
    }
    check(body, AnalyzeTaskResponse, "AnalyzeTaskResponse")
    bad = {**body, "request_params": {"analysis_mode": "general", "model_name": "pegasus1.5"}}
    assert extras(parse_obj_as(AnalyzeTaskResponse, bad)) == ["$.request_params: ['model_name']"]
    assert schema_errors("AnalyzeTaskResponse", bad) != []


def test_schema_file_matches_the_extract_script() -> None:
    """openapi_schemas.json is what extract_schemas.py makes of the API description."""
    assert extract_schemas.extract(json.loads(gzip.decompress(SPEC.read_bytes()))) == DOCUMENT


# --- task bodies in every status ----------------------------------------------------------------

SEGMENT_FIELDS = [
    {"name": "label", "type": "string", "description": "what", "enum": ["a", "b"]},
    {"name": "tags", "type": "array", "description": "tags", "items": {"type": "string"}},
    {"name": "peak", "type": "timestamp", "description": "when", "format": "hh:mm:ss"},
    {
        "name": "speakers",
        "type": "time_array",
        "description": "who speaks",
        "items": {
            "type": "object",
            "fields": [{"name": "who", "type": "string", "description": "x"}],
        },
    },
]
SCENE = {
    "id": "scene",
    "description": "Each scene",
    "fields": SEGMENT_FIELDS,
    "media_sources": [{"name": "logo", "media_type": "image", "url": IMAGE_URL}],
}
SCHEMA = {"type": "object", "properties": {"title": {"type": "string"}}, "required": ["title"]}
BODIES: dict[str, dict[str, Any]] = {
    "general": {
        "model_name": "pegasus1.5",
        "video": VIDEO,
        "prompt": "Summarize the video in detail, scene by scene, please.",
        "custom_id": "job-1",
        "temperature": 0.2,
        "max_tokens": 2048,
        "start_time": 1.0,
        "end_time": 20.0,
    },
    "json_schema": {
        "video": {"type": "asset_id", "asset_id": "asset_1"},
        "prompt": "Give a title",
        "response_format": {"type": "json_schema", "json_schema": SCHEMA},
    },
    "segments_time_ranges": {
        "video": {"type": "base64_string", "base64_string": B64},
        "analysis_mode": "time_based_metadata",
        "response_format": {
            "type": "segment_definitions",
            "segment_time_format": "hh:mm:ss.fff",
            "segment_definitions": [
                {**SCENE, "time_ranges": [{"start_time": 0.0, "end_time": 10.0}]},
                {"id": "ad", "description": "Each advert"},
            ],
        },
    },
    "segments_unlimited": {
        "model_name": "pegasus1.6",
        "video": VIDEO,
        "analysis_mode": "time_based_metadata",
        "max_tokens": "unlimited",
        "min_segment_duration": 2.0,
        "max_segment_duration": 30.0,
        "response_format": {"type": "segment_definitions", "segment_definitions": [SCENE]},
    },
    "prompt_v2": {
        "video": VIDEO,
        "prompt_v2": {
            "input_text": "Find <@ref> and <@logo> in this video, and say when.",
            "media_sources": [
                {"name": "ref", "media_type": "image", "base64_string": B64},
                {"name": "logo", "media_type": "image", "url": IMAGE_URL},
            ],
        },
    },
    "images": {
        "model_name": "pegasus1.6",
        "image": [{"name": "cover", "url": IMAGE_URL}, {"name": "back", "base64_string": B64}],
        "prompt": "Compare <@cover> with <@back>.",
    },
}


async def _create(sim: Simulator, body: dict[str, Any]) -> str:
    resp = await raw(sim, "POST", "analyze/tasks", json_body=body)
    assert resp.status == 202, resp.body
    check(resp.json(), CreateAnalyzeTaskResponse, "CreateAnalyzeTaskResponse")
    task_id: str = resp.json()["task_id"]
    return task_id


async def _retrieve(sim: Simulator, task_id: str) -> dict[str, Any]:
    resp = await raw(sim, "GET", f"analyze/tasks/{task_id}")
    assert resp.status == 200
    body: dict[str, Any] = resp.json()
    check(body, AnalyzeTaskResponse, "AnalyzeTaskResponse")
    return body


@pytest.mark.parametrize(
    ("offset", "status"),
    [(0.0, "queued"), (1.5, "pending"), (5.0, "processing"), (10.0, "ready")],
)
async def test_task_in_each_lifecycle_status_fits(offset: float, status: str) -> None:
    """A task body while queued, pending, processing and ready fits the SDK and the OpenAPI."""
    async with sim_and_client(duration=(10.0, 10.0)) as (sim, _client, clock):
        task_id = await _create(sim, BODIES["general"])
        clock.advance(offset)
        body = await _retrieve(sim, task_id)
        assert body["status"] == status
        assert body["custom_id"] == "job-1"
        assert ("result" in body, "completed_at" in body) == ((status == "ready",) * 2)


@pytest.mark.parametrize("kind", sorted(BODIES))
async def test_ready_task_of_each_kind_fits(kind: str) -> None:
    """A ready task of each kind (text, json_schema, segments, prompt_v2, images) fits both."""
    async with sim_and_client(duration=(1.0, 1.0)) as (sim, _client, clock):
        task_id = await _create(sim, BODIES[kind])
        clock.advance(1.0)
        body = await _retrieve(sim, task_id)
        assert body["status"] == "ready"
        assert ("video_source" in body) == (kind != "images")
        assert "custom_id" in body


@pytest.mark.parametrize("ending", ["failed", "canceled"])
async def test_failed_and_canceled_tasks_fit(ending: str) -> None:
    """A failed and a canceled task (with error.code, no result) fit the SDK and the OpenAPI."""
    failure = 1.0 if ending == "failed" else 0.0
    async with sim_and_client(duration=(10.0, 10.0), failure_rate=failure) as (sim, _, clock):
        task_id = await _create(sim, BODIES["general"])
        if ending == "canceled":
            clock.advance(5.0)
            resp = await raw(sim, "POST", f"analyze/tasks/{task_id}/cancel")
            assert resp.status == 200
            check(resp.json(), CancelAnalyzeTaskResponse, "CancelAnalyzeTaskResponse")
        clock.advance(10.0)
        body = await _retrieve(sim, task_id)
        assert body["status"] == ending
        assert "result" not in body
        assert body["error"]["code"]


async def test_list_of_every_kind_and_status_fits() -> None:
    """A list page holding every kind of task in every status fits TasksListResponse."""
    clock = SimClock()
    async with sim_and_client(clock=clock, duration=(10.0, 10.0)) as (sim, _client, _clock):
        for body in BODIES.values():
            await _create(sim, body)
            clock.advance(2.5)
        await sim.seed_tasks(2, duration=0.0, failure_rate=1.0)
        canceled = await _create(sim, BODIES["general"])
        await raw(sim, "POST", f"analyze/tasks/{canceled}/cancel")
        await _create(sim, BODIES["prompt_v2"])
        clock.advance(1.5)  # the task just created is pending, the next one queued
        await _create(sim, BODIES["segments_time_ranges"])
        resp = await raw(sim, "GET", "analyze/tasks", params={"page_limit": "50"})
        assert resp.status == 200
        parsed = check(resp.json(), TasksListResponse, "analyzeAsync_tasks_list_Response_200")
        statuses = {task.status for task in parsed.data}
        assert statuses == {"queued", "pending", "processing", "ready", "failed", "canceled"}


# --- create, cancel, analyze --------------------------------------------------------------------


SYNC_BODIES = {
    "text": {"video": VIDEO, "prompt": "Hi"},
    "json_schema": {
        "video": VIDEO,
        "prompt": "Hi",
        "response_format": {"type": "json_schema", "json_schema": SCHEMA},
    },
}


@pytest.mark.parametrize("kind", sorted(SYNC_BODIES))
async def test_analyze_json_and_every_ndjson_event_fit(kind: str) -> None:
    """The /analyze JSON answer and each streamed NDJSON event fit the SDK and the OpenAPI."""
    body = SYNC_BODIES[kind]
    async with sim_and_client() as (sim, _client, _clock):
        resp = await raw(sim, "POST", "analyze", json_body={**body, "stream": False})
        assert resp.status == 200
        check(resp.json(), NonStreamAnalyzeResponse, "NonStreamAnalyzeResponse")
        streamed = await raw(sim, "POST", "analyze", json_body={**body, "stream": True})
        assert streamed.status == 200
        events = streamed.lines()
        assert [e["event_type"] for e in events[:: len(events) - 1]] == [
            "stream_start",
            "stream_end",
        ]
        for event in events:
            check(event, StreamAnalyzeResponse, "StreamAnalyzeResponse")


# --- error bodies -------------------------------------------------------------------------------


async def _errors(sim: Simulator, clock: SimClock) -> list[tuple[str, int, Any]]:
    """One of each error the simulator answers: (what, status, decoded body)."""
    (task_id,) = await sim.seed_tasks(1, duration=10.0)
    clock.advance(5.0)
    (done,) = await sim.seed_tasks(1, duration=0.0)
    requests: list[tuple[str, str, str, dict[str, Any]]] = [
        ("create-400", "POST", "analyze/tasks", {"json_body": {"prompt": "no video"}}),
        ("retrieve-404", "GET", "analyze/tasks/nope", {}),
        ("delete-404", "DELETE", "analyze/tasks/nope", {}),
        ("delete-409", "DELETE", f"analyze/tasks/{task_id}", {}),
        ("cancel-404", "POST", "analyze/tasks/nope/cancel", {}),
        ("cancel-409", "POST", f"analyze/tasks/{done}/cancel", {}),
        ("list-400", "GET", "analyze/tasks", {"params": {"page_limit": "51"}}),
        ("analyze-400", "POST", "analyze", {"json_body": {"prompt": "no video"}}),
        ("auth-401", "GET", "analyze/tasks", {"api_key": "wrong"}),
    ]
    found = []
    for what, method, path, options in requests:
        resp = await raw(sim, method, path, **options)
        found.append((what, resp.status, resp.json()))
    return found


NESTED = {"create-400", "retrieve-404", "delete-404", "delete-409", "cancel-404", "cancel-409"}


async def test_every_error_body_fits_its_shape() -> None:
    """Nested errors fit ErrorResponse; flat ones (list 400, /analyze 400, 401) fit the flat."""
    clock = SimClock()
    async with sim_and_client(clock=clock) as (sim, _client, _clock):
        errors = await _errors(sim, clock)
    assert [(what, status) for what, status, _ in errors] == [
        ("create-400", 400), ("retrieve-404", 404), ("delete-404", 404), ("delete-409", 409),
        ("cancel-404", 404), ("cancel-409", 409), ("list-400", 400), ("analyze-400", 400),
        ("auth-401", 401),
    ]  # fmt: skip
    for what, _status, body in errors:
        if what in NESTED:
            check(body, ErrorResponse, "ErrorResponse")
        else:
            schema = "Generate-text-representationRequestBadRequestError"
            if what != "analyze-400":
                schema = "List-async-analysis-tasksRequestBadRequestError"
            check(body, FlatErrorResponse, schema)


async def test_5xx_fault_body_is_the_nested_error() -> None:
    """An injected 5xx answers the nested ErrorResponse the SDK types for 5xx."""
    async with sim_and_client(faults=Faults(error_5xx=1.0)) as (sim, _client, _clock):
        resp = await raw(sim, "POST", "analyze/tasks", json_body=BODIES["general"])
        assert resp.status in (500, 502, 503)
        check(resp.json(), ErrorResponse, "ErrorResponse")


async def test_429_body_is_empty() -> None:
    """A 429 has an empty body, as the OpenAPI documents for rate limiting."""
    async with sim_and_client(rpm=1) as (sim, _client, _clock):
        await raw(sim, "GET", "analyze/tasks")
        resp = await raw(sim, "POST", "analyze", json_body={"video": VIDEO, "prompt": "Hi"})
        assert resp.status == 429
        assert resp.body == b""
