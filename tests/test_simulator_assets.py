"""client.assets against the simulator over loopback: lifecycle, filters, limits, streaming."""

from __future__ import annotations

import asyncio
import gc
import tracemalloc
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from tests._simulator_support import raw, sim_and_client
from twelvelabs_async import (
    APITimeoutError,
    AssetInUseError,
    AsyncTwelveLabs,
    InvalidInputError,
    NotFoundError,
)
from twelvelabs_async._multipart import PathSource
from twelvelabs_async.testing import Simulator

URL = "https://videos.example.com/match.mp4"


def clip(tmp_path: Path, name: str = "clip.mp4", size: int = 50_000) -> Path:
    """A local file of `size` bytes."""
    path = tmp_path / name
    path.write_bytes(b"\x01" * size)
    return path


async def post_form(
    sim: Simulator, data: aiohttp.FormData | aiohttp.MultipartWriter
) -> tuple[int, object]:
    """POST /assets with a raw body; the status and the decoded JSON answer."""
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            f"{sim.base_url}/assets", data=data, headers={"x-api-key": sim.api_key}
        ) as resp,
    ):
        return resp.status, await resp.json(content_type=None)


async def test_a_direct_upload_is_processing_then_ready_with_its_size(tmp_path: Path) -> None:
    """The asset starts processing without probe data; once ready it has size and duration."""
    async with sim_and_client(duration=(10.0, 10.0)) as (_sim, client, clock):
        path = clip(tmp_path)
        asset = await client.assets.create(file=path, user_metadata={"team": "news"})
        assert asset.status == "processing"
        assert asset.filename == "clip.mp4"
        early = await client.assets.retrieve(asset.asset_id)
        assert early.technical_metadata is None
        assert early.size is None
        assert early.hls is not None
        assert early.hls.status == "pending"
        assert early.hls.manifest_url is None
        clock.advance(10.0)
        ready = await client.assets.retrieve(asset.asset_id)
    assert ready.status == "ready"
    assert ready.error is None
    assert ready.size == 50_000
    assert ready.duration is not None
    assert ready.technical_metadata is not None
    assert ready.technical_metadata["file_size_bytes"] == 50_000
    assert ready.hls is not None
    assert ready.hls.manifest_url is not None
    assert ready.user_metadata == {"team": "news"}
    assert (ready.method, ready.file_type) == ("direct", "video/mp4")


async def test_a_url_import_takes_longer_than_a_direct_upload(tmp_path: Path) -> None:
    """With fixed durations, a direct upload is ready when a URL import is still fetching."""
    async with sim_and_client(duration=(10.0, 10.0)) as (sim, client, clock):
        direct = await client.assets.create(file=clip(tmp_path))
        imported = await client.assets.create(url=URL)
        clock.advance(10.0)
        assert sim.asset_status(direct.asset_id) == "ready"
        assert sim.asset_status(imported.asset_id) == "processing"
        clock.advance(10.0)
        done = await client.assets.retrieve(imported.asset_id)
    assert (done.status, done.method, done.filename) == ("ready", "url", "match.mp4")
    assert done.size is not None
    assert done.size > 0


async def test_a_failed_asset_says_why_and_has_no_size(tmp_path: Path) -> None:
    """At failure_rate 1, the asset fails with error.message and partial probe data."""
    async with sim_and_client(duration=(1.0, 1.0), failure_rate=1.0) as (_sim, client, clock):
        asset = await client.assets.create(file=clip(tmp_path), enable_hls=False)
        clock.advance(1.0)
        failed = await client.assets.retrieve(asset.asset_id)
    assert failed.status == "failed"
    assert failed.is_terminal
    assert failed.error is not None
    assert failed.error.message
    assert failed.size is None
    assert failed.hls is None
    assert failed.technical_metadata == {"file_size_bytes": 50_000, "file_mime_type": "video/mp4"}


async def test_an_async_iterator_and_bytes_upload_through_the_simulator(tmp_path: Path) -> None:
    """An iterator's upload (sent chunked) and bytes arrive whole: their sizes are right."""

    async def pieces() -> AsyncIterator[bytes]:
        for _ in range(7):
            yield b"\x02" * 10_000

    async with sim_and_client(duration=(1.0, 1.0)) as (_sim, client, clock):
        streamed = await client.assets.create(file=pieces(), filename="song.mp3")
        image = await client.assets.create(file=b"\x89PNG" * 100, filename="still.png")
        clock.advance(1.0)
        sizes = {a.asset_id: (a.size, a.duration) async for a in client.assets.list()}
    assert sizes[streamed.asset_id][0] == 70_000
    assert sizes[image.asset_id] == (400, None)  # an image has no duration


async def test_list_filters_by_ids_types_and_filename_newest_first(tmp_path: Path) -> None:
    """asset_ids (repeated), asset_types and a case-insensitive filename part all filter."""
    async with sim_and_client() as (_sim, client, _clock):
        a = await client.assets.create(file=clip(tmp_path, "Holiday.MP4"))
        b = await client.assets.create(file=clip(tmp_path, "talk.mp3"))
        c = await client.assets.create(file=clip(tmp_path, "holiday-photo.jpg"))
        everything = [x.asset_id async for x in client.assets.list(page_limit=1)]
        chosen = [x.asset_id async for x in client.assets.list(asset_ids=[a.asset_id, c.asset_id])]
        audio = [x.asset_id async for x in client.assets.list(asset_types=["audio"])]
        named = [x.asset_id async for x in client.assets.list(filename="HOLIDAY")]
        both = client.assets.list(asset_types=["image", "video"], filename="holiday")
        typed = [x.asset_id async for x in both]
    assert everything == [c.asset_id, b.asset_id, a.asset_id]
    assert chosen == [c.asset_id, a.asset_id]
    assert audio == [b.asset_id]
    assert named == typed == [c.asset_id, a.asset_id]


async def test_list_answers_400_for_a_page_limit_over_50_and_an_unknown_type() -> None:
    """The simulator refuses page_limit 51 and asset_types=movie with the flat error body."""
    async with sim_and_client() as (sim, _client, _clock):
        over = await raw(sim, "GET", "assets", params={"page_limit": "51"})
        bad = await raw(sim, "GET", "assets", params={"asset_types": "movie"})
    for resp in (over, bad):
        assert resp.status == 400
        assert set(resp.json()) == {"code", "message"}


async def test_delete_answers_409_while_referenced_unless_forced(tmp_path: Path) -> None:
    """Referenced: 409 (AssetInUseError); force=True deletes (200, no body); then 404."""
    async with sim_and_client() as (sim, client, _clock):
        asset = await client.assets.create(file=clip(tmp_path))
        sim.reference_asset(asset.asset_id)
        with pytest.raises(AssetInUseError, match="force=True"):
            await client.assets.delete(asset.asset_id)
        answer = await raw(sim, "DELETE", f"assets/{asset.asset_id}", params={"force": "true"})
        with pytest.raises(NotFoundError):
            await client.assets.retrieve(asset.asset_id)
        with pytest.raises(NotFoundError):
            await client.assets.delete(asset.asset_id)
    assert (answer.status, answer.body) == (200, b"")


async def test_delete_of_an_unreferenced_asset_succeeds_without_force(tmp_path: Path) -> None:
    """An asset no indexed asset uses is deleted by a plain delete()."""
    async with sim_and_client() as (_sim, client, _clock):
        asset = await client.assets.create(url=URL)
        await client.assets.delete(asset.asset_id)
        assert [a async for a in client.assets.list()] == []


async def test_the_simulator_enforces_the_direct_upload_limit() -> None:
    """An image part over 32 MiB is answered 400 (flat body) after its bytes are drained."""

    async def big() -> AsyncIterator[bytes]:
        for _ in range(33):
            yield b"\0" * (1024 * 1024)

    async with sim_and_client() as (sim, _client, _clock):
        data = aiohttp.FormData()
        data.add_field("method", "direct")
        data.add_field("file", big(), filename="huge.png", content_type="image/png")
        status, body = await post_form(sim, data)
    assert status == 400
    assert isinstance(body, dict)
    assert body["code"] == "parameter_invalid"
    assert "32 MiB" in body["message"]


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"method": "direct", "colour": "blue"}, "parameter_unknown"),
        ({"method": "direct"}, "parameter_invalid"),  # no file
        ({"method": "url"}, "parameter_invalid"),  # no url
        ({"method": "url", "url": "ftp://x/y.mp4"}, "parameter_invalid"),
        ({"method": "url", "url": URL, "enable_hls": "maybe"}, "parameter_invalid"),
        ({"method": "url", "url": URL, "user_metadata": '{"k": {"x": 1}}'}, "parameter_invalid"),
        ({"method": "url", "url": URL, "user_metadata": "not json"}, "parameter_invalid"),
        ({"method": "copy", "url": URL}, "parameter_invalid"),
        ([("method", "url"), ("url", URL), ("url", URL)], "parameter_invalid"),  # repeated
    ],
)
async def test_the_simulator_refuses_bad_forms_with_the_flat_error(
    fields: dict[str, str] | list[tuple[str, str]], code: str
) -> None:
    """Unknown fields, a missing file or url, a bad flag or metadata: 400 {code, message}."""
    async with sim_and_client() as (sim, client, _clock):
        data = aiohttp.MultipartWriter("form-data")
        pairs = fields.items() if isinstance(fields, dict) else fields
        for name, value in pairs:
            data.append(value).set_content_disposition("form-data", name=name)
        status, body = await post_form(sim, data)
        assert [a async for a in client.assets.list()] == []
    assert status == 400
    assert isinstance(body, dict)
    assert set(body) == {"code", "message"}
    assert body["code"] == code


async def test_the_simulator_refuses_a_body_that_is_not_multipart() -> None:
    """A JSON body to POST /assets is answered 400 content_type_invalid."""
    async with sim_and_client() as (sim, _client, _clock):
        resp = await raw(sim, "POST", "assets", json_body={"method": "url", "url": URL})
    assert resp.status == 400
    assert resp.json()["code"] == "content_type_invalid"


async def test_a_large_file_is_streamed_with_bounded_memory(tmp_path: Path) -> None:
    """Uploading a 64 MiB file over loopback allocates a small fraction of it at most."""
    path = tmp_path / "large.mp4"
    size = 64 * 1024 * 1024
    with path.open("wb") as f:
        f.truncate(size)  # sparse, so the test writes nothing to disk
    async with sim_and_client() as (_sim, client, clock):
        await client.assets.create(url=URL)  # connections, caches and routes warmed up
        gc.collect()
        tracemalloc.start()
        try:
            asset = await client.assets.create(file=path)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        clock.advance(60.0)
        uploaded = await client.assets.retrieve(asset.asset_id)
    assert uploaded.size == size
    assert peak < size // 4, f"peak {peak:,} bytes while streaming {size:,}"  # ~7 MiB seen


async def test_an_upload_the_server_stops_reading_times_out() -> None:
    """A server that never reads the body makes the upload time out (no progress), not hang."""

    async def stall(request: web.Request) -> web.Response:
        await request.content.readexactly(1)
        await asyncio.sleep(30)
        return web.Response(status=201)  # pragma: no cover - cancelled first

    async def endless() -> AsyncIterator[bytes]:
        for _ in range(512):
            yield b"\0" * (1024 * 1024)

    app = web.Application()
    app.router.add_post("/v1.3/assets", stall)
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        async with AsyncTwelveLabs(
            "key", base_url=f"http://127.0.0.1:{port}/v1.3", timeout=0.3
        ) as client:
            with pytest.raises(APITimeoutError, match="made no progress"):
                await client.assets.create(file=endless(), filename="clip.mp4")
    finally:
        await runner.cleanup()


async def test_an_iterator_over_the_limit_raises_its_own_error_over_a_socket() -> None:
    """Past the limit, the upload stops with InvalidInputError (not a connection error)."""

    async def big() -> AsyncIterator[bytes]:
        for _ in range(40):
            yield b"\0" * (1024 * 1024)

    async with sim_and_client() as (_sim, client, _clock):
        with pytest.raises(InvalidInputError, match="more than the limit"):
            await client.assets.create(file=big(), filename="still.jpg")
        assert [a async for a in client.assets.list()] == []


async def test_an_iterator_that_fails_raises_its_exception_as_is() -> None:
    """The caller's iterator raising mid-upload surfaces that very exception, sent once."""

    class Broken(Exception):
        pass

    async def failing() -> AsyncIterator[bytes]:
        yield b"\0" * 1024
        raise Broken("the download broke")

    async with sim_and_client(max_retries=3) as (sim, client, _clock):
        with pytest.raises(Broken, match="the download broke"):
            await client.assets.create(file=failing(), filename="clip.mp4")
    assert sim.stats.count("asset_create") <= 1


async def test_a_file_that_shrinks_while_read_is_refused(tmp_path: Path) -> None:
    """A file shorter than its checked size stops the body: its promised length cannot be met."""
    path = clip(tmp_path, size=1000)
    with pytest.raises(InvalidInputError, match="became shorter"):
        async for _ in PathSource(path, size=2000, chunk_size=600).chunks():
            pass


async def test_the_simulator_refuses_an_empty_file() -> None:
    """A direct upload of zero bytes is answered 400 with the flat body."""
    async with sim_and_client() as (sim, _client, _clock):
        data = aiohttp.FormData()
        data.add_field("method", "direct")
        data.add_field("file", b"", filename="clip.mp4", content_type="video/mp4")
        status, body = await post_form(sim, data)
    assert status == 400
    assert isinstance(body, dict)
    assert body["message"] == "The file is empty."
