"""The one analysis request: key sets derived from it, one validation, and names per route."""

from __future__ import annotations

import inspect
from typing import Any

import attrs
import pytest

from twelvelabs_async import Analyze, AnalyzeTasks, InvalidInputError
from twelvelabs_async._validate import UnsupportedSchemaKeyword
from twelvelabs_async.analyze._batch_body import batch_body, effective_request
from twelvelabs_async.analyze._body import validated
from twelvelabs_async.analyze._request import (
    BATCH_DEFAULT_KEYS,
    BATCH_ITEM_KEYS,
    BATCH_ITEM_NAMES,
    PER_BATCH_KEYS,
    SYNC,
    SYNC_KEYS,
    TASK,
    TASK_KEYS,
    AnalysisRequest,
    Route,
    batch_item,
)
from twelvelabs_async.models import (
    AnalysisMode,
    AssetVideo,
    BatchDefaults,
    BatchRequest,
    ImageInput,
    MediaSource,
    PromptV2,
    ResponseFormat,
    SegmentDefinition,
    UrlVideo,
)
from twelvelabs_async.testing._app import validate_body
from twelvelabs_async.testing._batches import validate as validate_batch

URL = "https://cdn.example.com/v.mp4"
ASSET = AssetVideo("as-1")
SEGMENTS = ResponseFormat.segments(SegmentDefinition(id="s", description="d"))
EVERYWHERE = {
    "model_name", "video", "prompt", "image", "prompt_v2", "response_format", "temperature",
    "max_tokens", "start_time", "end_time",
}  # fmt: skip
ASYNC_ONLY = {"analysis_mode", "min_segment_duration", "max_segment_duration", "custom_id"}
IN_BATCH_ITEMS = {
    "video": "video", "custom_id": "custom_id", "prompt_v2": "prompt",
    "response_format": "response_format", "temperature": "temperature",
    "max_tokens": "max_tokens", "min_segment_duration": "min_segment_duration",
    "max_segment_duration": "max_segment_duration", "start_time": "start_time",
    "end_time": "end_time",
}  # fmt: skip


# --- key sets derived from the model -----------------------------------------------------------


@pytest.mark.parametrize(
    ("derived", "expected"),
    [
        (TASK_KEYS, EVERYWHERE | ASYNC_ONLY),
        (SYNC_KEYS, EVERYWHERE | {"stream"}),
        (PER_BATCH_KEYS, {"model_name", "analysis_mode"}),
        (BATCH_ITEM_KEYS, set(IN_BATCH_ITEMS.values())),
        (BATCH_DEFAULT_KEYS, set(IN_BATCH_ITEMS.values()) - {"video", "custom_id"}),
        (frozenset(BATCH_ITEM_NAMES.values()), {a.name for a in attrs.fields(BatchRequest)}),
        (TASK.keys, {a.name for a in attrs.fields(AnalysisRequest)}),
        (batch_item(0).keys, set(IN_BATCH_ITEMS.values()) | {"model_name", "analysis_mode"}),
    ],
    ids=["tasks", "sync", "per-batch", "items", "defaults", "item-names", "task", "batch-item"],
)
def test_key_sets_are_derived_from_the_request_model(
    derived: frozenset[str], expected: set[str]
) -> None:
    """Each key set is the model's fields for that route, as the API documents them."""
    assert derived == expected


def test_batch_item_names_map_request_fields_to_item_fields() -> None:
    """A batch item sets the same fields as a task, with `prompt` for `prompt_v2`."""
    assert dict(BATCH_ITEM_NAMES) == IN_BATCH_ITEMS


@pytest.mark.parametrize(
    ("method", "keys"),
    [
        (Analyze.generate, SYNC_KEYS - {"stream"}),
        (Analyze.stream, SYNC_KEYS - {"stream"}),
        (AnalyzeTasks.create, TASK_KEYS | {"idempotency_key"}),
    ],
    ids=["generate", "stream", "tasks.create"],
)
def test_public_keyword_arguments_are_the_routes_keys(method: Any, keys: frozenset[str]) -> None:
    """The documented keyword arguments are exactly the fields their route takes."""
    params = inspect.signature(method).parameters
    assert set(params) - {"self"} == keys
    assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for n, p in params.items() if n != "self")


@pytest.mark.parametrize(
    ("sync", "body", "unknown"),
    [
        *(
            (True, {"video": {"type": "url", "url": URL}, key: 1}, key)
            for key in sorted(ASYNC_ONLY)
        ),
        (False, {"video": {"type": "url", "url": URL}, "prompt": "x", "stream": True}, "stream"),
        (True, {"video": {"type": "url", "url": URL}, "prompt": "x", "video_id": "v"}, "video_id"),
    ],
)
def test_simulator_refuses_keys_outside_the_derived_sets(
    sync: bool, body: dict[str, Any], unknown: str
) -> None:
    """`POST /analyze` refuses the async-only fields; `POST /analyze/tasks` refuses `stream`."""
    with pytest.raises(InvalidInputError, match=rf"^unknown parameter\(s\): {unknown}$"):
        validate_body(body, sync=sync)


@pytest.mark.parametrize("sync", [True, False])
def test_simulator_takes_every_key_of_its_route(sync: bool) -> None:
    """A body using each field its route takes (where the mode allows it) is accepted."""
    body: dict[str, Any] = {
        "model_name": "pegasus1.5",
        "video": {"type": "url", "url": URL},
        "prompt": "x",
        "temperature": 0.5,
        "max_tokens": 1024,
        "start_time": 0,
        "end_time": 10,
    }
    if sync:
        body["stream"] = False
    else:
        body.update(analysis_mode="general", custom_id="c-1")
    validate_body(body, sync=sync)


# --- one validation, named per route -------------------------------------------------------------


def _request(**fields: Any) -> AnalysisRequest:
    """A general request on an uploaded asset, overridden by `fields`."""
    return AnalysisRequest(**{"video": ASSET, "analysis_mode": "general", **fields})


TB = {"analysis_mode": "time_based_metadata", "response_format": SEGMENTS}
V2 = PromptV2("Describe")
SOURCES = PromptV2("x", tuple(MediaSource(f"m{i}", asset_id="a") for i in range(5)))
NAMED_PROMPT_V2 = ResponseFormat.schema({"properties": {"prompt_v2": {"maxLength": 3}}})
SCHEMA_MESSAGE = (
    "json_schema.properties.prompt_v2.maxLength: the API does not support the 'maxLength' "
    "keyword; remove it"
)
TB_MESSAGE = "takes no {}: describe what to extract in the segment definitions"
NAMING: dict[str, tuple[Route, dict[str, Any], str]] = {
    "task-needs-prompt": (TASK, {}, "a general analysis needs prompt (or prompt_v2)"),
    "item-needs-prompt": (batch_item(3), {}, "requests[3]: a general analysis needs prompt"),
    "task-segments-no-prompt": (
        TASK,
        {**TB, "prompt_v2": V2},
        "analysis_mode='time_based_metadata' " + TB_MESSAGE.format("prompt or prompt_v2"),
    ),
    "item-segments-no-prompt": (
        batch_item(0),
        {**TB, "prompt_v2": V2},
        "requests[0]: analysis_mode='time_based_metadata' " + TB_MESSAGE.format("prompt"),
    ),
    "task-empty-prompt-v2": (TASK, {"prompt_v2": PromptV2("")}, "prompt_v2.input_text is empty"),
    "item-empty-prompt": (
        batch_item(2),
        {"prompt_v2": PromptV2("")},
        "requests[2]: prompt.input_text is empty",
    ),
    "item-media-sources": (
        batch_item(1),
        {"prompt_v2": SOURCES},
        "requests[1]: prompt.media_sources takes at most 4 sources, got 5",
    ),
    "item-schema-path-kept": (
        batch_item(4),
        {"prompt_v2": V2, "response_format": NAMED_PROMPT_V2},
        f"requests[4]: {SCHEMA_MESSAGE}",
    ),
    "item-custom-id-first": (
        batch_item(0),
        {"prompt_v2": V2, "custom_id": "bad id", "temperature": 3},
        "requests[0]: custom_id 'bad id' is invalid",
    ),
    "task-custom-id-last": (
        TASK,
        {"prompt_v2": V2, "custom_id": "bad id", "temperature": 3},
        "temperature must be between 0 and 1, got 3",
    ),
    "item-integer-tokens": (
        batch_item(0),
        {"prompt_v2": V2, "max_tokens": "unlimited"},
        "requests[0]: max_tokens must be an integer, got 'unlimited'",
    ),
    "sync-integer-tokens": (
        SYNC,
        {"prompt": "x", "analysis_mode": None, "max_tokens": 1.5},
        "max_tokens must be an integer, got 1.5",
    ),
}


@pytest.mark.parametrize(("route", "fields", "message"), NAMING.values(), ids=NAMING)
def test_messages_use_the_routes_names_and_location(
    route: Route, fields: dict[str, Any], message: str
) -> None:
    """A batch item's messages say `prompt` and `requests[i]`; a task's say `prompt_v2`."""
    with pytest.raises(InvalidInputError) as info:
        validated(_request(**fields), route)
    assert str(info.value).startswith(message)


def test_a_schema_keyword_error_keeps_its_kind_and_its_path_in_a_batch() -> None:
    """A property named `prompt_v2` stays `prompt_v2` in the path; the error is still a 422 kind."""
    item = BatchRequest(ASSET, prompt="x", response_format=NAMED_PROMPT_V2)
    with pytest.raises(UnsupportedSchemaKeyword) as info:
        batch_body(requests=[item], analysis_mode="general", model_name="m", defaults=None)
    assert str(info.value) == f"requests[0]: {SCHEMA_MESSAGE}"


def test_batch_body_messages_name_the_item_and_its_prompt() -> None:
    """Creating a batch whose second item has no prompt says so, in a batch's words."""
    items = [BatchRequest(ASSET, prompt="x"), BatchRequest(AssetVideo("as-2"))]
    with pytest.raises(InvalidInputError) as info:
        batch_body(requests=items, analysis_mode="general", model_name="m", defaults=None)
    assert str(info.value) == "requests[1]: a general analysis needs prompt"


WIRE_ASSET = {"type": "asset_id", "asset_id": "a"}


@pytest.mark.parametrize(
    ("requests", "defaults", "message"),
    [
        (
            [{"video": WIRE_ASSET, "prompt": {"input_text": "Own"}}, {"video": WIRE_ASSET}],
            {},
            "requests[1]: a general analysis needs prompt",
        ),
        (
            [{"video": WIRE_ASSET}],
            {"prompt": {"input_text": ""}},
            "requests[0]: prompt.input_text is empty",
        ),
    ],
)
def test_simulator_names_a_batch_items_prompt_as_a_batch_does(
    requests: list[dict[str, Any]], defaults: dict[str, Any], message: str
) -> None:
    """The simulator's batch validation speaks of `prompt` and `requests[i]`, as the client does."""
    body = {"model_name": "pegasus1.5", "analysis_mode": "general", "requests": requests}
    with pytest.raises(InvalidInputError) as info:
        validate_batch({**body, "defaults": defaults})
    assert str(info.value) == message


def test_validated_returns_the_request_normalized() -> None:
    """A URL string, mappings and an enum come back as typed models and plain strings."""
    request = AnalysisRequest(
        image=[{"name": "a", "url": "https://x/a.png"}],
        prompt="Compare <@a>",
        model_name="pegasus1.6",
        analysis_mode=AnalysisMode.GENERAL,
        response_format={"type": "json_schema", "json_schema": {"type": "object"}},
        custom_id="c-1",
    )
    assert validated(request, TASK) == AnalysisRequest(
        image=(ImageInput("a", url="https://x/a.png"),),
        prompt="Compare <@a>",
        model_name="pegasus1.6",
        analysis_mode="general",
        response_format=ResponseFormat.schema({"type": "object"}),
        custom_id="c-1",
    )
    assert validated(AnalysisRequest(video=URL, prompt="x"), SYNC).video == UrlVideo(URL)


def test_effective_request_takes_item_fields_else_defaults_whole() -> None:
    """An item's own field wins whole; an unset one comes from the defaults; prompt is prompt_v2."""
    item = BatchRequest(ASSET, custom_id="c", temperature=0.5)
    defaults = BatchDefaults(prompt="Summarize", temperature=0.1, max_tokens=600)
    request = effective_request(item, defaults, model_name="pegasus1.5", analysis_mode="general")
    assert request == AnalysisRequest(
        model_name="pegasus1.5",
        video=ASSET,
        prompt_v2=PromptV2("Summarize"),
        analysis_mode="general",
        temperature=0.5,
        max_tokens=600,
        custom_id="c",
    )
