"""`GET /analyze/tasks` on the simulator: order, pages, limits, filters and cut-down items."""

from __future__ import annotations

import random
from typing import Any

import pytest

from tests._simulator_support import URL, raw, sim_and_client
from twelvelabs_async import (
    AnalyzeTask,
    AssetVideo,
    ResponseFormat,
    SegmentDefinition,
    SegmentField,
)
from twelvelabs_async.testing._config import SimulatorConfig
from twelvelabs_async.testing._store import TaskStore

LONG_PROMPT = "Describe every scene of this video in detail, with the people and places seen."
SCHEMA = {"type": "object", "properties": {"title": {"type": "string"}}, "required": ["title"]}
DEFINITIONS = (
    SegmentDefinition(
        id="scene", description="Each scene", fields=(SegmentField("label", "string"),)
    ),
    SegmentDefinition(id="ad", description="Each advert"),
    SegmentDefinition(id="goal", description="Each goal"),
)


async def test_list_is_newest_first_with_page_info() -> None:
    """Page 1 holds the newest tasks first; page_info counts pages and results."""
    async with sim_and_client() as (sim, _client, _clock):
        ids = await sim.seed_tasks(12)
        resp = await raw(sim, "GET", "analyze/tasks", params={"page_limit": "5"})
        assert resp.status == 200
        body = resp.json()
        assert [t["task_id"] for t in body["data"]] == ids[::-1][:5]
        assert body["page_info"] == {
            "limit_per_page": 5,
            "page": 1,
            "total_page": 3,
            "total_results": 12,
        }
        last = await raw(sim, "GET", "analyze/tasks", params={"page": "3", "page_limit": "5"})
        assert [t["task_id"] for t in last.json()["data"]] == ids[1::-1]
        past = await raw(sim, "GET", "analyze/tasks", params={"page": "4", "page_limit": "5"})
        assert past.json()["data"] == []


async def test_list_defaults_to_page_one_of_ten() -> None:
    """Without page or page_limit the list answers page 1 of 10 items."""
    async with sim_and_client() as (sim, _client, _clock):
        await sim.seed_tasks(11)
        body = (await raw(sim, "GET", "analyze/tasks")).json()
        assert len(body["data"]) == 10
        assert body["page_info"]["limit_per_page"] == 10
        assert body["page_info"]["page"] == 1


@pytest.mark.parametrize(
    "params",
    [{"page_limit": "51"}, {"page_limit": "0"}, {"page": "0"}, {"page": "one"}],
    ids=["limit-51", "limit-0", "page-0", "page-not-int"],
)
async def test_list_out_of_range_paging_is_400_flat(params: dict[str, str]) -> None:
    """page_limit over 50 (or a bad page) answers 400 with the flat `{code, message}` body."""
    async with sim_and_client() as (sim, _client, _clock):
        resp = await raw(sim, "GET", "analyze/tasks", params=params)
        assert resp.status == 400
        body = resp.json()
        assert set(body) == {"code", "message"}
        assert body["code"] == "parameter_invalid"
        assert sim.stats.count("list", 400) == 1


async def test_client_iterates_every_task_exactly_once_across_pages() -> None:
    """Iterating the client's list yields all 23 tasks once, newest first, in 5 requests."""
    async with sim_and_client() as (sim, client, _clock):
        ids = await sim.seed_tasks(23)
        seen = [task.task_id async for task in client.analyze.tasks.list(page_limit=5)]
        assert seen == ids[::-1]
        assert sim.stats.count("list", 200) == 5
        pages = [page async for page in client.analyze.tasks.list(page_limit=10).pages()]
        assert [len(p.data) for p in pages] == [10, 10, 3]
        assert pages[-1].page_info.total_page == 3


async def test_list_filters_by_status() -> None:
    """`status=` keeps only the tasks with that status right now."""
    async with sim_and_client() as (sim, client, clock):
        short = await sim.seed_tasks(2, duration=1.0)
        long = await sim.seed_tasks(3, duration=100.0)
        failed = await sim.seed_tasks(1, duration=1.0, failure_rate=1.0)
        clock.advance(50.0)
        assert [t.task_id async for t in client.analyze.tasks.list(status="ready")] == short[::-1]
        processing = client.analyze.tasks.list(status="processing")
        assert [t.task_id async for t in processing] == long[::-1]
        assert [t.task_id async for t in client.analyze.tasks.list(status="failed")] == failed
        assert [t async for t in client.analyze.tasks.list(status="queued")] == []


async def test_list_filters_by_video_url_asset_id_and_analysis_mode() -> None:
    """`video_url`, `asset_id` and `analysis_mode` each keep exactly the matching tasks."""
    async with sim_and_client() as (_sim, client, _clock):
        tasks = client.analyze.tasks
        on_url = await tasks.create(video=URL, prompt="A")
        await tasks.create(video="https://videos.example.com/other.mp4", prompt="B")
        on_asset = await tasks.create(video=AssetVideo("asset_123"), prompt="C")
        segmented = await tasks.create(
            video=URL,
            analysis_mode="time_based_metadata",
            response_format=ResponseFormat.segments(DEFINITIONS[0]),
        )

        async def ids(**filters: str) -> list[str]:
            return [t.task_id async for t in tasks.list(**filters)]

        assert await ids(video_url=URL) == [segmented.task_id, on_url.task_id]
        assert await ids(asset_id="asset_123") == [on_asset.task_id]
        assert await ids(analysis_mode="time_based_metadata") == [segmented.task_id]
        assert len(await ids(analysis_mode="general")) == 3
        assert await ids(video_url=URL, analysis_mode="general") == [on_url.task_id]
        assert await ids(asset_id="nothing") == []


async def _listed_and_retrieved(client: Any, task_id: str) -> tuple[AnalyzeTask, AnalyzeTask]:
    listed = [t async for t in client.analyze.tasks.list() if t.task_id == task_id]
    assert len(listed) == 1
    return listed[0], await client.analyze.tasks.retrieve(task_id)


async def test_list_items_are_cut_down_while_retrieve_is_complete() -> None:
    """List items keep 30 prompt chars, no json_schema and one definition; retrieve has all."""
    async with sim_and_client() as (sim, client, _clock):
        general = await client.analyze.tasks.create(
            video=URL, prompt=LONG_PROMPT, response_format=ResponseFormat.schema(SCHEMA)
        )
        segmented = await client.analyze.tasks.create(
            video=URL,
            analysis_mode="time_based_metadata",
            response_format=ResponseFormat.segments(*DEFINITIONS, time_format="hh:mm:ss"),
        )
        listed, full = await _listed_and_retrieved(client, general.task_id)
        assert listed.request_params is not None
        assert full.request_params is not None
        assert listed.request_params.prompt == LONG_PROMPT[:30]
        assert full.request_params.prompt == LONG_PROMPT
        assert listed.request_params.response_format == ResponseFormat(type="json_schema")
        assert full.request_params.response_format == ResponseFormat.schema(SCHEMA)

        listed, full = await _listed_and_retrieved(client, segmented.task_id)
        assert listed.request_params is not None
        assert full.request_params is not None
        assert listed.request_params.response_format == ResponseFormat.segments(
            DEFINITIONS[0], time_format="hh:mm:ss"
        )
        assert full.request_params.response_format == ResponseFormat.segments(
            *DEFINITIONS, time_format="hh:mm:ss"
        )
        raw_item = (await raw(sim, "GET", "analyze/tasks")).json()["data"][1]
        assert raw_item["task_id"] == general.task_id
        assert "json_schema" not in raw_item["request_params"]["response_format"]


async def test_list_cuts_prompt_v2_input_text_to_30_characters() -> None:
    """A prompt_v2 task lists its input_text cut to 30 characters; retrieve keeps all of it."""
    async with sim_and_client() as (_sim, client, _clock):
        ref = await client.analyze.tasks.create(video=URL, prompt_v2={"input_text": LONG_PROMPT})
        listed, full = await _listed_and_retrieved(client, ref.task_id)
        assert listed.request_params is not None
        assert listed.request_params.prompt_v2 is not None
        assert listed.request_params.prompt_v2.input_text == LONG_PROMPT[:30]
        assert full.request_params is not None
        assert full.request_params.prompt_v2 is not None
        assert full.request_params.prompt_v2.input_text == LONG_PROMPT


async def test_list_items_show_current_status_and_result() -> None:
    """A listed ready task carries its result; listed tasks show the status of the moment."""
    async with sim_and_client() as (sim, client, clock):
        (task_id,) = await sim.seed_tasks(1, duration=4.0)
        (before,) = [t async for t in client.analyze.tasks.list()]
        clock.advance(4.0)
        (after,) = [t async for t in client.analyze.tasks.list()]
        assert (before.task_id, before.status, before.result) == (task_id, "queued", None)
        assert after.status == "ready"
        assert after.result is not None
        assert after.result.data
        assert sim.stats.count("list", 200) == 2


async def test_list_with_an_unknown_status_value_is_an_empty_page() -> None:
    """A status filter matching no task answers 200 with no data and zero results."""
    async with sim_and_client() as (sim, client, _clock):
        await sim.seed_tasks(3)
        page = await client.analyze.tasks.list(status="exploded").page(1)
        assert page.data == ()
        assert page.page_info.total_results == 0
        assert page.page_info.total_page == 1


def test_status_pages_match_every_task_read_at_that_moment() -> None:
    """A status page holds exactly the tasks in that status then, through cancels and deletes."""
    store = TaskStore(SimulatorConfig(seed=3, duration=(1.0, 30.0), failure_rate=0.2))
    rng = random.Random(3)
    body = {"video": {"type": "url", "url": "https://cdn.example/v.mp4"}, "prompt": "p"}
    now = 1_000.0
    tasks = [store.create(body, now) for _ in range(150)]
    tasks += [store.create(body, now, expires_at=now + 10.0) for _ in range(30)]
    statuses = ("queued", "pending", "processing", "ready", "failed", "canceled")
    for step in range(80):
        now += rng.uniform(0.0, 0.8)
        if step % 7 == 0:
            store.cancel(rng.choice(tasks), now)
        if step % 11 == 0:
            victim = rng.choice(tasks)
            if store.get(victim.task_id) is not None:
                store.delete(victim)
        if step % 13 == 0:
            tasks.append(store.create(body, now))
        at = now - 5.0 if step % 17 == 0 else now  # now and then, a reading from the past
        for status in statuses:
            expected = [t for t in reversed(list(store)) if t.status_at(at) == status]
            for page in (1, 2, 4):
                items, info = store.page(at, page, 20, {"status": status})
                assert items == expected[(page - 1) * 20 : page * 20], (step, status, page)
                assert info.total_results == len(expected)
