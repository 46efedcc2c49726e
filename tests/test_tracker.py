"""The tracker on a fake API in virtual time: exactly once, finishing order, `add` while
iterating, id validation, per-task backoff, the request budget, back-pressure, visibility.
"""

from __future__ import annotations

import itertools
from collections import Counter

import pytest
from aioresponses import aioresponses

from tests._tracker_fake import FakeAPI, drain, settle
from tests.conftest import FakeClock
from twelvelabs_async import AsyncTwelveLabs, InvalidInputError, TwelveLabsError
from twelvelabs_async.tracking import PollPolicy, StatusChange, Tracker, TrackerStats

Client = AsyncTwelveLabs
Mock = aioresponses


# --- exactly once ---------------------------------------------------------------------------------


async def test_each_distinct_id_is_yielded_exactly_once(
    client: Client, mock_api: Mock, clock: FakeClock
) -> None:
    """Duplicate ids collapse; every id comes out once, failed and canceled ones as results."""
    api = FakeAPI(mock_api, clock)
    api.add("a", 4)
    api.add("b", 2, "failed")
    api.add("c", 6, "canceled")
    api.add("d", 0)
    ids = ["a", "b", "a", "c", "d", "b", "d"]
    async with client.analyze.tasks.track(ids, strategy="per_task") as tracker:
        got = await drain(tracker, clock)
    assert sorted(g.task_id for g in got) == ["a", "b", "c", "d"]
    assert {g.task_id: g.status for g in got} == {
        "a": "ready",
        "b": "failed",
        "c": "canceled",
        "d": "ready",
    }
    assert tracker.done == {"a", "b", "c", "d"}
    assert tracker.pending == frozenset()
    assert tracker.stats.yielded == 4


async def test_yielded_tasks_are_complete_retrieves(
    client: Client, mock_api: Mock, clock: FakeClock
) -> None:
    """What is yielded is the full task: result for ready, error for failed, whole prompt."""
    api = FakeAPI(mock_api, clock)
    api.add("ok", 0)
    api.add("bad", 0, "failed")
    async with client.analyze.tasks.track(["ok", "bad"]) as tracker:
        tasks = {t.task_id: t async for t in tracker}
    assert tasks["ok"].result is not None
    assert tasks["ok"].result.data == "result of ok"
    assert tasks["ok"].request_params is not None
    assert tasks["ok"].request_params.prompt == api.body("ok")["request_params"]["prompt"]
    assert tasks["bad"].error is not None
    assert tasks["bad"].error.code == "task_failed"


async def test_already_terminal_tasks_are_yielded_at_once_after_one_request(
    client: Client, mock_api: Mock, clock: FakeClock
) -> None:
    """Tasks finished before tracking starts are yielded without waiting, one retrieve each."""
    api = FakeAPI(mock_api, clock)
    ids = [f"t{i}" for i in range(3)]
    for i, task_id in enumerate(ids):
        api.add(task_id, 0, ("ready", "failed", "canceled")[i])
    start = clock.now
    async with client.analyze.tasks.track(ids) as tracker:
        got = await drain(tracker, clock)
    assert sorted(g.task_id for g in got) == ids
    assert all(g.at == start for g in got)
    assert sorted(api.retrieved()) == ids
    assert api.of("list") == []


async def test_yields_come_in_the_order_tasks_finish(
    client: Client, mock_api: Mock, clock: FakeClock
) -> None:
    """With polls at most ~2 s apart, tasks come out in finishing order, each within 2.4 s."""
    api = FakeAPI(mock_api, clock)
    finish = {"e": 3.0, "b": 8.0, "d": 13.0, "a": 18.0, "c": 23.0, "f": 28.0}
    for task_id, at in finish.items():
        api.add(task_id, at, "failed" if task_id == "d" else "ready")
    policy = PollPolicy(min_interval=0.5, max_interval=2.0)
    start = clock.now
    async with client.analyze.tasks.track(
        sorted(finish), strategy="per_task", poll_policy=policy
    ) as tracker:
        got = await drain(tracker, clock)
    assert [g.task_id for g in got] == sorted(finish, key=finish.__getitem__)
    for g in got:
        assert finish[g.task_id] <= g.at - start <= finish[g.task_id] + 2.0 * 1.2


# --- add while iterating --------------------------------------------------------------------------


async def test_add_while_iterating_tracks_new_ids_and_ignores_known_ones(
    client: Client, mock_api: Mock, clock: FakeClock
) -> None:
    """add() mid-loop adds new ids; ids tracked, buffered or already yielded are ignored."""
    api = FakeAPI(mock_api, clock)
    api.add("a", 1)
    api.add("b", 10)
    api.add("c", 3)
    order = []
    async with client.analyze.tasks.track(["a", "b"], strategy="per_task") as tracker:
        async for task in tracker:
            order.append(task.task_id)
            if task.task_id == "a":
                a_at = clock.now
                tracker.add("a", "b", "c", "c")
                assert tracker.pending == {"b", "c"}
    assert order == ["a", "c", "b"]
    assert [c for c in api.of("retrieve", "a") if c.at > a_at] == []
    assert api.of("retrieve", "c")[0].at == a_at  # a new id is looked at at once


async def test_adding_after_the_last_item_keeps_iteration_going(
    client: Client, mock_api: Mock, clock: FakeClock
) -> None:
    """Adding an id in the body of the last iteration makes the loop wait for it too."""
    api = FakeAPI(mock_api, clock)
    api.add("a", 0)
    api.add("b", 5)
    api.add("c", 0)
    order = []
    start = clock.now
    async with client.analyze.tasks.track(["a"]) as tracker:
        async for task in tracker:
            order.append((task.task_id, clock.now - start))
            if task.task_id == "a":
                tracker.add("b")
            elif task.task_id == "b":
                tracker.add("c")
    assert [o[0] for o in order] == ["a", "b", "c"]
    assert order[1][1] >= 5.0
    assert order[2][1] == order[1][1]  # already terminal: yielded at once


async def test_adding_an_id_already_yielded_is_ignored(
    client: Client, mock_api: Mock, clock: FakeClock
) -> None:
    """An id that was already yielded is not tracked (nor requested) again."""
    api = FakeAPI(mock_api, clock)
    api.add("a", 0)
    api.add("b", 4)
    seen = []
    async with client.analyze.tasks.track(["a", "b"], strategy="per_task") as tracker:
        async for task in tracker:
            seen.append(task.task_id)
            tracker.add("a")
            if task.task_id == "a":
                retrieves_of_a = len(api.of("retrieve", "a"))
    assert seen == ["a", "b"]
    assert len(api.of("retrieve", "a")) == retrieves_of_a == 1


async def test_ids_added_before_entering_are_tracked(
    client: Client, mock_api: Mock, clock: FakeClock
) -> None:
    """add() on a tracker not yet entered adds to the initial ids; nothing is sent before entry."""
    api = FakeAPI(mock_api, clock)
    api.add("a", 0)
    api.add("b", 0)
    tracker = client.analyze.tasks.track(["a"])
    tracker.add("b")
    assert tracker.pending == {"a", "b"}
    await settle(clock, 10)
    assert api.calls == []
    async with tracker:
        got = await drain(tracker, clock)
    assert sorted(g.task_id for g in got) == ["a", "b"]


async def test_add_after_exit_is_refused(client: Client, mock_api: Mock, clock: FakeClock) -> None:
    """A tracker that has exited refuses add() with RuntimeError."""
    api = FakeAPI(mock_api, clock)
    api.add("a", 0)
    async with client.analyze.tasks.track(["a"]) as tracker:
        await drain(tracker, clock)
    with pytest.raises(RuntimeError, match="exited"):
        tracker.add("b")


async def test_iterating_after_the_block_is_refused_rather_than_hanging(
    client: Client, mock_api: Mock, clock: FakeClock
) -> None:
    """After a break, iterating the exited tracker raises RuntimeError (nothing polls any more)."""
    api = FakeAPI(mock_api, clock)
    api.add("a", 0)
    api.add("b", 100)
    async with client.analyze.tasks.track(["a", "b"]) as tracker:
        async for _task in tracker:
            break
    with pytest.raises(RuntimeError, match="exited"):
        await tracker.__anext__()


async def test_a_tracker_is_entered_once(client: Client, mock_api: Mock, clock: FakeClock) -> None:
    """Entering an exited tracker again raises RuntimeError and sends nothing."""
    api = FakeAPI(mock_api, clock)
    api.add("a", 0)
    api.add("b", 100)
    tracker = client.analyze.tasks.track(["a", "b"])
    async with tracker:
        async for _task in tracker:
            break
    sent = len(api.calls)
    with pytest.raises(RuntimeError, match="entered once"):
        await tracker.__aenter__()
    await settle(clock)
    assert len(api.calls) == sent


async def test_iterating_outside_the_block_is_refused(client: Client, mock_api: Mock) -> None:
    """Iterating a tracker that was never entered raises RuntimeError rather than hanging."""
    tracker = client.analyze.tasks.track(["a"])
    with pytest.raises(RuntimeError, match="async with"):
        await tracker.__anext__()
    assert mock_api.requests == {}


# --- invalid ids ----------------------------------------------------------------------------------


BAD_IDS = ["", "a/b", "..", "a b", "a\nb", "a\\b", "\u200bx", 42, None, "..;", "a;b", "t" * 129]


@pytest.mark.parametrize("bad", BAD_IDS)
async def test_invalid_ids_are_refused_by_track_before_any_request(
    client: Client, mock_api: Mock, clock: FakeClock, bad: object
) -> None:
    """track() with an invalid id among valid ones raises InvalidInputError; nothing is sent."""
    FakeAPI(mock_api, clock).add("ok", 0)
    with pytest.raises(InvalidInputError, match="task_id"):
        client.analyze.tasks.track(["ok", bad])  # type: ignore[list-item]
    await settle(clock, 10)
    assert mock_api.requests == {}


@pytest.mark.parametrize("bad", BAD_IDS)
async def test_invalid_ids_are_refused_by_add_and_nothing_of_the_call_is_added(
    client: Client, mock_api: Mock, clock: FakeClock, bad: object
) -> None:
    """add('ok2', bad) raises InvalidInputError and adds neither id: no request for 'ok2'."""
    api = FakeAPI(mock_api, clock)
    api.add("ok", 2)
    api.add("ok2", 0)
    async with client.analyze.tasks.track(["ok"]) as tracker:
        with pytest.raises(InvalidInputError, match="task_id"):
            tracker.add("ok2", bad)  # type: ignore[arg-type]
        assert tracker.pending == {"ok"}
        got = await drain(tracker, clock)
    assert [g.task_id for g in got] == ["ok"]
    assert api.of("retrieve", "ok2") == []


async def test_a_single_string_is_not_taken_as_a_list_of_characters(
    client: Client, mock_api: Mock
) -> None:
    """track('abc') is refused (it would track 'a', 'b', 'c'); pass ['abc']."""
    with pytest.raises(InvalidInputError, match="not one string"):
        client.analyze.tasks.track("abc")
    assert mock_api.requests == {}


@pytest.mark.parametrize(
    "kwargs",
    [
        {"on_error": "ignore"},
        {"strategy": "fast"},
        {"on_exit": "stay"},
        {"timeout": -1},
        {"buffer": 0},
        {"max_in_flight": 0},
        {"max_rate": 0},
    ],
)
async def test_bad_options_are_refused(
    client: Client, mock_api: Mock, kwargs: dict[str, object]
) -> None:
    """Unknown on_error/strategy/on_exit, a negative timeout, no buffer or budget: ValueError."""
    with pytest.raises(ValueError, match="must be"):
        client.analyze.tasks.track(["a"], **kwargs)  # type: ignore[arg-type]
    assert mock_api.requests == {}


@pytest.mark.parametrize(
    "kwargs",
    [
        {"on_error": "ignore"},
        {"strategy": "fast"},
        {"on_exit": "stay"},
        {"timeout": -1},
        {"timeout": float("nan")},
        {"cancel_timeout": -1},
        {"cancel_timeout": float("nan")},
        {"buffer": 0},
        {"buffer": 2.5},
        {"max_in_flight": 0},
        {"max_in_flight": True},
        {"max_rate": 0},
        {"max_rate": float("nan")},
    ],
)
async def test_bad_options_are_invalid_input_errors_of_the_library(
    client: Client, mock_api: Mock, kwargs: dict[str, object]
) -> None:
    """Every refused option is an InvalidInputError, so catching TwelveLabsError suffices."""
    with pytest.raises(TwelveLabsError) as info:
        client.analyze.tasks.track(["a"], **kwargs)  # type: ignore[arg-type]
    assert isinstance(info.value, InvalidInputError)
    assert next(iter(kwargs)) in str(info.value)
    assert mock_api.requests == {}


def test_a_poll_policy_with_incoherent_bounds_is_an_invalid_input_error() -> None:
    """PollPolicy(min_interval=0) raises InvalidInputError naming the bounds it got."""
    with pytest.raises(InvalidInputError, match=r"min_interval <= max_interval, got 0"):
        PollPolicy(min_interval=0)


# --- per-task backoff -----------------------------------------------------------------------------


async def test_per_task_polls_back_off_within_policy_bounds_with_jitter(
    client: Client, mock_api: Mock, clock: FakeClock
) -> None:
    """Each task's k-th interval is min*growth**k capped at max, times [1-j, 1+j], jittered."""
    api = FakeAPI(mock_api, clock)
    ids = ["a", "b", "c"]
    for task_id in ids:
        api.add(task_id, None)
    policy = PollPolicy(min_interval=1.0, max_interval=10.0, growth=1.5, jitter=0.2)
    start = clock.now
    async with client.analyze.tasks.track(
        ids, strategy="per_task", poll_policy=policy, timeout=120
    ) as tracker:
        with pytest.raises(TimeoutError):
            await drain(tracker, clock)
    ratios = []
    for task_id in ids:
        times = [c.at for c in api.of("retrieve", task_id)]
        assert times[0] == start
        gaps = [b - a for a, b in itertools.pairwise(times)]
        assert len(gaps) >= 12
        for k, gap in enumerate(gaps):
            base = min(10.0, 1.5**k)
            assert 0.8 * base <= gap <= 1.2 * base
            ratios.append(gap / base)
    assert min(ratios) < 0.9  # jittered, not fixed
    assert max(ratios) > 1.1
    assert len({round(r, 6) for r in ratios}) == len(ratios)  # tasks do not poll in lockstep


async def test_polls_come_sooner_inside_the_learned_duration_window(
    client: Client, mock_api: Mock, clock: FakeClock
) -> None:
    """Once tasks are known to take ~20 s, a task of that age is polled every min_interval."""
    api = FakeAPI(mock_api, clock)
    for i in range(6):
        api.add(f"done{i}", 0, age=19.0 + i * 0.4)  # durations 19..21 s
    api.add("slow", 30.0, age=10.0)  # created 10 s ago, finishes at age 40
    policy = PollPolicy(min_interval=1.0, max_interval=30.0, jitter=0.0)
    start = clock.now
    async with client.analyze.tasks.track(
        [*(f"done{i}" for i in range(6)), "slow"], strategy="per_task", poll_policy=policy
    ) as tracker:
        got = await drain(tracker, clock)
    assert got[-1].task_id == "slow"
    times = [c.at - start for c in api.of("retrieve", "slow")]
    # durations 19..21 s, so p10 = 19 and p90 = 20.6. Aged 10 s at the start, it waits half
    # the way to 19 s each time: 4.5 s, then 2.25 s, ... (never under min_interval)
    assert times[:3] == pytest.approx([0.0, 4.5, 6.75])
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert gaps[:3] == pytest.approx([4.5, 2.25, 1.125])
    # from about 18 s old until 4 s overdue (24.6 s), every min_interval; later, sparser
    assert times[3] == pytest.approx(7.875)
    assert gaps[3:9] == pytest.approx([1.0] * 6)
    assert gaps[-1] > 2.0
    # it finishes aged 40 s, 19.4 s late: polled every quarter of its lateness by then
    assert 30.0 <= got[-1].at - start <= 30.0 + 19.4 / 4


# --- the budget -----------------------------------------------------------------------------------


@pytest.mark.parametrize("strategy", ["per_task", "sweep"])
async def test_never_more_than_max_in_flight_requests(
    client: Client, mock_api: Mock, clock: FakeClock, strategy: str
) -> None:
    """With 40 tasks and slow responses, at most max_in_flight requests (polls and list pages)."""
    api = FakeAPI(mock_api, clock, latency=0.5)
    for i in range(120):  # other tasks, so that a sweep reads several pages
        api.add(f"other{i}", None, age=50)
    ids = [f"t{i:02}" for i in range(40)]
    for i, task_id in enumerate(ids):
        api.add(task_id, i % 7)
    async with client.analyze.tasks.track(
        ids,
        strategy=strategy,  # type: ignore[arg-type]
        max_in_flight=4,
    ) as tracker:
        got = await drain(tracker, clock)
    assert len(got) == 40
    assert api.peak_in_flight == 4


async def test_max_rate_is_respected_over_virtual_time(
    client: Client, mock_api: Mock, clock: FakeClock
) -> None:
    """With max_rate=5, no 1-s window holds more than 5 requests plus the one-second burst."""
    api = FakeAPI(mock_api, clock)
    ids = [f"t{i:02}" for i in range(30)]
    for task_id in ids:
        api.add(task_id, 0)
    start = clock.now
    async with client.analyze.tasks.track(ids, strategy="per_task", max_rate=5) as tracker:
        got = await drain(tracker, clock)
    assert len(got) == 30
    times = sorted(c.at - start for c in api.calls)
    assert len(times) == 30
    assert times[-1] >= (30 - 5) / 5 - 1e-9  # 25 requests after the burst, 5 per second
    for i, t in enumerate(times):
        assert sum(1 for u in times[i:] if u < t + 1.0) <= 5 + 5
    assert sum(1 for t in times if t >= 1.0 and t < 3.0) <= 10


# --- back-pressure --------------------------------------------------------------------------------


async def test_a_slow_consumer_pauses_polling_and_bounds_what_is_held(
    client: Client, mock_api: Mock, clock: FakeClock
) -> None:
    """buffer=2: while the consumer sleeps, at most buffer + max_in_flight tasks are held."""
    api = FakeAPI(mock_api, clock, latency=0.2)
    ids = [f"t{i:02}" for i in range(30)]
    for task_id in ids:
        api.add(task_id, 0)
    seen = []
    async with client.analyze.tasks.track(
        ids, strategy="per_task", buffer=2, max_in_flight=3
    ) as tracker:
        async for task in tracker:
            seen.append(task.task_id)
            if len(seen) == 1:
                before = clock.now
                await clock.sleep(1000.0)
                answered = [c for c in api.of("retrieve") if c.ended is not None]
                assert len(answered) - len(seen) <= 2 + 3
                assert api.started_after(before + 1.0) == []  # polling paused
    assert sorted(seen) == ids
    assert len(api.retrieved()) == 30


# --- visibility -----------------------------------------------------------------------------------


async def test_pending_done_status_counts_and_stats_follow_progress(
    client: Client, mock_api: Mock, clock: FakeClock
) -> None:
    """pending/done move id by id; status_counts and stats.requests match what happened."""
    api = FakeAPI(mock_api, clock)
    api.add("a", 2)
    api.add("b", 5, "failed")
    api.add("c", None)
    snapshots = []

    async def watch(tracker: Tracker) -> None:
        async for task in tracker:
            snapshots.append((task.task_id, tracker.pending, tracker.done))

    async with client.analyze.tasks.track(
        ["a", "b", "c"], strategy="per_task", timeout=20
    ) as tracker:
        assert tracker.pending == {"a", "b", "c"}
        assert tracker.status_counts == {"unknown": 3}
        with pytest.raises(TimeoutError):
            await watch(tracker)
    assert snapshots == [
        ("a", frozenset({"b", "c"}), frozenset({"a"})),
        ("b", frozenset({"c"}), frozenset({"a", "b"})),
    ]
    assert tracker.status_counts == {"ready": 1, "failed": 1, "processing": 1}
    stats = tracker.stats
    assert isinstance(stats, TrackerStats)
    assert stats.requests == Counter(retrieve=len(api.calls))
    assert stats.total_requests == len(api.calls)
    assert (stats.yielded, stats.retries, stats.throttles, stats.sweeps) == (2, 0, 0, 0)


async def test_on_status_sees_every_transition_in_order(
    client: Client, mock_api: Mock, clock: FakeClock
) -> None:
    """on_status gets StatusChange(None->queued->pending->processing->ready) per task, in order."""
    api = FakeAPI(mock_api, clock)
    steps = [(0, "queued"), (3, "pending"), (6, "processing"), (9, "ready")]
    api.add("a", steps=steps)
    api.add("b", steps=[(0, "processing"), (4, "failed")])
    changes: list[StatusChange] = []
    policy = PollPolicy(min_interval=0.5, max_interval=1.0)
    async with client.analyze.tasks.track(
        ["a", "b"], strategy="per_task", poll_policy=policy, on_status=changes.append
    ) as tracker:
        await drain(tracker, clock)
    assert [c for c in changes if c.task_id == "a"] == [
        StatusChange("a", None, "queued"),
        StatusChange("a", "queued", "pending"),
        StatusChange("a", "pending", "processing"),
        StatusChange("a", "processing", "ready"),
    ]
    assert [c for c in changes if c.task_id == "b"] == [
        StatusChange("b", None, "processing"),
        StatusChange("b", "processing", "failed"),
    ]


async def test_an_exception_in_on_status_reaches_the_consumer_and_stops_polling(
    client: Client, mock_api: Mock, clock: FakeClock
) -> None:
    """A callback that raises makes the loop raise that exception; polling stops."""
    api = FakeAPI(mock_api, clock)
    api.add("a", 10)
    api.add("b", 20)

    def explode(change: StatusChange) -> None:
        if change.new == "processing":
            raise LookupError(f"progress bar broke on {change.task_id}")

    with pytest.raises(LookupError, match="progress bar broke"):
        async with client.analyze.tasks.track(
            ["a", "b"], strategy="per_task", on_status=explode
        ) as tracker:
            await drain(tracker, clock)
    left = clock.now
    await settle(clock)
    assert api.started_after(left) == []


# --- wait() and strategy choice -------------------------------------------------------------------


async def test_wait_on_a_terminal_task_returns_it_after_one_request(
    client: Client, mock_api: Mock, clock: FakeClock
) -> None:
    """wait() of a finished task makes one retrieve and returns at once."""
    api = FakeAPI(mock_api, clock)
    api.add("a", 0, "canceled")
    start = clock.now
    task = await client.analyze.tasks.wait("a")
    assert (task.task_id, task.status) == ("a", "canceled")
    assert clock.now == start
    assert [c.kind for c in api.calls] == ["retrieve"]
    await settle(clock)
    assert len(api.calls) == 1


async def test_wait_leaves_no_task_or_listener_behind(
    client: Client, mock_api: Mock, clock: FakeClock
) -> None:
    """After wait() returns, no poller runs on and the client has no tracker listener."""
    api = FakeAPI(mock_api, clock)
    api.add("a", 3)
    task = await client.analyze.tasks.wait("a")
    assert task.status == "ready"
    assert client.analyze.tasks._http._listeners == []
    n = len(api.calls)
    await settle(clock)
    assert len(api.calls) == n


@pytest.mark.parametrize("count", [1, 2, 3])
async def test_auto_with_few_ids_polls_per_task(
    client: Client, mock_api: Mock, clock: FakeClock, count: int
) -> None:
    """strategy='auto' with a handful of ids never lists: per-task polls are cheaper."""
    api = FakeAPI(mock_api, clock)
    ids = [f"t{i}" for i in range(count)]
    for i, task_id in enumerate(ids):
        api.add(task_id, 5 + i)
    async with client.analyze.tasks.track(ids) as tracker:
        got = await drain(tracker, clock)
    assert len(got) == count
    assert api.of("list") == []
    assert tracker.stats.sweeps == 0
