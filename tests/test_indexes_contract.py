"""Contract: the simulator's index bodies fit the official SDK and the OpenAPI; its client works.

Bodies are checked as in `test_assets_contract.py` (the SDK's own `parse_obj_as`, failing on
any field it does not know, and the strict OpenAPI schemas). Then the official SDK's client,
`twelvelabs.AsyncTwelveLabs`, runs every index and indexed-asset endpoint against the simulator.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import twelvelabs
from twelvelabs.core.pydantic_utilities import parse_obj_as
from twelvelabs.indexes import IndexesCreateResponse, IndexesListResponse
from twelvelabs.indexes.indexed_assets import (
    IndexedAssetsCreateResponse,
    IndexedAssetsListByAssetResponse,
    IndexedAssetsListResponse,
)
from twelvelabs.types import FlatErrorResponse, IndexedAssetDetailed, IndexSchema

from tests._simulator_support import SimClock, raw, sim_and_client
from tests.test_simulator_contract import check, schema_errors
from twelvelabs_async import AsyncTwelveLabs
from twelvelabs_async.testing import Simulator

URL = "https://videos.example.com/match.mp4"
MODELS = [{"model_name": "marengo3.0", "model_options": ["visual", "audio"]}]


async def _ready_asset(client: AsyncTwelveLabs, clock: SimClock) -> str:
    asset = await client.assets.create(url=URL)
    clock.advance(10.0)  # a URL import: two draws of the (5 s) duration
    return asset.asset_id


async def _index(sim: Simulator, name: str = "sports") -> str:
    resp = await raw(sim, "POST", "indexes", json_body={"index_name": name, "models": MODELS})
    assert resp.status == 201
    return str(check(resp.json(), IndexesCreateResponse, "indexes_create_Response_201").id)


async def _indexed(sim: Simulator, index_id: str, asset_id: str, **body: Any) -> str:
    path = f"indexes/{index_id}/indexed-assets"
    resp = await raw(sim, "POST", path, json_body={"asset_id": asset_id, **body})
    assert resp.status == 202
    parsed = check(
        resp.json(), IndexedAssetsCreateResponse, "indexes_indexed_assets_create_Response_202"
    )
    assert parsed.asset_id == asset_id
    return str(parsed.id)


@pytest.mark.parametrize("failure_rate", [0.0, 1.0])
async def test_indexed_assets_in_every_status_fit(failure_rate: float) -> None:
    """Each phase, then ready (or failed), with hls, embeddings and words, fits the SDK."""
    async with sim_and_client(
        duration=(5.0, 5.0), indexing_duration=(10.0, 10.0), indexing_failure_rate=failure_rate
    ) as (sim, client, clock):
        asset_id = await _ready_asset(client, clock)
        index_id = await _index(sim)
        item = await _indexed(
            sim, index_id, asset_id, enable_video_stream=True, user_metadata={"team": "a", "n": 2}
        )
        path = f"indexes/{index_id}/indexed-assets/{item}"
        bodies = []
        for step in (1.5, 1.0, 1.0, 6.5, 0.0):
            bodies.append(
                (
                    await raw(
                        sim,
                        "GET",
                        path,
                        params=[
                            ("embedding_option", "visual"),
                            ("embedding_option", "audio"),
                            ("transcription", "true"),
                        ],
                    )
                ).json()
            )
            clock.advance(step)
        listed = await raw(sim, "GET", f"indexes/{index_id}/indexed-assets")
        index = await raw(sim, "GET", f"indexes/{index_id}")
        indexes = await raw(sim, "GET", "indexes")
        members = await raw(sim, "GET", f"assets/{asset_id}/indexed-assets")
    end = "failed" if failure_rate else "ready"
    assert [b["status"] for b in bodies] == [
        "validating", "pending", "queued", "indexing", end
    ]  # fmt: skip
    for body in bodies:
        parsed = check(body, IndexedAssetDetailed, "indexedAssetDetailed")
        assert parsed.hls is not None
    assert ("embedding" in bodies[-1]) == (not failure_rate)
    if not failure_rate:
        segment = bodies[-1]["embedding"]["video_embedding"]["segments"][0]
        assert len(segment["float"]) == 512
    page = check(
        listed.json(), IndexedAssetsListResponse, "indexes_indexed_assets_list_Response_200"
    )
    assert [i.id for i in page.data or []] == [item]
    check(index.json(), IndexSchema, "Index")
    check(indexes.json(), IndexesListResponse, "indexes_list_Response_200")
    by_asset = check(
        members.json(),
        IndexedAssetsListByAssetResponse,
        "indexes_indexed_assets_list_by_asset_Response_200",
    )
    assert [(m.id, m.index.id if m.index else None) for m in by_asset.data or []] == [
        (item, index_id)
    ]


async def test_every_index_error_body_is_flat() -> None:
    """400, 404 and 409 answers of the index routes are {code, message} and fit the schemas."""
    async with sim_and_client(duration=(5.0, 5.0)) as (sim, client, clock):
        asset_id = await _ready_asset(client, clock)
        processing = (await client.assets.create(url=URL)).asset_id
        index_id = await _index(sim)
        await _indexed(sim, index_id, asset_id)
        taken = await raw(
            sim, "POST", "indexes", json_body={"index_name": "sports", "models": MODELS}
        )
        no_model = await raw(sim, "POST", "indexes", json_body={"index_name": "x", "models": []})
        unknown_index = await raw(sim, "GET", "indexes/nope")
        not_ready = await raw(
            sim, "POST", f"indexes/{index_id}/indexed-assets", json_body={"asset_id": processing}
        )
        no_index = await raw(
            sim, "POST", "indexes/nope/indexed-assets", json_body={"asset_id": asset_id}
        )
        no_item = await raw(sim, "GET", f"indexes/{index_id}/indexed-assets/nope")
        bad_list = await raw(
            sim, "GET", f"indexes/{index_id}/indexed-assets", params={"status": "x"}
        )
        in_use = await raw(sim, "DELETE", f"assets/{asset_id}")
    cases = [
        (taken, 400, "Create-indexRequestBadRequestError"),
        (no_model, 400, "Create-indexRequestBadRequestError"),
        (unknown_index, 404, "Retrieve-indexRequestBadRequestError"),
        (not_ready, 400, "Create-indexed-assetRequestBadRequestError"),
        (no_index, 404, "Create-indexed-assetRequestNotFoundError"),
        (no_item, 404, "Retrieve-indexed-asset-informationRequestNotFoundError"),
        (bad_list, 400, "List-indexed-assetsRequestBadRequestError"),
    ]
    for resp, status, schema in cases:
        assert resp.status == status
        parse_obj_as(FlatErrorResponse, resp.json())
        assert schema_errors(schema, resp.json()) == []
    assert taken.json()["code"] == "index_name_already_exists"
    assert in_use.status == 409


async def test_the_official_sdk_client_works_against_the_simulator(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """twelvelabs.AsyncTwelveLabs runs every index and indexed-asset endpoint on the simulator."""
    monkeypatch.delenv("TWELVELABS_BASE_URL", raising=False)
    async with (
        sim_and_client(duration=(5.0, 5.0), indexing_duration=(10.0, 10.0)) as (sim, client, clock),
        httpx.AsyncClient() as http,
    ):
        sdk = twelvelabs.AsyncTwelveLabs(
            api_key=sim.api_key, base_url=sim.base_url, httpx_client=http
        )
        asset_id = await _ready_asset(client, clock)
        created = await sdk.indexes.create(
            index_name="sports", models=[{"model_name": "marengo3.0", "model_options": ["visual"]}]
        )
        assert created.id is not None
        with pytest.raises(twelvelabs.errors.BadRequestError):
            await sdk.indexes.create(
                index_name="sports",
                models=[{"model_name": "marengo3.0", "model_options": ["visual"]}],
            )
        await sdk.indexes.update(created.id, index_name="football")
        index = await sdk.indexes.retrieve(created.id)
        names = [i.index_name async for i in await sdk.indexes.list(model_family="marengo")]
        ref = await sdk.indexes.indexed_assets.create(
            created.id, asset_id=asset_id, enable_video_stream=True, user_metadata={"team": "a"}
        )
        assert ref.id is not None
        clock.advance(20.0)
        detail = await sdk.indexes.indexed_assets.retrieve(
            created.id, ref.id, embedding_option=["visual"], transcription=True
        )
        pager = await sdk.indexes.indexed_assets.list(
            created.id,
            status=["ready", "failed"],
            duration={"gte": 1},
            user_metadata={"team": "a"},
        )
        listed = [i.id async for i in pager]
        await sdk.indexes.indexed_assets.update(created.id, ref.id, user_metadata={"team": None})
        members = [m.id async for m in await sdk.indexes.indexed_assets.list_by_asset(asset_id)]
        after = await client.indexes.indexed_assets.retrieve(created.id, ref.id)
        await sdk.indexes.indexed_assets.delete(created.id, ref.id)
        await sdk.indexes.delete(created.id)
        indexes_left = [i async for i in client.indexes.list()]
    assert (index.index_name, names) == ("football", ["football"])
    assert detail.status == "ready"
    assert detail.embedding is not None
    assert detail.transcription
    assert listed == members == [ref.id]
    assert after.user_metadata is None
    assert indexes_left == []
