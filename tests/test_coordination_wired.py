"""A client's coordinator, wired: every request, tracker, `wait()` and webhook takes part.

In one process (the default `LocalCoordinator`, or a recording one) and across processes
(two `RedisCoordinator`s of one namespace, standing for two workers, against the session's
real `redis-server`: `tests/conftest.py`'s `redis_url`).
"""

from __future__ import annotations

import secrets
from collections import Counter
from collections.abc import AsyncIterator, Mapping
from contextlib import AsyncExitStack, asynccontextmanager

import anyio
import pytest
from aiohttp import web

from tests._redis_server import redis_py
from tests._server import serving
from twelvelabs_async import AsyncTwelveLabs, ConfigurationError, PollPolicy
from twelvelabs_async import webhooks as wh
from twelvelabs_async.coordination import LocalCoordinator, RedisCoordinator
from twelvelabs_async.testing import Webhooks, simulate

SECRET = "whsec_coordination_wired"
SLOW = PollPolicy(min_interval=5.0, max_interval=30.0, unseen_grace=30.0)
"""Polls far apart: a task found within seconds was found by something else."""


class Recording(LocalCoordinator):
    """A local coordinator that notes the priority of every token and every answer reported."""

    def __init__(self) -> None:
        super().__init__()
        self.priorities: Counter[int] = Counter()
        self.reported: Counter[int] = Counter()

    async def acquire(self, priority: int = 2) -> None:
        self.priorities[priority] += 1
        await super().acquire(priority)

    async def report(self, status: int, headers: Mapping[str, str]) -> None:
        self.reported[status] += 1
        await super().report(status, headers)


async def test_every_request_takes_a_token_at_its_priority_and_reports_its_answer() -> None:
    """A user's own call asks at priority 1, a tracker's requests at theirs; each answer is told."""
    coordinator = Recording()
    async with simulate(duration=(0.3, 0.8)) as sim:
        ids = await sim.seed_tasks(5)
        async with AsyncTwelveLabs(
            sim.api_key, base_url=sim.base_url, coordinator=coordinator
        ) as client:
            assert client.coordinator is coordinator
            await client.analyze.tasks.retrieve(ids[0])
            assert coordinator.priorities == Counter({1: 1})
            async with client.analyze.tasks.track(ids, strategy="per_task") as tracker:
                got = [task.task_id async for task in tracker]
    assert sorted(got) == sorted(ids)
    assert sum(coordinator.priorities.values()) == sum(coordinator.reported.values())
    assert coordinator.priorities[1] == 1  # the tracker's polls are never "direct"
    assert sum(coordinator.priorities.values()) == 1 + tracker.stats.total_requests


async def test_a_client_makes_a_local_coordinator_unless_given_one() -> None:
    """Without `coordinator=`, each client has its own `LocalCoordinator`."""
    async with (
        AsyncTwelveLabs("k" * 20) as first,
        AsyncTwelveLabs("k" * 20) as second,
    ):
        assert isinstance(first.coordinator, LocalCoordinator)
        assert first.coordinator is not second.coordinator


def test_a_webhook_handler_needs_somewhere_to_send_events() -> None:
    """Neither `on_event` nor `coordinator`: refused when the handler is made."""
    with pytest.raises(ConfigurationError, match="on_event=, coordinator="):
        wh.webhook_handler(SECRET)


@asynccontextmanager
async def hook(coordinator: object) -> AsyncIterator[str]:
    """A loopback webhook route publishing verified events to `coordinator`; yields its URL."""
    app = web.Application()
    app.router.add_post("/hook", wh.webhook_handler(SECRET, coordinator=coordinator))  # type: ignore[arg-type]
    async with serving(app) as origin:
        yield f"{origin}/hook"


@pytest.mark.timeout(60)
async def test_a_webhook_route_given_the_clients_coordinator_wakes_its_trackers() -> None:
    """Events verified by a route with `coordinator=client.coordinator` finish the client's tasks.

    Polls are 5-30 s apart and tasks end within 1 s: each is found by its event.
    """
    async with AsyncExitStack() as stack:
        coordinator = LocalCoordinator()
        url = await stack.enter_async_context(hook(coordinator))
        sim = await stack.enter_async_context(
            simulate(duration=(0.2, 1.0), webhooks=Webhooks((url,), secret=SECRET))
        )
        client = await stack.enter_async_context(
            AsyncTwelveLabs(sim.api_key, base_url=sim.base_url, coordinator=coordinator)
        )
        ids = await sim.seed_tasks(20)
        tracker = client.analyze.tasks.track(
            ids, strategy="per_task", poll_policy=SLOW, expect_webhooks=True, timeout=30
        )
        async with tracker:
            got = [task.task_id async for task in tracker]
    assert sorted(got) == sorted(ids)
    assert tracker.stats.found_by["webhook"] == 20


# --- across processes, through Redis ---------------------------------------------------------


@pytest.fixture
def namespace() -> str:
    """A namespace of its own for each test."""
    return f"wired-{secrets.token_hex(4)}"


@pytest.mark.timeout(90)
async def test_two_workers_share_one_sweep_and_each_finishes_its_own_tasks(
    redis_url: str, namespace: str
) -> None:
    """Two workers (a coordinator each, one namespace) track 60 tasks, 30 each: one sweeps.

    The other reads no list at all, and finds its tasks from the statuses the sweeping one
    published; every task is delivered once, to the worker tracking it.
    """
    async with simulate(duration=(1.0, 4.0), seed=3) as sim:
        ids = await sim.seed_tasks(60)
        results: dict[int, list[str]] = {}
        trackers = {}

        async def worker(number: int, mine: list[str]) -> None:
            async with (
                RedisCoordinator.from_url(redis_url, namespace=namespace) as coordinator,
                AsyncTwelveLabs(
                    sim.api_key, base_url=sim.base_url, coordinator=coordinator
                ) as client,
            ):
                tracker = trackers[number] = client.analyze.tasks.track(
                    mine, strategy="sweep", timeout=60
                )
                async with tracker:
                    results[number] = [task.task_id async for task in tracker]

        async with anyio.create_task_group() as tg:
            tg.start_soon(worker, 0, ids[0::2])
            tg.start_soon(worker, 1, ids[1::2])
    assert sorted(results[0]) == sorted(ids[0::2])
    assert sorted(results[1]) == sorted(ids[1::2])
    lists = sorted(t.stats.requests["list"] for t in trackers.values())
    assert lists[0] == 0 < lists[1], lists
    quiet = min(trackers.values(), key=lambda t: t.stats.requests["list"])
    assert quiet.stats.found_by["sweep"] >= 20, quiet.stats.found_by


@pytest.mark.timeout(60)
async def test_a_webhook_verified_by_one_worker_finishes_a_wait_in_another(
    redis_url: str, namespace: str
) -> None:
    """The web process's route publishes; a `wait()` in a worker returns on the event."""
    async with AsyncExitStack() as stack:
        web_side = await stack.enter_async_context(
            RedisCoordinator.from_url(redis_url, namespace=namespace)
        )
        worker_side = await stack.enter_async_context(
            RedisCoordinator.from_url(redis_url, namespace=namespace)
        )
        url = await stack.enter_async_context(hook(web_side))
        sim = await stack.enter_async_context(
            simulate(duration=(0.5, 0.5), webhooks=Webhooks((url,), secret=SECRET))
        )
        client = await stack.enter_async_context(
            AsyncTwelveLabs(sim.api_key, base_url=sim.base_url, coordinator=worker_side)
        )
        (task_id,) = await sim.seed_tasks(1)
        # The wait polls at once, then not before 48 s: only the event can end it sooner.
        with anyio.fail_after(30):
            task = await client.analyze.tasks.wait(
                task_id, poll_interval=60, max_poll_interval=60, timeout=50
            )
    assert task.task_id == task_id
    assert str(task.status) == sim.final_status(task_id)


@pytest.mark.timeout(60)
async def test_waits_write_nothing_to_redis(redis_url: str, namespace: str) -> None:
    """Twenty `wait()`s of a coordinated client register no id and take no sweep lease."""
    async with AsyncExitStack() as stack:
        coordinator = await stack.enter_async_context(
            RedisCoordinator.from_url(redis_url, namespace=namespace)
        )
        sim = await stack.enter_async_context(simulate(duration=(1.5, 1.5)))
        client = await stack.enter_async_context(
            AsyncTwelveLabs(sim.api_key, base_url=sim.base_url, coordinator=coordinator)
        )
        raw = redis_py().Redis.from_url(redis_url, decode_responses=True)
        stack.push_async_callback(raw.aclose)
        ids = await sim.seed_tasks(20)
        written: list[int] = []

        async def look() -> None:
            await anyio.sleep(0.5)  # every wait has polled once and waits for the next
            keys = [
                coordinator.keys.ids("task", coordinator.member),
                coordinator.keys.lease("task"),
            ]
            written.append(await raw.exists(*keys))

        returned: list[str] = []

        async def wait(task_id: str) -> None:
            returned.append((await client.analyze.tasks.wait(task_id, timeout=20)).task_id)

        with anyio.fail_after(30):
            async with anyio.create_task_group() as tg:
                tg.start_soon(look)
                for task_id in ids:
                    tg.start_soon(wait, task_id)
    assert written == [0]
    assert sorted(returned) == sorted(ids)


@pytest.mark.timeout(60)
async def test_a_worker_whose_redis_is_unreachable_tracks_on_its_own() -> None:
    """Redis down from the start: the client paces and sweeps alone; nothing reaches the user."""
    unreachable = "redis://127.0.0.1:9/0"
    async with simulate(duration=(0.3, 1.5)) as sim:
        ids = await sim.seed_tasks(30)
        coordinator = RedisCoordinator.from_url(unreachable, namespace="alone", timeout=0.2)
        async with (
            coordinator,
            AsyncTwelveLabs(sim.api_key, base_url=sim.base_url, coordinator=coordinator) as client,
            client.analyze.tasks.track(ids, timeout=30) as tracker,
        ):
            got = [task.task_id async for task in tracker]
    assert sorted(got) == sorted(ids)
    assert tracker.stats.requests["list"] > 0  # it swept for itself


@pytest.mark.timeout(90)
async def test_when_the_sweeping_worker_is_done_another_takes_the_sweep_over(
    redis_url: str, namespace: str
) -> None:
    """The worker whose tasks end first gives the lease up on exit; the other then sweeps.

    The late worker starts once the early one has swept (and holds the lease); both deliver
    every task of theirs, and the late one has swept itself by the end.
    """
    async with simulate(seed=4) as sim:
        early = await sim.seed_tasks(20, duration=(0.5, 1.5))
        late = await sim.seed_tasks(20, duration=(6.0, 9.0))
        results: dict[str, list[str]] = {}
        trackers = {}
        first_done = anyio.Event()

        async def worker(name: str, mine: list[str]) -> None:
            async with (
                RedisCoordinator.from_url(redis_url, namespace=namespace) as coordinator,
                AsyncTwelveLabs(
                    sim.api_key, base_url=sim.base_url, coordinator=coordinator
                ) as client,
            ):
                tracker = trackers[name] = client.analyze.tasks.track(
                    mine, strategy="sweep", timeout=60
                )
                async with tracker:
                    results[name] = [task.task_id async for task in tracker]
                if name == "early":
                    first_done.set()

        async with anyio.create_task_group() as tg:
            tg.start_soon(worker, "early", early)
            # Until the early worker holds the lease (it has swept): no event says so.
            while "early" not in trackers or not trackers["early"].stats.requests["list"]:  # noqa: ASYNC110
                await anyio.sleep(0.01)
            tg.start_soon(worker, "late", late)
        lists_after = trackers["late"].stats.requests["list"]
    assert sorted(results["early"]) == sorted(early)
    assert sorted(results["late"]) == sorted(late)
    assert first_done.is_set()
    assert lists_after > 0  # it swept once the early worker had left
