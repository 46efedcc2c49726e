"""A tracker kept open for a worker (`keep_open=True`), on the fake API in virtual time:
iteration waits for `add()` until `close()`, ends after the last pending task, and keeps the
deadline, `on_error`, back-pressure and nothing-after-exit guarantees.
"""

from __future__ import annotations

import asyncio

import anyio
import pytest
from aioresponses import aioresponses

from tests._tracker_fake import FakeAPI, Got, drain, other_tasks, settle
from tests.conftest import FakeClock
from twelvelabs_async import (
    AsyncTwelveLabs,
    InvalidInputError,
    NotFoundError,
    ServerError,
    TrackingTimeout,
)
from twelvelabs_async.tracking import Tracker

Client = AsyncTwelveLabs
Mock = aioresponses


async def feed_later(
    tracker: Tracker, clock: FakeClock, plan: list[tuple[float, str | None]]
) -> None:
    """Add each id at its virtual time (from now); None closes the tracker instead."""
    start = clock.now
    for at, task_id in plan:
        await clock.sleep(start + at - clock.now)
        if task_id is None:
            tracker.close()
        else:
            tracker.add(task_id)


# --- iteration waits for add() until close() ------------------------------------------------------


async def test_a_kept_open_tracker_waits_for_ids_added_later_and_ends_on_close(
    client: Client, mock_api: Mock, clock: FakeClock
) -> None:
    """With nothing pending the loop waits; ids added later are yielded; close() ends it."""
    api = FakeAPI(mock_api, clock)
    api.add("a", 0)
    api.add("b", 0)
    api.add("c", 103)  # added at 100 s, ready at 103 s
    got: list[Got] = []
    start = clock.now
    async with client.analyze.tasks.track(["a"], keep_open=True, strategy="per_task") as tracker:
        async with anyio.create_task_group() as tg:
            tg.start_soon(feed_later, tracker, clock, [(50, "b"), (100, "c"), (200, None)])
            await drain(tracker, clock, got)
        ended = clock.now - start
    assert [(g.task_id, g.at - start) for g in got][:2] == [("a", 0.0), ("b", 50.0)]
    assert got[2].task_id == "c"
    assert 103.0 <= got[2].at - start < 200.0
    assert ended == 200.0  # not before close(), though nothing was pending from ~104 s on
    assert tracker.done == {"a", "b", "c"}
    assert tracker.closed


async def test_an_empty_kept_open_tracker_sends_nothing_while_idle(
    client: Client, mock_api: Mock, clock: FakeClock
) -> None:
    """track([], keep_open=True) waits without a request; close() with nothing pending ends it."""
    api = FakeAPI(mock_api, clock)
    start = clock.now
    async with client.analyze.tasks.track([], keep_open=True) as tracker:
        async with anyio.create_task_group() as tg:
            tg.start_soon(feed_later, tracker, clock, [(3600, None)])
            got = await drain(tracker, clock)
        assert clock.now - start == 3600.0  # waited for close()
    assert got == []
    assert api.calls == []


async def test_a_worker_idle_between_ids_polls_and_sweeps_nothing(
    client: Client, mock_api: Mock, clock: FakeClock
) -> None:
    """After 60 ids are done (swept), an open tracker sends nothing until the next add()."""
    api = FakeAPI(mock_api, clock)
    first = [f"t{i:02}" for i in range(60)]
    for i, task_id in enumerate(first):
        api.add(task_id, 5 + i * 0.2)
    api.add("late", 0)
    seen: list[str] = []
    async with client.analyze.tasks.track(first, keep_open=True) as tracker:
        async for task in tracker:
            seen.append(task.task_id)
            if len(seen) == len(first):
                idle_from = clock.now
                await settle(clock, 600.0)
                assert api.started_after(idle_from) == []
                tracker.add("late")
            elif task.task_id == "late":
                tracker.close()
    assert sorted(seen) == sorted([*first, "late"])
    assert tracker.stats.sweeps > 0


async def test_close_with_tasks_pending_ends_iteration_after_the_last_one(
    client: Client, mock_api: Mock, clock: FakeClock
) -> None:
    """close() while tasks run: each is still yielded, and only then does iteration end."""
    api = FakeAPI(mock_api, clock)
    api.add("a", 0)
    api.add("b", 20)
    api.add("c", 40, "failed")
    order: list[str] = []
    async with client.analyze.tasks.track(["a", "b", "c"], keep_open=True) as tracker:
        async for task in tracker:
            order.append(task.task_id)
            if task.task_id == "a":
                tracker.close()
                assert tracker.pending == {"b", "c"}
    assert order == ["a", "b", "c"]
    assert tracker.pending == frozenset()


async def test_close_before_entering_ends_after_the_initial_ids(
    client: Client, mock_api: Mock, clock: FakeClock
) -> None:
    """A tracker closed before its block tracks its ids and ends; close() again is harmless."""
    api = FakeAPI(mock_api, clock)
    api.add("a", 2)
    tracker = client.analyze.tasks.track(["a"], keep_open=True)
    tracker.close()
    tracker.close()
    async with tracker:
        got = await drain(tracker, clock)
    tracker.close()
    assert [g.task_id for g in got] == ["a"]


async def test_add_after_close_is_refused_and_tracks_nothing(
    client: Client, mock_api: Mock, clock: FakeClock
) -> None:
    """add() after close() raises RuntimeError naming close(); after exit it says exited."""
    api = FakeAPI(mock_api, clock)
    api.add("a", 0)
    api.add("b", 0)
    async with client.analyze.tasks.track(["a"], keep_open=True) as tracker:
        assert not tracker.closed
        assert tracker.keep_open
        tracker.close()
        with pytest.raises(RuntimeError, match=r"closed \(close\(\) was called\).* task ids"):
            tracker.add("b")
        assert tracker.pending == {"a"}
        got = await drain(tracker, clock)
    assert [g.task_id for g in got] == ["a"]
    assert api.of("retrieve", "b") == []
    with pytest.raises(RuntimeError, match="exited"):
        tracker.add("b")


async def test_close_on_a_tracker_not_kept_open_only_refuses_adds(
    client: Client, mock_api: Mock, clock: FakeClock
) -> None:
    """Without keep_open, close() changes nothing but add(): iteration ends as before."""
    api = FakeAPI(mock_api, clock)
    api.add("a", 2)
    async with client.analyze.tasks.track(["a"]) as tracker:
        assert not tracker.keep_open
        tracker.close()
        with pytest.raises(RuntimeError, match="closed"):
            tracker.add("b")
        got = await drain(tracker, clock)
    assert [g.task_id for g in got] == ["a"]


async def test_a_tracker_that_exited_counts_as_closed(
    client: Client, mock_api: Mock, clock: FakeClock
) -> None:
    """`closed` is True once the block has exited, even without close()."""
    api = FakeAPI(mock_api, clock)
    api.add("a", 0)
    async with client.analyze.tasks.track(["a"]) as tracker:
        await drain(tracker, clock)
        assert not tracker.closed
    assert tracker.closed


@pytest.mark.parametrize("bad", ["no", 1, None])
async def test_keep_open_must_be_a_bool(client: Client, mock_api: Mock, bad: object) -> None:
    """keep_open='no' (truthy) and other non-bools are refused before any request."""
    with pytest.raises(InvalidInputError, match="keep_open must be True or False"):
        client.analyze.tasks.track(["a"], keep_open=bad)  # type: ignore[arg-type]
    assert mock_api.requests == {}


# --- the guarantees, unchanged --------------------------------------------------------------------


async def test_the_deadline_names_pending_tasks_of_an_open_tracker(
    client: Client, mock_api: Mock, clock: FakeClock
) -> None:
    """Kept open, at the deadline: what finished first, then TrackingTimeout naming the rest."""
    api = FakeAPI(mock_api, clock)
    api.add("a", 2)
    api.add("b", 500)
    start = clock.now
    got: list[Got] = []
    async with client.analyze.tasks.track(["a", "b"], keep_open=True, timeout=30) as tracker:
        with pytest.raises(TrackingTimeout) as info:
            await drain(tracker, clock, got)
        raised_at = clock.now
    assert [g.task_id for g in got] == ["a"]
    assert raised_at - start == 30.0
    assert info.value.pending == frozenset({"b"})
    await settle(clock)
    assert api.started_after(raised_at) == []


async def test_an_open_tracker_with_nothing_pending_still_times_out(
    client: Client, mock_api: Mock, clock: FakeClock
) -> None:
    """Not closed by the deadline, nothing pending: TrackingTimeout says it was still open."""
    api = FakeAPI(mock_api, clock)
    api.add("a", 0)
    async with client.analyze.tasks.track(["a"], keep_open=True, timeout=30) as tracker:
        with pytest.raises(TrackingTimeout) as info:
            await drain(tracker, clock)
    assert info.value.pending == frozenset()
    assert str(info.value) == (
        "the tracker was still open at its deadline of 30s: nothing was pending, but close() "
        "had not been called (keep_open=True)"
    )


async def test_an_open_tracker_closed_in_time_does_not_time_out(
    client: Client, mock_api: Mock, clock: FakeClock
) -> None:
    """Closed before the deadline with nothing pending: iteration simply ends."""
    api = FakeAPI(mock_api, clock)
    api.add("a", 0)
    async with client.analyze.tasks.track(["a"], keep_open=True, timeout=30) as tracker:
        async with anyio.create_task_group() as tg:
            tg.start_soon(feed_later, tracker, clock, [(10, None)])
            got = await drain(tracker, clock)
        await settle(clock, 60.0)
    assert [g.task_id for g in got] == ["a"]


async def test_collected_errors_end_an_open_tracker_once_closed(
    client: Client, mock_api: Mock, clock: FakeClock
) -> None:
    """on_error='collect': an unknown id added late is collected; close() then ends iteration."""
    api = FakeAPI(mock_api, clock)
    api.add("a", 0)
    async with client.analyze.tasks.track(["a"], keep_open=True, on_error="collect") as tracker:
        async for task in tracker:
            assert task.task_id == "a"
            tracker.add("ghost")
            tracker.close()
    assert set(tracker.errors) == {"ghost"}
    assert isinstance(tracker.errors["ghost"], NotFoundError)


async def test_on_error_raise_stops_an_open_tracker(
    client: Client, mock_api: Mock, clock: FakeClock
) -> None:
    """on_error='raise': an unknown id added to an open tracker raises NotFoundError naming it."""
    api = FakeAPI(mock_api, clock)
    api.add("a", 0)

    async def consume(tracker: Tracker) -> None:
        async for _task in tracker:
            tracker.add("ghost")

    async with client.analyze.tasks.track(["a"], keep_open=True) as tracker:
        with pytest.raises(NotFoundError) as info:
            await consume(tracker)
        raised_at = clock.now
    assert info.value.task_id == "ghost"
    await settle(clock)
    assert api.started_after(raised_at) == []


async def test_a_slow_consumer_pauses_an_open_tracker(
    client: Client, mock_api: Mock, clock: FakeClock
) -> None:
    """buffer=2: ids added to an open tracker are held to buffer + max_in_flight while it sleeps."""
    api = FakeAPI(mock_api, clock, latency=0.2)
    ids = [f"t{i:02}" for i in range(20)]
    for task_id in ids:
        api.add(task_id, 0)
    seen: list[str] = []
    async with client.analyze.tasks.track(
        [], keep_open=True, strategy="per_task", buffer=2, max_in_flight=3
    ) as tracker:
        tracker.add(*ids)
        async for task in tracker:
            seen.append(task.task_id)
            if len(seen) == 1:
                before = clock.now
                await clock.sleep(1000.0)
                answered = [c for c in api.of("retrieve") if c.ended is not None]
                assert len(answered) - len(seen) <= 2 + 3
                assert api.started_after(before + 1.0) == []  # polling paused
            if len(seen) == len(ids):
                tracker.close()
    assert sorted(seen) == ids


async def test_a_failing_feeder_surfaces_and_nothing_runs_after_exit(
    client: Client, mock_api: Mock, clock: FakeClock
) -> None:
    """The worker shape: a feeder's exception cancels the consumer, reaches the caller as an
    ExceptionGroup, and no poll or asyncio task outlives the blocks.
    """
    api = FakeAPI(mock_api, clock, latency=0.3)
    api.add("a", 0)
    api.add("b", 500)
    before = other_tasks()
    handled: list[str] = []

    async def feed(tracker: Tracker, queue: asyncio.Queue[str | None]) -> None:
        try:
            while (task_id := await queue.get()) is not None:
                if task_id == "boom":
                    raise ServerError("the job queue broke", status_code=503)
                tracker.add(task_id)
        finally:
            tracker.close()

    async def worker(queue: asyncio.Queue[str | None]) -> None:
        async with client.analyze.tasks.track([], keep_open=True) as tracker:
            trackers.append(tracker)
            async with asyncio.TaskGroup() as tg:
                tg.create_task(feed(tracker, queue))
                async for task in tracker:
                    handled.append(task.task_id)
                    queue.put_nowait("boom")

    trackers: list[Tracker] = []
    queue: asyncio.Queue[str | None] = asyncio.Queue()
    for item in ("a", "b"):
        queue.put_nowait(item)
    with pytest.raises(ExceptionGroup) as info:
        await worker(queue)
    left = clock.now
    [tracker] = trackers
    assert info.value.subgroup(ServerError) is not None
    assert handled == ["a"]
    assert other_tasks() == before
    await settle(clock, 600.0)
    assert api.started_after(left) == []
    assert tracker.pending == {"b"}
