"""client.analyze.batches: bodies, local validation, every endpoint, and the results stream."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

import pytest
from aioresponses import aioresponses

from tests._payloads import calls
from tests._server import LoopbackServer, ndjson, reply, reset
from tests.conftest import BASE_URL, FakeClock
from twelvelabs_async import (
    AnalysisMode,
    AnalyzeTaskResult,
    AssetVideo,
    AsyncTwelveLabs,
    Batch,
    BatchDefaults,
    BatchItemStatus,
    BatchRequest,
    BatchResult,
    BatchResults,
    BatchStatus,
    ConflictError,
    DecodeError,
    InvalidInputError,
    MediaSource,
    NotFoundError,
    PromptV2,
    ResponseFormat,
    SegmentDefinition,
    TaskError,
    TimeRange,
    TokenUsage,
)

Client = AsyncTwelveLabs
Mock = aioresponses
BATCHES = f"{BASE_URL}/analyze/batches"
B1 = f"{BATCHES}/b1"
LIST_URL = re.compile(rf"^{re.escape(BATCHES)}\?.*$")
CREATED = {
    "batch_id": "b1",
    "status": "pending",
    "total_items": 2,
    "created_at": "2026-01-01T00:00:00Z",
    "expires_at": "2026-01-02T00:00:00Z",
    "items": [{"task_id": "t1", "custom_id": "a"}, {"task_id": "t2", "custom_id": None}],
}
SEGMENTS = ResponseFormat.segments(SegmentDefinition(id="scene", description="A scene"))


def batch(status: str = "processing", **extra: Any) -> dict[str, Any]:
    """A batch as the API returns it, with counts."""
    counts = {f"{k}_items": 0 for k in ("queued", "processing", "ready", "failed", "canceled")}
    return {
        "batch_id": "b1",
        "analysis_mode": "general",
        "model_name": "pegasus1.5",
        "status": status,
        "total_items": 2,
        "created_at": "2026-01-01T00:00:00Z",
        "expires_at": "2026-01-02T00:00:00Z",
        **counts,
        **extra,
    }


def item(n: int = 1) -> BatchRequest:
    """A valid general-mode item on an uploaded asset."""
    return BatchRequest(AssetVideo(f"asset-{n}"), custom_id=f"c-{n}", prompt="Summarize")


RESULT_LINES: list[dict[str, Any]] = [
    {
        "task_id": "t1",
        "custom_id": "a",
        "status": "ready",
        "data": {
            "generation_id": "g1",
            "data": "A keynote.",
            "finish_reason": "stop",
            "usage": {"output_tokens": 150, "input_tokens": 45},
        },
    },
    {
        "task_id": "t2",
        "custom_id": "b",
        "status": "failed",
        "error": {"code": "asset_unavailable", "message": "The asset could not be read."},
    },
    {"task_id": "t3", "custom_id": None, "status": "processing"},
    {"task_id": "t4", "custom_id": "d", "status": "queued"},
    {"task_id": "t5", "custom_id": "e", "status": "paused_for_maintenance"},
]


def jsonl(lines: list[dict[str, Any]]) -> bytes:
    """JSON Lines with a blank line inside and no newline after the last line."""
    encoded = [json.dumps(line).encode() for line in lines]
    return b"\n".join(encoded[:2]) + b"\n\n" + b"\n".join(encoded[2:])


def split(data: bytes, size: int) -> list[bytes]:
    """Chunks of `size` bytes, so that lines break mid-JSON."""
    return [data[i : i + size] for i in range(0, len(data), size)]


async def read_into(results: BatchResults, into: list[str]) -> None:
    """Read results inside `async with`, appending each item's task id to `into`."""
    async with results:
        async for one in results:
            into.append(one.task_id)


# --- create ----------------------------------------------------------------------------------


async def test_create_sends_the_items_and_defaults_as_given_with_a_stable_key(
    client: Client, mock_api: Mock, clock: FakeClock
) -> None:
    """Create posts model, mode, items and defaults as given; a 503 retry reuses one key."""
    mock_api.post(BATCHES, status=503)
    mock_api.post(BATCHES, status=201, payload=CREATED)
    created = await client.analyze.batches.create(
        requests=[
            BatchRequest(AssetVideo("as-1"), custom_id="a", temperature=0.5),
            {"video": {"type": "asset_id", "asset_id": "as-2"}, "max_tokens": 1024},
        ],
        analysis_mode=AnalysisMode.GENERAL,
        defaults=BatchDefaults(prompt="Summarize", temperature=0.2),
    )
    assert created.batch_id == "b1"
    assert created.status == BatchStatus.PENDING
    assert created.expires_at == datetime(2026, 1, 2, tzinfo=UTC)
    assert [(i.task_id, i.custom_id) for i in created.items] == [("t1", "a"), ("t2", None)]
    sent = calls(mock_api, "POST", BATCHES)
    assert len(sent) == 2
    assert len(clock.sleeps) == 1
    for call in sent:
        assert call.kwargs["json"] == {
            "model_name": "pegasus1.5",
            "analysis_mode": "general",
            "requests": [
                {
                    "video": {"type": "asset_id", "asset_id": "as-1"},
                    "custom_id": "a",
                    "temperature": 0.5,
                },
                {"video": {"type": "asset_id", "asset_id": "as-2"}, "max_tokens": 1024},
            ],
            "defaults": {"prompt": {"input_text": "Summarize"}, "temperature": 0.2},
        }
    keys = {call.kwargs["headers"]["Idempotency-Key"] for call in sent}
    assert len(keys) == 1
    assert re.fullmatch(r"[0-9a-f]{32}", keys.pop())


async def test_create_sends_a_given_idempotency_key_and_a_segmentation_batch(
    client: Client, mock_api: Mock
) -> None:
    """A segmentation batch sends its response_format once, in defaults; the key is as given."""
    mock_api.post(BATCHES, status=201, payload=CREATED)
    await client.analyze.batches.create(
        requests=[BatchRequest(AssetVideo("as-1"))],
        analysis_mode="time_based_metadata",
        defaults=BatchDefaults(response_format=SEGMENTS, min_segment_duration=2.0),
        idempotency_key="job-7",
    )
    (call,) = calls(mock_api, "POST", BATCHES)
    assert call.kwargs["headers"]["Idempotency-Key"] == "job-7"
    body = call.kwargs["json"]
    assert body["requests"] == [{"video": {"type": "asset_id", "asset_id": "as-1"}}]
    assert body["defaults"]["min_segment_duration"] == 2.0
    assert body["defaults"]["response_format"]["segment_definitions"][0]["id"] == "scene"


def _many(n: int) -> list[BatchRequest]:
    return [item(i) for i in range(n)]


_URL_ITEM = {"video": {"type": "url", "url": "https://x/v.mp4"}, "prompt": {"input_text": "x"}}
_ASSET = AssetVideo("as-1")
_BAD: dict[str, tuple[dict[str, Any], str]] = {
    "no-requests": ({"requests": []}, "1-1,000 requests"),
    "too-many": ({"requests": _many(1001)}, "1-1,000 requests, got 1,001"),
    "not-a-list": ({"requests": "abc"}, "sequence"),
    "duplicate-custom-id": (
        {"requests": [item(1), item(2), BatchRequest(_ASSET, custom_id="c-1", prompt="x")]},
        r"requests\[2\].custom_id 'c-1' is already used by requests\[0\]",
    ),
    "bad-custom-id": (
        {"requests": [BatchRequest(_ASSET, custom_id="has space", prompt="x")]},
        r"requests\[0\]: custom_id",
    ),
    "url-video": ({"requests": [_URL_ITEM]}, "only uploaded assets"),
    "url-video-model": (
        {"requests": [BatchRequest(video="https://x/v.mp4", prompt="x")]},  # type: ignore[arg-type]
        "only uploaded assets",
    ),
    "no-prompt-anywhere": ({"requests": [BatchRequest(_ASSET)]}, "needs prompt"),
    "empty-prompt": ({"requests": [BatchRequest(_ASSET, prompt="")]}, "prompt.input_text"),
    "too-many-media-sources": (
        {
            "requests": [
                BatchRequest(
                    _ASSET,
                    prompt=PromptV2(
                        "x", tuple(MediaSource(f"m{i}", asset_id="a") for i in range(5))
                    ),
                )
            ]
        },
        "at most 4 sources",
    ),
    "prompt-in-time-based-mode": (
        {
            "analysis_mode": "time_based_metadata",
            "requests": [BatchRequest(_ASSET, response_format=SEGMENTS)],
            "defaults": BatchDefaults(prompt="x"),
        },
        "takes no prompt",
    ),
    "time-based-without-format": (
        {"analysis_mode": "time_based_metadata", "requests": [BatchRequest(_ASSET)]},
        "needs response_format",
    ),
    "segments-in-general-mode": (
        {"requests": [BatchRequest(_ASSET, prompt="x", response_format=SEGMENTS)]},
        "needs analysis_mode='time_based_metadata'",
    ),
    "default-temperature": (
        {"requests": [item()], "defaults": BatchDefaults(temperature=1.5)},
        r"requests\[0\]: temperature must be between 0 and 1",
    ),
    "item-max-tokens-range": (
        {"requests": [item(), BatchRequest(_ASSET, prompt="x", max_tokens=100)]},
        r"requests\[1\]: max_tokens",
    ),
    "max-tokens-unlimited": (
        {"requests": [BatchRequest(_ASSET, prompt="x", max_tokens="unlimited")]},  # type: ignore[arg-type]
        "max_tokens must be an integer",
    ),
    "segment-duration-in-general": (
        {"requests": [BatchRequest(_ASSET, prompt="x", min_segment_duration=3.0)]},
        "need analysis_mode='time_based_metadata'",
    ),
    "window-under-a-second": (
        {"requests": [BatchRequest(_ASSET, prompt="x", start_time=5.0, end_time=5.5)]},
        "at least 1 s",
    ),
    "window-over-two-hours": (
        {"requests": [item()], "defaults": BatchDefaults(start_time=0.0, end_time=3 * 3600.0)},
        "at most 7200",
    ),
    "per-item-mode": (
        {"requests": [{"video": {"type": "asset_id", "asset_id": "a"}, "analysis_mode": "x"}]},
        "apply to the whole batch",
    ),
    "unknown-item-field": (
        {"requests": [{"video": {"type": "asset_id", "asset_id": "a"}, "stream": True}]},
        "unknown field",
    ),
    "unknown-default-field": (
        {"requests": [item()], "defaults": {"video": {"type": "asset_id", "asset_id": "a"}}},
        r"defaults: unknown field\(s\) video",
    ),
    "no-mode": ({"analysis_mode": ""}, "analysis_mode is required"),
    "no-model": ({"model_name": ""}, "model_name must be a non-empty string"),
    "bad-idempotency-key": ({"idempotency_key": "bad\nkey"}, "idempotency_key"),
}


@pytest.mark.parametrize(("overrides", "message"), _BAD.values(), ids=_BAD)
async def test_create_refuses_what_the_api_documents_as_invalid_before_any_request(
    client: Client, mock_api: Mock, overrides: dict[str, Any], message: str
) -> None:
    """Each documented violation raises InvalidInputError naming it; nothing is sent."""
    args: dict[str, Any] = {"requests": [item()], "analysis_mode": "general", **overrides}
    with pytest.raises(InvalidInputError, match=message):
        await client.analyze.batches.create(**args)
    assert mock_api.requests == {}


async def test_item_fields_replace_defaults_whole(client: Client, mock_api: Mock) -> None:
    """An item's own object replaces the default whole, so its merge is what gets validated."""
    mock_api.post(BATCHES, status=201, payload=CREATED, repeat=True)
    ranged = ResponseFormat.segments(
        SegmentDefinition(id="s", description="d", time_ranges=(TimeRange(0, 10),))
    )
    defaults = BatchDefaults(response_format=ranged)
    # time_ranges (from defaults) cannot be combined with an item's own window ...
    with pytest.raises(InvalidInputError, match=r"requests\[0\]: start_time/end_time"):
        await client.analyze.batches.create(
            requests=[BatchRequest(_ASSET, start_time=0, end_time=60)],
            analysis_mode="time_based_metadata",
            defaults=defaults,
        )
    assert mock_api.requests == {}
    # ... but an item that brings its own response_format (without ranges) replaces it whole.
    await client.analyze.batches.create(
        requests=[BatchRequest(_ASSET, start_time=0, end_time=60, response_format=SEGMENTS)],
        analysis_mode="time_based_metadata",
        defaults=defaults,
    )
    assert len(calls(mock_api, "POST", BATCHES)) == 1


async def test_a_full_batch_of_1000_items_is_accepted(client: Client, mock_api: Mock) -> None:
    """Exactly 1,000 requests with unique custom_ids pass validation and are all sent."""
    mock_api.post(BATCHES, status=201, payload=CREATED)
    await client.analyze.batches.create(requests=_many(1000), analysis_mode="general")
    (call,) = calls(mock_api, "POST", BATCHES)
    assert len(call.kwargs["json"]["requests"]) == 1000


# --- retrieve, list, cancel, delete ---------------------------------------------------------------


async def test_retrieve_returns_a_typed_batch_with_counts(client: Client, mock_api: Mock) -> None:
    """Retrieve decodes status, mode, dates and counts; finished_items sums the terminal ones."""
    mock_api.get(
        B1,
        payload=batch(
            "completed",
            completed_at="2026-01-01T05:00:00Z",
            ready_items=5,
            failed_items=2,
            canceled_items=1,
            webhooks=[{"url": "https://hook", "delivered": True, "attempts": 1}],
        ),
    )
    got = await client.analyze.batches.retrieve("b1")
    assert isinstance(got, Batch)
    assert got.status == BatchStatus.COMPLETED
    assert got.analysis_mode == AnalysisMode.GENERAL
    assert got.is_terminal
    assert got.finished_items == 8
    assert got.completed_at == datetime(2026, 1, 1, 5, tzinfo=UTC)
    assert got.webhooks[0].delivered is True


async def test_retrieve_keeps_an_unknown_status(client: Client, mock_api: Mock) -> None:
    """A status this version does not know is kept as its string and is not terminal."""
    mock_api.get(B1, payload=batch("paused"))
    got = await client.analyze.batches.retrieve("b1")
    assert got.status == "paused"
    assert not got.is_terminal


async def test_list_sends_repeated_filters(client: Client, mock_api: Mock) -> None:
    """Several statuses and modes are sent as repeated query keys."""
    mock_api.get(LIST_URL, payload={"data": [batch()], "page_info": {"total_page": 1}})
    batches = client.analyze.batches.list(
        status=[BatchStatus.PROCESSING, "canceling"], analysis_mode="general", page_limit=10
    )
    got = [b.batch_id async for b in batches]
    assert got == ["b1"]
    ((method, url),) = mock_api.requests
    assert (method, url.path) == ("GET", "/v1.3/analyze/batches")
    assert sorted(url.query.getall("status")) == ["canceling", "processing"]
    assert url.query.getall("analysis_mode") == ["general"]
    assert (url.query["page"], url.query["page_limit"]) == ("1", "10")


async def test_list_iterates_every_page_and_stops_at_total_page(
    client: Client, mock_api: Mock
) -> None:
    """Iteration yields the batches of pages 1..total_page and requests no page past it."""
    for n, ids in ((1, ["b1", "b2"]), (2, ["b3"])):
        data = [batch(batch_id=i) for i in ids]
        mock_api.get(
            f"{BATCHES}?page={n}&page_limit=2",
            payload={"data": data, "page_info": {"page": n, "total_page": 2}},
        )
    got = [b.batch_id async for b in client.analyze.batches.list(page_limit=2)]
    assert got == ["b1", "b2", "b3"]
    assert len(mock_api.requests) == 2


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"page_limit": 0}, "page_limit"),
        ({"page_limit": 51}, "page_limit"),
        ({"page_limit": True}, "page_limit"),
        ({"status": [""]}, "status filters"),
        ({"analysis_mode": [3]}, "analysis_mode filters"),
    ],
)
async def test_list_refuses_bad_arguments_at_once(
    client: Client, mock_api: Mock, kwargs: dict[str, Any], message: str
) -> None:
    """A bad page_limit or filter raises InvalidInputError when list() is called."""
    with pytest.raises(InvalidInputError, match=message):
        client.analyze.batches.list(**kwargs)
    assert mock_api.requests == {}


async def test_cancel_returns_the_batch_as_it_is_now(client: Client, mock_api: Mock) -> None:
    """Cancel POSTs to /cancel with no body and returns the canceling batch."""
    mock_api.post(f"{B1}/cancel", status=202, payload=batch("canceling", canceled_items=1))
    got = await client.analyze.batches.cancel("b1")
    assert got.status == BatchStatus.CANCELING
    assert got.canceled_items == 1
    (call,) = calls(mock_api, "POST", f"{B1}/cancel")
    assert call.kwargs["json"] is None


async def test_cancel_of_an_ended_batch_raises_conflict(client: Client, mock_api: Mock) -> None:
    """A 409 batch_completed raises ConflictError with its code, without retrying."""
    error = {"error": {"code": "batch_completed", "message": "The batch is already completed."}}
    mock_api.post(f"{B1}/cancel", status=409, payload=error)
    with pytest.raises(ConflictError) as info:
        await client.analyze.batches.cancel("b1")
    assert info.value.code == "batch_completed"
    assert len(calls(mock_api, "POST", f"{B1}/cancel")) == 1


async def test_delete_returns_none_and_a_409_raises(client: Client, mock_api: Mock) -> None:
    """Delete returns None on an empty 200; 409 batch_not_terminal raises ConflictError."""
    mock_api.delete(B1, status=200, body=b"")
    assert await client.analyze.batches.delete("b1") is None
    error = {"error": {"code": "batch_not_terminal", "message": "still processing"}}
    mock_api.delete(B1, status=409, payload=error)
    with pytest.raises(ConflictError, match="batch_not_terminal"):
        await client.analyze.batches.delete("b1")


@pytest.mark.parametrize("bad", ["", "a/b", "..", " b1", "b\n1", "..;", ".;x", "b" * 129])
async def test_every_endpoint_refuses_an_unsafe_batch_id(
    client: Client, mock_api: Mock, bad: str
) -> None:
    """A batch id that is empty or could change the path is refused before any request."""
    batches = client.analyze.batches
    with pytest.raises(InvalidInputError, match="batch_id"):
        await batches.retrieve(bad)
    with pytest.raises(InvalidInputError, match="batch_id"):
        await batches.cancel(bad)
    with pytest.raises(InvalidInputError, match="batch_id"):
        await batches.delete(bad)
    with pytest.raises(InvalidInputError, match="batch_id"):
        batches.results(bad)
    with pytest.raises(InvalidInputError, match="batch_id"):
        batches.track(bad)
    assert mock_api.requests == {}


# --- results ----------------------------------------------------------------------------------


async def test_results_are_typed_items_across_split_chunks(
    server: LoopbackServer, api: AsyncTwelveLabs
) -> None:
    """Lines split mid-JSON are reassembled into typed BatchResult items; blank lines skipped."""
    server.on("GET", "analyze/batches/b1/results", ndjson(split(jsonl(RESULT_LINES), 7)))
    async with api.analyze.batches.results("b1") as results:
        items = [i async for i in results]
    assert [i.task_id for i in items] == ["t1", "t2", "t3", "t4", "t5"]
    ready, failed, processing, queued, unknown = items
    assert ready == BatchResult(
        task_id="t1",
        custom_id="a",
        status=BatchItemStatus.READY,
        data=AnalyzeTaskResult(
            generation_id="g1",
            data="A keynote.",
            finish_reason="stop",
            usage=TokenUsage(output_tokens=150, input_tokens=45),
        ),
    )
    assert failed.error == TaskError(
        code="asset_unavailable", message="The asset could not be read."
    )
    assert failed.data is None
    assert (processing.status, processing.custom_id) == (BatchItemStatus.PROCESSING, None)
    assert queued.status == BatchItemStatus.QUEUED
    assert unknown.status == "paused_for_maintenance"
    assert [i.is_terminal for i in items] == [True, True, False, False, False]
    (seen,) = server.seen("GET", "analyze/batches/b1/results")
    assert seen.headers["Accept"].startswith("application/jsonl")


async def test_results_iterate_without_async_with(
    server: LoopbackServer, api: AsyncTwelveLabs
) -> None:
    """Iterating the results directly reads every item and then refuses a second pass."""
    server.on("GET", "analyze/batches/b1/results", ndjson([jsonl(RESULT_LINES[:2])]))
    results = api.analyze.batches.results("b1")
    assert [i.task_id async for i in results] == ["t1", "t2"]
    with pytest.raises(RuntimeError, match="closed"):
        [i async for i in results]


async def test_a_line_that_is_not_json_raises_decode_error(
    server: LoopbackServer, api: AsyncTwelveLabs
) -> None:
    """A malformed line raises DecodeError (never silently dropped) after the good ones."""
    body = jsonl(RESULT_LINES[:1]) + b"\n{not json\n"
    server.on("GET", "analyze/batches/b1/results", ndjson([body]))
    seen: list[str] = []
    with pytest.raises(DecodeError, match="not JSON"):
        await read_into(api.analyze.batches.results("b1"), seen)
    assert seen == ["t1"]


async def test_results_get_is_retried_before_the_body_starts(
    server: LoopbackServer, api: AsyncTwelveLabs
) -> None:
    """A reset connection and a 503 before the first line are retried, as a GET may be."""
    path = "analyze/batches/b1/results"
    server.on("GET", path, reset(), reply(503), ndjson([jsonl(RESULT_LINES[:1])]))
    async with api.analyze.batches.results("b1") as results:
        items = [i async for i in results]
    assert [i.task_id for i in items] == ["t1"]
    assert len(server.seen("GET", path)) == 3


async def test_results_of_an_unknown_batch_raise_not_found(
    server: LoopbackServer, api: AsyncTwelveLabs
) -> None:
    """A 404 before the body raises NotFoundError with the API's code, without retrying."""
    error = {"error": {"code": "resource_not_exist", "message": "no batch b1"}}
    server.on("GET", "analyze/batches/b1/results", reply(404, error))
    with pytest.raises(NotFoundError) as info:
        await read_into(api.analyze.batches.results("b1"), [])
    assert info.value.code == "resource_not_exist"
    assert len(server.seen("GET", "analyze/batches/b1/results")) == 1
