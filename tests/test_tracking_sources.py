"""The tracking engine's seam: a toy kind of object, with statuses of its own, tracked by the
same `ObjectTracker` and `Engine` as analysis tasks, with no change to either.

The toy "render jobs" live in memory on the `FakeClock`: `waiting`, then `rendering`, then
`done` or `broken`. Nothing here touches HTTP: the source answers directly.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import anyio
import attrs
import pytest

from tests.conftest import FakeClock
from twelvelabs_async import InvalidInputError, NotFoundError, PageInfo, TrackingTimeout
from twelvelabs_async.tracking import PollPolicy
from twelvelabs_async.tracking._engine import Engine
from twelvelabs_async.tracking._tracker import ObjectTracker


@attrs.frozen
class Job:
    """A render job as the toy API shows it."""

    job_id: str
    state: str
    created: float
    ended: float | None = None

    @property
    def id(self) -> str:
        """The job's id (a `Listed`: the toy list shows jobs whole)."""
        return self.job_id

    @property
    def status(self) -> str:
        """The job's state."""
        return self.state

    def full(self) -> Job:
        """The job itself."""
        return self


@attrs.frozen
class JobPage:
    """One page of the toy list."""

    data: tuple[Job, ...]
    page_info: PageInfo


@attrs.define
class ToyJob:
    """A job's timeline: rendering from `start`, over at `end` as `outcome`."""

    created: float
    start: float
    end: float
    outcome: str = "done"

    def state(self, now: float) -> str:
        if now >= self.end:
            return self.outcome
        return "rendering" if now >= self.start else "waiting"


class Runtime:
    """The runtime a tracker needs: a clock, jitter, and a place to hear responses."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.rng = random.Random(5)
        self.listeners: list[Callable[[int, Mapping[str, str]], None]] = []

    def add_listener(self, listener: Callable[[int, Mapping[str, str]], None]) -> None:
        self.listeners.append(listener)

    def remove_listener(self, listener: Callable[[int, Mapping[str, str]], None]) -> None:
        self.listeners.remove(listener)


class JobSource:
    """Render jobs as the tracking engine sees them; counts what it was asked."""

    noun = "job"
    terminal = frozenset({"done", "broken"})
    active = ("waiting", "rendering")
    final = ("done", "broken")
    page_limit = 10

    def __init__(self, clock: FakeClock, *, listable: bool = True) -> None:
        self.clock = clock
        self.jobs: dict[str, ToyJob] = {}
        self.fetched: list[str] = []
        self.pages: list[tuple[str, int]] = []
        self.canceled: list[str] = []
        self._listable = listable

    def add(self, job_id: str, start: float, end: float, outcome: str = "done") -> None:
        now = self.clock.now
        self.jobs[job_id] = ToyJob(now, now + start, now + end, outcome)

    def view(self, job_id: str) -> Job:
        job = self.jobs[job_id]
        state = job.state(self.clock.now)
        ended = job.end if state in self.terminal else None
        return Job(job_id, state, job.created, ended)

    @property
    def lists(self) -> JobSource | None:
        return self if self._listable else None

    def check_id(self, object_id: object) -> None:
        if not isinstance(object_id, str) or not object_id.startswith("job-"):
            raise InvalidInputError(f"job ids start with 'job-', got {object_id!r}")

    def id_of(self, item: Job) -> str:
        return item.job_id

    def status_of(self, item: Job) -> str:
        return item.state

    def created_of(self, item: Job) -> float | None:
        return item.created

    def ended_of(self, item: Job) -> float | None:
        return item.ended

    async def fetch(self, object_id: str) -> Job:
        self.fetched.append(object_id)
        await anyio.lowlevel.checkpoint()
        if object_id not in self.jobs:
            raise NotFoundError(f"no job {object_id}", status_code=404)
        return self.view(object_id)

    async def cancel(self, object_id: str) -> None:
        self.canceled.append(object_id)
        job = self.jobs[object_id]
        job.end, job.outcome = self.clock.now, "broken"

    def rows(self, status: str, number: int) -> list[Job]:
        """The list of `status`, newest first, as page `number` sees it."""
        ids = sorted(self.jobs, key=lambda j: self.jobs[j].created, reverse=True)
        return [self.view(j) for j in ids if self.jobs[j].state(self.clock.now) == status]

    async def page(self, number: int, status: str) -> JobPage:
        self.pages.append((status, number))
        await anyio.lowlevel.checkpoint()
        rows = self.rows(status, number)
        chunk = rows[(number - 1) * self.page_limit : number * self.page_limit]
        info = PageInfo(
            limit_per_page=self.page_limit,
            page=number,
            total_page=max(1, -(-len(rows) // self.page_limit)),
            total_results=len(rows),
        )
        return JobPage(tuple(chunk), info)


def track(source: JobSource, ids: Iterable[str], **options: Any) -> ObjectTracker[Job]:
    settings: dict[str, Any] = {
        "timeout": None,
        "on_error": "raise",
        "strategy": "auto",
        "max_in_flight": 8,
        "max_rate": None,
        "poll_policy": PollPolicy(),
        "on_exit": "leave",
        "cancel_timeout": 5.0,
        "yield_list_items": False,
        "on_status": None,
        "buffer": 64,
    }
    settings.update(options)
    return ObjectTracker(source, ids, runtime=Runtime(source.clock), **settings)


async def drain(tracker: ObjectTracker[Job], clock: FakeClock) -> list[tuple[float, Job]]:
    return [(clock.now, job) async for job in tracker]


async def test_a_toy_kind_is_tracked_to_its_own_terminal_statuses(clock: FakeClock) -> None:
    """Jobs come out once each, in the order they end, as `done` or `broken`, by polls."""
    source = JobSource(clock, listable=False)
    for i, end in enumerate((9.0, 3.0, 6.0)):
        source.add(f"job-{i}", start=1.0, end=end, outcome="broken" if i == 2 else "done")
    start = clock.now
    policy = PollPolicy(max_interval=2.0)  # polls at most ~2 s apart
    async with track(source, ["job-0", "job-1", "job-2", "job-1"], poll_policy=policy) as tracker:
        got = await drain(tracker, clock)
    assert [job.job_id for _, job in got] == ["job-1", "job-2", "job-0"]
    assert [job.state for _, job in got] == ["done", "broken", "done"]
    assert all(at - start <= end + 2.4 for (at, _), end in zip(got, (3.0, 6.0, 9.0), strict=True))
    assert tracker.done == {"job-0", "job-1", "job-2"}
    assert tracker.status_counts == {"done": 2, "broken": 1}
    assert source.pages == []


async def test_many_toy_jobs_are_swept_by_their_own_status_lists(clock: FakeClock) -> None:
    """With 60 jobs, sweeps read the toy's own lists and each job is fetched about once."""
    source = JobSource(clock)
    ids = [f"job-{i}" for i in range(60)]
    for i, job_id in enumerate(ids):
        source.add(job_id, start=1.0, end=5.0 + i * 0.5)
    async with track(source, ids) as tracker:
        got = await drain(tracker, clock)
    assert sorted(job.job_id for _, job in got) == sorted(ids)
    assert {status for status, _ in source.pages} <= {"waiting", "rendering", "done", "broken"}
    assert tracker.stats.sweeps > 0
    assert len(source.fetched) <= 1.2 * len(ids)
    assert tracker.stats.found_by["sweep"] >= 30


class SlowJobSource(JobSource):
    """A toy source whose list pages take `latency` seconds; it records how many overlap."""

    def __init__(self, clock: FakeClock, latency: float, first_page: float | None = None) -> None:
        super().__init__(clock)
        self.latency = latency
        self.first_page = latency if first_page is None else first_page
        self.reading = 0
        self.peak = 0

    async def page(self, number: int, status: str) -> JobPage:
        self.reading += 1
        self.peak = max(self.peak, self.reading)
        try:
            await self.clock.sleep(self.first_page if number == 1 else self.latency)
            return await super().page(number, status)
        finally:
            self.reading -= 1


async def test_a_sweep_reads_a_long_list_at_once_and_the_lists_in_lifecycle_order(
    clock: FakeClock,
) -> None:
    """Pages of one list overlap (up to max_in_flight); 'waiting' is read before 'rendering'."""
    source = SlowJobSource(clock, latency=0.1)
    ids = [f"job-{i}" for i in range(150)]
    for i, job_id in enumerate(ids):  # 15 pages waiting, 15 rendering, for a long time
        source.add(job_id, start=0.0 if i % 2 else 1000.0, end=2000.0)
    async with track(source, ids, strategy="sweep", timeout=3.0) as tracker:
        with pytest.raises(TrackingTimeout):
            await drain(tracker, clock)
    first_sweep = source.pages[: 8 + 8]
    assert [status for status, _ in first_sweep[:8]] == ["waiting"] * 8
    assert [status for status, _ in first_sweep[8:]] == ["rendering"] * 8
    assert source.peak == 7  # page 1, then the other 7 pages at once (8 slots)
    assert source.fetched == []  # every job seen running: nothing retrieved


class GrowingJobSource(JobSource):
    """A toy source whose final lists gain `grow` newer objects once page 1 has been read."""

    def __init__(self, clock: FakeClock, grow: int) -> None:
        super().__init__(clock)
        self.grow = grow

    def rows(self, status: str, number: int) -> list[Job]:
        rows = super().rows(status, number)
        if number == 1 or status not in self.terminal:
            return rows
        now = self.clock.now
        return [Job(f"job-new{i}", status, now, now) for i in range(self.grow)] + rows


async def test_a_final_list_that_grows_while_read_is_read_to_its_end(clock: FakeClock) -> None:
    """Objects ending during a final sweep push the oldest past page 1's count: still found."""
    source = GrowingJobSource(clock, grow=10)
    source.add("job-old", start=0.5, end=2.0)  # the oldest: last on the final lists
    await clock.sleep(1.0)
    ids = [f"job-{i}" for i in range(19)]
    for i, job_id in enumerate(ids):
        source.add(job_id, start=0.5, end=0.5 + i * 0.05)
    start = clock.now
    options = {"strategy": "sweep", "yield_list_items": True}
    async with track(source, ["job-old", *ids], **options) as tracker:
        got = {job.job_id: clock.now async for job in tracker}
    assert set(got) == {"job-old", *ids}
    # ended 1 s after start; page 1 said two pages, page 2 said three: the third was read
    assert got["job-old"] - start <= 3.0
    assert ("done", 3) in source.pages
    assert source.fetched == []  # every job from a list item, none by a safety-net poll


@attrs.frozen
class CountedJob(Job):
    """A listed job that records each time it is decoded whole."""

    decoded: list[str] = attrs.field(factory=list, eq=False, repr=False)

    def full(self) -> Job:
        self.decoded.append(self.job_id)
        return Job(self.job_id, self.state, self.created, self.ended)


class CountingJobSource(JobSource):
    """A toy source whose list items record being decoded whole (in `decoded`)."""

    def __init__(self, clock: FakeClock) -> None:
        super().__init__(clock)
        self.decoded: list[str] = []

    def rows(self, status: str, number: int) -> list[Job]:
        return [
            CountedJob(j.job_id, j.state, j.created, j.ended, self.decoded)
            for j in super().rows(status, number)
        ]


@pytest.mark.parametrize("list_items", [False, True])
async def test_a_sweep_decodes_list_items_whole_only_to_yield_them(
    clock: FakeClock, list_items: bool
) -> None:
    """Sweeps read ids and statuses; an item is decoded whole only when yielded from it."""
    source = CountingJobSource(clock)
    ids = [f"job-{i}" for i in range(30)]
    for i, job_id in enumerate(ids):
        source.add(job_id, start=0.5, end=2.0 + i * 0.1)
    options = {"strategy": "sweep", "yield_list_items": list_items}
    async with track(source, ids, **options) as tracker:
        got = [job async for job in tracker]
    assert sorted(job.job_id for job in got) == sorted(ids)
    assert sorted(source.decoded) == (sorted(ids) if list_items else [])


async def test_toy_list_items_are_yielded_without_fetching(clock: FakeClock) -> None:
    """yield_list_items: the toy's final lists finish jobs; nothing is fetched after them."""
    source = JobSource(clock)
    ids = [f"job-{i}" for i in range(20)]
    for i, job_id in enumerate(ids):
        source.add(job_id, start=1.0, end=6.0 + i)
    async with track(source, ids, strategy="sweep", yield_list_items=True) as tracker:
        got = await drain(tracker, clock)
    assert sorted(job.job_id for _, job in got) == sorted(ids)
    assert tracker.stats.found_by["list"] == len(ids)
    assert source.fetched == []


async def test_a_toy_job_that_does_not_exist_is_collected(clock: FakeClock) -> None:
    """A permanent error about one job is collected under its id; the others finish."""
    source = JobSource(clock, listable=False)
    source.add("job-a", start=0.5, end=2.0)
    async with track(source, ["job-a", "job-ghost"], on_error="collect") as tracker:
        got = await drain(tracker, clock)
    assert [job.job_id for _, job in got] == ["job-a"]
    assert set(tracker.errors) == {"job-ghost"}
    error = tracker.errors["job-ghost"]
    assert isinstance(error, NotFoundError)
    assert error.task_id == "job-ghost"


async def test_leaving_early_cancels_the_pending_toy_jobs(clock: FakeClock) -> None:
    """on_exit='cancel_remote' cancels the jobs still pending through the source, only them."""
    source = JobSource(clock, listable=False)
    source.add("job-fast", start=0.5, end=1.0)
    source.add("job-slow", start=0.5, end=500.0)
    async with track(source, ["job-fast", "job-slow"], on_exit="cancel_remote") as tracker:
        async for job in tracker:
            assert job.job_id == "job-fast"
            break
    assert source.canceled == ["job-slow"]


async def test_the_toy_deadline_names_the_pending_jobs(clock: FakeClock) -> None:
    """Past the deadline, TrackingTimeout uses the source's noun and names what is pending."""
    source = JobSource(clock, listable=False)
    source.add("job-slow", start=1.0, end=500.0)
    async with track(source, ["job-slow"], timeout=10) as tracker:
        with pytest.raises(TrackingTimeout, match="job job-slow did not finish") as info:
            await drain(tracker, clock)
    assert info.value.pending == {"job-slow"}


async def test_a_toy_tracker_kept_open_waits_for_added_jobs_until_closed(clock: FakeClock) -> None:
    """keep_open on the generic tracker: iteration waits for add() and ends after close()."""
    source = JobSource(clock, listable=False)
    source.add("job-a", start=0.5, end=1.0)
    source.add("job-b", start=0.5, end=40.0)
    start = clock.now

    async def feed(tracker: ObjectTracker[Job]) -> None:
        await clock.sleep(30.0)
        tracker.add("job-b")
        await clock.sleep(70.0)
        tracker.close()
        with pytest.raises(RuntimeError, match="no more job ids"):
            tracker.add("job-c")

    async with track(source, ["job-a"], keep_open=True) as tracker:
        async with anyio.create_task_group() as tg:
            tg.start_soon(feed, tracker)
            got = await drain(tracker, clock)
        assert clock.now - start == 100.0
    assert [job.job_id for _, job in got] == ["job-a", "job-b"]
    assert 40.0 <= got[1][0] - start < 100.0


def test_a_source_without_lists_cannot_be_swept_and_ids_are_its_own(clock: FakeClock) -> None:
    """strategy='sweep' needs status lists; ids are checked by the source, before any fetch."""
    source = JobSource(clock, listable=False)
    with pytest.raises(InvalidInputError, match="jobs cannot be swept"):
        track(source, ["job-1"], strategy="sweep")
    with pytest.raises(InvalidInputError, match="start with 'job-'"):
        track(source, ["job-1", "task-2"])
    assert source.fetched == []


# --- the engine on its own -------------------------------------------------------------------


def engine(clock: FakeClock, *, timeout: float | None = None, buffer: int = 4) -> Engine[int]:
    return Engine(
        clock,
        timeout=timeout,
        buffer=buffer,
        timeout_error=lambda: TrackingTimeout("late", pending=["x"]),
    )


async def test_a_driver_done_in_time_is_not_timed_out_by_a_late_consumer(
    clock: FakeClock,
) -> None:
    """Everything delivered before the deadline reaches a consumer that starts after it."""
    eng = engine(clock, timeout=5)

    async def driver() -> None:
        for i in range(3):
            eng.deliver(i)

    await eng.enter(driver)
    await clock.sleep(30.0)
    got = [await eng.next() for _ in range(3)]
    with pytest.raises(StopAsyncIteration):
        await eng.next()
    await eng.exit()
    assert got == [0, 1, 2]


async def test_put_waits_for_room_and_a_driver_error_reaches_the_consumer(
    clock: FakeClock,
) -> None:
    """put() holds the driver at `buffer` items; its exception is raised after them."""
    eng = engine(clock, buffer=2)
    sent: list[int] = []

    async def driver() -> None:
        for i in range(4):
            await eng.put(i)
            sent.append(i)
        raise ValueError("driver broke")

    await eng.enter(driver)
    await clock.sleep(1.0)
    assert sent == [0, 1]
    got = [await eng.next() for _ in range(4)]
    with pytest.raises(ValueError, match="driver broke"):
        await eng.next()
    await eng.exit()
    assert got == [0, 1, 2, 3]
    eng.raise_unreported()  # already raised to the consumer: nothing more


class LyingJobSource(JobSource):
    """A toy source whose first `lies` fetches of an id answer with `job-0` instead."""

    def __init__(self, clock: FakeClock, lies: int) -> None:
        super().__init__(clock, listable=False)
        self.lies = lies
        self.lied: dict[str, int] = {}

    async def fetch(self, object_id: str) -> Job:
        job = await super().fetch(object_id)
        if object_id != "job-0" and self.lied.get(object_id, 0) < self.lies:
            self.lied[object_id] = self.lied.get(object_id, 0) + 1
            return self.view("job-0")
        return job


async def test_the_engine_never_yields_an_object_it_did_not_ask_for(clock: FakeClock) -> None:
    """For any kind: a reply about another id is retried (counted) and each id comes once."""
    source = LyingJobSource(clock, lies=2)
    for i in range(3):
        source.add(f"job-{i}", start=0.0, end=1.0)
    await clock.sleep(2.0)  # every job has ended
    async with track(source, ["job-0", "job-1", "job-2"]) as tracker:
        got = [job for _, job in await drain(tracker, clock)]
    assert sorted(job.job_id for job in got) == ["job-0", "job-1", "job-2"]
    assert source.lied == {"job-1": 2, "job-2": 2}
    assert tracker.stats.retries == 4
    assert source.fetched.count("job-1") == 3
