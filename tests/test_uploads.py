"""`client.assets.upload()` and `client.assets.uploads` over the simulator on loopback.

Chunks here are 64 KiB (the simulator's `MultipartConfig`), so a file of a few hundred KiB
makes a multipart upload of several chunks; `multipart=True` sends such small files through
a session rather than a direct upload.
"""

from __future__ import annotations

import asyncio
import os
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tests._simulator_support import SimClock, sim_and_client
from tests.test_guide_recipes import ours
from twelvelabs_async import (
    AsyncTwelveLabs,
    BadRequestError,
    ClientClosedError,
    CompletedChunk,
    DecodeError,
    InvalidInputError,
    Request,
    Response,
    ServerError,
    TrackingTimeout,
    UploadInterruptedError,
    UploadMismatchError,
    UploadProgress,
)
from twelvelabs_async.testing import Faults, MockTransport, MultipartConfig, Simulator, simulate

CHUNK = 64 * 1024


def _file(tmp_path: Path, chunks: float, name: str = "clip.mp4") -> Path:
    path = tmp_path / name
    path.write_bytes(os.urandom(int(chunks * CHUNK)))
    return path


def _config(**kwargs: Any) -> MultipartConfig:
    return MultipartConfig(chunk_size=CHUNK, **kwargs)


def _ok_indexes(sim: Simulator) -> list[int | None]:
    return sorted(p.index for p in sim.storage_puts if p.status == 200)


async def test_a_multipart_upload_puts_every_chunk_once_and_returns_the_asset(
    tmp_path: Path,
) -> None:
    """Each chunk is stored once with its exact size; the session completes; the asset is ours."""
    path = _file(tmp_path, 7.5)
    async with sim_and_client(multipart=_config(initial_urls=3), duration=(5.0, 5.0)) as (
        sim,
        client,
        clock,
    ):
        asset = await client.assets.upload(path, multipart=True, concurrency=3)
        upload_id = sim.storage_puts[0].upload_id
        assert upload_id is not None
        session = sim.upload_session(upload_id)
        clock.advance(10.0)
        ready = await client.assets.retrieve(asset.asset_id)
    assert _ok_indexes(sim) == list(range(1, 9))
    assert [c.size for _, c in sorted(session.chunks.items())] == [CHUNK] * 7 + [CHUNK // 2]
    assert session.status_at(clock.now) == "completed"
    assert asset.asset_id == session.asset_id
    assert (asset.status, asset.method) == ("processing", "multipart")
    assert (ready.status, ready.size) == ("ready", path.stat().st_size)


async def test_chunks_in_flight_never_exceed_the_concurrency(tmp_path: Path) -> None:
    """With slow storage, at most `concurrency` chunk PUTs are in flight at once."""
    path = _file(tmp_path, 12)
    slow = {"storage_put": Faults(latency=1.0, latency_seconds=(0.02, 0.02))}
    for concurrency in (1, 3):
        async with sim_and_client(multipart=_config(), faults=slow) as (sim, client, _clock):
            await client.assets.upload(path, multipart=True, concurrency=concurrency)
            assert 1 <= sim.storage_peak_in_flight <= concurrency


async def test_a_failed_chunk_is_retried_on_a_fresh_url_never_a_used_one(tmp_path: Path) -> None:
    """5xx and resets on chunk PUTs are retried, each on a URL never PUT to before."""
    path = _file(tmp_path, 10)
    faults = {"storage_put": Faults(error_5xx=0.25, reset=0.15)}
    async with sim_and_client(multipart=_config(), faults=faults, max_retries=8) as (
        sim,
        client,
        _clock,
    ):
        await client.assets.upload(path, multipart=True, concurrency=2)
    tokens = [p.token for p in sim.storage_puts]
    assert len(tokens) == len(set(tokens))
    assert any(p.status != 200 for p in sim.storage_puts)
    assert _ok_indexes(sim) == list(range(1, 11))


async def test_urls_beyond_the_initial_set_and_expiring_ones_are_refreshed(
    tmp_path: Path,
) -> None:
    """Chunks past the first URLs get new ones; expired URLs are never used (no retries)."""
    path = _file(tmp_path, 9)
    clock = SimClock()

    def later(report: UploadProgress) -> None:
        if report.chunks_done == 1:
            clock.advance(200.0)  # every URL handed out so far has expired

    config = _config(initial_urls=4, url_ttl=150.0)
    async with sim_and_client(clock=clock, multipart=config) as (sim, client, _clock):
        await client.assets.upload(path, multipart=True, concurrency=1, progress=later)
    assert [p.status for p in sim.storage_puts] == [200] * 9
    assert sim.stats.count("upload_urls", 200) >= 1


async def test_chunks_beyond_the_initial_urls_get_urls_in_batches_of_50(tmp_path: Path) -> None:
    """120 chunks, 2 URLs at creation: the rest come from refreshes of at most 50 each."""
    path = tmp_path / "long.mp4"
    path.write_bytes(os.urandom(120 * 1024))
    config = MultipartConfig(chunk_size=1024, initial_urls=2)
    async with sim_and_client(multipart=config) as (sim, client, _clock):
        await client.assets.upload(path, multipart=True, concurrency=1)
    assert [p.status for p in sim.storage_puts] == [200] * 120
    assert sim.stats.count("upload_urls", 200) == 3  # 3-52, 53-102, 103-120


async def test_an_expired_url_is_retried_on_a_fresh_one(tmp_path: Path) -> None:
    """A chunk PUT refused as expired (403) is sent again on a new URL."""
    path = _file(tmp_path, 8)
    config = _config(expired_urls=0.3)
    async with sim_and_client(multipart=config, max_retries=6) as (sim, client, _clock):
        await client.assets.upload(path, multipart=True, concurrency=2)
    statuses = Counter(p.status for p in sim.storage_puts)
    assert statuses[403] > 0
    assert statuses[200] == 8
    assert len({p.token for p in sim.storage_puts}) == len(sim.storage_puts)


async def test_etags_are_reported_in_batches(tmp_path: Path) -> None:
    """While a report is in flight, finished chunks wait and go together in the next one."""
    path = _file(tmp_path, 12)
    slow = {"upload_report": Faults(latency=1.0, latency_seconds=(0.05, 0.05))}
    async with sim_and_client(multipart=_config(), faults=slow) as (sim, client, _clock):
        await client.assets.upload(path, multipart=True, concurrency=4)
    reports = sim.stats.count("upload_report", 200)
    assert 1 <= reports < 12


async def test_a_5xx_on_report_is_retried(tmp_path: Path) -> None:
    """A report answered 5xx is sent again (reports are idempotent) and the upload completes."""
    path = _file(tmp_path, 6)
    faults = {"upload_report": Faults(error_5xx=0.4)}
    async with sim_and_client(multipart=_config(), faults=faults, max_retries=8) as (
        sim,
        client,
        _clock,
    ):
        asset = await client.assets.upload(path, multipart=True, concurrency=2)
    assert sim.stats.count("upload_report") > sim.stats.count("upload_report", 200)
    assert sim.asset_status(asset.asset_id) == "processing"


async def test_resume_sends_only_the_chunks_not_completed(tmp_path: Path) -> None:
    """Stopped at its 4th chunk (3 reported), a resumed upload sends only chunks 4 to 10."""
    path = _file(tmp_path, 10)
    reports: list[UploadProgress] = []

    def stop_after_four(report: UploadProgress) -> None:
        reports.append(report)
        if report.chunks_done == 4:
            raise RuntimeError("stop here")

    async with sim_and_client(multipart=_config()) as (sim, client, _clock):
        with pytest.raises(UploadInterruptedError) as caught:
            await client.assets.upload(
                path, multipart=True, concurrency=1, progress=stop_after_four
            )
        error = caught.value
        first = len(sim.storage_puts)
        resumed: list[UploadProgress] = []
        asset = await client.assets.upload(
            path, upload_id=error.upload_id, multipart=True, progress=resumed.append
        )
        again = [p.index for p in sim.storage_puts[first:]]
    assert isinstance(error.cause, RuntimeError)
    assert error.__cause__ is error.cause
    assert {r.upload_id for r in reports + resumed} == {error.upload_id}
    assert sorted(again) == [4, 5, 6, 7, 8, 9, 10]
    assert (resumed[0].chunks_done, resumed[0].bytes_sent) == (3, 3 * CHUNK)
    assert (resumed[-1].chunks_done, resumed[-1].bytes_sent) == (10, 10 * CHUNK)
    assert asset.asset_id == sim.upload_session(error.upload_id).asset_id


async def test_a_chunk_failing_for_good_interrupts_with_the_upload_id(tmp_path: Path) -> None:
    """Storage failing every PUT ends in UploadInterruptedError naming the session and cause."""
    path = _file(tmp_path, 4)
    faults = {"storage_put": Faults(error_5xx=1.0)}
    seen: list[UploadProgress] = []
    async with sim_and_client(multipart=_config(), faults=faults, max_retries=2) as (
        sim,
        client,
        _clock,
    ):
        with pytest.raises(UploadInterruptedError) as caught:
            await client.assets.upload(path, multipart=True, progress=seen.append)
        upload_id = caught.value.upload_id
        session = sim.upload_session(upload_id)
    assert isinstance(caught.value.cause, ServerError)
    assert seen[0].upload_id == upload_id
    assert caught.value.asset_id == session.asset_id
    assert upload_id in str(caught.value)


async def test_cancelling_an_upload_raises_a_resumable_error(tmp_path: Path) -> None:
    """A cancelled upload raises UploadInterruptedError carrying upload_id; it leaves no task."""
    path = _file(tmp_path, 8)
    async with sim_and_client(multipart=_config()) as (_sim, client, _clock):
        before = asyncio.all_tasks()
        holder: list[asyncio.Task[Any]] = []

        def cancel_after_two(report: UploadProgress) -> None:
            if report.chunks_done == 2:
                holder[0].cancel()

        holder.append(
            asyncio.create_task(
                client.assets.upload(path, multipart=True, concurrency=1, progress=cancel_after_two)
            )
        )
        with pytest.raises(UploadInterruptedError) as caught:
            await holder[0]
        left = ours(asyncio.all_tasks() - before)
        done = [c async for c in client.assets.uploads.chunks(caught.value.upload_id)]
    assert isinstance(caught.value.cause, asyncio.CancelledError)
    assert left == []
    assert 2 <= sum(c.status == "completed" for c in done) < 8


async def test_an_expired_session_interrupts_and_cannot_be_resumed(tmp_path: Path) -> None:
    """Past its deadline the session refuses more work; a resume says it is over."""
    path = _file(tmp_path, 6)
    clock = SimClock()

    def expire(report: UploadProgress) -> None:
        if report.chunks_done == 2:
            clock.advance(1000.0)

    async with sim_and_client(clock=clock, multipart=_config(session_ttl=500.0)) as (
        _sim,
        client,
        _clock,
    ):
        with pytest.raises(UploadInterruptedError) as caught:
            await client.assets.upload(path, multipart=True, concurrency=1, progress=expire)
        with pytest.raises(UploadInterruptedError, match="expired"):
            await client.assets.upload(path, multipart=True, upload_id=caught.value.upload_id)
    assert isinstance(caught.value.cause, BadRequestError)


async def test_resuming_with_a_file_of_another_size_is_refused(tmp_path: Path) -> None:
    """A session for 5 chunks' bytes does not take a file of 6: both sizes are named."""
    async with sim_and_client(multipart=_config()) as (sim, client, _clock):
        session = await client.assets.uploads.create(
            filename="clip.mp4", type="video", total_size=5 * CHUNK
        )
        before = len(sim.storage_puts)
        with pytest.raises(UploadMismatchError) as caught:
            await client.assets.upload(
                _file(tmp_path, 6), multipart=True, upload_id=session.upload_id
            )
    assert (caught.value.field, caught.value.expected, caught.value.actual) == (
        "total_size",
        6 * CHUNK,
        5 * CHUNK,
    )
    assert f"{5 * CHUNK:,}" in str(caught.value)
    assert f"{6 * CHUNK:,}" in str(caught.value)
    assert len(sim.storage_puts) == before


def _bad_inputs(tmp_path: Path) -> list[tuple[dict[str, Any], str]]:
    big_image = tmp_path / "big.png"
    with big_image.open("wb") as f:
        f.truncate(33 * 1024 * 1024)
    big_doc = tmp_path / "big.pdf"
    with big_doc.open("wb") as f:
        f.truncate(201 * 1024 * 1024)
    huge = tmp_path / "huge.mp4"
    with huge.open("wb") as f:
        f.truncate(10 * 1024**3 + 1)
    small = _file(tmp_path, 1)
    (tmp_path / "notes.xyz").write_bytes(b"x")
    (tmp_path / "empty.mp4").write_bytes(b"")
    return [
        ({"path": tmp_path / "missing.mp4"}, "does not exist"),
        ({"path": tmp_path}, "directory"),
        ({"path": tmp_path / "notes.xyz"}, "not a type of file"),
        ({"path": tmp_path / "empty.mp4"}, "empty"),
        ({"path": big_image}, "over the"),
        ({"path": big_doc}, "over the"),
        ({"path": huge}, "over the"),
        ({"path": small, "multipart": False, "filename": "big.png", "concurrency": 0}, "concur"),
        ({"path": big_doc, "multipart": True}, "documents"),
        ({"path": small, "upload_id": "../x", "multipart": True}, "upload_id"),
    ]


async def test_bad_input_is_refused_before_any_request(tmp_path: Path) -> None:
    """Missing, directory, unknown type, empty, too large, bad options: refused, no request."""
    async with sim_and_client(multipart=_config()) as (sim, client, _clock):
        for kwargs, words in _bad_inputs(tmp_path):
            path = kwargs.pop("path")
            with pytest.raises(InvalidInputError, match=words):
                await client.assets.upload(path, **kwargs)
        total = sim.stats.total
    assert total == 0


async def test_the_api_key_never_reaches_storage(tmp_path: Path) -> None:
    """Chunk PUTs carry no x-api-key; the API calls of the same upload do."""
    path = _file(tmp_path, 5)
    async with sim_and_client(multipart=_config()) as (sim, client, _clock):
        await client.assets.upload(path, multipart=True)
    assert len(sim.storage_puts) == 5
    assert not any(p.had_api_key for p in sim.storage_puts)
    assert sim.stats.count("upload_create", 201) == 1  # the simulator checks the key there


async def test_a_small_file_goes_up_directly_with_one_progress_report(tmp_path: Path) -> None:
    """A file under the direct limit is one POST /assets; progress reports it done, no session."""
    path = _file(tmp_path, 2)
    seen: list[UploadProgress] = []
    async with sim_and_client(multipart=_config()) as (sim, client, _clock):
        asset = await client.assets.upload(path, progress=seen.append, enable_hls=False)
    size = path.stat().st_size
    assert asset.method == "direct"
    assert seen == [UploadProgress(None, size, size, 1, 1)]
    assert sim.stats.count("asset_create", 201) == 1
    assert sim.storage_puts == []


async def test_the_low_level_calls_drive_a_session_end_to_end(tmp_path: Path) -> None:
    """create, urls, report, retrieve, chunks and list: each endpoint, as the API answers."""
    data = os.urandom(3 * CHUNK - 10)
    async with (
        simulate(multipart=_config(initial_urls=1)) as sim,
        AsyncTwelveLabs(sim.api_key, base_url=sim.base_url) as client,
    ):
        uploads = client.assets.uploads
        session = await uploads.create(
            filename="song.mp3", type="audio", total_size=len(data), user_metadata={"k": "v"}
        )
        listed = [u.upload_id async for u in uploads.list(page_limit=1)]
        fresh = await uploads.urls(session.upload_id, start=2, count=2)
        urls = {u.chunk_index: u.url for u in session.upload_urls + fresh.upload_urls}
        reports = []
        for index in (1, 2, 3):
            piece = data[(index - 1) * CHUNK : index * CHUNK]
            headers = await client._http.put_external(urls[index], _Bytes(piece))
            proof = headers["ETag"].strip('"')
            done = CompletedChunk(chunk_index=index, proof=proof, chunk_size=len(piece))
            reports.append(await uploads.report(session.upload_id, [done, done]))
        status = await uploads.retrieve(session.upload_id, page_limit=2)
        chunks = [c.index async for c in uploads.chunks(session.upload_id, page_limit=2)]
        after = [u.upload_id async for u in uploads.list()]
    assert (session.chunk_size, session.total_chunks, len(session.upload_urls)) == (CHUNK, 3, 1)
    assert listed == [session.upload_id]
    assert (fresh.start_index, fresh.count) == (2, 2)
    assert [(r.processed_chunks, r.duplicate_chunks, r.total_completed) for r in reports] == [
        (1, 1, 1),
        (1, 1, 2),
        (1, 1, 3),
    ]
    assert [r.url is not None for r in reports] == [False, False, True]
    assert (status.status, status.chunks_completed, status.uploaded_size) == (
        "completed",
        3,
        len(data),
    )
    assert status.page_info.total_page == 2
    assert chunks == [1, 2, 3]
    assert after == []


class _Bytes:
    """A `Content` of bytes in memory, for a hand-made chunk PUT."""

    content_type = "application/octet-stream"
    replayable = True

    def __init__(self, data: bytes) -> None:
        self._data = data
        self.length = len(data)

    async def chunks(self) -> Any:
        yield self._data


def _session_api(
    *, chunk_size: int = CHUNK, total_chunks: int = 2, etag: str | None = '"e"'
) -> tuple[MockTransport, list[Request]]:
    """An in-process API whose session says `chunk_size` and `total_chunks`."""
    seen: list[Request] = []

    async def handler(request: Request) -> Response:
        seen.append(request)
        if request.content is not None:
            async for _ in request.content.chunks():
                pass
        if request.method == "PUT":
            return Response(200, {"ETag": etag} if etag is not None else {})
        if request.url.endswith("/presigned-urls"):
            start = request.json["start"]
            urls = [{"chunk_index": start, "url": f"https://storage.example/{start}?sig=s"}]
            return Response.from_json(200, {"upload_id": "u1", "upload_urls": urls})
        if request.url.endswith("multipart-uploads"):
            body = {"upload_id": "u1", "asset_id": "a1", "chunk_size": chunk_size}
            return Response.from_json(201, {**body, "total_chunks": total_chunks})
        done = request.json["completed_chunks"]
        return Response.from_json(200, {"processed_chunks": len(done) + 1, "asset_id": "a1"})

    return MockTransport(handler), seen


@pytest.mark.parametrize(
    ("chunk_size", "total_chunks", "field", "numbers"),
    [(CHUNK, 3, "total_chunks", ("3", "2")), (0, 2, "chunk_size", ("0",))],
)
async def test_a_session_that_disagrees_with_the_size_sent_is_refused(
    tmp_path: Path, chunk_size: int, total_chunks: int, field: str, numbers: tuple[str, ...]
) -> None:
    """A session whose chunk size or count does not fit the size sent: typed, nothing PUT."""
    transport, seen = _session_api(chunk_size=chunk_size, total_chunks=total_chunks)
    async with AsyncTwelveLabs("key", transport=transport) as client:
        with pytest.raises(UploadMismatchError) as caught:
            await client.assets.upload(_file(tmp_path, 2), multipart=True)
    assert caught.value.field == field
    assert all(number in str(caught.value) for number in numbers)
    assert [r.method for r in seen] == ["POST"]


async def test_a_chunk_put_is_bare_octet_stream_and_needs_an_etag(tmp_path: Path) -> None:
    """The PUT has no API key and is application/octet-stream; no ETag is a failure."""
    transport, seen = _session_api(etag=None)
    async with AsyncTwelveLabs("key", transport=transport, max_retries=1) as client:
        with pytest.raises(UploadInterruptedError) as caught:
            await client.assets.upload(_file(tmp_path, 2), multipart=True, concurrency=1)
    puts = [r for r in seen if r.method == "PUT"]
    assert len(puts) == 2  # tried, then retried on a URL asked for anew
    assert sum(r.url.endswith("/presigned-urls") for r in seen) == 2
    assert all("x-api-key" not in p.headers for p in puts)
    assert all(p.content is not None for p in puts)
    assert {p.content.content_type for p in puts if p.content} == {"application/octet-stream"}
    assert "ETag" in str(caught.value)


async def test_a_report_answer_that_miscounts_is_an_error(tmp_path: Path) -> None:
    """A report answer counting more chunks than were reported interrupts the upload."""
    transport, _seen = _session_api()
    async with AsyncTwelveLabs("key", transport=transport) as client:
        with pytest.raises(UploadInterruptedError, match="answer counts"):
            await client.assets.upload(_file(tmp_path, 2), multipart=True, concurrency=1)


async def test_the_endpoint_calls_refuse_bad_arguments_before_any_request() -> None:
    """uploads.create, report, urls, retrieve: bad arguments raise before a request is made."""
    seen: list[Request] = []
    async with AsyncTwelveLabs("key", transport=MockTransport(seen.append)) as client:  # type: ignore[arg-type]
        uploads = client.assets.uploads
        good: dict[str, Any] = {"filename": "a.mp4", "type": "video", "total_size": 10}
        bad_creates: list[dict[str, Any]] = [
            {**good, "filename": "a\nb.mp4"},
            {**good, "type": "document"},
            {**good, "total_size": 0},
            {**good, "total_size": True},
            {**good, "type": "image", "total_size": 33 * 1024 * 1024},
            {**good, "enable_hls": "yes"},
            {**good, "user_metadata": {"k": {"nested": 1}}},
        ]
        for kwargs in bad_creates:
            with pytest.raises(InvalidInputError):
                await uploads.create(**kwargs)
        chunk = CompletedChunk(chunk_index=1, proof="e", chunk_size=5)
        for chunks in ([], [object()], [CompletedChunk(chunk_index=0, proof="e", chunk_size=5)],
                       [CompletedChunk(chunk_index=1, proof="", chunk_size=5)]):  # fmt: skip
            with pytest.raises(InvalidInputError):
                await uploads.report("u1", chunks)  # type: ignore[arg-type]
        with pytest.raises(InvalidInputError):
            await uploads.report("a/b", [chunk])
        for start, count in ((0, 1), (1, 0), (1, 51)):
            with pytest.raises(InvalidInputError):
                await uploads.urls("u1", start=start, count=count)
        for page, limit in ((0, 10), (1, 51)):
            with pytest.raises(InvalidInputError):
                await uploads.retrieve("u1", page=page, page_limit=limit)
    assert seen == []


async def test_put_external_refuses_a_url_that_is_not_http_and_a_closed_client() -> None:
    """The seam's bare PUT wants an absolute http(s) URL and an open client."""
    seen: list[Request] = []
    client = AsyncTwelveLabs("key", transport=MockTransport(seen.append))  # type: ignore[arg-type]
    with pytest.raises(DecodeError, match="not an absolute"):
        await client._http.put_external("ftp://storage.example/1", _Bytes(b"x"))
    await client.close()
    with pytest.raises(ClientClosedError):
        await client._http.put_external("https://storage.example/1", _Bytes(b"x"))
    assert seen == []


async def test_a_file_that_shrinks_during_the_upload_is_an_error(tmp_path: Path) -> None:
    """A chunk that cannot be read whole (the file shrank) stops the upload, saying so."""
    path = _file(tmp_path, 4)

    def shrink(report: UploadProgress) -> None:
        if report.chunks_done == 1:
            with path.open("r+b") as f:
                f.truncate(CHUNK + 10)

    async with sim_and_client(multipart=_config()) as (_sim, client, _clock):
        with pytest.raises(UploadInterruptedError, match="shorter") as caught:
            await client.assets.upload(path, multipart=True, concurrency=1, progress=shrink)
    assert isinstance(caught.value.cause, InvalidInputError)


async def test_an_async_progress_callback_is_awaited(tmp_path: Path) -> None:
    """A coroutine function given as progress is awaited for every report."""
    path = _file(tmp_path, 3)
    seen: list[int] = []

    async def progress(report: UploadProgress) -> None:
        await asyncio.sleep(0)
        seen.append(report.chunks_done)

    async with sim_and_client(multipart=_config()) as (_sim, client, _clock):
        await client.assets.upload(path, multipart=True, concurrency=1, progress=progress)
    assert seen == [0, 1, 2, 3]


async def test_upload_with_wait_returns_the_asset_once_ready_or_failed(tmp_path: Path) -> None:
    """wait=True returns the whole asset once terminal: `ready` with its size, `failed` as is."""
    path = _file(tmp_path, 3.5)
    async with sim_and_client(multipart=_config(), asset_duration=(4.0, 4.0)) as (
        sim,
        client,
        clock,
    ):
        started = clock.now
        ready = await client.assets.upload(path, multipart=True, wait=True)
        waited = clock.now - started
        direct = await client.assets.upload(_file(tmp_path, 0.5, "small.mp4"), wait=True)
    assert (ready.status, ready.size, ready.method) == ("ready", path.stat().st_size, "multipart")
    assert waited >= 4.0
    assert direct.status == "ready"
    assert direct.size == CHUNK // 2
    assert sim.asset_status(ready.asset_id) == "ready"


async def test_wait_options_are_checked_before_the_upload(tmp_path: Path) -> None:
    """wait_timeout without wait=True, a negative one or a non-bool wait: refused, no request."""
    path = _file(tmp_path, 1)
    bad: list[tuple[dict[str, Any], str]] = [
        ({"wait_timeout": 10.0}, "pass wait=True"),
        ({"wait": True, "wait_timeout": -1.0}, "wait_timeout"),
        ({"wait": "yes"}, "wait must be True or False"),
    ]
    async with sim_and_client(multipart=_config()) as (sim, client, _clock):
        for kwargs, words in bad:
            with pytest.raises(InvalidInputError, match=words):
                await client.assets.upload(path, **kwargs)
        total = sim.stats.total
    assert total == 0


async def test_wait_timeout_stops_waiting_and_leaves_the_asset_uploaded(tmp_path: Path) -> None:
    """Past wait_timeout, TrackingTimeout names the asset; the asset stays, still processing."""
    path = _file(tmp_path, 2)
    async with (
        simulate(multipart=_config(), asset_duration=(60.0, 60.0)) as sim,
        AsyncTwelveLabs(sim.api_key, base_url=sim.base_url) as client,
    ):
        with pytest.raises(TrackingTimeout) as caught:
            await client.assets.upload(path, multipart=True, wait=True, wait_timeout=0.3)
        (asset,) = [a async for a in client.assets.list()]
    assert asset.asset_id in str(caught.value)
    assert asset.status == "processing"
