"""Contract: the simulator's embedding bodies fit the official SDK and the OpenAPI; the SDK works.

The bodies are checked as in `test_simulator_contract.py` (the SDK's own `parse_obj_as`, failing
on any field it does not know, and the strict OpenAPI schemas, adjusted to the SDK where they
disagree). Then the official SDK's client, `twelvelabs.AsyncTwelveLabs`, creates, retrieves and
lists embedding tasks (`embed.v_2.tasks`) and embeds a text (`embed.v_2.create`) against the
simulator: our fake answers what the real client expects.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import twelvelabs
from twelvelabs.core.pydantic_utilities import parse_obj_as
from twelvelabs.embed.v_2.tasks.types import TasksCreateResponse, TasksListResponse
from twelvelabs.types import (
    EmbeddingSuccessResponse,
    EmbeddingTaskResponse,
    ErrorResponse,
    FlatErrorResponse,
)

from tests._simulator_support import raw, sim_and_client
from tests.test_simulator_contract import check, schema_errors
from twelvelabs_async.testing import Simulator

URL = "https://videos.example.com/match.mp4"

BODIES: list[dict[str, Any]] = [
    {"input_type": "video", "model_name": "marengo3.5", "embedding_dimension": 256,
     "video": {"media_source": {"url": URL}, "end_sec": 30,
               "segmentation": {"temporal": {"strategy": "fixed", "fixed": {"duration_sec": 6}}}}},
    {"input_type": "video", "model_name": "marengo3.0",
     "video": {"media_source": {"asset_id": "a1"}, "end_sec": 20,
               "segmentation": {"strategy": "dynamic", "dynamic": {"min_duration_sec": 4}}}},
    {"input_type": "audio", "model_name": "marengo3.5", "embedding_uncertainty": True,
     "audio": {"media_source": {"url": URL}, "end_sec": 12, "embedding_scope": ["clip"]}},
    {"input_type": "audio", "model_name": "marengo3.0",
     "audio": {"media_source": {"url": URL}, "end_sec": 12}},
    {"input_type": "image", "model_name": "marengo3.5",
     "image": {"media_source": {"url": "https://i.example.com/a.png"}}},
    {"input_type": "document", "model_name": "marengo3.5",
     "document": {"media_source": {"url": "https://d.example.com/a.pdf"},
                  "embedding_option": ["visual", "text"]}},
]  # fmt: skip


async def _task_bodies(sim: Simulator, ids: list[str]) -> list[Any]:
    bodies = []
    for task_id in ids:
        resp = await raw(sim, "GET", f"embed-v2/tasks/{task_id}")
        assert resp.status == 200
        bodies.append(resp.json())
    return bodies


@pytest.mark.parametrize("failure_rate", [0.0, 1.0])
async def test_tasks_of_every_input_in_every_status_fit(failure_rate: float) -> None:
    """Processing, then ready (or failed) tasks of each input parse and fit the task schema."""
    async with sim_and_client(duration=(5.0, 5.0), failure_rate=failure_rate) as (
        sim,
        _client,
        clock,
    ):
        created = []
        for body in BODIES:
            resp = await raw(sim, "POST", "embed-v2/tasks", json_body=body)
            assert resp.status == 202
            created.append(resp.json())
        ids = [c["_id"] for c in created]
        processing = await _task_bodies(sim, ids)
        clock.advance(10.0)
        ended = await _task_bodies(sim, ids)
        listed = await raw(sim, "GET", "embed-v2/tasks", params={"page_limit": "3", "page": "2"})
    for body in created:
        check(body, TasksCreateResponse, "embed_v2_tasks_create_Response_202")
    assert {b["status"] for b in processing} == {"processing"}
    assert {b["status"] for b in ended} == {"failed" if failure_rate else "ready"}
    for body in processing + ended:
        parsed = check(body, EmbeddingTaskResponse, "EmbeddingTaskResponse")
        assert parsed.id == body["_id"]
    page = check(listed.json(), TasksListResponse, "embed_v2_tasks_list_Response_200")
    assert [t.id for t in page.data] == list(reversed(ids))[3:]


async def test_text_embeddings_fit() -> None:
    """POST /embed-v2 answers an EmbeddingSuccessResponse on both models."""
    async with sim_and_client() as (sim, _client, _clock):
        text_30 = {"input_type": "text", "model_name": "marengo3.0", "text": {"input_text": "a"}}
        text_35 = {
            "input_type": "multi_input",
            "model_name": "marengo3.5",
            "multi_input": {"input_text": "a goal"},
        }
        old = await raw(sim, "POST", "embed-v2", json_body=text_30)
        new = await raw(sim, "POST", "embed-v2", json_body=text_35)
    for resp in (old, new):
        assert resp.status == 200
        check(resp.json(), EmbeddingSuccessResponse, "EmbeddingSuccessResponse")


async def test_error_bodies_are_nested_except_the_list_400() -> None:
    """Create 400 and retrieve 404 are {error: {code, message}}; the list 400 is flat."""
    async with sim_and_client() as (sim, _client, _clock):
        bad_create = await raw(sim, "POST", "embed-v2/tasks", json_body={"input_type": "text"})
        missing = await raw(sim, "GET", "embed-v2/tasks/0123456789abcdef01234567")
        bad_list = await raw(sim, "GET", "embed-v2/tasks", params={"status": "queued"})
    for resp, status in ((bad_create, 400), (missing, 404)):
        assert resp.status == status
        parse_obj_as(ErrorResponse, resp.json())
        assert schema_errors("ErrorResponse", resp.json()) == []
    assert bad_list.status == 400
    parse_obj_as(FlatErrorResponse, bad_list.json())
    assert schema_errors("List-async-embedding-tasksRequestBadRequestError", bad_list.json()) == []


async def test_the_official_sdk_client_works_against_the_simulator(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """twelvelabs.AsyncTwelveLabs creates, retrieves and lists tasks, and embeds a text."""
    monkeypatch.delenv("TWELVELABS_BASE_URL", raising=False)
    async with (
        sim_and_client(duration=(5.0, 5.0)) as (sim, _client, clock),
        httpx.AsyncClient() as http,
    ):
        sdk = twelvelabs.AsyncTwelveLabs(
            api_key=sim.api_key, base_url=sim.base_url, httpx_client=http
        )
        created = await sdk.embed.v_2.tasks.create(
            input_type="video",
            model_name="marengo3.5",
            video={
                "media_source": {"url": URL},
                "end_sec": 24,
                "segmentation": {"temporal": {"strategy": "fixed", "fixed": {"duration_sec": 6}}},
            },
        )
        assert created.status == "processing"
        clock.advance(10.0)
        task = await sdk.embed.v_2.tasks.retrieve(created.id)
        pager = await sdk.embed.v_2.tasks.list(status="ready")
        listed = [item.id async for item in pager]
        text = await sdk.embed.v_2.create(
            input_type="multi_input", model_name="marengo3.5", multi_input={"input_text": "goal"}
        )
        with pytest.raises(twelvelabs.errors.BadRequestError):
            await sdk.embed.v_2.tasks.create(
                input_type="video",
                model_name="marengo3.0",
                embedding_dimension=256,
                video={"media_source": {"url": URL}},
            )
    assert task.status == "ready"
    assert task.data is not None
    assert len(task.data) == 4 * 2 + 2
    assert listed == [created.id]
    assert len(text.data[0].embedding) == 512
