"""The simulator's analyze batches over loopback: limits, lifecycle, items as tasks, contract."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from twelvelabs.analyze_async.batches.types import BatchesListResponse
from twelvelabs.core.pydantic_utilities import parse_obj_as
from twelvelabs.types import (
    AnalyzeBatchStatusResponse,
    AnalyzeTaskResponse,
    BatchResultItem,
    CreateAnalyzeBatchResponse,
    ErrorResponse,
)

from tests._simulator_support import Raw, SimClock, raw, sim_and_client
from tests.test_simulator_contract import extras
from twelvelabs_async import (
    AssetVideo,
    BatchDefaults,
    BatchRequest,
    ConflictError,
    NotFoundError,
    RateLimitError,
)
from twelvelabs_async.testing import Simulator

SPEC = Path(__file__).resolve().parents[2] / "shared" / "api" / "openapi-v1.3.json"
DAY = 24 * 3600.0
SCHEMA = {"type": "object", "properties": {"label": {"type": "string"}}, "required": ["label"]}


def asset(n: int) -> dict[str, str]:
    return {"type": "asset_id", "asset_id": f"asset-{n}"}


def body(n: int = 3, **extra: Any) -> dict[str, Any]:
    """A valid general batch of `n` items with a default prompt."""
    return {
        "model_name": "pegasus1.5",
        "analysis_mode": "general",
        "requests": [{"video": asset(i), "custom_id": f"c-{i}"} for i in range(n)],
        "defaults": {"prompt": {"input_text": "Summarize this video."}},
        **extra,
    }


async def create(sim: Simulator, payload: dict[str, Any] | None = None) -> dict[str, Any]:
    resp = await raw(sim, "POST", "analyze/batches", json_body=payload or body())
    assert resp.status == 201, resp.body
    created: dict[str, Any] = resp.json()
    return created


async def get(sim: Simulator, path: str) -> Raw:
    return await raw(sim, "GET", path)


def _at(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat().replace("+00:00", "Z")


def _strict(node: Any) -> Any:
    if isinstance(node, dict):
        out = {key: _strict(value) for key, value in node.items()}
        if isinstance(node.get("properties"), dict) and node["properties"]:
            out.setdefault("additionalProperties", False)
        return out
    if isinstance(node, list):
        return [_strict(item) for item in node]
    return node


def fits(body: Any, model: Any, schema: str | None) -> None:
    """Assert `body` parses as the SDK's `model` without extras and fits OpenAPI `schema`.

    The strict OpenAPI check runs when the API description is beside the checkout and a schema
    is named (None where the older OpenAPI export lags the SDK).
    """
    parsed = parse_obj_as(model, body)
    assert extras(parsed) == []
    if SPEC.exists() and schema is not None:
        components = _strict(json.loads(SPEC.read_text("utf-8"))["components"])
        root = {"components": components, "$ref": f"#/components/schemas/{schema}"}
        errors = list(jsonschema.Draft202012Validator(root).iter_errors(body))
        assert [f"{list(e.absolute_path)}: {e.message}" for e in errors] == []


# --- create ------------------------------------------------------------------------------------


async def test_create_answers_201_with_one_task_per_item_in_order() -> None:
    """201 `{batch_id, status: pending, total_items, created_at, expires_at = +24 h, items}`."""
    async with sim_and_client() as (sim, _client, clock):
        payload = body(2)
        payload["requests"].append({"video": asset(9)})  # no custom_id: null in the answer
        created = await create(sim, payload)
        fits(created, CreateAnalyzeBatchResponse, "CreateAnalyzeBatchResponse")
        assert created["status"] == "pending"
        assert created["total_items"] == 3
        assert created["created_at"] == _at(clock.now)
        assert created["expires_at"] == _at(clock.now + DAY)
        assert [i["custom_id"] for i in created["items"]] == ["c-0", "c-1", None]
        assert len({i["task_id"] for i in created["items"]}) == 3
        assert sim.stats.count("batch_create", 201) == 1


async def test_every_item_is_a_task_with_its_batch_id_and_effective_fields() -> None:
    """Each item is visible at /analyze/tasks/{id} with batch_id; item fields replace defaults."""
    async with sim_and_client() as (sim, _client, _clock):
        payload = body(2)
        payload["defaults"]["temperature"] = 0.3
        payload["defaults"]["response_format"] = {"type": "json_schema", "json_schema": SCHEMA}
        payload["requests"][1]["prompt"] = {"input_text": "Own prompt."}
        payload["requests"][1]["temperature"] = 0.9
        created = await create(sim, payload)
        tasks = []
        for entry in created["items"]:
            resp = await get(sim, f"analyze/tasks/{entry['task_id']}")
            assert resp.status == 200
            # The OpenAPI export predates `batch_id` on tasks; the SDK (newer) has it.
            fits(resp.json(), AnalyzeTaskResponse, None)
            tasks.append(resp.json())
        assert {t["batch_id"] for t in tasks} == {created["batch_id"]}
        assert [t["custom_id"] for t in tasks] == ["c-0", "c-1"]
        params = [t["request_params"] for t in tasks]
        assert params[0]["prompt_v2"] == {"input_text": "Summarize this video."}
        assert params[1]["prompt_v2"] == {"input_text": "Own prompt."}
        assert [p["temperature"] for p in params] == [0.3, 0.9]
        assert all(p["response_format"]["type"] == "json_schema" for p in params)
        assert tasks[0]["video_source"]["asset_id"] == "asset-0"


_INVALID: dict[str, dict[str, Any]] = {
    "unknown-key": body(surprise=1),
    "missing-mode": {k: v for k, v in body().items() if k != "analysis_mode"},
    "other-model": body(model_name="pegasus1.6"),
    "bad-mode": body(analysis_mode="mixed"),
    "no-requests": body(0),
    "too-many": body(1001),
    "requests-not-array": body(requests={"video": asset(0)}),
    "url-video": body(requests=[{"video": {"type": "url", "url": "https://x/v.mp4"}}]),
    "duplicate-custom-id": body(
        requests=[{"video": asset(0), "custom_id": "x"}, {"video": asset(1), "custom_id": "x"}]
    ),
    "empty-custom-id": body(requests=[{"video": asset(0), "custom_id": ""}]),
    "no-prompt": body(defaults={}),
    "per-item-mode": body(requests=[{"video": asset(0), "analysis_mode": "general"}]),
    "prompt-as-string": body(defaults={"prompt": "Summarize"}),
}


async def test_an_unsupported_schema_keyword_gets_422_and_creates_nothing() -> None:
    """`additionalProperties` in the defaults' json_schema: 422 parameter_invalid, nested."""
    schema = {"type": "object", "properties": {"a": {"type": "string"}}}
    fmt = {"type": "json_schema", "json_schema": {**schema, "additionalProperties": False}}
    payload = body(defaults={"prompt": {"input_text": "Tag it."}, "response_format": fmt})
    async with sim_and_client() as (sim, _client, _clock):
        resp = await raw(sim, "POST", "analyze/batches", json_body=payload)
        assert resp.status == 422
        fits(resp.json(), ErrorResponse, "ErrorResponse")
        assert resp.json()["error"]["code"] == "parameter_invalid"
        assert "additionalProperties" in resp.json()["error"]["message"]
        assert len(sim._app.store) == 0


@pytest.mark.parametrize("payload", _INVALID.values(), ids=_INVALID)
async def test_invalid_bodies_get_400_nested_parameter_invalid(payload: dict[str, Any]) -> None:
    """An invalid batch gets 400 `{"error": {"code": "parameter_invalid"}}` and creates nothing."""
    async with sim_and_client() as (sim, _client, _clock):
        resp = await raw(sim, "POST", "analyze/batches", json_body=payload)
        assert resp.status == 400
        fits(resp.json(), ErrorResponse, "ErrorResponse")
        assert resp.json()["error"]["code"] == "parameter_invalid"
        listed = await get(sim, "analyze/batches")
        assert listed.json()["data"] == []
        assert len(sim._app.store) == 0


async def test_a_sixth_active_batch_is_429_until_one_ends() -> None:
    """Five batches may be active; the sixth gets 429 active_batch_limit_exceeded, then fits."""
    async with sim_and_client(duration=(10.0, 10.0)) as (sim, client, clock):
        for _ in range(5):
            await create(sim)
        resp = await raw(sim, "POST", "analyze/batches", json_body=body())
        assert resp.status == 429
        assert resp.json()["error"]["code"] == "active_batch_limit_exceeded"
        with pytest.raises(RateLimitError):
            await client.analyze.batches.create(
                requests=[BatchRequest(AssetVideo("a"), prompt="x")], analysis_mode="general"
            )
        clock.advance(10.0)  # every item done: the five batches are completed
        await create(sim)
        assert sim.stats.count("batch_create", 429) == 2


async def test_idempotency_key_reuse_returns_the_same_batch() -> None:
    """The same Idempotency-Key answers the first batch again and creates no tasks."""
    async with sim_and_client() as (sim, _client, _clock):
        headers = {"Idempotency-Key": "k-1"}
        first = await raw(sim, "POST", "analyze/batches", json_body=body(), headers=headers)
        again = await raw(sim, "POST", "analyze/batches", json_body=body(), headers=headers)
        assert first.json()["batch_id"] == again.json()["batch_id"]
        assert first.json()["items"] == again.json()["items"]
        assert len(sim._app.store) == 3


# --- lifecycle, results ------------------------------------------------------------------------


async def test_status_and_counts_follow_the_clock_to_completed() -> None:
    """pending, then processing with counts per item status, then completed at the last finish."""
    settings = {"duration": (10.0, 20.0), "queued_fraction": 0.3, "pending_fraction": 0.0}
    async with sim_and_client(failure_rate=0.3, **settings) as (sim, client, clock):
        start = clock.now
        created = await create(sim, body(20))
        seen = []
        for offset in (0.0, 2.5, 8.0, 15.0, 25.0):
            clock.set(start + offset)
            resp = await get(sim, f"analyze/batches/{created['batch_id']}")
            fits(resp.json(), AnalyzeBatchStatusResponse, "AnalyzeBatchStatusResponse")
            got = resp.json()
            counts = [got[f"{k}_items"] for k in ("queued", "processing", "ready", "failed")]
            assert sum(counts) + got["canceled_items"] == 20
            seen.append((got["status"], counts))
        assert seen[0] == ("pending", [20, 0, 0, 0])
        assert seen[1][0] == "pending"
        assert seen[2][0] == "processing"
        assert seen[2][1][1] > 0
        status, (_, _, ready, failed) = seen[4]
        assert (status, ready + failed) == ("completed", 20)
        assert failed > 0
        last = max(sim.terminal_at[i["task_id"]] for i in created["items"])
        batch = await client.analyze.batches.retrieve(created["batch_id"])
        assert batch.completed_at == datetime.fromtimestamp(last, UTC)
        assert (batch.canceled_at, batch.expired_at) == (None, None)


async def test_results_are_jsonl_readable_while_processing() -> None:
    """GET /results is application/jsonl, one line per item in order, with data or error."""
    settings = {"duration": (10.0, 30.0), "failure_rate": 0.3}
    async with sim_and_client(**settings) as (sim, client, clock):
        created = await create(sim, body(30))
        clock.advance(20.0)
        resp = await get(sim, f"analyze/batches/{created['batch_id']}/results")
        assert resp.status == 200
        assert resp.headers["Content-Type"].startswith("application/jsonl")
        lines = resp.lines()
        assert [line["task_id"] for line in lines] == [i["task_id"] for i in created["items"]]
        statuses = {line["status"] for line in lines}
        assert {"ready", "failed"} <= statuses
        assert statuses & {"queued", "processing"}
        for line in lines:
            fits(line, BatchResultItem, "BatchResultItem")
            assert ("data" in line) == (line["status"] == "ready")
            assert ("error" in line) == (line["status"] == "failed")
        ready = next(line for line in lines if line["status"] == "ready")
        task = await client.analyze.tasks.retrieve(ready["task_id"])
        assert task.result is not None
        assert ready["data"]["data"] == task.result.data


async def test_items_unfinished_at_24_hours_are_canceled_and_the_batch_expires() -> None:
    """At created + 24 h, unfinished items become canceled (batch_expired); the batch expired."""
    clock = SimClock()
    async with sim_and_client(clock=clock, duration=(3600.0, 2 * DAY)) as (sim, client, _):
        start = clock.now
        created = await create(sim, body(20))
        ids = [i["task_id"] for i in created["items"]]
        late = [i for i in ids if sim.terminal_at[i] == start + DAY]
        assert late
        assert len(late) < 20
        clock.set(start + DAY - 1)
        assert (await client.analyze.batches.retrieve(created["batch_id"])).status == "processing"
        clock.set(start + DAY)
        batch = await client.analyze.batches.retrieve(created["batch_id"])
        assert batch.status == "expired"
        assert batch.expired_at == datetime.fromtimestamp(start + DAY, UTC)
        assert batch.canceled_items == len(late)
        task = await client.analyze.tasks.retrieve(late[0])
        assert task.status == "canceled"
        assert task.error is not None
        assert task.error.code == "batch_expired"
        async with client.analyze.batches.results(created["batch_id"]) as results:
            by_id = {item.task_id: item async for item in results}
        assert {str(by_id[i].status) for i in late} == {"canceled"}
        assert all(by_id[i].error is None for i in late)


async def test_cancel_cancels_queued_items_and_processing_ones_finish() -> None:
    """202 canceling at once; queued items canceled (batch_canceled); canceled after the rest."""
    settings = {"duration": (100.0, 100.0), "queued_fraction": 0.5, "pending_fraction": 0.0}
    async with sim_and_client(**settings) as (sim, client, clock):
        start = clock.now
        busy = await create(sim, body(2))
        clock.advance(60.0)  # busy's items are processing
        waiting = await create(sim, body(2))
        resp = await raw(sim, "POST", f"analyze/batches/{busy['batch_id']}/cancel")
        assert resp.status == 202
        fits(resp.json(), AnalyzeBatchStatusResponse, "AnalyzeBatchStatusResponse")
        assert resp.json()["status"] == "canceling"
        canceled = await client.analyze.batches.cancel(waiting["batch_id"])
        assert (canceled.status, canceled.canceled_items) == ("canceled", 2)
        task = await client.analyze.tasks.retrieve(waiting["items"][0]["task_id"])
        assert task.error is not None
        assert task.error.code == "batch_canceled"
        clock.set(start + 100.0)
        done = await client.analyze.batches.retrieve(busy["batch_id"])
        assert (done.status, done.ready_items) == ("canceled", 2)
        assert done.canceled_at == datetime.fromtimestamp(start + 100.0, UTC)
        with pytest.raises(ConflictError) as info:
            await client.analyze.batches.cancel(busy["batch_id"])
        assert info.value.code == "batch_canceled"


async def test_cancel_of_a_completed_batch_is_409_batch_completed() -> None:
    """A completed batch cannot be canceled: 409 batch_completed."""
    async with sim_and_client(duration=(1.0, 1.0)) as (sim, _client, clock):
        created = await create(sim)
        clock.advance(1.0)
        resp = await raw(sim, "POST", f"analyze/batches/{created['batch_id']}/cancel")
        assert resp.status == 409
        assert resp.json()["error"]["code"] == "batch_completed"


async def test_a_batch_task_cannot_be_canceled_on_its_own() -> None:
    """POST /analyze/tasks/{id}/cancel on a batch item is 409 task_in_batch."""
    async with sim_and_client() as (sim, _client, _clock):
        created = await create(sim)
        task_id = created["items"][0]["task_id"]
        resp = await raw(sim, "POST", f"analyze/tasks/{task_id}/cancel")
        assert resp.status == 409
        assert resp.json()["error"]["code"] == "task_in_batch"
        assert sim.status_of(task_id) == "queued"


async def test_delete_is_409_while_active_then_removes_batch_and_tasks() -> None:
    """DELETE: 409 batch_not_terminal while active; once ended, 200 and everything is 404."""
    async with sim_and_client(duration=(5.0, 5.0)) as (sim, client, clock):
        created = await create(sim)
        with pytest.raises(ConflictError) as info:
            await client.analyze.batches.delete(created["batch_id"])
        assert info.value.code == "batch_not_terminal"
        clock.advance(5.0)
        await client.analyze.batches.delete(created["batch_id"])
        for path in (f"analyze/batches/{created['batch_id']}", "analyze/batches/x/results"):
            assert (await get(sim, path)).status == 404
        with pytest.raises(NotFoundError):
            await client.analyze.tasks.retrieve(created["items"][0]["task_id"])


async def test_unknown_batches_are_404_nested_on_every_route() -> None:
    """Retrieve, results, cancel and delete of an unknown id answer 404 resource_not_exist."""
    async with sim_and_client() as (sim, _client, _clock):
        for method, path in (
            ("GET", "analyze/batches/nope"),
            ("GET", "analyze/batches/nope/results"),
            ("POST", "analyze/batches/nope/cancel"),
            ("DELETE", "analyze/batches/nope"),
        ):
            resp = await raw(sim, method, path)
            assert resp.status == 404
            fits(resp.json(), ErrorResponse, "ErrorResponse")
            assert resp.json()["error"]["code"] == "resource_not_exist"


async def test_a_batch_is_gone_30_days_after_creation() -> None:
    """Results are kept 30 days; after that the batch answers 404."""
    async with sim_and_client(duration=(5.0, 5.0)) as (sim, _client, clock):
        created = await create(sim)
        clock.advance(30 * DAY - 1)
        assert (await get(sim, f"analyze/batches/{created['batch_id']}/results")).status == 200
        clock.advance(1)
        assert (await get(sim, f"analyze/batches/{created['batch_id']}")).status == 404


# --- list --------------------------------------------------------------------------------------


async def test_list_is_newest_first_with_repeatable_filters() -> None:
    """Newest first, paginated; `status` and `analysis_mode` may repeat and match any value."""
    segmentation = {
        "model_name": "pegasus1.5",
        "analysis_mode": "time_based_metadata",
        "requests": [{"video": asset(0)}],
        "defaults": {
            "response_format": {
                "type": "segment_definitions",
                "segment_definitions": [{"id": "s", "description": "A scene"}],
            }
        },
    }
    async with sim_and_client(duration=(10.0, 10.0)) as (sim, client, clock):
        done = await create(sim)
        clock.advance(10.0)
        running = await create(sim)
        segmenting = await create(sim, segmentation)
        resp = await raw(sim, "GET", "analyze/batches", params={"page_limit": "2"})
        fits(resp.json(), BatchesListResponse, "analyzeAsync_batches_list_Response_200")
        assert [b["batch_id"] for b in resp.json()["data"]] == [
            segmenting["batch_id"],
            running["batch_id"],
        ]
        assert resp.json()["page_info"] == {
            "limit_per_page": 2,
            "page": 1,
            "total_page": 2,
            "total_results": 3,
        }
        every = [b.batch_id async for b in client.analyze.batches.list(page_limit=1)]
        assert every == [segmenting["batch_id"], running["batch_id"], done["batch_id"]]
        both = client.analyze.batches.list(status=["completed", "pending"])
        assert len([b async for b in both]) == 3
        pending = client.analyze.batches.list(status="pending", analysis_mode="general")
        assert [b.batch_id async for b in pending] == [running["batch_id"]]
        modes = client.analyze.batches.list(analysis_mode=["time_based_metadata"])
        assert [b.batch_id async for b in modes] == [segmenting["batch_id"]]


@pytest.mark.parametrize("params", [{"page": "0"}, {"page_limit": "51"}, {"page": "x"}])
async def test_list_out_of_range_paging_is_400(params: dict[str, str]) -> None:
    """A page below 1, a page_limit over 50 or a non-integer is 400 parameter_invalid."""
    async with sim_and_client() as (sim, _client, _clock):
        resp = await raw(sim, "GET", "analyze/batches", params=params)
        assert resp.status == 400
        assert resp.json()["error"]["code"] == "parameter_invalid"


async def test_the_client_reads_a_batch_end_to_end() -> None:
    """Client create, retrieve, results and delete against the simulator agree with each other."""
    async with sim_and_client(duration=(5.0, 5.0)) as (_sim, client, clock):
        created = await client.analyze.batches.create(
            requests=[BatchRequest(AssetVideo(f"a-{i}"), custom_id=f"x-{i}") for i in range(1, 4)],
            analysis_mode="general",
            defaults=BatchDefaults(prompt="Describe"),
        )
        clock.advance(5.0)
        batch = await client.analyze.batches.retrieve(created.batch_id)
        assert (batch.status, batch.ready_items, batch.total_items) == ("completed", 3, 3)
        async with client.analyze.batches.results(created.batch_id) as results:
            items = [item async for item in results]
        assert [i.custom_id for i in items] == ["x-1", "x-2", "x-3"]
        assert all(i.data is not None and i.data.data for i in items)
        await client.analyze.batches.delete(created.batch_id)
