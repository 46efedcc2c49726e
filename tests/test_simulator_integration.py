"""The client against the simulator over loopback: task lifecycle and every task endpoint."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from tests._simulator_support import URL, general_body, raw, sim_and_client, task_count
from twelvelabs_async import (
    AsyncTwelveLabs,
    AuthenticationError,
    ConflictError,
    NotFoundError,
    StreamEnd,
    StreamStart,
    TextGeneration,
)
from twelvelabs_async.testing import RESET


def _at(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


# --- lifecycle ---------------------------------------------------------------------------------


async def test_lifecycle_moves_through_each_status_at_exact_times() -> None:
    """Queued -> pending -> processing -> ready at duration * the configured fractions."""
    settings = {"duration": (8.0, 8.0), "queued_fraction": 0.25, "pending_fraction": 0.25}
    async with sim_and_client(**settings) as (sim, client, clock):
        start = clock.now
        ref = await client.analyze.tasks.create(video=URL, prompt="Describe")
        assert ref.status == "queued"
        seen = []
        for offset in (0.0, 1.999, 2.0, 3.999, 4.0, 7.999, 8.0, 100.0):
            clock.set(start + offset)
            task = await client.analyze.tasks.retrieve(ref.task_id)
            seen.append((offset, str(task.status), task.completed_at, task.result is None))
        done = _at(start + 8.0)
        assert seen == [
            (0.0, "queued", None, True),
            (1.999, "queued", None, True),
            (2.0, "pending", None, True),
            (3.999, "pending", None, True),
            (4.0, "processing", None, True),
            (7.999, "processing", None, True),
            (8.0, "ready", done, False),
            (100.0, "ready", done, False),
        ]
        assert task.created_at == _at(start)
        assert task.error is None
        assert sim.terminal_at[ref.task_id] == start + 8.0


async def test_failing_task_ends_failed_with_an_error_and_no_result() -> None:
    """With failure_rate 1.0 a task ends `failed` at its duration, with error.code and message."""
    async with sim_and_client(duration=(5.0, 5.0), failure_rate=1.0) as (sim, client, clock):
        ref = await client.analyze.tasks.create(video=URL, prompt="Describe")
        assert sim.final_status(ref.task_id) == "failed"
        clock.advance(5.0)
        task = await client.analyze.tasks.retrieve(ref.task_id)
        assert task.status == "failed"
        assert task.result is None
        assert task.error is not None
        assert task.error.code == "video_file_broken"
        assert task.error.message
        assert task.completed_at == _at(clock.now)


async def test_client_wait_polls_until_ready_on_simulated_time() -> None:
    """`tasks.wait` returns the ready task; its sleeps advance the shared clock past `duration`."""
    async with sim_and_client(duration=(30.0, 30.0)) as (sim, client, clock):
        start = clock.now
        ref = await client.analyze.tasks.create(video=URL, prompt="Describe")
        task = await client.analyze.tasks.wait(ref.task_id, poll_interval=2.0)
        assert task.status == "ready"
        assert task.result is not None
        assert clock.now >= start + 30.0
        assert sim.stats.count("retrieve", 200) == len(clock.sleeps) + 1


# --- create -------------------------------------------------------------------------------------


async def test_create_answers_202_with_the_new_task_queued() -> None:
    """POST /analyze/tasks answers 202 `{task_id, status: queued}` and stores the task."""
    async with sim_and_client() as (sim, _client, _clock):
        resp = await raw(sim, "POST", "analyze/tasks", json_body=general_body())
        assert resp.status == 202
        body = resp.json()
        assert set(body) == {"task_id", "status"}
        assert body["status"] == "queued"
        assert sim.status_of(body["task_id"]) == "queued"
        assert sim.stats.count("create", 202) == 1


_TIME_BASED = {"video": {"type": "url", "url": URL}, "analysis_mode": "time_based_metadata"}


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"prompt": "no video"}, id="no-video-or-image"),
        pytest.param({**general_body(), "surprise": 1}, id="unknown-key"),
        pytest.param({**general_body(), "stream": True}, id="sync-only-key"),
        pytest.param({"video": {"type": "url", "url": URL}}, id="general-without-prompt"),
        pytest.param({**_TIME_BASED, "prompt": "x"}, id="prompt-in-time-based-mode"),
        pytest.param({**general_body(), "video": {"type": "ftp", "url": URL}}, id="video-type"),
        pytest.param({**general_body(), "video": "https://x"}, id="video-not-object"),
        pytest.param({**general_body(), "custom_id": ""}, id="empty-custom-id"),
        pytest.param({**general_body(), "temperature": 3}, id="temperature-range"),
        pytest.param({**general_body(), "max_tokens": 10}, id="max-tokens-range"),
        pytest.param(["not", "an", "object"], id="not-an-object"),
    ],
)
async def test_create_refuses_invalid_bodies_with_nested_parameter_invalid(body: Any) -> None:
    """An invalid create body gets 400 `{"error": {"code": "parameter_invalid", ...}}`."""
    async with sim_and_client() as (sim, _client, _clock):
        resp = await raw(sim, "POST", "analyze/tasks", json_body=body)
        assert resp.status == 400
        error = resp.json()["error"]
        assert error["code"] == "parameter_invalid"
        assert error["message"]
        assert await task_count(sim) == 0


SCHEMA_422 = {
    "type": "json_schema",
    "json_schema": {
        "type": "object",
        "properties": {"tags": {"type": "array", "items": {"type": "string"}, "maxItems": 3}},
    },
}
"""A `json_schema` output with `maxItems`, one of the keywords the API answers with 422."""


async def test_unsupported_schema_keywords_get_422_in_each_routes_error_shape() -> None:
    """`maxItems` in a json_schema: 422 parameter_invalid, nested on create, flat on analyze."""
    async with sim_and_client() as (sim, _client, _clock):
        created = await raw(
            sim, "POST", "analyze/tasks", json_body=general_body(response_format=SCHEMA_422)
        )
        assert created.status == 422
        assert created.json()["error"]["code"] == "parameter_invalid"
        assert "maxItems" in created.json()["error"]["message"]
        analyzed = await raw(
            sim,
            "POST",
            "analyze",
            json_body=general_body(response_format=SCHEMA_422, stream=False),
        )
        assert analyzed.status == 422
        assert analyzed.json()["code"] == "parameter_invalid"
        assert "maxItems" in analyzed.json()["message"]
        assert await task_count(sim) == 0


async def test_create_refuses_a_body_that_is_not_json() -> None:
    """A body that is not JSON gets the same nested 400 parameter_invalid."""
    async with sim_and_client() as (sim, _client, _clock):
        resp = await raw(
            sim, "POST", "analyze/tasks", data=b"{oops", headers={"Content-Type": "text/plain"}
        )
        assert resp.status == 400
        assert resp.json()["error"]["code"] == "parameter_invalid"


async def test_idempotency_key_reuse_returns_the_same_task() -> None:
    """The same `Idempotency-Key` yields the same task; a new key creates a new task."""
    async with sim_and_client() as (sim, client, _clock):
        first = await client.analyze.tasks.create(video=URL, prompt="A", idempotency_key="k-1")
        again = await client.analyze.tasks.create(video=URL, prompt="A", idempotency_key="k-1")
        resp = await raw(
            sim,
            "POST",
            "analyze/tasks",
            json_body=general_body(),
            headers={"Idempotency-Key": "k-1"},
        )
        other = await client.analyze.tasks.create(video=URL, prompt="A", idempotency_key="k-2")
        assert again.task_id == first.task_id == resp.json()["task_id"]
        assert other.task_id != first.task_id
        assert await task_count(sim) == 2


# --- retrieve -----------------------------------------------------------------------------------


async def test_retrieve_unknown_task_is_404_nested_resource_not_exist() -> None:
    """GET of an unknown id answers 404 nested; the client raises NotFoundError with the code."""
    async with sim_and_client() as (sim, client, _clock):
        resp = await raw(sim, "GET", "analyze/tasks/nope")
        assert resp.status == 404
        assert resp.json()["error"]["code"] == "resource_not_exist"
        with pytest.raises(NotFoundError) as caught:
            await client.analyze.tasks.retrieve("nope")
        assert caught.value.code == "resource_not_exist"


async def test_retrieve_echoes_video_source_custom_id_and_request_params() -> None:
    """A retrieved task echoes its video, custom_id and creation parameters."""
    async with sim_and_client() as (_sim, client, _clock):
        ref = await client.analyze.tasks.create(
            video=URL, prompt="Describe the scene", custom_id="job-7", temperature=0.3
        )
        task = await client.analyze.tasks.retrieve(ref.task_id)
        assert task.custom_id == "job-7"
        assert task.video_source is not None
        assert task.video_source.url == URL
        assert task.video_source.system_metadata is not None
        assert task.request_params is not None
        assert task.request_params.prompt == "Describe the scene"
        assert task.request_params.temperature == 0.3
        assert task.request_params.analysis_mode == "general"


# --- delete -------------------------------------------------------------------------------------


async def test_delete_removes_a_task_then_it_is_404() -> None:
    """DELETE answers 200 with no body for a queued or ready task; the task is gone after."""
    async with sim_and_client(duration=(10.0, 10.0)) as (sim, client, clock):
        queued, ready = await sim.seed_tasks(2)
        clock.advance(0.5)
        assert (await raw(sim, "DELETE", f"analyze/tasks/{queued}")).status == 200
        clock.advance(10.0)
        resp = await raw(sim, "DELETE", f"analyze/tasks/{ready}")
        assert (resp.status, resp.body) == (200, b"")
        for task_id in (queued, ready):
            with pytest.raises(NotFoundError):
                await client.analyze.tasks.retrieve(task_id)


async def test_delete_unknown_task_is_404_nested() -> None:
    """DELETE of an unknown id answers 404 nested resource_not_exist."""
    async with sim_and_client() as (sim, client, _clock):
        resp = await raw(sim, "DELETE", "analyze/tasks/missing")
        assert resp.status == 404
        assert resp.json()["error"]["code"] == "resource_not_exist"
        with pytest.raises(NotFoundError):
            await client.analyze.tasks.delete("missing")


async def test_delete_while_processing_is_409_nested_and_keeps_the_task() -> None:
    """DELETE of a processing task answers 409 nested; the client raises ConflictError."""
    async with sim_and_client(duration=(10.0, 10.0)) as (sim, client, clock):
        (task_id,) = await sim.seed_tasks(1)
        clock.advance(5.0)
        assert sim.status_of(task_id) == "processing"
        resp = await raw(sim, "DELETE", f"analyze/tasks/{task_id}")
        assert resp.status == 409
        assert resp.json()["error"]["code"]
        with pytest.raises(ConflictError):
            await client.analyze.tasks.delete(task_id)
        assert (await client.analyze.tasks.retrieve(task_id)).status == "processing"


# --- cancel -------------------------------------------------------------------------------------


async def test_cancel_makes_the_task_canceled_for_good() -> None:
    """Cancel answers 200 canceled; the task stays canceled with user_canceled and terminal_at."""
    async with sim_and_client(duration=(10.0, 10.0)) as (sim, client, clock):
        (task_id,) = await sim.seed_tasks(1)
        assert sim.terminal_at[task_id] == clock.now + 10.0
        clock.advance(3.0)
        canceled_at = clock.now
        ref = await client.analyze.tasks.cancel(task_id)
        assert (ref.task_id, ref.status) == (task_id, "canceled")
        assert sim.terminal_at[task_id] == canceled_at
        assert sim.final_status(task_id) == "canceled"
        clock.advance(60.0)
        task = await client.analyze.tasks.retrieve(task_id)
        assert task.status == "canceled"
        assert task.result is None
        assert task.error is not None
        assert task.error.code == "user_canceled"
        assert task.completed_at == _at(canceled_at)


async def test_cancel_is_idempotent() -> None:
    """Canceling a canceled task answers 200 canceled again without moving terminal_at."""
    async with sim_and_client() as (sim, client, clock):
        (task_id,) = await sim.seed_tasks(1, duration=10.0)
        await client.analyze.tasks.cancel(task_id)
        first = sim.terminal_at[task_id]
        clock.advance(20.0)
        resp = await raw(sim, "POST", f"analyze/tasks/{task_id}/cancel")
        assert resp.status == 200
        assert resp.json() == {"task_id": task_id, "status": "canceled"}
        assert sim.terminal_at[task_id] == first
        assert sim.stats.count("cancel", 200) == 2


@pytest.mark.parametrize("failure_rate", [0.0, 1.0], ids=["ready", "failed"])
async def test_cancel_after_the_task_finished_is_409_nested(failure_rate: float) -> None:
    """Cancel of a ready or failed task answers 409 nested and leaves the task as it was."""
    async with sim_and_client() as (sim, client, clock):
        (task_id,) = await sim.seed_tasks(1, duration=1.0, failure_rate=failure_rate)
        clock.advance(1.0)
        before = sim.status_of(task_id)
        resp = await raw(sim, "POST", f"analyze/tasks/{task_id}/cancel")
        assert resp.status == 409
        assert resp.json()["error"]["code"]
        with pytest.raises(ConflictError):
            await client.analyze.tasks.cancel(task_id)
        assert sim.status_of(task_id) == before == ("failed" if failure_rate else "ready")


async def test_cancel_unknown_task_is_404_nested() -> None:
    """Cancel of an unknown id answers 404 nested resource_not_exist."""
    async with sim_and_client() as (sim, _client, _clock):
        resp = await raw(sim, "POST", "analyze/tasks/ghost/cancel")
        assert resp.status == 404
        assert resp.json()["error"]["code"] == "resource_not_exist"


# --- POST /analyze ------------------------------------------------------------------------------


async def test_generate_returns_the_whole_answer_as_json() -> None:
    """`analyze.generate` (stream false) gets one JSON answer with text, stop and usage."""
    async with sim_and_client() as (sim, client, _clock):
        result = await client.analyze.generate(video=URL, prompt="What happens?")
        assert result.id
        assert result.data
        assert result.data.startswith("Regarding 'What happens'")
        assert result.finish_reason == "stop"
        assert result.usage is not None
        assert result.usage.output_tokens > 0
        assert result.error is None
        assert sim.stats.count("analyze", 200) == 1


async def test_stream_yields_ndjson_events_start_text_end() -> None:
    """`analyze.stream` reads stream_start, text fragments and stream_end with one generation id."""
    async with sim_and_client() as (_sim, client, _clock):
        async with client.analyze.stream(video=URL, prompt="What happens?") as stream:
            events = [event async for event in stream]
        assert isinstance(events[0], StreamStart)
        assert isinstance(events[-1], StreamEnd)
        texts = events[1:-1]
        assert texts
        assert all(isinstance(e, TextGeneration) for e in texts)
        assert "".join(e.text for e in texts if isinstance(e, TextGeneration)).startswith(
            "Regarding 'What happens'"
        )
        end = events[-1]
        assert stream.end == end
        assert end.finish_reason == "stop"
        assert events[0].metadata is not None
        assert end.metadata is not None
        assert events[0].metadata.generation_id == end.metadata.generation_id
        assert end.metadata.usage is not None
        assert end.metadata.usage.output_tokens > 0


async def test_analyze_streams_ndjson_by_default_and_rejects_bad_bodies_flat() -> None:
    """POST /analyze without `stream` answers NDJSON; an invalid body gets a flat 400."""
    async with sim_and_client() as (sim, _client, _clock):
        body = {"video": {"type": "url", "url": URL}, "prompt": "Hi"}
        resp = await raw(sim, "POST", "analyze", json_body=body)
        assert resp.status == 200
        assert resp.headers["Content-Type"].startswith("application/x-ndjson")
        kinds = [event["event_type"] for event in resp.lines()]
        assert kinds[0] == "stream_start"
        assert kinds[-1] == "stream_end"
        assert set(kinds[1:-1]) == {"text_generation"}
        bad = await raw(sim, "POST", "analyze", json_body={**body, "custom_id": "x"})
        assert bad.status == 400
        assert bad.json()["code"] == "parameter_invalid"
        assert bad.json()["message"]


# --- auth ---------------------------------------------------------------------------------------


async def test_wrong_key_is_401_flat_api_key_invalid() -> None:
    """A wrong x-api-key gets 401 `{code: api_key_invalid, message}` on every route."""
    async with sim_and_client() as (sim, _client, _clock):
        resp = await raw(sim, "GET", "analyze/tasks", api_key="wrong")
        assert resp.status == 401
        assert set(resp.json()) == {"code", "message"}
        assert resp.json()["code"] == "api_key_invalid"
        async with AsyncTwelveLabs("tlk_wrong", base_url=sim.base_url, max_retries=0) as bad:
            with pytest.raises(AuthenticationError) as caught:
                await bad.analyze.tasks.create(video=URL, prompt="x")
        assert caught.value.code == "api_key_invalid"
        assert caught.value.status_code == 401
        assert sim.stats.count(status=401) == 2
        assert sim.stats.count(status=RESET) == 0
        assert await task_count(sim) == 0
