"""Contract: the simulator's asset bodies fit the official SDK and the OpenAPI; its client works.

The bodies are checked as in `test_simulator_contract.py` (the SDK's own `parse_obj_as`, failing
on any field it does not know, and the strict OpenAPI schemas). Then the official SDK's client,
`twelvelabs.AsyncTwelveLabs`, runs create (direct and by URL), retrieve, list and delete against
the simulator: our fake answers what the real client expects.
"""

from __future__ import annotations

from typing import Any

import aiohttp
import httpx
import pytest
import twelvelabs
from twelvelabs.assets import AssetsListResponse
from twelvelabs.core.pydantic_utilities import parse_obj_as
from twelvelabs.types import Asset, AssetDetail, FlatErrorResponse

from tests._simulator_support import raw, sim_and_client
from tests.test_simulator_contract import check, schema_errors
from twelvelabs_async import AsyncTwelveLabs
from twelvelabs_async.testing import Simulator

URL = "https://videos.example.com/match.mp4"


async def _create(client: AsyncTwelveLabs, name: str, **kwargs: Any) -> str:
    if name.startswith("http"):
        asset = await client.assets.create(url=name, **kwargs)
    else:
        asset = await client.assets.create(file=b"\x01" * 2048, filename=name, **kwargs)
    return asset.asset_id


async def _bodies(sim: Simulator, ids: list[str]) -> list[Any]:
    bodies = []
    for asset_id in ids:
        resp = await raw(sim, "GET", f"assets/{asset_id}")
        assert resp.status == 200
        bodies.append(resp.json())
    return bodies


KINDS = [
    ("clip.mp4", {}),
    ("song.mp3", {"enable_hls": True, "enable_thumbnail": False}),
    ("still.png", {"user_metadata": {"team": "news", "n": 5, "ok": True, "tags": ["a"]}}),
    ("paper.pdf", {}),
    ("notes.md", {"enable_thumbnail": True}),
    (URL, {"enable_hls": False}),
]


@pytest.mark.parametrize("failure_rate", [0.0, 1.0])
async def test_assets_of_every_kind_in_every_status_fit(failure_rate: float) -> None:
    """Processing, then ready (or failed) assets of each kind parse and fit AssetDetail."""
    async with sim_and_client(duration=(5.0, 5.0), failure_rate=failure_rate) as (
        sim,
        client,
        clock,
    ):
        ids = [await _create(client, name, **kwargs) for name, kwargs in KINDS]
        processing = await _bodies(sim, ids)
        clock.advance(10.0)  # a URL import takes two draws of the duration
        ended = await _bodies(sim, ids)
    assert {b["status"] for b in processing} == {"processing"}
    assert {b["status"] for b in ended} == {"failed" if failure_rate else "ready"}
    for body in processing + ended:
        parsed = check(body, AssetDetail, "AssetDetail")
        assert parsed.id == body["_id"]
    assert all("technical_metadata" not in b for b in processing)


async def test_the_create_answer_and_the_list_fit() -> None:
    """A direct POST /assets answers an Asset; GET /assets a page of AssetDetail."""
    async with sim_and_client() as (sim, _client, _clock):
        form = aiohttp.FormData()
        form.add_field("method", "direct")
        form.add_field("user_metadata", '{"team": "news"}')
        form.add_field("file", b"x" * 10, filename="clip.mp4", content_type="video/mp4")
        async with (
            aiohttp.ClientSession() as session,
            session.post(
                f"{sim.base_url}/assets", data=form, headers={"x-api-key": sim.api_key}
            ) as resp,
        ):
            status, created = resp.status, await resp.json()
        listed = await raw(sim, "GET", "assets", params={"page_limit": "5"})
    assert status == 201
    check(created, Asset, "Asset")
    page = check(listed.json(), AssetsListResponse, "assets_list_Response_200")
    assert [a.id for a in page.data or []] == [created["_id"]]


async def test_the_create_body_fits_asset() -> None:
    """The 201 body the official SDK receives for a URL import fits its Asset and the schema."""
    seen: list[httpx.Response] = []

    async def keep(response: httpx.Response) -> None:
        await response.aread()
        seen.append(response)

    async with (
        sim_and_client() as (sim, _client, _clock),
        httpx.AsyncClient(event_hooks={"response": [keep]}) as http,
    ):
        sdk = twelvelabs.AsyncTwelveLabs(
            api_key=sim.api_key, base_url=sim.base_url, httpx_client=http
        )
        await sdk.assets.create(method="url", url=URL, user_metadata='{"k": "v"}')
    assert [r.status_code for r in seen] == [201]
    check(seen[0].json(), Asset, "Asset")


async def test_every_asset_error_body_fits_its_flat_shape() -> None:
    """400 (create, list), 404 (retrieve) and 409 (delete) bodies are {code, message}."""
    async with sim_and_client() as (sim, client, _clock):
        asset_id = await _create(client, "clip.mp4")
        sim.reference_asset(asset_id)
        bad_create = await raw(sim, "POST", "assets", data=b"x", headers={"Content-Type": "a/b"})
        bad_list = await raw(sim, "GET", "assets", params={"page_limit": "0"})
        missing = await raw(sim, "GET", "assets/nope")
        in_use = await raw(sim, "DELETE", f"assets/{asset_id}")
    cases = [
        (bad_create, 400, "Create-assetRequestBadRequestError"),
        (bad_list, 400, "List-assetsRequestBadRequestError"),
        (missing, 404, "Create-assetRequestBadRequestError"),  # the same flat shape
        (in_use, 409, "Delete-assetRequestConflictError"),
    ]
    for resp, status, schema in cases:
        assert resp.status == status
        parse_obj_as(FlatErrorResponse, resp.json())
        assert schema_errors(schema, resp.json()) == []


async def test_the_official_sdk_client_works_against_the_simulator(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """twelvelabs.AsyncTwelveLabs creates (direct, url), retrieves, lists and deletes assets."""
    monkeypatch.delenv("TWELVELABS_BASE_URL", raising=False)
    async with (
        sim_and_client(duration=(5.0, 5.0)) as (sim, client, clock),
        httpx.AsyncClient() as http,
    ):
        sdk = twelvelabs.AsyncTwelveLabs(
            api_key=sim.api_key, base_url=sim.base_url, httpx_client=http
        )
        direct = await sdk.assets.create(
            method="direct",
            file=("clip.mp4", b"\x01" * 5000, "video/mp4"),
            enable_hls=True,
            user_metadata='{"team": "news"}',
        )
        by_url = await sdk.assets.create(method="url", url=URL, enable_thumbnail=False)
        assert direct.status == by_url.status == "processing"
        assert direct.id is not None
        assert by_url.id is not None
        clock.advance(10.0)
        detail = await sdk.assets.retrieve(direct.id)
        pager = await sdk.assets.list(page_limit=1)
        listed = [asset.id async for asset in pager]
        only = await sdk.assets.list(asset_ids=[by_url.id], asset_types=["video"])
        filtered = [asset.id async for asset in only]
        sim.reference_asset(direct.id)
        with pytest.raises(twelvelabs.errors.ConflictError):
            await sdk.assets.delete(direct.id)
        await sdk.assets.delete(direct.id, force=True)
        with pytest.raises(twelvelabs.errors.NotFoundError):
            await sdk.assets.retrieve(direct.id)
        ours = [a.asset_id async for a in client.assets.list()]
    assert (detail.status, detail.size, detail.user_metadata) == ("ready", 5000, {"team": "news"})
    assert detail.hls is not None
    assert detail.hls.status == "ready"
    assert listed == [by_url.id, direct.id]
    assert filtered == [by_url.id]
    assert ours == [by_url.id]
