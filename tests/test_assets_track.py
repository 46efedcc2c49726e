"""`client.assets.wait` and `client.assets.track` on a fake `/assets` API in virtual time.

What goes on the wire (one `GET /assets/{id}` for a wait, the id-filtered list with up to 50
`asset_ids` for a tracker), ids refused before any request, `failed` and unknown assets, and
two trackers on one client hearing each other's rate-limit answers.
"""

from __future__ import annotations

import re
from typing import Any

import anyio
import pytest
from aioresponses import CallbackResult, aioresponses
from yarl import URL

from tests._tracker_fake import FakeAPI, Reply, iso
from tests.conftest import BASE_URL, FakeClock
from twelvelabs_async import (
    AssetDetail,
    AssetTracker,
    AsyncTwelveLabs,
    InvalidInputError,
    NotFoundError,
    TrackingTimeout,
)

ASSETS = f"{BASE_URL}/assets"
ONE_URL = re.compile(rf"^{re.escape(ASSETS)}/([^/?]+)$")
LIST_URL = re.compile(rf"^{re.escape(ASSETS)}\?.*$")


class FakeAssets:
    """Assets with a finish time and outcome each; logs every request with its virtual time."""

    def __init__(self, mock: aioresponses, clock: FakeClock) -> None:
        self.clock = clock
        self.assets: dict[str, tuple[float, float, str]] = {}
        self.calls: list[tuple[str, float, URL]] = []
        mock.get(ONE_URL, callback=self._one, repeat=True)
        mock.get(LIST_URL, callback=self._list, repeat=True)

    def add(self, asset_id: str, finish: float, outcome: str = "ready") -> None:
        """An asset created now that turns `outcome` `finish` seconds from now."""
        now = self.clock.now
        self.assets[asset_id] = (now, now + finish, outcome)

    def body(self, asset_id: str) -> dict[str, Any]:
        created, finish, outcome = self.assets[asset_id]
        status = outcome if self.clock.now >= finish else "processing"
        body: dict[str, Any] = {
            "_id": asset_id,
            "method": "direct",
            "status": status,
            "filename": f"{asset_id}.mp4",
            "file_type": "video/mp4",
            "created_at": iso(created),
        }
        if status == "failed":
            body["error"] = {"message": "The file is not a supported format."}
        return body

    def of(self, kind: str) -> list[tuple[float, URL]]:
        return [(at, url) for k, at, url in self.calls if k == kind]

    async def _one(self, url: URL, **_: Any) -> CallbackResult:
        self.calls.append(("retrieve", self.clock.now, url))
        match = ONE_URL.match(str(url))
        assert match is not None
        asset_id = match.group(1)
        if asset_id not in self.assets:
            error = {"code": "resource_not_exist", "message": f"No asset {asset_id}."}
            return CallbackResult(status=404, payload=error)
        return CallbackResult(status=200, payload=self.body(asset_id))

    async def _list(self, url: URL, **_: Any) -> CallbackResult:
        self.calls.append(("list", self.clock.now, url))
        ids = url.query.getall("asset_ids", [])
        data = [self.body(i) for i in ids if i in self.assets]
        info = {"page": 1, "limit_per_page": 50, "total_page": 1, "total_results": len(data)}
        return CallbackResult(status=200, payload={"data": data, "page_info": info})


async def drain(tracker: AssetTracker) -> dict[str, str]:
    return {asset.asset_id: str(asset.status) async for asset in tracker}


async def called(client: AsyncTwelveLabs, call: Any) -> None:
    """Call `call(client)`, awaiting what it returns unless it is a tracker."""
    result = call(client)
    if not isinstance(result, AssetTracker):
        await result


def hex_ids(n: int) -> list[str]:
    return [f"{i:024x}" for i in range(n)]


async def test_wait_returns_the_asset_once_ready_or_failed(
    client: AsyncTwelveLabs, mock_api: aioresponses, clock: FakeClock
) -> None:
    """wait() polls GET /assets/{id} until terminal and returns it; failed is returned too."""
    api = FakeAssets(mock_api, clock)
    api.add("a1", 4.0)
    api.add("a2", 2.0, "failed")
    start = clock.now
    ready = await client.assets.wait("a1")
    assert isinstance(ready, AssetDetail)
    assert (ready.asset_id, ready.status) == ("a1", "ready")
    assert clock.now - start <= 4.0 + 2.5
    failed = await client.assets.wait("a2", timeout=60)
    assert failed.status == "failed"
    assert failed.error is not None
    assert failed.error.message
    assert api.of("list") == []
    assert all(url.path == f"/v1.3/assets/{url.name}" for _, url in api.of("retrieve"))


async def test_wait_raises_not_found_and_times_out(
    client: AsyncTwelveLabs, mock_api: aioresponses, clock: FakeClock
) -> None:
    """An unknown asset raises NotFoundError naming it; a slow one TrackingTimeout."""
    api = FakeAssets(mock_api, clock)
    api.add("slow", 1000.0)
    with pytest.raises(NotFoundError) as caught:
        await client.assets.wait("ghost")
    assert caught.value.task_id == "ghost"
    with pytest.raises(TrackingTimeout, match="asset slow did not finish within 5s") as late:
        await client.assets.wait("slow", timeout=5)
    assert set(late.value.pending) == {"slow"}


@pytest.mark.parametrize(
    "call",
    [
        lambda c: c.assets.wait("../etc"),
        lambda c: c.assets.wait(""),
        lambda c: c.assets.wait("a1", poll_interval=0),
        lambda c: c.assets.track(["a1", "a/b"]),
        lambda c: c.assets.track("a1"),
        lambda c: c.assets.track(["a1"], on_error="ignore"),
        lambda c: c.assets.track(["a1"], timeout=-1),
    ],
)
async def test_bad_input_is_refused_before_any_request(
    client: AsyncTwelveLabs, mock_api: aioresponses, clock: FakeClock, call: Any
) -> None:
    """Invalid ids and options raise InvalidInputError and send nothing."""
    api = FakeAssets(mock_api, clock)
    with pytest.raises(InvalidInputError):
        await called(client, call)
    assert api.calls == []


async def test_track_asks_for_50_ids_a_request_in_the_query(
    client: AsyncTwelveLabs, mock_api: aioresponses, clock: FakeClock
) -> None:
    """120 ids: 3 list requests a round (50, 50, 20 asset_ids, page_limit=50); each once out."""
    api = FakeAssets(mock_api, clock)
    ids = hex_ids(120)
    for i, asset_id in enumerate(ids):
        api.add(asset_id, 2.0 + i % 5, "failed" if i % 10 == 0 else "ready")
    start = clock.now
    async with client.assets.track(ids, timeout=120) as tracker:
        got = await drain(tracker)
    assert got == {i: ("failed" if n % 10 == 0 else "ready") for n, i in enumerate(ids)}
    first = [url for at, url in api.of("list") if at == start]
    assert [len(url.query.getall("asset_ids")) for url in first] == [50, 50, 20]
    assert all(url.query["page"] == "1" and url.query["page_limit"] == "50" for url in first)
    assert sorted(i for url in first for i in url.query.getall("asset_ids")) == sorted(ids)
    assert api.of("retrieve") == []
    assert tracker.stats.requests["retrieve_many"] == len(api.of("list"))
    assert tracker.stats.yielded == 120


async def test_track_collects_an_unknown_asset_after_one_retrieve(
    client: AsyncTwelveLabs, mock_api: aioresponses, clock: FakeClock
) -> None:
    """An id the list leaves out is retrieved once; its 404 is collected, the rest delivered."""
    api = FakeAssets(mock_api, clock)
    for asset_id in ("a1", "a2"):
        api.add(asset_id, 3.0)
    async with client.assets.track(["a1", "ghost", "a2"], on_error="collect") as tracker:
        got = await drain(tracker)
    assert got == {"a1": "ready", "a2": "ready"}
    assert isinstance(tracker.errors["ghost"], NotFoundError)
    assert [url.name for _, url in api.of("retrieve")] == ["ghost"]


async def test_a_429_to_one_tracker_pauses_the_other_tracker_of_the_client(
    client: AsyncTwelveLabs, mock_api: aioresponses, clock: FakeClock
) -> None:
    """An analysis tracker's 429 (Retry-After: 10) holds the asset tracker's requests too."""
    tasks = FakeAPI(mock_api, clock)
    tasks.add("t1", 15)
    tasks.fail("t1", Reply(429, headers={"Retry-After": "10"}))
    assets = FakeAssets(mock_api, clock)
    ids = hex_ids(60)
    for asset_id in ids:
        assets.add(asset_id, 4.0)
    start = clock.now
    got: dict[str, str] = {}

    async def follow_tasks() -> None:
        async with client.analyze.tasks.track(["t1"], strategy="per_task") as tracker:
            async for _ in tracker:
                pass

    async def follow_assets(into: dict[str, str]) -> None:
        async with client.assets.track(ids) as tracker:
            into.update(await drain(tracker))

    async with anyio.create_task_group() as group:
        group.start_soon(follow_tasks)
        group.start_soon(follow_assets, got)
    assert got == dict.fromkeys(ids, "ready")
    during = [at for at, _ in assets.of("list") if start < at < start + 10.0]
    assert during == []
    assert any(at >= start + 10.0 for at, _ in assets.of("list"))
