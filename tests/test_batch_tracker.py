"""client.analyze.batches.track: items yielded once, driven by counts; errors, deadline, exit."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
import pytest
from aioresponses import aioresponses

from tests._payloads import calls
from tests._server import LoopbackServer, ndjson, reply
from tests._simulator_support import sim_and_client
from tests.conftest import API_KEY, BASE_URL, FakeClock
from twelvelabs_async import (
    AssetVideo,
    AsyncTwelveLabs,
    AuthenticationError,
    BatchDefaults,
    BatchRequest,
    BatchResult,
    BatchTracker,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
    ServerError,
    TrackingTimeout,
)

Client = AsyncTwelveLabs
Mock = aioresponses
B1 = f"{BASE_URL}/analyze/batches/b1"
RESULTS = f"{B1}/results"


def batch(status: str = "processing", total: int = 3, **counts: int) -> dict[str, Any]:
    """A batch with `total` items and the given counts (`ready=2`, ...)."""
    return {
        "batch_id": "b1",
        "status": status,
        "total_items": total,
        **{f"{name}_items": n for name, n in counts.items()},
    }


def lines(*statuses: str) -> bytes:
    """Results JSON Lines: item i has task id `t{i+1}` and the i-th status."""
    out = []
    for i, status in enumerate(statuses, 1):
        line: dict[str, Any] = {"task_id": f"t{i}", "custom_id": f"c{i}", "status": status}
        if status == "ready":
            usage = {"output_tokens": 3}
            line["data"] = {"generation_id": "g", "data": "x", "finish_reason": "stop"}
            line["data"]["usage"] = usage
        elif status == "failed":
            line["error"] = {"message": "broken"}
        out.append(json.dumps(line))
    return ("\n".join(out) + "\n").encode()


async def drain(tracker: BatchTracker, into: list[str] | None = None) -> list[str]:
    """Run the tracker to its end; returns (and appends to `into`) the yielded task ids."""
    got = into if into is not None else []
    async with tracker:
        async for item in tracker:
            got.append(item.task_id)
    return got


# --- counts drive the reads ---------------------------------------------------------------------


async def test_items_are_yielded_once_and_results_read_only_when_counts_grow(
    poller: Client, mock_api: Mock, clock: FakeClock
) -> None:
    """Four looks, three reads: the first, then only when ready+failed+canceled grew."""
    mock_api.get(B1, payload=batch(queued=2, processing=1))
    mock_api.get(RESULTS, body=lines("processing", "queued", "queued"))
    mock_api.get(B1, payload=batch(queued=1, processing=2))
    mock_api.get(B1, payload=batch(processing=1, ready=1, failed=1))
    mock_api.get(RESULTS, body=lines("ready", "failed", "processing"))
    mock_api.get(B1, payload=batch("completed", ready=1, failed=1, canceled=1))
    mock_api.get(RESULTS, body=lines("ready", "failed", "canceled"))
    items: list[BatchResult] = []
    async with poller.analyze.batches.track("b1") as tracker:
        assert tracker.pending == frozenset()
        async for item in tracker:
            items.append(item)
    assert [(i.task_id, str(i.status)) for i in items] == [
        ("t1", "ready"),
        ("t2", "failed"),
        ("t3", "canceled"),
    ]
    assert items[0].data is not None
    assert items[1].error is not None
    assert tracker.done == {"t1", "t2", "t3"}
    assert tracker.pending == frozenset()
    assert tracker.batch is not None
    assert tracker.batch.status == "completed"
    assert dict(tracker.stats.requests) == {"retrieve": 4, "results": 3}
    assert tracker.stats.yielded == 3
    assert tracker.stats.lines == 9
    # 5 s grows by half while nothing new is found, and resets when items arrive (+-10 %).
    waits = clock.sleeps  # the client does not retry inside requests: every wait is the tracker's
    assert len(waits) == 3
    for wait, base in zip(waits, (7.5, 11.25, 5.0), strict=True):
        assert base * 0.9 <= wait <= base * 1.1


async def test_a_finished_batch_costs_one_look_and_one_read(
    poller: Client, mock_api: Mock, clock: FakeClock
) -> None:
    """A batch already completed is retrieved once, read once, and every item yielded."""
    mock_api.get(B1, payload=batch("completed", ready=2, failed=1))
    mock_api.get(RESULTS, body=lines("ready", "ready", "failed"))
    got = await drain(poller.analyze.batches.track("b1"))
    assert got == ["t1", "t2", "t3"]
    assert len(calls(mock_api, "GET", B1)) == 1
    assert len(calls(mock_api, "GET", RESULTS)) == 1
    assert clock.sleeps == []


async def test_counts_ahead_of_the_results_are_read_again_without_repeats(
    poller: Client, mock_api: Mock
) -> None:
    """When the counts run ahead of the file, it is read again; no item is yielded twice."""
    mock_api.get(B1, payload=batch(total=2, ready=2))
    mock_api.get(RESULTS, body=lines("ready", "processing"))
    mock_api.get(B1, payload=batch(total=2, ready=2))
    mock_api.get(RESULTS, body=lines("ready", "ready"))
    mock_api.get(B1, payload=batch("completed", total=2, ready=2))
    async with poller.analyze.batches.track("b1") as tracker:
        got = [item.task_id async for item in tracker]
    assert got == ["t1", "t2"]
    assert dict(tracker.stats.requests) == {"retrieve": 3, "results": 2}


async def test_a_canceled_batch_ends_once_its_processing_items_finish(
    poller: Client, mock_api: Mock
) -> None:
    """`canceling` is not the end: the tracker waits for `canceled` and yields every item."""
    mock_api.get(B1, payload=batch("canceling", total=2, canceled=1, processing=1))
    mock_api.get(RESULTS, body=lines("canceled", "processing"))
    mock_api.get(B1, payload=batch("canceled", total=2, canceled=1, ready=1))
    mock_api.get(RESULTS, body=lines("canceled", "ready"))
    got = await drain(poller.analyze.batches.track("b1"))
    assert got == ["t1", "t2"]


# --- deadline, errors ----------------------------------------------------------------------------


async def test_deadline_raises_tracking_timeout_naming_the_pending_items(
    poller: Client, mock_api: Mock, clock: FakeClock
) -> None:
    """Past `timeout`, TrackingTimeout names the task ids not yielded; finished ones came first."""
    start = clock.now
    mock_api.get(B1, payload=batch(ready=1, processing=1, queued=1), repeat=True)
    mock_api.get(RESULTS, body=lines("ready", "processing", "queued"), repeat=True)
    got: list[str] = []
    with pytest.raises(TrackingTimeout) as info:
        await drain(poller.analyze.batches.track("b1", timeout=30), got)
    assert got == ["t1"]
    assert info.value.pending == {"t2", "t3"}
    assert "b1" in str(info.value)
    assert clock.now - start == pytest.approx(30, abs=0.01)
    assert len(calls(mock_api, "GET", RESULTS)) == 1


async def test_transient_failures_are_retried_and_a_server_delay_honoured(
    poller: Client, mock_api: Mock, clock: FakeClock
) -> None:
    """503, a 429 with Retry-After and a dropped connection are retried; nothing is lost."""
    mock_api.get(B1, status=503)
    mock_api.get(B1, status=429, headers={"Retry-After": "7"})
    mock_api.get(B1, payload=batch("completed", total=2, ready=2))
    mock_api.get(RESULTS, exception=aiohttp.ServerDisconnectedError())
    mock_api.get(RESULTS, body=lines("ready", "ready"))
    async with poller.analyze.batches.track("b1") as tracker:
        got = [item.task_id async for item in tracker]
    assert got == ["t1", "t2"]
    assert tracker.stats.retries == 3
    assert dict(tracker.stats.requests) == {"retrieve": 3, "results": 2}
    assert any(7.0 <= wait <= 7.7 for wait in clock.sleeps)


async def test_the_retry_budget_ends_in_the_last_error(poller: Client, mock_api: Mock) -> None:
    """After `max_retries` transient failures in a row, the plain ServerError is raised."""
    mock_api.get(B1, status=500, repeat=True)
    with pytest.raises(ServerError):
        await drain(poller.analyze.batches.track("b1", max_retries=2))
    assert len(calls(mock_api, "GET", B1)) == 3


@pytest.mark.parametrize(
    ("status", "error"),
    [(401, AuthenticationError), (403, PermissionDeniedError), (404, NotFoundError)],
)
async def test_auth_and_not_found_raise_the_plain_exception_at_once(
    poller: Client, mock_api: Mock, status: int, error: type[Exception]
) -> None:
    """401, 403 and 404 are raised as they are, after a single request."""
    mock_api.get(B1, status=status, payload={"code": "nope", "message": "no"})
    with pytest.raises(error):
        await drain(poller.analyze.batches.track("b1"))
    assert len(calls(mock_api, "GET", B1)) == 1


async def test_a_stream_that_breaks_midway_is_read_again_without_repeats(
    clock: FakeClock,
) -> None:
    """Items read before the connection broke are yielded once; the re-read yields the rest."""
    first, second = lines("ready", "ready").split(b"\n")[:2]
    async with LoopbackServer() as server:
        server.on("GET", "analyze/batches/b1", reply(200, batch("completed", total=2, ready=2)))
        server.on(
            "GET",
            "analyze/batches/b1/results",
            ndjson([first + b"\n", second[:10]], drop=True),
            ndjson([first + b"\n" + second + b"\n"]),
        )
        async with (
            AsyncTwelveLabs(
                API_KEY, base_url=server.base_url, clock=clock, max_retries=0
            ) as client,
            client.analyze.batches.track("b1") as tracker,
        ):
            got = [item.task_id async for item in tracker]
        assert got == ["t1", "t2"]
        assert tracker.stats.retries == 1
        assert len(server.seen("GET", "analyze/batches/b1/results")) == 2


# --- leaving, misuse ----------------------------------------------------------------------------


async def test_leaving_early_stops_every_request_and_leaks_no_task(
    poller: Client, mock_api: Mock, clock: FakeClock
) -> None:
    """After `break`, no request is sent and no task of the tracker is left running."""
    before = asyncio.all_tasks()
    mock_api.get(B1, payload=batch(ready=2, processing=1), repeat=True)
    mock_api.get(RESULTS, body=lines("ready", "ready", "processing"), repeat=True)
    async with poller.analyze.batches.track("b1", timeout=3600) as tracker:
        async for item in tracker:
            assert item.task_id == "t1"
            break
    sent = len(mock_api.requests)
    for _ in range(50):
        await asyncio.sleep(0)
    assert len(mock_api.requests) == sent
    left = {t for t in asyncio.all_tasks() - before if not t.done()}
    assert {t for t in left if t.get_coro().__qualname__ != "FakeClock._drive"} == set()
    with pytest.raises(RuntimeError, match="exited"):
        await tracker.__anext__()


async def test_misuse_is_refused(poller: Client, mock_api: Mock) -> None:
    """Iterating outside `async with`, or entering twice, raises RuntimeError."""
    mock_api.get(B1, payload=batch("completed", total=0))
    mock_api.get(RESULTS, body=b"")
    tracker = poller.analyze.batches.track("b1")
    with pytest.raises(RuntimeError, match="async with"):
        await tracker.__anext__()
    assert await drain(tracker) == []
    with pytest.raises(RuntimeError, match="entered once"):
        await tracker.__aenter__()


@pytest.mark.parametrize(
    "kwargs",
    [
        {"timeout": -1},
        {"poll_interval": 0},
        {"poll_interval": 10, "max_poll_interval": 5},
        {"max_retries": -1},
        {"max_retries": True},
        {"buffer": 0},
    ],
)
async def test_track_refuses_bad_arguments_before_any_request(
    poller: Client, mock_api: Mock, kwargs: dict[str, Any]
) -> None:
    """Out-of-range options raise InvalidInputError when track() is called."""
    with pytest.raises(InvalidInputError):
        poller.analyze.batches.track("b1", **kwargs)
    assert mock_api.requests == {}


# --- on the simulator ----------------------------------------------------------------------------


def _requests(n: int) -> list[BatchRequest]:
    return [BatchRequest(AssetVideo(f"asset-{i}"), custom_id=f"item-{i}") for i in range(n)]


async def test_tracks_a_canceled_batch_on_the_simulator() -> None:
    """After a cancel, queued items come back canceled, processing ones finish; all once."""
    async with sim_and_client(duration=(100.0, 100.0), queued_fraction=0.5) as (sim, client, clock):
        first = await client.analyze.batches.create(
            requests=_requests(3), analysis_mode="general", defaults=BatchDefaults(prompt="Hi")
        )
        clock.advance(60)  # the first batch's items are processing
        second = await client.analyze.batches.create(
            requests=_requests(2), analysis_mode="general", defaults=BatchDefaults(prompt="Hi")
        )
        await client.analyze.batches.cancel(first.batch_id)
        await client.analyze.batches.cancel(second.batch_id)
        got: dict[str, str] = {}
        for created in (first, second):
            async with client.analyze.batches.track(created.batch_id) as tracker:
                async for item in tracker:
                    got[item.task_id] = str(item.status)
            assert tracker.batch is not None
            assert tracker.batch.status == "canceled"
        assert got == {
            **{i.task_id: "ready" for i in first.items},
            **{i.task_id: "canceled" for i in second.items},
        }
        assert sim.stats.count("batch_results", 200) >= 2


async def test_tracks_an_expiring_batch_on_the_simulator() -> None:
    """Items unfinished 24 h after creation are yielded canceled; the batch ends expired."""
    async with sim_and_client(duration=(3600.0, 200_000.0)) as (_sim, client, clock):
        start = clock.now
        created = await client.analyze.batches.create(
            requests=_requests(20), analysis_mode="general", defaults=BatchDefaults(prompt="Hi")
        )
        statuses = []
        track = client.analyze.batches.track(
            created.batch_id, poll_interval=600, max_poll_interval=7200
        )
        async with track as tracker:
            async for item in tracker:
                statuses.append(str(item.status))
        assert len(statuses) == 20
        assert set(statuses) == {"ready", "canceled"}
        assert tracker.batch is not None
        assert tracker.batch.status == "expired"
        assert clock.now >= start + 24 * 3600


@pytest.mark.timeout(180)
async def test_a_1000_item_batch_costs_fewer_requests_than_tracking_its_tasks(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Done-when: 1,000 items tracked to the end, each yielded once, in far fewer requests."""
    counts: dict[str, int] = {}
    yielded: dict[str, list[str]] = {}
    settings = {"duration": (5.0, 30.0), "failure_rate": 0.05, "seed": 11}
    for mode in ("batch", "per_task"):
        # The same seed, clock start and body give the same 1,000 task ids and timelines.
        async with sim_and_client(**settings) as (sim, client, _clock):
            created = await client.analyze.batches.create(
                requests=_requests(1000),
                analysis_mode="general",
                defaults=BatchDefaults(prompt="Summarize"),
            )
            ids = [i.task_id for i in created.items]
            before = sim.stats.total
            got: list[str] = []
            if mode == "batch":
                async with client.analyze.batches.track(created.batch_id) as tracker:
                    got = [item.task_id async for item in tracker]
            else:
                async with client.analyze.tasks.track(ids, strategy="per_task") as tasks:
                    got = [task.task_id async for task in tasks]
            counts[mode] = sim.stats.total - before
            yielded[mode] = got
            assert sorted(got) == sorted(ids)
            assert len(got) == len(set(got)) == 1000
    assert sorted(yielded["batch"]) == sorted(yielded["per_task"])
    assert counts["batch"] < counts["per_task"]
    with capsys.disabled():
        print(
            f"\n1,000-item batch: {counts['batch']} requests with batches.track(), "
            f"{counts['per_task']} with tasks.track(ids, strategy='per_task')"
        )
