"""The engine's by-id capability: a source that fetches many objects in one request (`ByIds`).

Toy render jobs (`tests/test_tracking_sources.py`) in memory on the `FakeClock`, whose source
also answers `fetch_many`: due polls are coalesced into requests of up to `max_ids` ids, an id
missing from a reply is confirmed by one `fetch`, a reply holding an object not asked for is
malformed, and every guarantee of the tracker holds.
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Sequence

import anyio
import pytest

from tests.conftest import FakeClock
from tests.test_tracking_sources import Job, JobSource, track
from twelvelabs_async import (
    AuthenticationError,
    DecodeError,
    NotFoundError,
    ServerError,
    TrackingTimeout,
)
from twelvelabs_async.tracking import ByIds, PollPolicy, StatusChange
from twelvelabs_async.tracking._tracker import ObjectTracker

STEADY = PollPolicy(jitter=0.0)
"""No jitter: due times are exact, so which ids share a request is known."""


class BatchJobSource(JobSource):
    """Toy jobs that can also be fetched many at once; records every request."""

    def __init__(self, clock: FakeClock, *, max_ids: int = 10) -> None:
        super().__init__(clock, listable=False)
        self.max_ids = max_ids
        self.batches: list[tuple[float, tuple[str, ...]]] = []
        self.hidden: set[str] = set()
        """Ids the list leaves out although `fetch` finds them (a list that lags)."""
        self.extra: deque[list[Job] | Exception] = deque()
        """Scripted answers of the next requests: jobs added to the reply, or an error."""

    async def fetch_many(self, ids: Sequence[str]) -> Sequence[Job]:
        self.batches.append((self.clock.now, tuple(ids)))
        await anyio.lowlevel.checkpoint()
        script = self.extra.popleft() if self.extra else []
        if isinstance(script, Exception):
            raise script
        found = [self.view(i) for i in ids if i in self.jobs and i not in self.hidden]
        return found + script

    def asked(self) -> Counter[str]:
        """How many requests asked for each id."""
        return Counter(i for _, ids in self.batches for i in ids)


async def consume(tracker: ObjectTracker[Job], *, fail: bool = False) -> None:
    """Iterate `tracker` in its block to the end, or raise KeyError at the first job."""
    async with tracker:
        async for job in tracker:
            if fail:
                raise KeyError(job.job_id)


def test_a_source_with_max_ids_and_fetch_many_offers_fetching_by_id(clock: FakeClock) -> None:
    """The protocol is recognised by its members: the toy with them is a ByIds, without is not."""
    assert isinstance(BatchJobSource(clock), ByIds)
    assert not isinstance(JobSource(clock), ByIds)


async def test_5000_ids_cost_100_full_requests_a_round(clock: FakeClock) -> None:
    """5,000 due ids go in 100 requests of 50; later ones stay full; each id polled every 1 s."""
    source = BatchJobSource(clock, max_ids=50)
    ids = [f"job-{i}" for i in range(5_000)]
    for i, job_id in enumerate(ids):
        source.add(job_id, start=0.5, end=5.0 + (i % 100) * 0.1)  # ending over 5-15 s
    start = clock.now
    async with track(source, ids, max_in_flight=64) as tracker:
        got = {job.job_id: clock.now async for job in tracker}
    assert sorted(got) == sorted(ids)
    # Polled within min_interval (1 s) while running: found at most 1 s after it ended.
    assert max(at - source.jobs[job_id].end for job_id, at in got.items()) <= 1.0 + 1e-6
    first = [batch for at, batch in source.batches if at == start]
    assert len(first) == 100
    assert all(len(batch) == 50 for batch in first)
    assert sorted(i for batch in first for i in batch) == sorted(ids)
    sizes = [len(batch) for _, batch in source.batches]
    assert max(sizes) == 50
    assert sum(size == 50 for size in sizes) >= 0.9 * len(sizes)
    # Requests are the polls of ids divided by 50, give or take the last, partial ones.
    assert len(sizes) <= sum(sizes) / 50 + 20
    assert source.fetched == []
    assert tracker.stats.requests == Counter({"retrieve_many": len(sizes)})
    assert tracker.stats.found_by == Counter({"poll": 5_000})


async def test_ids_nearly_due_share_a_request_and_a_lone_id_is_fetched_alone(
    clock: FakeClock,
) -> None:
    """An id due alone is fetched alone; one due within half a min_interval goes along."""
    source = BatchJobSource(clock)
    source.add("job-a", start=0.0, end=100.0)
    source.add("job-b", start=0.0, end=100.0)
    start = clock.now
    async with track(source, ["job-a"], poll_policy=STEADY, timeout=1.5) as tracker:
        await clock.sleep(0.6)
        tracker.add("job-b")  # due now; job-a is due 0.4 s later: within the 0.5-s lead
        with pytest.raises(TrackingTimeout):
            async for _ in tracker:
                pass
    assert source.fetched == ["job-a"]  # its first poll, alone at the start
    assert source.batches[0] == (start + 0.6, ("job-b", "job-a"))
    assert tracker.stats.requests["retrieve"] == 1
    assert tracker.stats.requests["retrieve_many"] == len(source.batches)


@pytest.mark.parametrize("on_error", ["collect", "raise"])
async def test_an_id_missing_from_the_reply_is_fetched_alone_once(
    clock: FakeClock, on_error: str
) -> None:
    """The reply leaves out an unknown id: one fetch, 404, handled per on_error."""
    source = BatchJobSource(clock)
    for job_id in ("job-a", "job-b", "job-c"):
        source.add(job_id, start=0.5, end=3.0)
    ids = ["job-a", "job-ghost", "job-b", "job-c"]
    async with track(source, ids, on_error=on_error, poll_policy=STEADY) as tracker:
        if on_error == "raise":
            with pytest.raises(NotFoundError) as caught:
                async for _ in tracker:
                    pass
            assert caught.value.task_id == "job-ghost"
        else:
            got = sorted([job.job_id async for job in tracker])
            assert got == ["job-a", "job-b", "job-c"]
            error = tracker.errors["job-ghost"]
            assert isinstance(error, NotFoundError)
            assert error.task_id == "job-ghost"
    assert source.fetched == ["job-ghost"]  # the others always shared requests
    assert source.asked()["job-ghost"] == 1
    assert tracker.stats.requests["retrieve"] == 1


async def test_an_id_the_list_leaves_out_but_fetch_finds_is_still_delivered(
    clock: FakeClock,
) -> None:
    """Missing from every list reply, found by its confirming fetch: yielded once, by fetch."""
    source = BatchJobSource(clock)
    for job_id in ("job-a", "job-b"):
        source.add(job_id, start=0.5, end=4.0)
    source.hidden.add("job-b")
    async with track(source, ["job-a", "job-b"], poll_policy=STEADY) as tracker:
        got = [job.job_id async for job in tracker]
    assert sorted(got) == ["job-a", "job-b"]
    # Each reply that left it out was followed by a fetch of it alone.
    assert source.fetched.count("job-b") >= len([1 for _, b in source.batches if "job-b" in b])
    assert tracker.errors == {}


@pytest.mark.parametrize("stranger", ["job-z", "job-a"], ids=["not-asked", "repeated"])
async def test_a_reply_with_an_object_not_asked_for_is_malformed_and_retried(
    clock: FakeClock, stranger: str
) -> None:
    """An extra (or repeated) object: DecodeError, one retry, asked ids polled again, no yield."""
    source = BatchJobSource(clock)
    for job_id in ("job-a", "job-b", "job-z"):
        source.add(job_id, start=0.0, end=0.0)  # already done
    source.extra.append([source.view(stranger)])
    async with track(source, ["job-a", "job-b"]) as tracker:
        got = [job.job_id async for job in tracker]
    assert sorted(got) == ["job-a", "job-b"]
    assert len(source.batches) == 2  # the malformed reply, then the retry
    assert source.batches[0][1] == source.batches[1][1]
    assert tracker.stats.retries == 1
    assert tracker.stats.yielded == 2


async def test_a_failed_request_is_one_retry_and_a_permanent_one_stops_everything(
    clock: FakeClock,
) -> None:
    """A 5xx on a batch is one retry for all its ids; a 401 is raised even when collecting."""
    source = BatchJobSource(clock)
    for job_id in ("job-a", "job-b"):
        source.add(job_id, start=0.0, end=0.0)
    source.extra.append(ServerError("down", status_code=503))
    async with track(source, ["job-a", "job-b"]) as tracker:
        got = [job.job_id async for job in tracker]
    assert sorted(got) == ["job-a", "job-b"]
    assert tracker.stats.retries == 1
    assert len(source.batches) == 2

    source = BatchJobSource(clock)
    for job_id in ("job-a", "job-b"):
        source.add(job_id, start=0.0, end=0.0)
    source.extra.append(AuthenticationError("bad key", status_code=401))
    with pytest.raises(AuthenticationError):
        await consume(track(source, ["job-a", "job-b"], on_error="collect"))
    assert len(source.batches) == 1


async def test_the_deadline_stops_batched_polls_and_nothing_runs_after_exit(
    clock: FakeClock,
) -> None:
    """Past the timeout: TrackingTimeout naming what is pending; no request after the block."""
    source = BatchJobSource(clock)
    ids = [f"job-{i}" for i in range(25)]
    for job_id in ids:
        source.add(job_id, start=0.0, end=1000.0)
    async with track(source, ids, timeout=10.0) as tracker:
        with pytest.raises(TrackingTimeout) as caught:
            async for _ in tracker:
                pass
    assert sorted(caught.value.pending) == sorted(ids)
    sent = len(source.batches)
    assert sent >= 3
    await clock.sleep(120.0)
    assert len(source.batches) == sent


async def test_a_consumer_error_leaves_the_block_and_stops_all_polling(
    clock: FakeClock,
) -> None:
    """An exception in the loop body is raised from the block; no request after it."""
    source = BatchJobSource(clock)
    ids = [f"job-{i}" for i in range(30)]
    for i, job_id in enumerate(ids):
        source.add(job_id, start=0.0, end=2.0 + i)
    tracker = track(source, ids)
    with pytest.raises(KeyError):
        await consume(tracker, fail=True)
    assert len(tracker.done) == 1
    sent = len(source.batches)
    await clock.sleep(120.0)
    assert len(source.batches) == sent


async def test_each_object_is_yielded_once_with_a_slow_batch_and_added_ids(
    clock: FakeClock,
) -> None:
    """Ids added while a batch is in flight are not asked twice at once; each comes out once."""
    source = BatchJobSource(clock, max_ids=4)
    ids = [f"job-{i}" for i in range(10)]
    for i, job_id in enumerate(ids):
        source.add(job_id, start=0.0, end=1.0 + i * 0.5)
    async with track(source, ids[:6], poll_policy=STEADY) as tracker:
        got: list[str] = []
        async for job in tracker:
            got.append(job.job_id)
            tracker.add(*ids[6:], job.job_id)  # repeats, and an id already yielded
    assert sorted(got) == sorted(ids)
    assert all(len(set(batch)) == len(batch) for _, batch in source.batches)
    assert max(len(batch) for _, batch in source.batches) <= 4


def test_decode_error_of_a_reply_names_the_stranger(clock: FakeClock) -> None:
    """The malformed-reply error says which object was not asked for."""
    from twelvelabs_async.tracking._by_ids import ByIdsPolls

    source = BatchJobSource(clock)
    source.add("job-z", start=0.0, end=0.0)
    tracker = track(source, ["job-a"])
    polls = tracker._by_ids
    assert isinstance(polls, ByIdsPolls)
    entry = tracker._schedule.entries["job-a"]
    with pytest.raises(DecodeError, match="job-z"):
        polls._match([entry], [source.view("job-z")])


async def test_status_changes_seen_in_batches_reach_on_status_once_each(
    clock: FakeClock,
) -> None:
    """Each job's first status and its change to done are reported once, from batched polls."""
    source = BatchJobSource(clock)
    ids = [f"job-{i}" for i in range(6)]
    for i, job_id in enumerate(ids):
        source.add(job_id, start=0.0, end=2.0 + i * 0.5)
    changes: list[StatusChange] = []
    async with track(source, ids, on_status=changes.append, poll_policy=STEADY) as tracker:
        got = [job.job_id async for job in tracker]
    assert sorted(got) == ids
    seen = sorted((c.task_id, c.old or "-", c.new) for c in changes)
    assert seen == sorted(
        [(i, "-", "rendering") for i in ids] + [(i, "rendering", "done") for i in ids]
    )


async def test_a_server_that_keeps_sending_strangers_makes_the_tracker_fetch_alone(
    clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    """Three replies in a row with objects not asked for: batching stops, ids are fetched alone."""
    source = BatchJobSource(clock)
    for job_id in ("job-a", "job-b", "job-z"):
        source.add(job_id, start=0.0, end=0.0)
    source.extra.extend([[source.view("job-z")]] * 5)
    async with track(source, ["job-a", "job-b"]) as tracker:
        got = sorted([job.job_id async for job in tracker])
    assert got == ["job-a", "job-b"]
    assert len(source.batches) == 3
    assert sorted(source.fetched) == ["job-a", "job-b"]
    assert "fetching each job alone" in caplog.text


class LazyJobSource(BatchJobSource):
    """Replies whose items record being decoded whole; `broken` ids fail that once."""

    def __init__(self, clock: FakeClock) -> None:
        super().__init__(clock)
        self.decoded: list[str] = []
        self.broken: set[str] = set()

    async def fetch_many(self, ids: Sequence[str]) -> Sequence[Job]:
        return [LazyJob(j, self) for j in await super().fetch_many(ids)]


class LazyJob(Job):
    """A listed job that records its decoding (and fails it once when its id is broken)."""

    def __init__(self, job: Job, source: LazyJobSource) -> None:
        super().__init__(job.job_id, job.state, job.created, job.ended)
        object.__setattr__(self, "_source", source)

    def full(self) -> Job:
        source: LazyJobSource = object.__getattribute__(self, "_source")
        source.decoded.append(self.job_id)
        if self.job_id in source.broken:
            source.broken.discard(self.job_id)
            raise DecodeError("cut short", path="$.data[0]")
        return Job(self.job_id, self.state, self.created, self.ended)


async def test_only_finished_objects_are_decoded_whole_and_a_bad_one_is_polled_again(
    clock: FakeClock,
) -> None:
    """Running items are read, not decoded; a finished one that cannot be decoded is retried."""
    source = LazyJobSource(clock)
    ids = [f"job-{i}" for i in range(5)]
    for i, job_id in enumerate(ids):
        source.add(job_id, start=0.0, end=3.0 + i)
    source.broken.add("job-2")
    async with track(source, ids, poll_policy=STEADY) as tracker:
        got = [job async for job in tracker]
    assert sorted(job.job_id for job in got) == ids
    assert all(type(job) is Job for job in got)  # the decoded object, not the list item
    counts = Counter(source.decoded)  # (the last job may be fetched alone, not listed)
    assert counts["job-2"] == 2
    assert all(n == 1 for job_id, n in counts.items() if job_id != "job-2")
    assert sum(len(batch) for _, batch in source.batches) > 3 * len(source.decoded)
    assert tracker.stats.retries == 1
