"""The simulator's multipart sessions and storage, request by request (raw HTTP, no client)."""

from __future__ import annotations

import hashlib
from typing import Any

import aiohttp

from tests._simulator_support import Raw, SimClock, raw, sim_and_client
from twelvelabs_async.testing import MultipartConfig, Simulator

CHUNK = 1024
BASE = "assets/multipart-uploads"


async def _put(url: str, data: bytes, headers: dict[str, str] | None = None) -> Raw:
    async with (
        aiohttp.ClientSession() as session,
        session.put(url, data=data, headers=headers) as r,
    ):
        return Raw(r.status, r.headers, await r.read())


async def _session(sim: Simulator, size: int = 3 * CHUNK, **extra: Any) -> dict[str, Any]:
    body = {"filename": "clip.mp4", "type": "video", "total_size": size, **extra}
    resp = await raw(sim, "POST", BASE, json_body=body)
    assert resp.status == 201, resp.body
    created: dict[str, Any] = resp.json()
    return created


def _done(index: int, data: bytes, proof: str | None = None) -> dict[str, Any]:
    etag = proof or hashlib.md5(data, usedforsecurity=False).hexdigest()
    return {"chunk_index": index, "proof": etag, "proof_type": "etag", "chunk_size": len(data)}


async def test_a_presigned_url_is_single_use_and_checked() -> None:
    """A URL takes one PUT (ETag = md5); a second, a forged token or another chunk get 403."""
    async with sim_and_client(multipart=MultipartConfig(chunk_size=CHUNK)) as (sim, _c, _k):
        session = await _session(sim)
        url = session["upload_urls"][0]["url"]
        first = await _put(url, b"a" * CHUNK)
        second = await _put(url, b"a" * CHUNK)
        forged = await _put(url.replace("token=", "token=0"), b"a" * CHUNK)
        other = await _put(session["upload_urls"][1]["url"].replace("/2?", "/3?"), b"a" * CHUNK)
    assert first.status == 200
    assert first.headers["ETag"] == '"' + hashlib.md5(b"a" * CHUNK).hexdigest() + '"'
    assert (second.status, forged.status, other.status) == (403, 403, 403)
    assert b"<Code>AccessDenied</Code>" in second.body
    assert b"SignatureDoesNotMatch" in forged.body
    assert [p.status for p in sim.storage_puts] == [200, 403, 403, 403]


async def test_a_url_expires_and_a_wrong_chunk_size_is_refused() -> None:
    """Past url_ttl a PUT gets 403 (expired); a chunk of the wrong size gets 400."""
    clock = SimClock()
    config = MultipartConfig(chunk_size=CHUNK, url_ttl=60.0)
    async with sim_and_client(clock=clock, multipart=config) as (sim, _c, _k):
        session = await _session(sim)
        urls = [u["url"] for u in session["upload_urls"]]
        short = await _put(urls[0], b"a" * (CHUNK - 1))
        last_ok = await _put(urls[2], b"z" * CHUNK)  # the last chunk is exactly the rest
        clock.advance(61.0)
        expired = await _put(urls[1], b"a" * CHUNK)
    assert short.status == 400
    assert b"InvalidChunkSize" in short.body
    assert last_ok.status == 200
    assert expired.status == 403
    assert b"expired" in expired.body


async def test_storage_takes_no_key_while_the_api_routes_need_it() -> None:
    """Chunk PUTs need no x-api-key; the multipart API routes answer 401 without it."""
    async with sim_and_client(multipart=MultipartConfig(chunk_size=CHUNK)) as (sim, _c, _k):
        session = await _session(sim, size=CHUNK)
        put = await _put(session["upload_urls"][0]["url"], b"x" * CHUNK)
        unauthorized = await raw(sim, "GET", BASE, api_key="wrong")
    assert put.status == 200
    assert unauthorized.status == 401
    assert sim.storage_puts[0].had_api_key is False


async def test_reports_count_duplicates_check_proofs_and_complete_the_asset() -> None:
    """Wrong proofs and sizes are refused; repeats count as duplicates; the last one completes."""
    config = MultipartConfig(chunk_size=CHUNK)
    async with sim_and_client(multipart=config, duration=(1.0, 1.0)) as (sim, _c, clock):
        session = await _session(sim, size=2 * CHUNK + 10)
        upload_id, asset_id = session["upload_id"], session["asset_id"]
        pieces = [b"a" * CHUNK, b"b" * CHUNK, b"c" * 10]
        for url, piece in zip((u["url"] for u in session["upload_urls"]), pieces, strict=True):
            assert (await _put(url, piece)).status == 200
        path = f"{BASE}/{upload_id}"
        bad_proof = await raw(sim, "POST", path, json_body={"completed_chunks": [
            _done(1, pieces[0], proof="nope")]})  # fmt: skip
        bad_size = await raw(sim, "POST", path, json_body={"completed_chunks": [
            {**_done(1, pieces[0]), "chunk_size": 5}]})  # fmt: skip
        before = await raw(sim, "GET", f"assets/{asset_id}")
        one = await raw(sim, "POST", path, json_body={"completed_chunks": [_done(1, pieces[0])]})
        rest = await raw(sim, "POST", path, json_body={"completed_chunks": [
            _done(i + 1, p) for i, p in enumerate(pieces)]})  # fmt: skip
        after = await raw(sim, "POST", path, json_body={"completed_chunks": [_done(1, pieces[0])]})
        listed = await raw(sim, "GET", BASE)
        clock.advance(2.0)
        asset = await raw(sim, "GET", f"assets/{asset_id}")
    assert (bad_proof.status, bad_size.status, before.status) == (400, 400, 404)
    assert one.json() == {
        "asset_id": asset_id,
        "processed_chunks": 1,
        "duplicate_chunks": 0,
        "total_completed": 1,
    }
    assert (rest.json()["processed_chunks"], rest.json()["duplicate_chunks"]) == (2, 1)
    assert rest.json()["url"].endswith(asset_id)
    assert after.status == 400  # the session is completed: nothing more to report
    assert listed.json()["data"] == []
    assert (asset.json()["status"], asset.json()["size"]) == ("ready", 2 * CHUNK + 10)


async def test_status_pages_chunks_and_a_session_expires() -> None:
    """The status lists every chunk a page at a time; past session_ttl it is expired."""
    clock = SimClock()
    config = MultipartConfig(chunk_size=CHUNK, session_ttl=100.0, initial_urls=0)
    async with sim_and_client(clock=clock, multipart=config) as (sim, _c, _k):
        session = await _session(sim, size=5 * CHUNK)
        path = f"{BASE}/{session['upload_id']}"
        page = await raw(sim, "GET", path, params={"page": "2", "page_limit": "2"})
        refreshed = await raw(sim, "POST", f"{path}/presigned-urls", json_body={
            "start": 4, "count": 50})  # fmt: skip
        clock.advance(101.0)
        expired = await raw(sim, "GET", path)
        refused = await raw(sim, "POST", f"{path}/presigned-urls", json_body={
            "start": 1, "count": 1})  # fmt: skip
        listed = await raw(sim, "GET", BASE)
    assert session.get("upload_urls", []) == []
    assert [c["index"] for c in page.json()["uploaded_chunks"]] == [3, 4]
    assert {c["status"] for c in page.json()["uploaded_chunks"]} == {"pending"}
    assert page.json()["page_info"]["total_page"] == 3
    assert [u["chunk_index"] for u in refreshed.json()["upload_urls"]] == [4, 5]
    assert expired.json()["status"] == "expired"
    assert refused.status == 400
    assert listed.json()["data"] == []


async def test_bad_session_requests_are_refused_with_flat_400s() -> None:
    """Unknown fields, documents, sizes over the limit, bad flags and metadata: 400."""
    async with sim_and_client() as (sim, _c, _k):
        good = {"filename": "a.mp4", "type": "video", "total_size": 10}
        cases = [
            {**good, "color": "red"},
            {**good, "type": "document"},
            {**good, "filename": ""},
            {**good, "total_size": 0},
            {**good, "type": "image", "total_size": 33 * 1024 * 1024},
            {**good, "enable_hls": "yes"},
            {**good, "user_metadata": "x"},
            {**good, "user_metadata": {"k": {"nested": 1}}},
        ]
        answers = [await raw(sim, "POST", BASE, json_body=body) for body in cases]
        not_json = await raw(sim, "POST", BASE, data=b"{", headers={"Content-Type": "a/b"})
        kept = await _session(sim, size=10, user_metadata={"a": "", "b": [], "c": None, "d": 1})
        missing = await raw(sim, "POST", f"{BASE}/nope", json_body={"completed_chunks": []})
    assert [a.status for a in answers] == [400] * len(cases)
    assert all(set(a.json()) == {"code", "message"} for a in answers)
    assert not_json.status == 400
    assert sim.upload_session(kept["upload_id"]).user_metadata == {"d": 1}
    assert missing.status == 404
