"""The tracker when things go wrong, in virtual time: server throttling, transient failures,
permanent errors (raise / collect), 401/403, the deadline, and leaving the block early.
"""

from __future__ import annotations

import asyncio
import itertools

import aiohttp
import anyio
import pytest
from aioresponses import aioresponses

from tests._tracker_fake import FakeAPI, Got, Reply, drain, other_tasks, settle
from tests.conftest import FakeClock
from twelvelabs_async import (
    APIError,
    AsyncTwelveLabs,
    AuthenticationError,
    BadRequestError,
    NotFoundError,
    PermissionDeniedError,
    TrackingTimeout,
    TwelveLabsError,
)
from twelvelabs_async.tracking import PollPolicy, Tracker

Client = AsyncTwelveLabs
Mock = aioresponses


def quiet_since(api: FakeAPI, start: float, end: float) -> bool:
    """No request started strictly between `start` and `end`."""
    return not [c for c in api.calls if start < c.at < end]


# --- throttling -----------------------------------------------------------------------------------


async def test_retry_after_on_a_429_pauses_every_task(
    client: Client, mock_api: Mock, clock: FakeClock
) -> None:
    """A 429 with Retry-After: 10 on one task holds every request of the tracker for 10 s."""
    api = FakeAPI(mock_api, clock)
    for task_id in "abc":
        api.add(task_id, 15)
    api.fail("a", Reply(429, headers={"Retry-After": "10"}))
    start = clock.now
    async with client.analyze.tasks.track(["a", "b", "c"], strategy="per_task") as tracker:
        got = await drain(tracker, clock)
    assert sorted(g.task_id for g in got) == ["a", "b", "c"]
    assert (api.calls[0].task_id, api.calls[0].at) == ("a", start)
    assert quiet_since(api, start, start + 10.0)
    assert len(api.started_after(start + 10.0 - 1e-9)) >= 3  # then all three go on
    assert tracker.stats.throttles == 1
    assert tracker.stats.throttled_seconds == pytest.approx(10.0)
    assert tracker.stats.retries == 1


async def test_overlapping_429s_pause_until_the_latest_end_only(
    client: Client, mock_api: Mock, clock: FakeClock
) -> None:
    """Two 429s at once (Retry-After 10 and 3): one 10-s pause, never shortened, counted once."""
    api = FakeAPI(mock_api, clock, latency=0.1)  # both requests in flight together
    for task_id in "abc":
        api.add(task_id, 12)
    api.fail("a", Reply(429, headers={"Retry-After": "10"}))
    api.fail("b", Reply(429, headers={"Retry-After": "3"}))
    start = clock.now
    async with client.analyze.tasks.track(["a", "b", "c"], max_in_flight=3) as tracker:
        got = await drain(tracker, clock)
    assert sorted(g.task_id for g in got) == ["a", "b", "c"]
    assert [c.at for c in api.calls[:3]] == [start] * 3
    assert quiet_since(api, start, start + 10.1)
    assert tracker.stats.throttles == 1
    assert tracker.stats.throttled_seconds == pytest.approx(10.0)
    assert tracker.stats.retries == 2


async def test_the_deadline_is_kept_during_a_long_server_pause(
    client: Client, mock_api: Mock, clock: FakeClock
) -> None:
    """A 429 asking for 100 s does not delay TrackingTimeout(timeout=10) past 10 s."""
    api = FakeAPI(mock_api, clock)
    api.add("a", 5)
    api.fail("a", Reply(429, headers={"Retry-After": "100"}))
    start = clock.now
    async with client.analyze.tasks.track(["a"], timeout=10) as tracker:
        with pytest.raises(TrackingTimeout):
            await drain(tracker, clock)
    assert clock.now - start == pytest.approx(10.0)
    assert len(api.calls) == 1


async def test_exhausted_ratelimit_remaining_pauses_until_reset(
    client: Client, mock_api: Mock, clock: FakeClock
) -> None:
    """A 200 with X-Ratelimit-Remaining: 0 is used, and no request goes before the reset time."""
    api = FakeAPI(mock_api, clock)
    api.add("a", 0)
    for task_id in "bc":
        api.add(task_id, 30)
    start = clock.now
    reset = {"X-Ratelimit-Remaining": "0", "X-Ratelimit-Reset": f"{start + 15:.0f}"}
    api.fail("a", Reply(200, headers=reset))
    async with client.analyze.tasks.track(["a", "b", "c"], strategy="per_task") as tracker:
        got = await drain(tracker, clock)
    assert (got[0].task_id, got[0].at) == ("a", start)
    assert quiet_since(api, start, start + 15.0)
    assert tracker.stats.throttles == 1
    assert tracker.stats.throttled_seconds == pytest.approx(15.0)
    assert tracker.stats.retries == 0


async def test_bare_429s_pause_the_tracker_0_5_then_1_then_2_seconds(
    client: Client, mock_api: Mock, clock: FakeClock
) -> None:
    """429s without a hint pause 0.5 s, 1 s, 2 s (one throttle each), then polling resumes."""
    api = FakeAPI(mock_api, clock)
    api.add("a", 0)
    api.fail("a", Reply(429), Reply(429), Reply(429))
    async with client.analyze.tasks.track(["a"], strategy="per_task") as tracker:
        got = await drain(tracker, clock)
    assert [g.task_id for g in got] == ["a"]
    times = [c.at for c in api.calls]
    assert len(times) == 4
    gaps = [b - a for a, b in itertools.pairwise(times)]
    for gap, pause in zip(gaps, (0.5, 1.0, 2.0), strict=True):
        assert gap >= pause
    assert tracker.stats.throttles == 3
    assert tracker.stats.throttled_seconds == pytest.approx(3.5)
    assert tracker.stats.retries == 3


async def test_a_429_whose_reset_has_passed_still_backs_off(
    client: Client, mock_api: Mock, clock: FakeClock
) -> None:
    """A 429 pointing at a reset already past (clocks out of step) backs off 0.5 s, 1 s, ..."""
    api = FakeAPI(mock_api, clock)
    api.add("a", 0)
    past = {"X-Ratelimit-Remaining": "0", "X-Ratelimit-Reset": f"{clock.now - 10:.0f}"}
    api.fail("a", Reply(429, headers=past), Reply(429, headers=past))
    async with client.analyze.tasks.track(["a"], strategy="per_task") as tracker:
        got = await drain(tracker, clock)
    assert [g.task_id for g in got] == ["a"]
    times = [c.at for c in api.calls]
    assert len(times) == 3
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert gaps[0] >= 0.5
    assert gaps[1] >= 1.0
    assert tracker.stats.throttles == 2


async def test_a_throttle_never_leaks_to_other_clients_or_outlives_the_tracker(
    client: Client, mock_api: Mock, clock: FakeClock
) -> None:
    """After the block, the client has no tracker listener; a later 429 changes nothing."""
    api = FakeAPI(mock_api, clock)
    api.add("a", 0)
    async with client.analyze.tasks.track(["a"]) as tracker:
        await drain(tracker, clock)
    assert client.analyze.tasks._http._listeners == []
    api.fail("a", Reply(429, headers={"Retry-After": "1"}))
    assert (await client.analyze.tasks.retrieve("a")).status == "ready"
    assert tracker.stats.throttles == 0


# --- transient failures ---------------------------------------------------------------------------


TRANSIENT = [
    Reply(503),
    Reply(500, payload={"error": {"code": "internal", "message": "x"}}),
    Reply(exception=aiohttp.ServerDisconnectedError()),
    Reply(exception=aiohttp.ClientConnectionError("reset by peer")),
    Reply(200, body=b"<html>oops</html>"),
    Reply(200, body=b'{"task_id": "a", "sta'),  # cut off
    Reply(200, payload={"task_id": "a"}),  # no status: not the promised shape
    Reply(408),
    Reply(502, body=b""),
]


async def test_transient_failures_are_retried_and_never_yielded(
    client: Client, mock_api: Mock, clock: FakeClock
) -> None:
    """5xx, connection errors, malformed or cut-off bodies and 408 are retried, not yielded."""
    api = FakeAPI(mock_api, clock)
    api.add("a", 0)
    api.add("b", 3)
    api.fail("a", *TRANSIENT)
    policy = PollPolicy(min_interval=1.0, max_interval=30.0)
    async with client.analyze.tasks.track(
        ["a", "b"], strategy="per_task", poll_policy=policy
    ) as tracker:
        got = await drain(tracker, clock)
    assert sorted((g.task_id, g.status) for g in got) == [("a", "ready"), ("b", "ready")]
    assert tracker.stats.retries == len(TRANSIENT)
    assert tracker.errors == {}
    times = [c.at for c in api.of("retrieve", "a")]
    assert len(times) == len(TRANSIENT) + 1
    for failures, (t1, t2) in enumerate(itertools.pairwise(times), start=1):
        assert 0.5 <= t2 - t1 <= min(30.0, 2.0 ** (failures - 1))  # full-jitter backoff


async def test_a_task_fails_transiently_forever_until_the_deadline(
    client: Client, mock_api: Mock, clock: FakeClock
) -> None:
    """A task that only ever gets 503s is retried at bounded intervals and reported as pending."""
    api = FakeAPI(mock_api, clock)
    api.add("a", 0)
    api.fail("a", *[Reply(503)] * 1000)
    start = clock.now
    async with client.analyze.tasks.track(["a"], timeout=120) as tracker:
        with pytest.raises(TrackingTimeout) as info:
            await drain(tracker, clock)
    assert info.value.pending == frozenset({"a"})
    times = [c.at - start for c in api.calls]
    assert max(b - a for a, b in itertools.pairwise(times)) <= 30.0
    assert tracker.stats.retries == len(times)


async def test_one_task_failing_on_a_healthy_server_waits_at_most_four_intervals(
    client: Client, mock_api: Mock, clock: FakeClock
) -> None:
    """A run of 503s on one task, while other polls succeed, backs it off to 4 s, no further."""
    api = FakeAPI(mock_api, clock)
    api.add("a", 0)
    others = [f"ok{i}" for i in range(40)]
    for task_id in others:
        api.add(task_id, 200)  # polled all along, and answered
    api.fail("a", *[Reply(503)] * 10)
    policy = PollPolicy(min_interval=1.0, max_interval=30.0)
    async with client.analyze.tasks.track(
        ["a", *others], strategy="per_task", poll_policy=policy, timeout=60
    ) as tracker:
        first = await tracker.__anext__()
    assert first.task_id == "a"
    times = [c.at for c in api.of("retrieve", "a")]
    assert len(times) == 11
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert max(gaps) <= 4.0, gaps
    assert max(gaps[3:]) > 2.0  # it did back off past the second step (full jitter)
    assert tracker.stats.found_by == {"poll": 1}


async def test_when_every_poll_fails_the_backoff_grows_to_max_interval(
    client: Client, mock_api: Mock, clock: FakeClock
) -> None:
    """An outage (every retrieve fails) backs each task off past 4 s, towards max_interval."""
    api = FakeAPI(mock_api, clock)
    ids = ["a", "b", "c"]
    for task_id in ids:
        api.add(task_id, 0)
        api.fail(task_id, *[Reply(503)] * 8)
    policy = PollPolicy(min_interval=1.0, max_interval=30.0)
    async with client.analyze.tasks.track(ids, strategy="per_task", poll_policy=policy) as tracker:
        got = await drain(tracker, clock)
    assert sorted(g.task_id for g in got) == ids
    for task_id in ids:
        times = [c.at for c in api.of("retrieve", task_id)]
        assert len(times) == 9
        gaps = [b - a for a, b in itertools.pairwise(times)]
        assert max(gaps) > 4.0, gaps  # past the healthy-server cap
        assert max(gaps) <= 30.0
    assert tracker.stats.retries == 24


# --- permanent errors -----------------------------------------------------------------------------


PERMANENT = [
    (404, NotFoundError),
    (400, BadRequestError),
    (410, APIError),
]


@pytest.mark.parametrize(("status", "cls"), PERMANENT)
@pytest.mark.parametrize("max_in_flight", [1, 16])
async def test_on_error_raise_stops_everything_and_raises_the_plain_error(
    client: Client, mock_api: Mock, clock: FakeClock, status: int, cls: type, max_in_flight: int
) -> None:
    """A permanent error about one task is raised as-is, naming the task; no request follows."""
    api = FakeAPI(mock_api, clock, latency=0.1)
    for task_id in ("a", "b", "c"):
        api.add(task_id, 20)
    api.add("bad", 20)
    api.fail("bad", Reply(status))
    with pytest.raises(TwelveLabsError) as info:
        async with client.analyze.tasks.track(
            ["a", "bad", "b", "c"], strategy="per_task", max_in_flight=max_in_flight
        ) as tracker:
            await drain(tracker, clock)
    err = info.value
    assert type(err) is cls
    assert isinstance(err, APIError)
    assert (err.status_code, err.task_id) == (status, "bad")
    (bad_call,) = api.of("retrieve", "bad")
    await settle(clock)
    assert api.started_after_answer(bad_call) == []
    assert tracker.errors == {}


async def test_an_unknown_id_is_raised_as_not_found_naming_it(
    client: Client, mock_api: Mock, clock: FakeClock
) -> None:
    """An id the API does not know raises NotFoundError (catchable as such) with task_id set."""
    api = FakeAPI(mock_api, clock)
    api.add("a", 5)
    caught = None
    try:
        async with client.analyze.tasks.track(["a", "ghost"]) as tracker:
            await drain(tracker, clock)
    except NotFoundError as exc:  # not an ExceptionGroup
        caught = exc
    assert caught is not None
    assert caught.task_id == "ghost"
    assert "ghost" in tracker.pending


async def test_an_error_while_the_consumer_is_busy_stops_polling_at_once(
    client: Client, mock_api: Mock, clock: FakeClock
) -> None:
    """A 404 arriving while the loop body runs stops every poller then, not when the body ends."""
    api = FakeAPI(mock_api, clock, latency=0.5)
    api.add("first", 0)
    for task_id in ("a", "b", "c"):
        api.add(task_id, 100)
    api.add("late", 100)

    async def run() -> None:
        async with client.analyze.tasks.track(
            ["first"], strategy="per_task", max_in_flight=1
        ) as tracker:
            async for task in tracker:
                assert task.task_id == "first"
                # all due now; "a" waits for the one slot while "ghost" is polled
                tracker.add("ghost", "a", "b", "c")
                await clock.sleep(60.0)  # busy; the 404 comes meanwhile

    with pytest.raises(NotFoundError):
        await run()
    (ghost,) = api.of("retrieve", "ghost")
    assert api.started_after_answer(ghost) == []


async def test_an_error_while_not_iterating_is_raised_when_the_block_exits(
    client: Client, mock_api: Mock, clock: FakeClock
) -> None:
    """A permanent error that nobody iterated past is raised from the `async with` itself."""
    api = FakeAPI(mock_api, clock)
    api.add("a", 100)
    with pytest.raises(NotFoundError) as info:
        async with client.analyze.tasks.track(["a", "ghost"]):
            await clock.sleep(10.0)
    assert info.value.task_id == "ghost"


@pytest.mark.parametrize(("status", "cls"), PERMANENT)
async def test_on_error_collect_records_the_error_and_the_rest_go_on(
    client: Client, mock_api: Mock, clock: FakeClock, status: int, cls: type
) -> None:
    """Collect: tracker.errors maps each id to its exception; every other task is yielded."""
    api = FakeAPI(mock_api, clock)
    api.add("a", 3)
    api.add("bad", 3)
    api.add("b", 6, "failed")
    api.fail("bad", Reply(status))
    async with client.analyze.tasks.track(
        ["a", "bad", "b", "ghost"], on_error="collect", strategy="per_task"
    ) as tracker:
        got = await drain(tracker, clock)
        tracker.add("ghost", "bad")  # already settled as errors: ignored
        assert [t async for t in tracker] == []
    assert [g.task_id for g in got] == ["a", "b"]
    errors = tracker.errors
    assert set(errors) == {"bad", "ghost"}
    assert type(errors["bad"]) is cls
    assert type(errors["ghost"]) is NotFoundError
    assert all(isinstance(e, APIError) and e.task_id == i for i, e in errors.items())
    assert tracker.pending == frozenset()
    assert len(api.of("retrieve", "bad")) == len(api.of("retrieve", "ghost")) == 1
    assert sum(tracker.status_counts.values()) == 2
    tracker_errors_copy = tracker.errors
    tracker_errors_copy.clear()  # type: ignore[attr-defined]
    assert set(tracker.errors) == {"bad", "ghost"}  # a copy: the tracker's map is untouched


@pytest.mark.parametrize(
    ("status", "cls"), [(401, AuthenticationError), (403, PermissionDeniedError)]
)
@pytest.mark.parametrize("on_error", ["raise", "collect"])
async def test_401_and_403_stop_everything_even_when_collecting(
    client: Client, mock_api: Mock, clock: FakeClock, status: int, cls: type, on_error: str
) -> None:
    """401/403 on any request stop the tracker and are raised, whatever on_error says."""
    api = FakeAPI(mock_api, clock, latency=0.1)
    for task_id in "abc":
        api.add(task_id, 30)
    api.fail("b", Reply(200), Reply(status))
    with pytest.raises(cls) as info:
        async with client.analyze.tasks.track(
            ["a", "b", "c"],
            on_error=on_error,  # type: ignore[arg-type]
            strategy="per_task",
        ) as tracker:
            await drain(tracker, clock)
    assert type(info.value) is cls
    auth_call = api.of("retrieve", "b")[1]
    assert auth_call.answered == status
    await settle(clock)
    assert api.started_after_answer(auth_call) == []
    assert tracker.errors == {}


# --- the deadline ---------------------------------------------------------------------------------


async def test_timeout_raises_at_the_deadline_after_delivering_finished_tasks(
    client: Client, mock_api: Mock, clock: FakeClock
) -> None:
    """Finished tasks come first; at exactly the deadline TrackingTimeout names the rest."""
    api = FakeAPI(mock_api, clock)
    api.add("a", 2)
    api.add("b", 4, "failed")
    api.add("c", 100)
    api.add("d", None)
    start = clock.now
    got: list[Got] = []
    async with client.analyze.tasks.track(["a", "b", "c", "d"], timeout=10) as tracker:
        with pytest.raises(TrackingTimeout) as info:
            await drain(tracker, clock, got)
        raised_at = clock.now
    err = info.value
    assert [g.task_id for g in got] == ["a", "b"]
    assert raised_at - start == pytest.approx(10.0)
    assert err.pending == frozenset({"c", "d"})
    assert tracker.pending == {"c", "d"}
    assert isinstance(err, TimeoutError)
    assert isinstance(err, TwelveLabsError)
    assert str(err) == "2 tasks did not finish within 10s: c, d"
    await settle(clock)
    assert api.started_after(raised_at) == []


async def test_tasks_finished_before_the_deadline_are_delivered_to_a_late_consumer(
    client: Client, mock_api: Mock, clock: FakeClock
) -> None:
    """A consumer that starts iterating after the deadline still gets what finished in time."""
    api = FakeAPI(mock_api, clock)
    api.add("a", 1)
    api.add("b", 2)
    api.add("c", 100)
    got: list[Got] = []
    async with client.analyze.tasks.track(["a", "b", "c"], timeout=5) as tracker:
        await clock.sleep(30.0)
        with pytest.raises(TrackingTimeout) as info:
            await drain(tracker, clock, got)
    assert sorted(g.task_id for g in got) == ["a", "b"]
    assert info.value.pending == frozenset({"c"})


async def test_timeout_zero_gives_finished_tasks_nothing_else(
    client: Client, mock_api: Mock, clock: FakeClock
) -> None:
    """timeout=0 raises TrackingTimeout at once with every id pending."""
    api = FakeAPI(mock_api, clock)
    api.add("a", 5)
    start = clock.now
    async with client.analyze.tasks.track(["a"], timeout=0) as tracker:
        with pytest.raises(TrackingTimeout) as info:
            await drain(tracker, clock)
    assert clock.now == start
    assert info.value.pending == frozenset({"a"})


# --- leaving early --------------------------------------------------------------------------------


async def leave_and_check(api: FakeAPI, clock: FakeClock, client: Client, left: float) -> None:
    """After the block: no listener, no request later, even as virtual time runs on."""
    assert client.analyze.tasks._http._listeners == []
    await settle(clock, 300.0)
    assert api.started_after(left) == []


def five_tasks(mock_api: Mock, clock: FakeClock) -> FakeAPI:
    """One task done at once, four running for a long time; responses take 0.3 s."""
    api = FakeAPI(mock_api, clock, latency=0.3)
    api.add("t0", 0)
    for i in range(1, 5):
        api.add(f"t{i}", 200)
    return api


IDS = [f"t{i}" for i in range(5)]


async def test_break_stops_all_polling_and_leaks_nothing(
    client: Client, mock_api: Mock, clock: FakeClock
) -> None:
    """break: no request afterwards, no asyncio task left behind."""
    api = five_tasks(mock_api, clock)
    before = other_tasks()
    async with client.analyze.tasks.track(IDS, strategy="per_task") as tracker:
        async for _task in tracker:
            await clock.sleep(5.0)  # let polls go on meanwhile, some in flight
            break
    left = clock.now
    assert other_tasks() == before
    await leave_and_check(api, clock, client, left)
    assert tracker.pending == {"t1", "t2", "t3", "t4"}


async def test_an_exception_in_the_body_propagates_as_is_and_stops_polling(
    client: Client, mock_api: Mock, clock: FakeClock
) -> None:
    """An exception in the loop body escapes unchanged (no group); polling stops."""
    api = five_tasks(mock_api, clock)
    before = other_tasks()

    async def run() -> None:
        async with client.analyze.tasks.track(IDS, strategy="per_task") as tracker:
            async for _task in tracker:
                await clock.sleep(3.0)
                raise KeyError("mine")

    with pytest.raises(KeyError, match="mine"):
        await run()
    left = clock.now
    assert other_tasks() == before
    await leave_and_check(api, clock, client, left)


async def test_cancelling_the_surrounding_scope_from_outside_stops_polling(
    client: Client, mock_api: Mock, clock: FakeClock
) -> None:
    """A CancelScope cancelled while the loop waits for the next task: clean exit, no leak."""
    api = five_tasks(mock_api, clock)
    before = other_tasks()
    got = []
    start = clock.now

    async def cancel_later(scope: anyio.CancelScope) -> None:
        await clock.sleep(7.0)
        scope.cancel()

    async with anyio.create_task_group() as tg:
        with anyio.CancelScope() as scope:
            tg.start_soon(cancel_later, scope)
            async with client.analyze.tasks.track(IDS, strategy="per_task") as tracker:
                got = [t.task_id async for t in tracker]
    left = clock.now
    assert scope.cancelled_caught
    assert got == []  # the list comprehension never finished
    assert left - start == pytest.approx(7.0)
    assert other_tasks() == before
    await leave_and_check(api, clock, client, left)
    assert tracker.done == {"t0"}


async def test_a_move_on_after_deadline_passing_stops_polling(
    client: Client, mock_api: Mock, clock: FakeClock
) -> None:
    """move_on_after whose deadline passes while polling (here: set due now) exits cleanly."""
    api = five_tasks(mock_api, clock)
    before = other_tasks()
    seen = []
    with anyio.move_on_after(3600) as scope:  # a real-time deadline, moved by the test below
        async with client.analyze.tasks.track(IDS, strategy="per_task") as tracker:
            async for task in tracker:
                seen.append(task.task_id)
                await clock.sleep(4.0)
                scope.deadline = anyio.current_time()  # the deadline is reached
                await clock.sleep(1.0)  # never returns
                seen.append("unreachable")
    left = clock.now
    assert scope.cancelled_caught
    assert seen == ["t0"]
    assert other_tasks() == before
    await leave_and_check(api, clock, client, left)


async def test_a_move_on_after_that_already_expired_sends_nothing(
    client: Client, mock_api: Mock, clock: FakeClock
) -> None:
    """Entering the tracker inside an expired move_on_after sends no request and leaks nothing."""
    api = five_tasks(mock_api, clock)
    before = other_tasks()
    with anyio.move_on_after(0) as scope:
        async with client.analyze.tasks.track(IDS) as tracker:
            await drain(tracker, clock)
    assert scope.cancelled_caught
    assert other_tasks() == before
    await leave_and_check(api, clock, client, clock.now)
    assert api.calls == []


async def test_cancelling_the_asyncio_task_that_iterates_stops_polling(
    client: Client, mock_api: Mock, clock: FakeClock
) -> None:
    """Task.cancel() on the consumer task raises CancelledError out of it; polling stops."""
    api = five_tasks(mock_api, clock)
    before = other_tasks()
    trackers: list[Tracker] = []

    async def consume() -> None:
        async with client.analyze.tasks.track(IDS, strategy="per_task") as tracker:
            trackers.append(tracker)
            await drain(tracker, clock)

    task = asyncio.get_running_loop().create_task(consume())
    await clock.sleep(6.0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    left = clock.now
    assert other_tasks() == before
    await leave_and_check(api, clock, client, left)
    assert trackers[0].done == {"t0"}


# --- on_exit="cancel_remote" ----------------------------------------------------------------------


async def test_cancel_remote_cancels_only_the_pending_tasks_on_break(
    client: Client, mock_api: Mock, clock: FakeClock
) -> None:
    """Leaving by break cancels each still-pending task on the server, and no finished one."""
    api = five_tasks(mock_api, clock)
    async with client.analyze.tasks.track(IDS, on_exit="cancel_remote") as tracker:
        async for task in tracker:
            assert task.task_id == "t0"
            break
    left = clock.now
    assert sorted(c.task_id for c in api.of("cancel")) == ["t1", "t2", "t3", "t4"]
    assert all(c.answered == 200 for c in api.of("cancel"))
    assert {api.tasks[f"t{i}"].status_at(left) for i in range(1, 5)} == {"canceled"}
    assert tracker.stats.requests["cancel"] == 4
    await leave_and_check(api, clock, client, left)


async def test_cancel_remote_runs_when_leaving_by_an_exception(
    client: Client, mock_api: Mock, clock: FakeClock
) -> None:
    """An exception in the body still cancels the pending tasks, then propagates unchanged."""
    api = five_tasks(mock_api, clock)
    trackers: list[Tracker] = []

    async def run() -> None:
        async with client.analyze.tasks.track(IDS, on_exit="cancel_remote") as tracker:
            trackers.append(tracker)
            async for _task in tracker:
                _ = 1 / 0

    with pytest.raises(ZeroDivisionError):
        await run()
    assert sorted(c.task_id for c in api.of("cancel")) == ["t1", "t2", "t3", "t4"]
    assert trackers[0].done == {"t0"}


async def test_cancel_remote_is_shielded_from_the_cancellation_that_ends_the_block(
    client: Client, mock_api: Mock, clock: FakeClock
) -> None:
    """Cancelled from outside, the tracker still sends the cancels (shielded) before leaving."""
    api = five_tasks(mock_api, clock)

    async def cancel_later(scope: anyio.CancelScope) -> None:
        await clock.sleep(5.0)
        scope.cancel()

    async with anyio.create_task_group() as tg:
        with anyio.CancelScope() as scope:
            tg.start_soon(cancel_later, scope)
            async with client.analyze.tasks.track(IDS, on_exit="cancel_remote") as tracker:
                await drain(tracker, clock)
    assert scope.cancelled_caught
    assert sorted(c.task_id for c in api.of("cancel")) == ["t1", "t2", "t3", "t4"]
    assert all(c.ended is not None for c in api.of("cancel"))
    assert tracker.stats.requests["cancel"] == 4


async def test_cancel_remote_after_a_timeout_and_not_after_completion(
    client: Client, mock_api: Mock, clock: FakeClock
) -> None:
    """The deadline cancels what is pending; a run where everything finished cancels nothing."""
    api = five_tasks(mock_api, clock)
    async with client.analyze.tasks.track(IDS, on_exit="cancel_remote", timeout=10) as tracker:
        with pytest.raises(TrackingTimeout):
            await drain(tracker, clock)
    assert sorted(c.task_id for c in api.of("cancel")) == ["t1", "t2", "t3", "t4"]
    api.calls.clear()
    async with client.analyze.tasks.track(["t0"], on_exit="cancel_remote") as tracker:
        await drain(tracker, clock)
    assert api.of("cancel") == []


async def test_cancel_remote_failures_are_logged_not_raised(
    client: Client, mock_api: Mock, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    """A cancel that fails (here: an id the API does not know) is logged; the exit is clean."""
    api = FakeAPI(mock_api, clock)
    api.add("a", 50)
    async with client.analyze.tasks.track(
        ["a", "ghost"], on_exit="cancel_remote", on_error="collect", timeout=2
    ) as tracker:
        with pytest.raises(TrackingTimeout):
            await drain(tracker, clock)
    assert [c.task_id for c in api.of("cancel")] == ["a"]  # the collected ghost is not pending
    async with client.analyze.tasks.track(["a"], on_exit="cancel_remote") as tracker:
        tracker.add("zzz")  # unknown: its cancel gets a 404
        pass
    assert sorted(c.task_id for c in api.of("cancel")) == ["a", "a", "zzz"]
    assert "could not cancel task zzz" in caplog.text
