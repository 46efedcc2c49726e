"""client.assets.wait/track against the simulator over loopback, and what the simulator serves
them: seeded assets, configurable processing times, the id-filtered list and its limits.
"""

from __future__ import annotations

import pytest

from tests._simulator_support import raw, sim_and_client
from twelvelabs_async import NotFoundError

URL = "https://videos.example.com/match.mp4"


async def test_seeded_assets_are_tracked_to_the_end_in_batched_requests() -> None:
    """400 seeded assets: each yielded once, never early, with the simulator's outcome."""
    async with sim_and_client(failure_rate=0.2) as (sim, client, clock):
        ids = await sim.seed_assets(400, duration=(2.0, 20.0))
        assert len(set(ids)) == 400
        yielded: dict[str, tuple[float, str]] = {}
        async with client.assets.track(ids) as tracker:  # no deadline: SimClock jumps
            async for asset in tracker:
                assert asset.asset_id not in yielded
                yielded[asset.asset_id] = (clock.now, str(asset.status))
    assert set(yielded) == set(ids)
    for asset_id, (at, status) in yielded.items():
        finish, outcome = sim.asset_finish(asset_id)
        assert status == outcome
        assert at >= finish
    assert {status for _, status in yielded.values()} == {"ready", "failed"}
    lists = sim.stats.count("asset_list")
    assert tracker.stats.requests["retrieve_many"] == lists
    assert sim.stats.count("asset_retrieve") == tracker.stats.requests["retrieve"]
    assert lists >= 8  # the first round alone: 400 ids, 50 a request


async def test_wait_and_track_meet_unknown_assets_with_not_found() -> None:
    """wait() of an unknown id raises NotFoundError; track() collects it after one retrieve."""
    async with sim_and_client() as (sim, client, _clock):
        (known,) = await sim.seed_assets(1, duration=3.0, failure_rate=0.0)
        asset = await client.assets.wait(known)
        assert asset.status == "ready"
        assert asset.size is not None
        with pytest.raises(NotFoundError):
            await client.assets.wait("0" * 24)
        more = await sim.seed_assets(3, duration=1.0, failure_rate=0.0)
        async with client.assets.track([*more, "f" * 24], on_error="collect") as tracker:
            got = sorted([a.asset_id async for a in tracker])
        assert got == sorted(more)
        assert isinstance(tracker.errors["f" * 24], NotFoundError)


async def test_asset_processing_time_is_its_own_setting() -> None:
    """asset_duration sets how long an uploaded asset is processing; tasks keep `duration`."""
    async with sim_and_client(asset_duration=(3.0, 3.0), duration=(50.0, 50.0)) as (
        sim,
        client,
        clock,
    ):
        asset = await client.assets.create(url=URL)  # a URL import: fetch, then check
        created = clock.now
        ready = await client.assets.wait(asset.asset_id, poll_interval=0.5, max_poll_interval=0.5)
        assert ready.status == "ready"
        assert 6.0 <= clock.now - created <= 6.5
        seeded = await sim.seed_assets(2)
        assert [sim.asset_finish(i)[0] - clock.now for i in seeded] == [3.0, 3.0]


async def test_the_id_filtered_list_returns_only_known_listed_ids_newest_first() -> None:
    """Repeated asset_ids: those assets only, newest first; unknown ids are simply missing."""
    async with sim_and_client() as (sim, _client, _clock):
        ids = await sim.seed_assets(60, duration=5.0)
        wanted = [ids[3], "e" * 24, ids[40], ids[7]]
        answer = await raw(
            sim,
            "GET",
            "assets",
            params=[("page_limit", "50"), *[("asset_ids", i) for i in wanted]],
        )
        assert answer.status == 200
        body = answer.json()
        assert [item["_id"] for item in body["data"]] == [ids[40], ids[7], ids[3]]
        assert body["page_info"]["total_results"] == 3


@pytest.mark.parametrize("limit", ["51", "0", "many"])
async def test_the_list_refuses_a_page_limit_out_of_range_with_a_flat_400(limit: str) -> None:
    """page_limit must be 1-50: anything else is a 400 with the flat {code, message} body."""
    async with sim_and_client() as (sim, _client, _clock):
        ids = await sim.seed_assets(2)
        params = [("page_limit", limit), *[("asset_ids", i) for i in ids]]
        answer = await raw(sim, "GET", "assets", params=params)
        assert answer.status == 400
        assert set(answer.json()) == {"code", "message"}
        assert answer.json()["code"] == "parameter_invalid"
