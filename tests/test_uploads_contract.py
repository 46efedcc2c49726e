"""Contract: the simulator's multipart bodies fit the official SDK and OpenAPI; its client works.

As in `test_assets_contract.py`: each body is parsed by the SDK's own models (failing on a field
they do not know) and checked against the strict OpenAPI schemas. Then the official SDK's
client, `twelvelabs.AsyncTwelveLabs`, drives a session against the simulator, endpoint by
endpoint and through its own multipart helper (`multipart_upload.upload_file`).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import pytest
import twelvelabs
from twelvelabs.core.pydantic_utilities import parse_obj_as
from twelvelabs.types import (
    CompletedChunk,
    CreateAssetUploadResponse,
    FlatErrorResponse,
    GetUploadStatusResponse,
    ListIncompleteUploadsResponse,
    ReportChunkBatchResponse,
    RequestAdditionalPresignedUrLsResponse,
)

from tests._simulator_support import raw, sim_and_client
from tests.test_simulator_contract import check, schema_errors
from twelvelabs_async.testing import MultipartConfig

CHUNK = 64 * 1024


async def _put(url: str, data: bytes) -> str:
    async with aiohttp.ClientSession() as session, session.put(url, data=data) as resp:
        assert resp.status == 200
        return resp.headers["ETag"].strip('"')


async def test_every_multipart_body_fits_the_sdk_and_the_schema() -> None:
    """create, refresh, report (partial and completing), status and list bodies all fit."""
    data = os.urandom(2 * CHUNK + 5)
    config = MultipartConfig(chunk_size=CHUNK, initial_urls=1)
    async with sim_and_client(multipart=config) as (sim, _client, _clock):
        body = {"filename": "clip.mp4", "type": "video", "total_size": len(data)}
        created = await raw(sim, "POST", "assets/multipart-uploads", json_body=body)
        session = created.json()
        upload_id = session["upload_id"]
        base = f"assets/multipart-uploads/{upload_id}"
        refreshed = await raw(
            sim, "POST", f"{base}/presigned-urls", json_body={"start": 2, "count": 2}
        )
        urls = {u["chunk_index"]: u["url"] for u in session["upload_urls"]}
        urls |= {u["chunk_index"]: u["url"] for u in refreshed.json()["upload_urls"]}
        chunks = [data[:CHUNK], data[CHUNK : 2 * CHUNK], data[2 * CHUNK :]]
        etags = [await _put(urls[i + 1], piece) for i, piece in enumerate(chunks)]
        reported = []
        for index in (1, 2, 3):
            done = {
                "chunk_index": index,
                "proof": etags[index - 1],
                "proof_type": "etag",
                "chunk_size": len(chunks[index - 1]),
            }
            if index == 2:
                listed = await raw(sim, "GET", "assets/multipart-uploads")
                midway = await raw(sim, "GET", base, params={"page_limit": "2"})
            reported.append(await raw(sim, "POST", base, json_body={"completed_chunks": [done]}))
        status = await raw(sim, "GET", base)
    assert created.status == 201
    check(session, CreateAssetUploadResponse, "CreateAssetUploadResponse")
    assert etags[0] == hashlib.md5(chunks[0], usedforsecurity=False).hexdigest()
    check(
        refreshed.json(),
        RequestAdditionalPresignedUrLsResponse,
        "RequestAdditionalPresignedURLsResponse",
    )
    for resp in reported:
        check(resp.json(), ReportChunkBatchResponse, "ReportChunkBatchResponse")
    assert ["url" in r.json() for r in reported] == [False, False, True]
    check(listed.json(), ListIncompleteUploadsResponse, "ListIncompleteUploadsResponse")
    for resp in (midway, status):
        check(resp.json(), GetUploadStatusResponse, "GetUploadStatusResponse")
    assert midway.json()["page_info"]["total_page"] == 2
    assert status.json()["status"] == "completed"


async def test_every_multipart_error_body_is_flat() -> None:
    """400s of each route and the 404 of an unknown session are {code, message}."""
    async with sim_and_client() as (sim, _client, _clock):
        base = "assets/multipart-uploads"
        body = {"filename": "clip.mp4", "type": "video", "total_size": 10}
        upload_id = (await raw(sim, "POST", base, json_body=body)).json()["upload_id"]
        cases = [
            (
                await raw(sim, "POST", base, json_body={"type": "document"}),
                400,
                "Create-multipart-uploadRequestBadRequestError",
            ),
            (
                await raw(sim, "GET", base, params={"page_limit": "99"}),
                400,
                "List-incomplete-uploadsRequestBadRequestError",
            ),
            (
                await raw(sim, "GET", f"{base}/{upload_id}", params={"page": "0"}),
                400,
                "Get-upload-statusRequestBadRequestError",
            ),
            (
                await raw(
                    sim,
                    "POST",
                    f"{base}/{upload_id}",
                    json_body={
                        "completed_chunks": [
                            {"chunk_index": 1, "proof": "x", "proof_type": "etag", "chunk_size": 10}
                        ]
                    },
                ),
                400,
                "Report-chunk-batchRequestBadRequestError",
            ),
            (
                await raw(
                    sim,
                    "POST",
                    f"{base}/{upload_id}/presigned-urls",
                    json_body={"start": 1, "count": 51},
                ),
                400,
                "Request-additional-presigned-urlsRequestBadRequestError",
            ),
            (await raw(sim, "GET", f"{base}/nope"), 404, "Get-upload-statusRequestBadRequestError"),
        ]
    for resp, status, schema in cases:
        assert resp.status == status
        parse_obj_as(FlatErrorResponse, resp.json())
        assert schema_errors(schema, resp.json()) == []


def _sdk(sim: Any, http: httpx.AsyncClient) -> twelvelabs.AsyncTwelveLabs:
    return twelvelabs.AsyncTwelveLabs(api_key=sim.api_key, base_url=sim.base_url, httpx_client=http)


async def test_the_official_sdk_drives_a_session_endpoint_by_endpoint(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """create, get_additional_presigned_urls, report_chunk_batch, get_status, list work."""
    monkeypatch.delenv("TWELVELABS_BASE_URL", raising=False)
    data = os.urandom(CHUNK + 100)
    config = MultipartConfig(chunk_size=CHUNK, initial_urls=1)
    async with (
        sim_and_client(multipart=config) as (sim, client, _clock),
        httpx.AsyncClient() as http,
    ):
        sdk = _sdk(sim, http).multipart_upload
        session = await sdk.create(filename="clip.mp4", type="video", total_size=len(data))
        assert session.upload_id is not None
        incomplete = [u.upload_id async for u in await sdk.list_incomplete_uploads()]
        more = await sdk.get_additional_presigned_urls(session.upload_id, start=2, count=1)
        first = (session.upload_urls or [])[0]
        second = (more.upload_urls or [])[0]
        assert first.url is not None
        assert second.url is not None
        proofs = [await _put(first.url, data[:CHUNK]), await _put(second.url, data[CHUNK:])]
        done = [
            CompletedChunk(chunk_index=1, proof=proofs[0], proof_type="etag", chunk_size=CHUNK),
            CompletedChunk(chunk_index=2, proof=proofs[1], proof_type="etag", chunk_size=100),
        ]
        result = await sdk.report_chunk_batch(session.upload_id, completed_chunks=done)
        chunks = [c.status async for c in await sdk.get_status(session.upload_id)]
        ours = await client.assets.retrieve(session.asset_id or "")
    assert incomplete == [session.upload_id]
    assert (result.processed_chunks, result.total_completed) == (2, 2)
    assert result.url is not None
    assert chunks == ["completed", "completed"]
    assert (ours.method, ours.size is None) == ("multipart", True)  # processing: no size yet


async def test_the_official_sdk_multipart_helper_uploads_to_the_simulator(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """multipart_upload.upload_file splits, PUTs, reports and gets the asset's URL."""
    monkeypatch.delenv("TWELVELABS_BASE_URL", raising=False)
    path = tmp_path / "clip.mp4"
    path.write_bytes(os.urandom(23 * CHUNK + 7))
    config = MultipartConfig(chunk_size=CHUNK, initial_urls=5)
    async with (
        sim_and_client(multipart=config, duration=(1.0, 1.0)) as (sim, client, clock),
        httpx.AsyncClient() as http,
    ):
        result = await _sdk(sim, http).multipart_upload.upload_file(path, batch_size=10)
        clock.advance(2.0)
        asset = await client.assets.retrieve(result.asset_id or "")
    assert result.asset_url
    assert (asset.status, asset.size, asset.method) == ("ready", path.stat().st_size, "multipart")
    assert sorted(p.index for p in sim.storage_puts) == list(range(1, 25))
    assert not any(p.had_api_key for p in sim.storage_puts)
    assert sorted(os.listdir(tmp_path)) == ["clip.mp4"]  # its chunk copies are gone
