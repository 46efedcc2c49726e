"""Rate limiting, injected faults and request statistics of the simulator, seen by the client."""

from __future__ import annotations

import pytest

from tests._simulator_support import URL, SimClock, raw, sim_and_client, task_count
from twelvelabs_async import (
    APIConnectionError,
    DecodeError,
    NotFoundError,
    RateLimitError,
    ServerError,
)
from twelvelabs_async.testing import RESET, Faults

# --- rate limiting ------------------------------------------------------------------------------


async def test_rate_limit_headers_count_down_then_429_with_an_empty_body() -> None:
    """Each answer carries X-Ratelimit-*; past `rpm` requests the answer is a bare 429."""
    async with sim_and_client(rpm=3) as (sim, _client, clock):
        start = int(clock.now)
        seen = []
        for _ in range(4):
            resp = await raw(sim, "GET", "analyze/tasks")
            seen.append(
                (
                    resp.status,
                    resp.headers["X-Ratelimit-Limit"],
                    resp.headers["X-Ratelimit-Remaining"],
                    resp.headers["X-Ratelimit-Used"],
                    int(resp.headers["X-Ratelimit-Reset"]) - start,
                )
            )
        # 3 per minute refill one token every 20 s: full again in 20 s per missing token.
        assert seen == [
            (200, "3", "2", "1", 20),
            (200, "3", "1", "2", 40),
            (200, "3", "0", "3", 20),
            (429, "3", "0", "3", 20),
        ]
        assert resp.body == b""
        assert "Retry-After" not in resp.headers
        assert sim.stats.count("list", 429) == 1


async def test_rate_limit_recovers_once_the_clock_moves_on() -> None:
    """After a 429, advancing time to X-Ratelimit-Reset lets requests through again."""
    async with sim_and_client(rpm=2) as (sim, _client, clock):
        for _ in range(2):
            assert (await raw(sim, "GET", "analyze/tasks")).status == 200
        limited = await raw(sim, "GET", "analyze/tasks")
        assert limited.status == 429
        clock.set(float(limited.headers["X-Ratelimit-Reset"]) - 0.5)
        assert (await raw(sim, "GET", "analyze/tasks")).status == 429
        clock.set(float(limited.headers["X-Ratelimit-Reset"]))
        again = await raw(sim, "GET", "analyze/tasks")
        assert again.status == 200
        assert again.headers["X-Ratelimit-Remaining"] == "0"


async def test_streamed_analyze_answers_carry_the_rate_limit_headers() -> None:
    """The NDJSON 200 of POST /analyze carries X-Ratelimit-* like every other answer."""
    async with sim_and_client(rpm=5) as (sim, _client, _clock):
        body = {"video": {"type": "url", "url": URL}, "prompt": "Hi", "stream": True}
        resp = await raw(sim, "POST", "analyze", json_body=body)
        assert resp.status == 200
        assert resp.headers["Content-Type"].startswith("application/x-ndjson")
        assert resp.headers["X-Ratelimit-Limit"] == "5"
        assert resp.headers["X-Ratelimit-Remaining"] == "4"
        assert resp.headers["X-Ratelimit-Used"] == "1"
        assert "X-Ratelimit-Reset" in resp.headers


async def test_retry_after_is_sent_only_when_configured() -> None:
    """`retry_after=True` adds Retry-After (whole seconds to the next token) to each 429."""
    async with sim_and_client(rpm=6, retry_after=True) as (sim, _client, clock):
        for _ in range(6):
            await raw(sim, "GET", "analyze/tasks")
        clock.advance(4.0)
        resp = await raw(sim, "GET", "analyze/tasks")
        assert resp.status == 429
        assert resp.headers["Retry-After"] == "6"
        assert resp.body == b""


async def test_client_rate_limit_error_carries_retry_after_from_the_reset_header() -> None:
    """The client's RateLimitError.retry_after is X-Ratelimit-Reset minus now (no Retry-After)."""
    async with sim_and_client(rpm=1) as (sim, client, clock):
        (task_id,) = await sim.seed_tasks(1)
        await client.analyze.tasks.retrieve(task_id)
        clock.advance(15.0)
        with pytest.raises(RateLimitError) as caught:
            await client.analyze.tasks.retrieve(task_id)
        error = caught.value
        assert error.status_code == 429
        assert error.body is None
        assert error.code is None
        assert error.retry_after == 45.0
        assert error.headers["X-Ratelimit-Reset"] == str(int(clock.now) + 45)


async def test_client_retries_a_429_after_the_reset_and_succeeds() -> None:
    """With retries on, the client sleeps until the reset (simulated) and then succeeds."""
    async with sim_and_client(rpm=1, max_retries=1) as (sim, client, clock):
        (task_id,) = await sim.seed_tasks(1)
        start = clock.now
        await client.analyze.tasks.retrieve(task_id)
        task = await client.analyze.tasks.retrieve(task_id)
        assert task.task_id == task_id
        assert len(clock.sleeps) == 1
        assert clock.sleeps[0] >= 60.0
        assert clock.now >= start + 60.0
        assert sim.stats.count("retrieve", 429) == 1
        assert sim.stats.count("retrieve", 200) == 2


async def test_rejected_key_does_not_spend_a_rate_limit_token() -> None:
    """A 401 is answered before the rate limit, so it uses none of the budget."""
    async with sim_and_client(rpm=1) as (sim, _client, _clock):
        for _ in range(3):
            assert (await raw(sim, "GET", "analyze/tasks", api_key="bad")).status == 401
        assert (await raw(sim, "GET", "analyze/tasks")).status == 200


# --- faults -------------------------------------------------------------------------------------


async def test_error_5xx_fault_answers_a_nested_error_and_the_client_raises_server_error() -> None:
    """error_5xx=1.0 answers 500/502/503 with a nested body; retries end in ServerError."""
    faults = Faults(error_5xx=1.0)
    async with sim_and_client(faults=faults, max_retries=2) as (sim, client, clock):
        resp = await raw(sim, "GET", "analyze/tasks")
        assert resp.status in (500, 502, 503)
        assert set(resp.json()) == {"error"}
        assert resp.json()["error"]["code"]
        assert resp.json()["error"]["message"]
        with pytest.raises(ServerError) as caught:
            await client.analyze.tasks.create(video=URL, prompt="x")
        assert caught.value.status_code in (500, 502, 503)
        assert caught.value.code == resp.json()["error"]["code"]
        assert len(clock.sleeps) == 2
        assert sim.stats.count("create") == 3
        assert sim.stats.count("create", 202) == 0


async def test_reset_fault_drops_the_connection_and_the_client_raises_connection_error() -> None:
    """reset=1.0 closes the connection with no answer: APIConnectionError, stats status 0."""
    async with sim_and_client(faults=Faults(reset=1.0), max_retries=2) as (sim, client, _clock):
        with pytest.raises(APIConnectionError):
            await client.analyze.tasks.create(video=URL, prompt="x")
        assert sim.stats.count("create", RESET) == 3
        assert sim.stats.count("create") == 3


async def test_client_succeeds_after_a_reset_without_creating_a_second_task() -> None:
    """With reset=0.5 and seed 0 the first POST is dropped, the retry creates one task."""
    faults = {"create": Faults(reset=0.5)}
    async with sim_and_client(faults=faults, seed=0, max_retries=3) as (sim, client, _clock):
        ref = await client.analyze.tasks.create(video=URL, prompt="x")
        assert sim.status_of(ref.task_id) == "queued"
        assert sim.stats.count("create", RESET) == 1
        assert sim.stats.count("create", 202) == 1
        assert await task_count(sim) == 1


async def test_latency_fault_delays_but_still_answers() -> None:
    """latency=1.0 delays each answer by latency_seconds and the request still succeeds."""
    faults = Faults(latency=1.0, latency_seconds=(0.001, 0.002))
    async with sim_and_client(faults=faults) as (sim, client, _clock):
        ref = await client.analyze.tasks.create(video=URL, prompt="x")
        assert (await client.analyze.tasks.retrieve(ref.task_id)).task_id == ref.task_id
        assert sim.stats.count("create", 202) == 1
        assert sim.stats.count("retrieve", 200) == 1


async def test_malformed_fault_cuts_a_200_body_and_the_client_raises_decode_error() -> None:
    """malformed=1.0 answers 200 with half a JSON body; reads retry, then DecodeError."""
    faults = {"retrieve": Faults(malformed=1.0)}
    async with sim_and_client(faults=faults, max_retries=2) as (sim, client, _clock):
        (task_id,) = await sim.seed_tasks(1)
        resp = await raw(sim, "GET", f"analyze/tasks/{task_id}")
        assert resp.status == 200
        assert resp.body.startswith(b'{"task_id"')
        with pytest.raises(ValueError, match=r"Expecting|Unterminated|delimiter"):
            resp.json()
        with pytest.raises(DecodeError):
            await client.analyze.tasks.retrieve(task_id)
        assert sim.stats.count("retrieve", 200) == 4


async def test_malformed_create_is_retried_under_the_same_idempotency_key() -> None:
    """A cut-off 202 is retried with the same Idempotency-Key, so only one task exists."""
    async with sim_and_client(faults={"create": Faults(malformed=1.0)}, max_retries=2) as (
        sim,
        client,
        _clock,
    ):
        with pytest.raises(DecodeError):
            await client.analyze.tasks.create(video=URL, prompt="x")
        assert sim.stats.count("create") == 3
        assert await task_count(sim) == 1


async def test_malformed_generate_is_not_retried() -> None:
    """A cut-off /analyze JSON answer raises DecodeError at once: paid work is not repeated."""
    faults = {"analyze": Faults(malformed=1.0)}
    async with sim_and_client(faults=faults, max_retries=3) as (sim, client, clock):
        with pytest.raises(DecodeError):
            await client.analyze.generate(video=URL, prompt="x")
        assert sim.stats.count("analyze", 200) == 1
        assert clock.sleeps == []
        async with client.analyze.stream(video=URL, prompt="x") as stream:
            assert (await stream.text()).startswith("Regarding")


async def test_per_route_faults_hit_only_the_named_route() -> None:
    """Faults given for `retrieve` leave create, list, cancel and delete untouched."""
    faults = {"retrieve": Faults(error_5xx=1.0)}
    async with sim_and_client(faults=faults) as (sim, client, _clock):
        ref = await client.analyze.tasks.create(video=URL, prompt="x")
        assert [t.task_id async for t in client.analyze.tasks.list()] == [ref.task_id]
        with pytest.raises(ServerError):
            await client.analyze.tasks.retrieve(ref.task_id)
        await client.analyze.tasks.cancel(ref.task_id)
        await client.analyze.tasks.delete(ref.task_id)
        assert sim.stats.count("retrieve", 200) == 0
        assert sim.stats.count("retrieve") == 1
        assert sim.stats.count("cancel", 200) == 1
        assert sim.stats.count("delete", 200) == 1


# --- statistics ---------------------------------------------------------------------------------


async def test_stats_count_requests_by_route_and_status() -> None:
    """Stats count each request under its route name and answered status."""
    clock = SimClock()
    async with sim_and_client(clock=clock) as (sim, client, _clock):
        ref = await client.analyze.tasks.create(video=URL, prompt="x")
        await client.analyze.tasks.retrieve(ref.task_id)
        await client.analyze.tasks.retrieve(ref.task_id)
        with pytest.raises(NotFoundError):
            await client.analyze.tasks.retrieve("missing")
        await client.analyze.tasks.list().page(1)
        await client.analyze.generate(video=URL, prompt="x")
        await raw(sim, "GET", "analyze/tasks", api_key="bad")
        await raw(sim, "GET", "not/a/route")
        assert dict(sim.stats.requests) == {
            ("create", 202): 1,
            ("retrieve", 200): 2,
            ("retrieve", 404): 1,
            ("list", 200): 1,
            ("analyze", 200): 1,
            ("list", 401): 1,
            ("unknown", 404): 1,
        }
        assert sim.stats.total == 8
        assert sim.stats.count(status=200) == 4
        assert sim.stats.count("retrieve") == 3
