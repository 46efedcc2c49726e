"""The tracker under a rate limit, on virtual time: it paces itself instead of hitting the limit.

A small in-process API (`MockTransport`) answers retrieves of tasks that finish over a few
virtual seconds, behind the simulator's token bucket: with its `X-Ratelimit-*` headers, or
with bare 429s and no headers at all (the tracker then learns the rate from the 429s).
"""

from __future__ import annotations

import random
from collections import Counter

import pytest

from tests.conftest import FakeClock
from twelvelabs_async import AsyncTwelveLabs, Request, Response
from twelvelabs_async.testing import MockTransport
from twelvelabs_async.testing._ratelimit import TokenBucket


class LimitedAPI:
    """Tasks finishing uniformly over `duration`, behind a token bucket of `rpm`."""

    def __init__(
        self, clock: FakeClock, tasks: int, duration: tuple[float, float], rpm: int, headers: bool
    ) -> None:
        rng = random.Random(4)
        self.clock = clock
        self.finish = {f"task{i:04d}": clock.now + rng.uniform(*duration) for i in range(tasks)}
        self.bucket = TokenBucket(rpm, clock.now)
        self.headers = headers
        self.answers: Counter[int] = Counter()

    async def handle(self, request: Request) -> Response:
        await self.clock.sleep(0.01)
        now = self.clock.now
        allowed = self.bucket.take(now)
        headers = self.bucket.headers(now) if self.headers else {}
        if not allowed:
            self.answers[429] += 1
            return Response(429, headers)
        self.answers[200] += 1
        task_id = request.url.rsplit("/", 1)[1]
        status = "ready" if now >= self.finish[task_id] else "processing"
        body: dict[str, object] = {"task_id": task_id, "status": status}
        if status == "ready":
            body["result"] = {
                "generation_id": "g",
                "data": "done",
                "finish_reason": "stop",
                "usage": {"output_tokens": 1},
            }
        return Response.from_json(200, body, headers=headers)

    @property
    def throttled_share(self) -> float:
        return self.answers[429] / max(1, sum(self.answers.values()))


async def run(api: LimitedAPI, clock: FakeClock) -> list[str]:
    """Track every task of `api` to the end (polls only); the ids in the order yielded."""
    transport = MockTransport(api.handle)
    got = []
    async with (
        AsyncTwelveLabs("k" * 20, transport=transport, clock=clock, max_retries=0) as client,
        client.analyze.tasks.track(list(api.finish), strategy="per_task") as tracker,
    ):
        async for task in tracker:
            got.append(task.task_id)
    return got


async def test_with_stated_limits_a_tracker_paces_itself_and_429s_stay_rare() -> None:
    """300 tasks polled under 600 rpm with X-Ratelimit-*: every one delivered, <= 1 % 429s."""
    clock = FakeClock()
    api = LimitedAPI(clock, 300, (2.0, 20.0), rpm=600, headers=True)
    started = clock.now
    got = await run(api, clock)
    assert sorted(got) == sorted(api.finish)
    assert api.throttled_share <= 0.01, api.answers
    # The limit bit: more requests than the bucket held at the start.
    assert sum(api.answers.values()) > 600
    assert clock.now - started < 200


@pytest.mark.parametrize("rpm", [600, 3000])
async def test_without_headers_a_tracker_learns_the_limit_from_429s(rpm: int) -> None:
    """Bare 429s and no X-Ratelimit-*: every task delivered, the limit found in a cut or two.

    After a bare 429, a slow start lets only a few requests go at once (the pause it caused
    would else end in a burst the spent allowance refuses whole): 429s stay rare.
    """
    clock = FakeClock()
    api = LimitedAPI(clock, 300, (2.0, 60.0), rpm=rpm, headers=False)
    got = await run(api, clock)
    assert sorted(got) == sorted(api.finish)
    assert api.throttled_share <= 0.01, api.answers


async def run_split(api: LimitedAPI, clock: FakeClock, trackers: int) -> list[str]:
    """Track the tasks of `api` with `trackers` trackers of one client at once (polls only)."""
    import anyio

    transport = MockTransport(api.handle)
    ids = list(api.finish)
    got: list[str] = []

    async with AsyncTwelveLabs("k" * 20, transport=transport, clock=clock, max_retries=0) as client:

        async def follow(part: list[str]) -> None:
            async with client.analyze.tasks.track(part, strategy="per_task") as tracker:
                async for task in tracker:
                    got.append(task.task_id)

        async with anyio.create_task_group() as tg:
            for i in range(trackers):
                tg.start_soon(follow, ids[i::trackers])
    return got


async def test_trackers_of_one_client_share_one_budget() -> None:
    """Three trackers of one client under 600 rpm: all delivered, 429s as rare as for one.

    The limit is the account's: each tracker pacing to all of it would ask three times what
    it allows (2 % of answers were 429s so). They share one rate and one pause instead.
    """
    clock = FakeClock()
    api = LimitedAPI(clock, 300, (2.0, 20.0), rpm=600, headers=True)
    got = await run_split(api, clock, trackers=3)
    assert sorted(got) == sorted(api.finish)
    assert api.throttled_share <= 0.01, api.answers


def test_a_clients_trackers_split_its_rate_and_one_429_slows_them_all() -> None:
    """The shared rate is split evenly among running trackers; a bare 429 narrows every window."""
    from twelvelabs_async.tracking._budget import Budget
    from twelvelabs_async.tracking._shared import pacing_of

    class Runtime:
        def __init__(self) -> None:
            self.clock = FakeClock()
            self.rng = random.Random(0)
            self.listeners: list[object] = []

        def add_listener(self, listener: object) -> None:
            self.listeners.append(listener)

        def remove_listener(self, listener: object) -> None:
            self.listeners.remove(listener)

    runtime = Runtime()
    pacing = pacing_of(runtime)  # type: ignore[arg-type]
    assert pacing_of(runtime) is pacing  # type: ignore[arg-type]
    a = Budget(runtime.clock, max_in_flight=16, rate=None, shared=pacing.bucket)
    b = Budget(runtime.clock, max_in_flight=16, rate=1.0, shared=pacing.bucket)
    pacing.join(a, runtime)  # type: ignore[arg-type]
    pacing.join(b, runtime)  # type: ignore[arg-type]
    assert len(runtime.listeners) == 1  # the responses are read once, for both
    reset = runtime.clock.time() + 60
    stated = {"X-Ratelimit-Limit": "600", "X-Ratelimit-Remaining": "600"}
    stated["X-Ratelimit-Reset"] = str(int(reset))
    listener = runtime.listeners[0]
    listener(200, stated)  # type: ignore[operator]
    rate = pacing.bucket.rate
    assert rate is not None
    assert rate > 2.0
    assert pacing.share(a) == pytest.approx(rate / 2)
    assert pacing.share(b) == 1.0  # its own max_rate is lower than its share
    listener(429, {})  # type: ignore[operator]
    assert a.cap < 16
    assert b.cap < 16
    assert a.pause(runtime.clock.monotonic() + 5)
    assert b.paused_until == a.paused_until
    pacing.leave(b, runtime)  # type: ignore[arg-type]
    pacing.leave(a, runtime)  # type: ignore[arg-type]
    assert runtime.listeners == []


def test_only_a_throttle_reaches_every_tracker_of_a_client() -> None:
    """Only a 429 or an exhausted allowance reaches a client's trackers, each once."""
    from twelvelabs_async.tracking._budget import Budget
    from twelvelabs_async.tracking._shared import ClientPacing

    class Runtime:
        def __init__(self) -> None:
            self.listeners: list[object] = []

        def add_listener(self, listener: object) -> None:
            self.listeners.append(listener)

        def remove_listener(self, listener: object) -> None:
            self.listeners.remove(listener)

    clock, runtime = FakeClock(), Runtime()
    pacing = ClientPacing(clock)
    heard: list[tuple[str, int]] = []
    budgets = [Budget(clock, max_in_flight=4, rate=None, shared=pacing.bucket) for _ in range(3)]
    for name, budget in zip("abc", budgets, strict=True):
        pacing.join(budget, runtime, lambda s, h, n=name: heard.append((n, s)))  # type: ignore[arg-type,misc]
    (listener,) = runtime.listeners
    for _ in range(100):
        listener(200, {"X-Ratelimit-Remaining": "50"})  # type: ignore[operator]
    assert heard == []
    assert pacing.calm == 100
    listener(429, {"Retry-After": "1"})  # type: ignore[operator]
    listener(200, {"X-Ratelimit-Remaining": "0"})  # type: ignore[operator]
    assert sorted(heard) == [("a", 200), ("a", 429), ("b", 200), ("b", 429), ("c", 200), ("c", 429)]
    assert pacing.calm == 100
    pacing.leave(budgets[0], runtime)  # type: ignore[arg-type]
    heard.clear()
    listener(429, {})  # type: ignore[operator]
    assert sorted(heard) == [("b", 429), ("c", 429)]
