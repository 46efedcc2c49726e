"""indexed_assets.wait and .track: the tracking engine on indexed assets.

Against the simulator over loopback (a `SimClock` shared by both sides: sweeps of the list
filtered by status, per-id polls, failures, errors), and against a scripted fake on the
`FakeClock` for the deadline.
"""

from __future__ import annotations

import random
from typing import Any

import pytest

from tests._simulator_support import SimClock, sim_and_client
from tests.conftest import API_KEY, FakeClock
from twelvelabs_async import (
    AsyncTwelveLabs,
    IndexedAssetDetail,
    InvalidInputError,
    NotFoundError,
    Request,
    Response,
    TrackingTimeout,
)
from twelvelabs_async.indexes import IndexedAssetSource, IndexedAssetTracker
from twelvelabs_async.testing import MockTransport, Simulator

URL = "https://videos.example.com/clip-{}.mp4"


async def _indexed(
    sim: Simulator, client: AsyncTwelveLabs, clock: SimClock, n: int
) -> tuple[str, list[str]]:
    """An index holding `n` freshly indexed (validating) assets: its id and theirs."""
    assets = [(await client.assets.create(url=URL.format(i))).asset_id for i in range(n)]
    clock.advance(10.0)  # URL imports: two draws of the (5 s) asset duration
    index = await client.indexes.create("clips", models={"marengo3.0": ["visual", "audio"]})
    ids = []
    for asset_id in assets:
        ref = await client.indexes.indexed_assets.create(index.index_id, asset_id)
        ids.append(ref.indexed_asset_id)
    return index.index_id, ids


async def _drain(tracker: IndexedAssetTracker) -> list[IndexedAssetDetail]:
    async with tracker:
        return [item async for item in tracker]


SETTINGS: dict[str, Any] = {
    "duration": (5.0, 5.0),
    "indexing_duration": (20.0, 400.0),
    "indexing_failure_rate": 0.3,
}


@pytest.mark.parametrize("strategy", ["sweep", "auto"])
async def test_track_sweeps_the_status_lists_and_yields_each_once(strategy: str) -> None:
    """Every id is yielded once, in its final status; sweeps read the filtered list."""
    async with sim_and_client(**SETTINGS) as (sim, client, clock):
        index_id, ids = await _indexed(sim, client, clock, 60)
        seen: list[IndexedAssetDetail] = []
        async with client.indexes.indexed_assets.track(
            index_id,
            ids,
            strategy=strategy,  # type: ignore[arg-type]
        ) as tracker:
            async for item in tracker:
                seen.append(item)
        finals = {i: sim.indexed_asset_status(i) for i in ids}
    assert sorted(i.indexed_asset_id for i in seen) == sorted(ids)
    assert {i.indexed_asset_id: str(i.status) for i in seen} == finals
    assert {"ready", "failed"} == set(finals.values())
    assert tracker.stats.sweeps > 0
    assert sim.stats.count("indexed_asset_list") > 0
    assert tracker.stats.found_by["sweep"] > 0  # a sweep saw them end; one GET each then
    assert tracker.pending == frozenset()


async def test_sweeps_can_yield_the_list_items_themselves() -> None:
    """With yield_list_items, finished ones come from the list (no hls, no user_metadata)."""
    async with sim_and_client(**SETTINGS) as (sim, client, clock):
        index_id, ids = await _indexed(sim, client, clock, 30)
        async with client.indexes.indexed_assets.track(
            index_id, ids, strategy="sweep", yield_list_items=True
        ) as tracker:
            seen = [item async for item in tracker]
    assert sorted(i.indexed_asset_id for i in seen) == sorted(ids)
    assert tracker.stats.from_list > 0
    assert all(i.is_terminal for i in seen)


async def test_per_id_polls_follow_each_to_the_end_without_lists() -> None:
    """strategy='per_task' retrieves each id until terminal and never lists."""
    async with sim_and_client(**SETTINGS) as (sim, client, clock):
        index_id, ids = await _indexed(sim, client, clock, 5)
        changes: list[str] = []
        async with client.indexes.indexed_assets.track(
            index_id, ids, strategy="per_task", on_status=lambda c: changes.append(c.new)
        ) as tracker:
            seen = [item.indexed_asset_id async for item in tracker]
    assert sorted(seen) == sorted(ids)
    assert sim.stats.count("indexed_asset_list") == 0
    assert "validating" in changes or "indexing" in changes


async def test_wait_returns_a_failed_indexed_asset() -> None:
    """wait() returns the indexed asset once terminal, a failed one too (never raised)."""
    settings = {**SETTINGS, "indexing_failure_rate": 1.0}
    async with sim_and_client(**settings) as (sim, client, clock):
        index_id, (item_id,) = await _indexed(sim, client, clock, 1)
        item = await client.indexes.indexed_assets.wait(index_id, item_id)
    assert (item.indexed_asset_id, item.status) == (item_id, "failed")
    assert item.indexed_at is not None


async def test_an_unknown_id_raises_not_found_naming_it() -> None:
    """A 404 about one id stops the tracker and names the id in the error's task_id."""
    async with sim_and_client(**SETTINGS) as (sim, client, clock):
        index_id, ids = await _indexed(sim, client, clock, 2)
        tracker = client.indexes.indexed_assets.track(
            index_id, [*ids, "f" * 24], strategy="per_task"
        )
        with pytest.raises(NotFoundError) as caught:
            await _drain(tracker)
    assert caught.value.task_id == "f" * 24  # type: ignore[attr-defined]


async def test_collect_records_the_unknown_id_and_delivers_the_rest() -> None:
    """on_error='collect' keeps going: the others are yielded, the 404 is in tracker.errors."""
    async with sim_and_client(**SETTINGS) as (sim, client, clock):
        index_id, ids = await _indexed(sim, client, clock, 3)
        async with client.indexes.indexed_assets.track(
            index_id, [*ids, "f" * 24], on_error="collect"
        ) as tracker:
            seen = [item.indexed_asset_id async for item in tracker]
    assert sorted(seen) == sorted(ids)
    assert list(tracker.errors) == ["f" * 24]
    assert isinstance(tracker.errors["f" * 24], NotFoundError)


def test_track_checks_ids_before_any_request() -> None:
    """A bad index id or indexed asset id raises InvalidInputError when track() is called."""
    client = AsyncTwelveLabs(API_KEY)
    with pytest.raises(InvalidInputError, match="index_id"):
        client.indexes.indexed_assets.track("../x", ["a"])
    with pytest.raises(InvalidInputError, match="indexed_asset_id"):
        client.indexes.indexed_assets.track("i1", ["a/b"])
    with pytest.raises(InvalidInputError, match="indexed_asset_ids must be a collection"):
        client.indexes.indexed_assets.track("i1", "abc")


async def test_the_source_refuses_to_cancel() -> None:
    """Indexing cannot be canceled: the source says so instead of sending anything."""
    client = AsyncTwelveLabs(API_KEY)
    source = IndexedAssetSource(client._http, "i1")
    with pytest.raises(InvalidInputError, match="cannot be canceled"):
        await source.cancel("x1")
    assert (source.active, source.final) == (
        ("validating", "pending", "queued", "indexing"),
        ("ready", "failed"),
    )


async def test_wait_raises_tracking_timeout_at_its_deadline(clock: FakeClock) -> None:
    """An indexed asset still indexing at the deadline raises TrackingTimeout naming it."""
    requests: list[Request] = []

    async def handler(request: Request) -> Response:
        requests.append(request)
        body = {"_id": "x1", "status": "indexing", "created_at": "2026-01-01T00:00:00Z"}
        return Response.from_json(200, body)

    async with AsyncTwelveLabs(
        API_KEY, transport=MockTransport(handler), clock=clock, rng=random.Random(1)
    ) as client:
        with pytest.raises(TrackingTimeout, match="indexed_asset x1 did not finish") as caught:
            await client.indexes.indexed_assets.wait("i1", "x1", timeout=60)
    assert caught.value.pending == frozenset({"x1"})
    assert {r.url for r in requests} == {
        "https://api.twelvelabs.io/v1.3/indexes/i1/indexed-assets/x1"
    }
    assert len(requests) > 2
