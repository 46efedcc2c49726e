"""The tracker's pure parts: poll intervals, failure backoff, durations, sweep costs, the due
queue, and the request budget (in-flight cap, rate, pauses) on the fake clock.
"""

from __future__ import annotations

import math
import random
from statistics import median

import anyio
import pytest

from tests.conftest import FakeClock
from twelvelabs_async.tracking import PollPolicy
from twelvelabs_async.tracking._budget import Budget
from twelvelabs_async.tracking._policy import (
    MIN_SAMPLES,
    PAGE_LIMIT,
    DurationModel,
    failure_delay,
    pages_for,
    poll_interval,
    prefer_sweep,
    sweep_cost,
)
from twelvelabs_async.tracking._state import DueQueue, Entry, Priority

SEEDS = range(200)


def model(*durations: float) -> DurationModel:
    """A duration model holding these samples."""
    m = DurationModel()
    for d in durations:
        m.add(d)
    return m


def intervals(polls: int, age: float | None, m: DurationModel, policy: PollPolicy) -> list[float]:
    """poll_interval over many jitter seeds."""
    return [poll_interval(polls, age, m, policy, random.Random(s)) for s in SEEDS]


# --- PollPolicy -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs",
    [
        {"min_interval": 0},
        {"min_interval": 5, "max_interval": 4},
        {"growth": 0.9},
        {"jitter": -0.1},
        {"jitter": 1.0},
        {"sweep_interval": 0},
        {"unseen_grace": -1},
    ],
)
def test_poll_policy_refuses_incoherent_bounds(kwargs: dict[str, float]) -> None:
    """Non-positive or inverted intervals, growth < 1, jitter outside [0, 1) raise ValueError."""
    with pytest.raises(ValueError, match="need"):
        PollPolicy(**kwargs)


# --- poll_interval --------------------------------------------------------------------------------


@pytest.mark.parametrize("polls", range(12))
def test_backoff_without_durations_stays_within_jittered_bounds(polls: int) -> None:
    """With nothing learned, the interval is min*growth**polls, capped, times [1-j, 1+j]."""
    policy = PollPolicy(min_interval=1.0, max_interval=20.0, growth=1.5, jitter=0.2)
    base = min(20.0, 1.0 * 1.5**polls)
    got = intervals(polls, 100.0, DurationModel(), policy)
    assert all(0.8 * base <= v <= 1.2 * base for v in got)
    assert min(got) < base < max(got)  # jitter spreads both ways
    assert median(got) == pytest.approx(base, rel=0.05)


def test_backoff_grows_geometrically_and_never_leaves_the_bounds() -> None:
    """Medians grow by `growth` per poll up to max_interval; all stay in [min(1-j), max(1+j)]."""
    policy = PollPolicy(min_interval=2.0, max_interval=30.0, growth=2.0, jitter=0.1)
    medians = [median(intervals(p, None, DurationModel(), policy)) for p in range(8)]
    assert medians[:4] == pytest.approx([2.0, 4.0, 8.0, 16.0], rel=0.03)
    assert medians[4:] == pytest.approx([30.0] * 4, rel=0.03)
    every = [v for p in range(-2, 40) for v in intervals(p, None, DurationModel(), policy)]
    assert min(every) >= 2.0 * 0.9
    assert max(every) <= 30.0 * 1.1


def test_zero_jitter_is_exact() -> None:
    """jitter=0 gives the bare interval, the same for every seed."""
    policy = PollPolicy(min_interval=1.0, max_interval=10.0, growth=3.0, jitter=0.0)
    assert set(intervals(2, None, DurationModel(), policy)) == {9.0}
    assert set(intervals(3, None, DurationModel(), policy)) == {10.0}


def test_duration_model_is_ignored_below_min_samples_or_without_age() -> None:
    """Fewer than MIN_SAMPLES durations, or an unknown age, leave the plain backoff."""
    policy = PollPolicy(min_interval=1.0, max_interval=60.0, jitter=0.0)
    few = model(*[100.0] * (MIN_SAMPLES - 1))
    enough = model(*[100.0] * MIN_SAMPLES)
    assert poll_interval(3, 10.0, few, policy, random.Random(0)) == 1.5**3
    assert poll_interval(3, None, enough, policy, random.Random(0)) == 1.5**3
    assert poll_interval(3, 10.0, enough, policy, random.Random(0)) != 1.5**3


def test_young_task_waits_about_halfway_to_the_earliest_likely_finish() -> None:
    """A task younger than the 10th percentile waits (p10 - age) / 2, clamped to the bounds."""
    policy = PollPolicy(min_interval=1.0, max_interval=60.0, jitter=0.0)
    m = model(*range(100, 201, 10))  # p10 = 110, p90 = 190
    assert m.quantile(0.1) == 110
    assert poll_interval(0, 20.0, m, policy, random.Random(0)) == 45.0
    assert poll_interval(9, 100.0, m, policy, random.Random(0)) == 5.0  # polls do not matter
    assert poll_interval(0, 109.5, m, policy, random.Random(0)) == 1.0  # not below min
    capped = poll_interval(0, 0.0, m, PollPolicy(max_interval=30.0, jitter=0.0), random.Random(0))
    assert capped == 30.0  # not above max


@pytest.mark.parametrize("age", [110.0, 150.0, 190.0])
def test_task_inside_the_likely_window_is_polled_at_min_interval(age: float) -> None:
    """Between the 10th and 90th percentile of durations, every poll is min_interval apart."""
    policy = PollPolicy(min_interval=2.0, max_interval=60.0, jitter=0.2)
    m = model(*range(100, 201, 10))
    got = intervals(7, age, m, policy)  # 7 polls would be 34 s by plain backoff
    assert all(1.6 <= v <= 2.4 for v in got)


def test_overdue_task_backs_off_with_its_lateness() -> None:
    """Past the 90th percentile the interval is a quarter of the lateness, whatever the polls."""
    policy = PollPolicy(min_interval=1.0, max_interval=60.0, growth=2.0, jitter=0.0)
    m = model(*range(100, 201, 10))  # 90th percentile: 190 s
    late = [poll_interval(0, age, m, policy, random.Random(0)) for age in (191, 200, 230, 500)]
    assert late == [1.0, 2.5, 10.0, 60.0]
    assert {poll_interval(p, 230.0, m, policy, random.Random(0)) for p in range(8)} == {10.0}


# --- failure_delay --------------------------------------------------------------------------------


@pytest.mark.parametrize("failures", range(1, 10))
def test_failure_delay_is_full_jitter_within_bounds(failures: int) -> None:
    """After n failures the wait is uniform in [min/2, min(max, min * 2**(n-1))]."""
    policy = PollPolicy(min_interval=1.0, max_interval=30.0)
    cap = min(30.0, 2.0 ** (failures - 1))
    got = [failure_delay(failures, policy, random.Random(s)) for s in SEEDS]
    assert all(0.5 <= v <= cap for v in got)
    if cap >= 4:
        assert min(got) < cap / 4  # spread over the whole range
        assert max(got) > cap * 3 / 4


def test_failure_delay_of_zero_failures_is_the_first_step() -> None:
    """Failures <= 1 all use the first cap: min_interval."""
    policy = PollPolicy(min_interval=4.0, max_interval=30.0)
    for failures in (-1, 0, 1):
        got = [failure_delay(failures, policy, random.Random(s)) for s in SEEDS]
        assert all(2.0 <= v <= 4.0 for v in got)


@pytest.mark.parametrize("failures", range(4, 10))
def test_failure_delay_stays_at_four_intervals_while_the_tracker_otherwise_succeeds(
    failures: int,
) -> None:
    """With a short tracker-wide streak, a task's cap stops at 4 min_intervals (step three)."""
    policy = PollPolicy(min_interval=1.0, max_interval=30.0)
    for streak in (1, 2, 3):
        got = [failure_delay(failures, policy, random.Random(s), streak=streak) for s in SEEDS]
        assert all(0.5 <= v <= 4.0 for v in got)
        assert max(got) > 3.0


def test_failure_delay_grows_with_the_tracker_wide_streak() -> None:
    """A streak as long as the task's failures gives the full cap: 2**(n-1), up to max."""
    policy = PollPolicy(min_interval=1.0, max_interval=30.0)
    for failures, streak, cap in [(5, 5, 16.0), (5, 4, 8.0), (8, 20, 30.0), (2, 20, 2.0)]:
        got = [failure_delay(failures, policy, random.Random(s), streak=streak) for s in SEEDS]
        assert all(0.5 <= v <= cap for v in got)
        assert max(got) > cap * 3 / 4


# --- DurationModel --------------------------------------------------------------------------------


def test_duration_quantiles_are_order_statistics() -> None:
    """quantile(q) picks the sorted sample at round(q * (n - 1)); len counts the samples."""
    m = model(5.0, 1.0, 4.0, 2.0, 3.0)
    assert len(m) == 5
    assert [m.quantile(q) for q in (0.0, 0.1, 0.5, 0.9, 1.0)] == [1.0, 1.0, 3.0, 5.0, 5.0]
    assert m.quantile(-1) == 1.0
    assert m.quantile(2) == 5.0


def test_duration_model_ignores_negative_and_nan() -> None:
    """Negative and NaN durations (clock skew, missing dates) are not recorded."""
    m = model(-1.0, math.nan, 7.0)
    assert len(m) == 1
    assert m.quantile(0.5) == 7.0


def test_duration_model_keeps_only_the_most_recent_samples() -> None:
    """Beyond `capacity`, the oldest sample is forgotten (bounded memory)."""
    m = DurationModel(capacity=3)
    for d in (100.0, 1.0, 2.0, 3.0, 50.0):
        m.add(d)
    assert len(m) == 3
    assert [m.quantile(q) for q in (0.0, 0.5, 1.0)] == [2.0, 3.0, 50.0]
    for _ in range(2000):
        m.add(9.0)
    assert len(m) == 3
    assert m.quantile(0.0) == m.quantile(1.0) == 9.0


# --- sweep costs ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("count", "pages"), [(0, 1), (1, 1), (PAGE_LIMIT, 1), (PAGE_LIMIT + 1, 2), (100, 2), (101, 3)]
)
def test_pages_for_counts_whole_pages_and_at_least_one(count: int, pages: int) -> None:
    """pages_for(n) = ceil(n / 50), and an empty list still costs one request."""
    assert PAGE_LIMIT == 50
    assert pages_for(count) == pages


def test_sweep_cost_adds_pages_per_status() -> None:
    """A sweep costs the pages of each list read; a list with no count costs one page."""
    counts = {"queued": 120, "processing": 50, "ready": 3000}
    assert sweep_cost(counts, ("queued", "pending", "processing")) == 3 + 1 + 1
    assert sweep_cost(counts, ("ready",)) == 60
    assert sweep_cost({}, ()) == 0


def test_prefer_sweep_compares_requests_per_second() -> None:
    """Sweep only when its requests per sweep_interval are strictly cheaper than per-task polls."""
    every_second = PollPolicy(sweep_interval=1.0)
    every_ten = PollPolicy(sweep_interval=10.0)
    assert prefer_sweep(per_task_rate=4.0, sweep_requests=3, policy=every_second)
    assert not prefer_sweep(per_task_rate=3.0, sweep_requests=3, policy=every_second)
    assert not prefer_sweep(per_task_rate=0.5, sweep_requests=3, policy=every_second)
    assert prefer_sweep(per_task_rate=0.5, sweep_requests=3, policy=every_ten)


# --- DueQueue -------------------------------------------------------------------------------------


def entries(*ids: str) -> dict[str, Entry]:
    """Live entries by id."""
    return {i: Entry(task_id=i, added=0.0) for i in ids}


def pop_all(queue: DueQueue, now: float, live: dict[str, Entry]) -> list[str]:
    """Pop every entry due at `now`, in order."""
    out = []
    while (entry := queue.pop_due(now, live)) is not None:
        out.append(entry.task_id)
    return out


def test_due_queue_pops_by_due_time_then_insertion_order() -> None:
    """Entries come out earliest due first; equal due times keep scheduling order."""
    live = entries("a", "b", "c", "d")
    q = DueQueue()
    for task_id, due in (("a", 5.0), ("b", 1.0), ("c", 5.0), ("d", 3.0)):
        q.schedule(live[task_id], due)
    assert q.next_due(live) == 1.0
    assert q.pop_due(0.5, live) is None
    assert pop_all(q, 4.0, live) == ["b", "d"]
    assert pop_all(q, 10.0, live) == ["a", "c"]
    assert q.next_due(live) is None


def test_due_queue_rescheduling_invalidates_the_old_position() -> None:
    """A rescheduled entry is due only at its new time, once, earlier or later."""
    live = entries("a", "b")
    q = DueQueue()
    q.schedule(live["a"], 1.0)
    q.schedule(live["b"], 2.0)
    q.schedule(live["a"], 9.0)  # later
    assert live["a"].due == 9.0
    assert pop_all(q, 5.0, live) == ["b"]
    q.schedule(live["a"], 3.0)  # earlier again
    assert q.next_due(live) == 3.0
    assert pop_all(q, 100.0, live) == ["a"]


def test_due_queue_skips_entries_in_flight_or_no_longer_live() -> None:
    """An entry being polled, or dropped from the live map, is never handed out."""
    live = entries("a", "b", "c")
    q = DueQueue()
    for i, task_id in enumerate("abc"):
        q.schedule(live[task_id], float(i))
    live["a"].in_flight = True
    del live["b"]
    assert q.next_due(live) == 2.0
    assert pop_all(q, 10.0, live) == ["c"]
    live["a"].in_flight = False  # its old position was dropped; it must be rescheduled
    assert q.pop_due(10.0, live) is None
    q.schedule(live["a"], 4.0)
    assert pop_all(q, 10.0, live) == ["a"]


def test_due_queue_replaced_entry_with_same_id_is_not_confused() -> None:
    """A stale Entry object under a reused id is skipped; the live object is popped."""
    live = entries("a")
    old = live["a"]
    q = DueQueue()
    q.schedule(old, 1.0)
    live["a"] = Entry(task_id="a", added=1.0)
    q.schedule(live["a"], 2.0)
    got = q.pop_due(5.0, live)
    assert got is live["a"]
    assert q.pop_due(5.0, live) is None


def test_due_queue_hands_out_the_most_urgent_due_entry_first() -> None:
    """A due retrieve of a finished object goes before earlier-due polls; none before its time."""
    live = entries("poll", "safety", "finish", "later")
    q = DueQueue()
    q.schedule(live["safety"], 1.0, priority=Priority.SAFETY)
    q.schedule(live["poll"], 2.0, priority=Priority.POLL)
    q.schedule(live["finish"], 3.0, priority=Priority.FINISH)
    q.schedule(live["later"], 9.0, priority=Priority.FINISH)
    assert q.next_due(live) == 1.0
    assert pop_all(q, 5.0, live) == ["finish", "poll", "safety"]
    assert pop_all(q, 9.0, live) == ["later"]
    q.schedule(live["poll"], 10.0)  # keeps the priority it had
    assert live["poll"].priority is Priority.POLL


def test_due_queue_compaction_drops_stale_positions_only() -> None:
    """Compaction runs once stale positions outnumber 4x live + 64 and keeps every live one."""
    live = entries(*(f"t{i}" for i in range(10)))
    q = DueQueue()
    for round_ in range(30):
        for i, entry in enumerate(live.values()):
            q.schedule(entry, 100.0 + round_ + i / 100)
    assert len(q) == 300
    q.compact(live)
    assert len(q) == 10
    assert pop_all(q, 1000.0, live) == [f"t{i}" for i in range(10)]
    one = entries("x")
    small = DueQueue()
    for round_ in range(10):
        small.schedule(one["x"], float(round_))
    small.compact(one)
    assert len(small) == 10  # below the threshold: left alone
    assert pop_all(small, 1000.0, one) == ["x"]


# --- Budget ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("cap", "rate"), [(0, None), (1, 0.0), (1, -2.0)])
def test_budget_refuses_bad_limits(cap: int, rate: float | None) -> None:
    """max_in_flight < 1 or a non-positive rate raise ValueError."""
    with pytest.raises(ValueError, match="must be"):
        Budget(FakeClock(), max_in_flight=cap, rate=rate)


async def test_budget_caps_requests_in_flight(clock: FakeClock) -> None:
    """No more than max_in_flight holders at once; a release lets the next one in."""
    budget = Budget(clock, max_in_flight=3, rate=None)
    active = peak = 0
    started: list[float] = []

    async def request() -> None:
        nonlocal active, peak
        await budget.acquire()
        try:
            active += 1
            peak = max(peak, active)
            started.append(clock.now)
            assert budget.in_flight <= 3
            await clock.sleep(1.0)
        finally:
            active -= 1
            budget.release()

    t0 = clock.now
    async with anyio.create_task_group() as tg:
        for _ in range(10):
            tg.start_soon(request)
    assert peak == 3
    assert budget.in_flight == 0
    assert [round(s - t0, 6) for s in started] == [0.0] * 3 + [1.0] * 3 + [2.0] * 3 + [3.0]


async def test_a_narrowed_window_caps_requests_in_flight_until_it_widens(
    clock: FakeClock,
) -> None:
    """A slow start's window of 2 lets 2 of 6 waiting requests go; widening lets the rest go."""
    budget = Budget(clock, max_in_flight=8, rate=None)
    budget.set_window(2)
    assert budget.cap == 2
    started: list[float] = []

    async def request() -> None:
        await budget.acquire()
        started.append(clock.now)
        try:
            await clock.sleep(10.0)
        finally:
            budget.release()

    t0 = clock.now
    async with anyio.create_task_group() as tg:
        for _ in range(6):
            tg.start_soon(request)
        await clock.sleep(1.0)
        assert budget.in_flight == 2  # the others wait, though 8 slots exist
        budget.set_window(None)  # the slow start ended: max_in_flight again
        assert budget.cap == 8
    assert [round(s - t0, 6) for s in started] == [0.0] * 2 + [1.0] * 4


async def test_budget_paces_to_the_rate_after_a_one_second_burst(clock: FakeClock) -> None:
    """At rate r: r requests at once, then one per 1/r s; no 1-s window holds more than 2r."""
    budget = Budget(clock, max_in_flight=100, rate=4.0)
    started: list[float] = []

    async def request() -> None:
        await budget.acquire()
        started.append(clock.now)
        budget.release()

    t0 = clock.now
    async with anyio.create_task_group() as tg:
        for _ in range(20):
            tg.start_soon(request)
    offsets = sorted(round(s - t0, 6) for s in started)
    assert offsets[:4] == [0.0] * 4
    assert offsets[4:] == pytest.approx([0.25 * k for k in range(1, 17)])
    for i, start in enumerate(offsets):
        window = [s for s in offsets[i:] if s < start + 1.0]
        assert len(window) <= 4 + 4


async def test_budget_rate_refills_while_idle_up_to_one_second_of_burst(clock: FakeClock) -> None:
    """After a long idle time, only one second's worth of requests (the burst) go at once."""
    budget = Budget(clock, max_in_flight=100, rate=2.0)
    for _ in range(2):
        await budget.acquire()
        budget.release()
    await clock.sleep(60.0)
    t0 = clock.now
    times = []
    for _ in range(5):
        await budget.acquire()
        times.append(round(clock.now - t0, 6))
        budget.release()
    assert times == [0.0, 0.0, 0.5, 1.0, 1.5]


async def test_rate_pacing_never_livelocks_on_rounding(clock: FakeClock) -> None:
    """At rate 5/s on a clock near 1e6 s (0.2 s steps are inexact), 30 requests take 5 s."""
    budget = Budget(clock, max_in_flight=1, rate=5.0)
    t0 = clock.now
    times = []
    for _ in range(30):
        await budget.acquire()  # before the fix: waits of 5e-11 s that never move the clock
        times.append(clock.now - t0)
        budget.release()
    assert times[:5] == [0.0] * 5
    assert times[5:] == pytest.approx([0.2 * k for k in range(1, 26)], abs=1e-6)
    assert len(clock.sleeps) < 60


async def test_slow_rate_below_one_per_second_still_allows_one_request(clock: FakeClock) -> None:
    """A rate of 0.5/s lets one request go at once and the next after 2 s."""
    budget = Budget(clock, max_in_flight=1, rate=0.5)
    t0 = clock.now
    times = []
    for _ in range(3):
        await budget.acquire()
        times.append(round(clock.now - t0, 6))
        budget.release()
    assert times == [0.0, 2.0, 4.0]


async def test_budget_lets_the_most_urgent_waiter_go_first(clock: FakeClock) -> None:
    """When slots are short, waiters go by priority, and in arrival order within one."""
    budget = Budget(clock, max_in_flight=1, rate=None)
    await budget.acquire()  # the one slot is taken
    order: list[str] = []

    async def request(name: str, priority: Priority) -> None:
        await budget.acquire(priority)
        order.append(name)
        await clock.sleep(1.0)
        budget.release()

    async with anyio.create_task_group() as tg:
        for name, priority in [
            ("safety", Priority.SAFETY),
            ("poll-1", Priority.POLL),
            ("page", Priority.SWEEP),
            ("poll-2", Priority.POLL),
            ("finish", Priority.FINISH),
        ]:
            tg.start_soon(request, name, priority)
        await clock.sleep(0.5)
        assert budget.waiting == 5
        budget.release()
    assert order == ["finish", "page", "poll-1", "poll-2", "safety"]
    assert budget.in_flight == 0


async def test_a_cancelled_waiter_lets_the_next_one_go(clock: FakeClock) -> None:
    """A waiter cancelled while first in line passes its turn on; nothing is held."""
    budget = Budget(clock, max_in_flight=1, rate=None)
    await budget.acquire()
    got: list[str] = []

    async def request(name: str, priority: Priority) -> None:
        await budget.acquire(priority)
        got.append(name)
        budget.release()

    urgent = anyio.CancelScope()

    async def cancellable() -> None:
        with urgent:
            await request("finish", Priority.FINISH)

    async with anyio.create_task_group() as tg:
        tg.start_soon(request, "poll", Priority.POLL)
        tg.start_soon(cancellable)
        await clock.sleep(0.1)
        assert budget.waiting == 2
        urgent.cancel()
        await clock.sleep(0.1)
        budget.release()
    assert got == ["poll"]
    assert (budget.in_flight, budget.waiting) == (0, 0)


def test_budget_pause_only_ever_extends() -> None:
    """pause(until) returns True and moves the end later; an earlier or equal end is a no-op."""
    budget = Budget(FakeClock(start=0.0), max_in_flight=1, rate=None)
    assert budget.paused_until == float("-inf")
    assert budget.pause(10.0)
    assert not budget.pause(5.0)
    assert not budget.pause(10.0)
    assert budget.paused_until == 10.0
    assert budget.pause(12.5)
    assert budget.paused_until == 12.5


async def test_acquire_waits_out_a_pause_and_its_extension(clock: FakeClock) -> None:
    """A request waiting for a pause also waits out an extension made while it waits."""
    budget = Budget(clock, max_in_flight=2, rate=None)
    t0 = clock.now
    budget.pause(t0 + 10.0)
    started: list[float] = []

    async def request() -> None:
        await budget.acquire()
        started.append(clock.now - t0)
        budget.release()

    async def extend() -> None:
        await clock.sleep(4.0)
        budget.pause(t0 + 25.0)
        budget.pause(t0 + 20.0)  # shorter: ignored

    async with anyio.create_task_group() as tg:
        tg.start_soon(request)
        tg.start_soon(extend)
    assert started == [25.0]


async def test_acquire_after_a_pause_ended_does_not_wait(clock: FakeClock) -> None:
    """A pause that already ended holds nothing."""
    budget = Budget(clock, max_in_flight=1, rate=None)
    budget.pause(clock.now - 1.0)
    t0 = clock.now
    await budget.acquire()
    assert clock.now == t0
    budget.release()


async def test_a_cancelled_acquire_gives_its_slot_back(clock: FakeClock) -> None:
    """Cancelling a request that waits for a pause releases the slot it held."""
    budget = Budget(clock, max_in_flight=1, rate=None)
    budget.pause(clock.now + 100.0)
    with anyio.CancelScope() as scope:

        async def cancel_soon() -> None:
            await clock.sleep(1.0)
            scope.cancel()

        async with anyio.create_task_group() as tg:
            tg.start_soon(cancel_soon)
            await budget.acquire()
    assert scope.cancelled_caught
    assert budget.in_flight == 0


async def test_budgets_sharing_slots_hand_them_to_the_most_urgent_request_first(
    clock: FakeClock,
) -> None:
    """Two trackers' budgets, one shared slot: a waiting finishing retrieve of one tracker
    goes before an earlier poll of the other; a cancelled waiter takes nothing with it.
    """
    from twelvelabs_async._priority import PrioritySlots

    slots = PrioritySlots(1)
    first = Budget(clock, max_in_flight=4, rate=None, slots=slots)
    second = Budget(clock, max_in_flight=4, rate=None, slots=slots)
    order: list[str] = []
    await first.acquire(Priority.POLL)  # holds the one slot

    scopes: list[anyio.CancelScope] = []

    async def take(budget: Budget, priority: Priority, name: str) -> None:
        with anyio.CancelScope() as scope:
            scopes.append(scope)
            await budget.acquire(priority)
            order.append(name)
            budget.release()

    async with anyio.create_task_group() as tg:
        tg.start_soon(take, first, Priority.POLL, "poll")
        await anyio.wait_all_tasks_blocked()
        tg.start_soon(take, second, Priority.FINISH, "cancelled")
        await anyio.wait_all_tasks_blocked()
        scopes[-1].cancel()
        await anyio.wait_all_tasks_blocked()
        tg.start_soon(take, second, Priority.FINISH, "finish")
        await anyio.wait_all_tasks_blocked()
        first.release()
    assert order == ["finish", "poll"]
    assert slots.used == 0
    assert first.in_flight == second.in_flight == 0
