"""Trusting the reply: an answer about another object than the one asked for is malformed.

The tracking engine checks every fetched object against the id it polled (for any kind of
object: see test_tracking_sources.py), a transient decode error of that id, retried and never
yielded; `tasks.retrieve` and `batches.retrieve` refuse such a reply themselves.
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from aioresponses import aioresponses

from tests._tracker_fake import FakeAPI, Reply, drain
from tests.conftest import BASE_URL, FakeClock
from twelvelabs_async import AsyncTwelveLabs, Batch, BatchResult, DecodeError, TrackingTimeout
from twelvelabs_async.tracking import BatchPolicy, BatchTracker, PollPolicy


async def test_a_server_answering_t1_for_every_id_never_yields_t1_twice(
    poller: AsyncTwelveLabs, mock_api: aioresponses, clock: FakeClock
) -> None:
    """The server answers task t1 to the first two retrieves of t2 and t3: each task comes
    out once, as itself, after retries of the ids that were answered wrongly.
    """
    api = FakeAPI(mock_api, clock)
    for task_id in ("t1", "t2", "t3"):
        api.add(task_id, 0)
    for task_id in ("t2", "t3"):
        api.fail(task_id, Reply(payload=api.body("t1")), Reply(payload=api.body("t1")))
    async with poller.analyze.tasks.track(["t1", "t2", "t3"], strategy="per_task") as tracker:
        got = await drain(tracker, clock)
    assert sorted(g.task_id for g in got) == ["t1", "t2", "t3"]
    assert tracker.stats.retries == 4
    assert api.retrieved().count("t2") == api.retrieved().count("t3") == 3


async def test_a_server_that_always_answers_t1_leaves_the_others_pending(
    poller: AsyncTwelveLabs, mock_api: aioresponses, clock: FakeClock
) -> None:
    """With every retrieve answered about t1, t1 is yielded once and t2, t3 time out pending."""
    api = FakeAPI(mock_api, clock)
    for task_id in ("t1", "t2", "t3"):
        api.add(task_id, 0)
    lies = [Reply(payload=api.body("t1")) for _ in range(200)]
    for task_id in ("t2", "t3"):
        api.fail(task_id, *lies)
    policy = PollPolicy(max_interval=5.0)
    tracker = poller.analyze.tasks.track(["t1", "t2", "t3"], timeout=60, poll_policy=policy)
    got: list[Any] = []
    with pytest.raises(TrackingTimeout) as info:
        async with tracker:
            await drain(tracker, clock, got)
    assert [g.task_id for g in got] == ["t1"]
    assert info.value.pending == {"t2", "t3"}
    assert tracker.stats.retries >= 10


@pytest.mark.parametrize(
    ("kind", "path", "payload"),
    [
        ("tasks", "analyze/tasks/t2", {"task_id": "t1", "status": "ready"}),
        ("batches", "analyze/batches/b2", {"batch_id": "b1\u202e", "status": "completed"}),
    ],
)
async def test_retrieve_refuses_a_reply_about_another_object(
    client: AsyncTwelveLabs, mock_api: aioresponses, kind: str, path: str, payload: Any
) -> None:
    """retrieve(id) answered about another id: retried as malformed, then DecodeError."""
    mock_api.get(f"{BASE_URL}/{path}", payload=payload, repeat=True)
    with pytest.raises(DecodeError) as info:
        await getattr(client.analyze, kind).retrieve(path.rsplit("/", 1)[1])
    noun = kind.removesuffix("es").removesuffix("s")
    assert info.value.path == f"$.{noun}_id"
    assert f"asked for {noun} {noun[0]}2, the reply is about {noun} " in str(info.value)
    assert "\u202e" not in str(info.value)
    assert len(mock_api.requests[next(iter(mock_api.requests))]) == 4  # 1 + max_retries


class WrongBatchFirst:
    """A batch source whose first retrieve answers about batch `other` (a `BatchSource`)."""

    def __init__(self) -> None:
        self.fetches = 0

    async def fetch(self, batch_id: str) -> Batch:
        self.fetches += 1
        answered = "other" if self.fetches == 1 else batch_id
        return Batch(answered, "completed", total_items=1, ready_items=1)

    @asynccontextmanager
    async def results(self, batch_id: str) -> AsyncIterator[AsyncIterator[BatchResult]]:
        async def lines() -> AsyncIterator[BatchResult]:
            yield BatchResult("t1", "ready")

        yield lines()


async def test_the_batch_tracker_retries_a_reply_about_another_batch(clock: FakeClock) -> None:
    """The batch tracker uses no batch it did not ask for: it retries, then goes on."""
    source = WrongBatchFirst()
    tracker = BatchTracker(
        source, "b1", clock=clock, rng=random.Random(1), timeout=None, policy=BatchPolicy(),
        buffer=8,
    )  # fmt: skip
    async with tracker:
        got = [item.task_id async for item in tracker]
    assert got == ["t1"]
    assert source.fetches == 2
    assert tracker.stats.retries == 1
    assert tracker.batch is not None
    assert tracker.batch.batch_id == "b1"
