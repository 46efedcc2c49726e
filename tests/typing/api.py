"""Never run: type-checked by `mypy --strict` to prove the public API reads as the docs show."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import attrs

from twelvelabs_async import (
    AnalyzeResult,
    AnalyzeTask,
    Asset,
    AssetDetail,
    AssetStatus,
    AsyncTwelveLabs,
    ChunkReport,
    ChunkStatus,
    CompletedChunk,
    NotFoundError,
    RateLimitError,
    ResponseFormat,
    Segment,
    SegmentDefinition,
    SegmentField,
    StreamEnd,
    TaskPage,
    TaskRef,
    TaskStatus,
    TextGeneration,
    TrackingTimeout,
    UploadInterruptedError,
    UploadProgress,
    UploadSession,
    UrlVideo,
    parse_json,
    parse_segments,
)


@attrs.frozen
class Summary:
    title: str
    topics: list[str]


async def readme_example() -> None:
    async with AsyncTwelveLabs() as client:
        async for task in client.analyze.tasks.list(status="processing"):
            done: AnalyzeTask = await client.analyze.tasks.wait(task.task_id, timeout=600)
            print(done.task_id, done.status, done.result.data if done.result else done.error)


async def everything(client: AsyncTwelveLabs) -> None:
    ref: TaskRef = await client.analyze.tasks.create(
        video=UrlVideo("https://example.com/v.mp4"),
        analysis_mode="time_based_metadata",
        response_format=ResponseFormat.segments(
            SegmentDefinition("goal", "A goal", fields=(SegmentField("team", "string"),))
        ),
        custom_id="match-42",
    )
    try:
        task = await client.analyze.tasks.wait(ref.task_id, timeout=1800)
    except TrackingTimeout as exc:
        pending: frozenset[str] = exc.pending
        print(pending)
        return
    except NotFoundError as exc:
        print(exc.status_code, exc.code, exc.message)
        return
    except RateLimitError as exc:
        delay: float | None = exc.retry_after
        print(delay)
        return
    ready: bool = task.status == TaskStatus.READY and task.is_terminal
    segments: dict[str, tuple[Segment, ...]] = parse_segments(task)
    print(ready, segments)
    page: TaskPage = await client.analyze.tasks.list(page_limit=10).page(1)
    print(page.page_info.total_page)
    result: AnalyzeResult = await client.analyze.generate(
        video="https://example.com/v.mp4",
        prompt="Summarize as JSON",
        response_format=ResponseFormat.schema({"type": "object"}),
    )
    summary: Summary = parse_json(result, into=Summary)
    print(summary.title)
    async with client.analyze.stream(video="https://example.com/v.mp4", prompt="Hi") as stream:
        async for event in stream:
            if isinstance(event, TextGeneration):
                print(event.text)
    end: StreamEnd | None = stream.end
    text: str = await client.analyze.stream(video="https://example.com/v.mp4", prompt="Hi").text()
    print(end, text)
    await client.analyze.tasks.cancel(ref.task_id)
    await client.analyze.tasks.delete(ref.task_id)


if __name__ == "__main__":  # pragma: no cover
    asyncio.run(readme_example())


async def webhooks_example(body: bytes, header: str | None) -> None:
    from aiohttp import web

    from twelvelabs_async import WebhookEvent, WebhookEventType, WebhookVerificationError, webhooks

    try:
        event: WebhookEvent = webhooks.verify(body, header, ["whsec_old", "whsec_new"])
    except WebhookVerificationError as exc:
        status: int = exc.http_status
        reason: str = exc.reason
        print(status, reason)
        return
    task_id: str = event.data.id
    if event.type == WebhookEventType.TASK_READY and event.data.status == "ready":
        print(task_id, event.data.custom_id, event.created_at.isoformat())
    seen = webhooks.DeliveryDeduplicator(max_events=1000, ttl=3600)
    first: bool = not seen.is_duplicate(event.id)
    header_value: str = webhooks.sign(body, "whsec_new", timestamp=1_767_225_600)
    print(first, header_value)

    async def on_event(event: WebhookEvent) -> None:
        print(event.id)

    app = web.Application()
    app.router.add_post("/hook", webhooks.webhook_handler("whsec_new", on_event, dedupe=seen))
    app.router.add_post("/sync", webhooks.webhook_handler("whsec_new", print, dedupe=False))


async def batches_example(client: AsyncTwelveLabs, asset_ids: list[str]) -> None:
    from twelvelabs_async import (
        AssetVideo,
        Batch,
        BatchCreated,
        BatchDefaults,
        BatchRequest,
        BatchResult,
        TrackingTimeout,
    )

    requests = [BatchRequest(AssetVideo(a), custom_id=f"item-{i}") for i, a in enumerate(asset_ids)]
    created: BatchCreated = await client.analyze.batches.create(
        requests=requests, analysis_mode="general", defaults=BatchDefaults(prompt="Summarize")
    )
    batch: Batch = await client.analyze.batches.retrieve(created.batch_id)
    done: int = batch.finished_items
    try:
        async with client.analyze.batches.track(created.batch_id, timeout=86_400) as tracker:
            async for item in tracker:
                result: BatchResult = item
                if result.data is not None:
                    print(result.custom_id, result.data.data)
    except TrackingTimeout as exc:
        print(sorted(exc.pending))
    async with client.analyze.batches.results(created.batch_id) as results:
        async for line in results:
            print(line.task_id, line.status, done)
    async for listed in client.analyze.batches.list(status=["processing", "canceling"]):
        print(listed.batch_id)
    await client.analyze.batches.cancel(created.batch_id)
    await client.analyze.batches.delete(created.batch_id)


async def mock_transport_example() -> None:
    from twelvelabs_async import (
        AiohttpTransport,
        APIConnectionError,
        Request,
        Response,
        StreamedResponse,
        Transport,
    )
    from twelvelabs_async.testing import MockTransport

    def handler(request: Request) -> Response:
        if request.headers.get("Idempotency-Key") is None and request.method == "POST":
            raise APIConnectionError("refused", request_sent=False)
        return Response.from_json(200, {"task_id": "t1", "status": "ready"})

    async def async_handler(request: Request) -> Response:
        return Response(429, {"Retry-After": "1"}, b"", incomplete=None)

    transports: list[Transport] = [
        MockTransport(handler),
        MockTransport(async_handler),
        AiohttpTransport(max_connections=8),
    ]
    for transport in transports:
        async with AsyncTwelveLabs("key", transport=transport) as client:
            task: AnalyzeTask = await client.analyze.tasks.retrieve("t1")
            print(task.status)
        async with transport.stream(Request(method="GET", url="u", timeout=1.0)) as streamed:
            response: StreamedResponse = streamed
            async for chunk in response.chunks:
                print(response.status, len(chunk))
        await transport.close()


async def typed_results_and_closed_choices(client: AsyncTwelveLabs, task_id: str) -> None:
    from twelvelabs_async import (
        AnalysisMode,
        AnalyzeTaskResult,
        BatchStatus,
        ResultNotReadyError,
        TaskStatus,
        TokenUsage,
    )

    task = await client.analyze.tasks.wait(task_id)
    try:
        result: AnalyzeTaskResult = task.ready_result()
    except ResultNotReadyError as exc:
        not_ready: tuple[str | None, str | None] = (exc.task_id, exc.status)
        print(not_ready)
    else:
        text: str = result.data
        print(text)
    async with client.analyze.stream(video="https://example.com/v.mp4", prompt="Hi") as stream:
        print(await stream.text())
    end: StreamEnd = stream.end_event()
    usage: TokenUsage | None = end.usage
    print(usage)
    async with client.analyze.batches.results("b1") as results:
        async for item in results:
            if item.status == "ready":
                print(item.ready_result().data)
    # Closed choices take their enum's members or its values as literal strings...
    client.analyze.tasks.list(status="ready", analysis_mode="time_based_metadata")
    client.analyze.tasks.list(status=TaskStatus.READY, analysis_mode=AnalysisMode.GENERAL)
    client.analyze.batches.list(status=["processing", BatchStatus.CANCELING])
    ResponseFormat.segments(
        SegmentDefinition(
            "scene", "A scene", fields=(SegmentField("at", "timestamp", "When", "seconds"),)
        ),
        time_format="hh:mm:ss",
    )
    await client.analyze.tasks.create(
        video="https://example.com/v.mp4",
        analysis_mode="time_based_metadata",
        response_format=ResponseFormat.segments(SegmentDefinition("s", "S")),
        max_tokens="unlimited",
    )
    # ...and a typo is a type error (each ignore below is needed: mypy --strict says if not).
    await client.analyze.tasks.create(video="u", prompt="p", analysis_mode="segments")  # type: ignore[arg-type]
    await client.analyze.tasks.create(video="u", prompt="p", max_tokens="lots")  # type: ignore[arg-type]
    client.analyze.tasks.list(status="redy")  # type: ignore[arg-type]
    client.analyze.tasks.list(analysis_mode="segments")  # type: ignore[arg-type]
    client.analyze.batches.list(status="procesing")  # type: ignore[arg-type]
    client.analyze.batches.list(status=["procesing"])  # type: ignore[list-item]
    await client.analyze.batches.create(requests=[], analysis_mode="segments")  # type: ignore[arg-type]
    SegmentField("team", "strng")  # type: ignore[arg-type]
    SegmentField("at", "timestamp", format="hh:mm")  # type: ignore[arg-type]
    ResponseFormat.segments(time_format="minutes")  # type: ignore[arg-type]


async def assets(client: AsyncTwelveLabs, path: Path, chunks: AsyncIterator[bytes]) -> None:
    """Assets: a path, bytes or an async iterator; typed results; closed asset types."""
    asset: Asset = await client.assets.create(file=path, user_metadata={"team": "news", "n": 5})
    await client.assets.create(file=chunks, filename="clip.mp4", enable_hls=False)
    await client.assets.create(url="https://example.com/v.mp4", user_metadata={"tags": ["a"]})
    detail: AssetDetail = await client.assets.retrieve(asset.asset_id)
    if detail.status == AssetStatus.READY and detail.size is not None:
        print(detail.size + 1)
    async for item in client.assets.list(asset_ids=[asset.asset_id], asset_types=["video"]):
        print(item.technical_metadata)
    await client.assets.delete(asset.asset_id, force=True)
    client.assets.list(asset_types=["movie"])  # type: ignore[list-item]


async def assets_tracked(client: AsyncTwelveLabs, asset_ids: list[str]) -> None:
    from twelvelabs_async import AssetTracker
    from twelvelabs_async.assets._source import AssetTrackingSource
    from twelvelabs_async.tracking import ByIds, Source

    ready: AssetDetail = await client.assets.wait(asset_ids[0], timeout=600)
    tracker: AssetTracker = client.assets.track(asset_ids, timeout=60, on_error="collect")
    async with tracker:
        async for asset in tracker:
            detail: AssetDetail = asset
            print(detail.status, ready.status)
    source = AssetTrackingSource(client._http)
    as_source: Source[AssetDetail] = source
    by_ids: ByIds[AssetDetail] = source
    print(as_source, by_ids, tracker.stats.requests["retrieve_many"])


async def uploads(client: AsyncTwelveLabs, path: Path) -> None:
    """Uploads: progress (sync or async), resume by id, the endpoints one call each."""

    def show(report: UploadProgress) -> None:
        print(report.upload_id, report.bytes_sent, report.total_bytes, report.fraction)

    async def show_later(report: UploadProgress) -> None:
        await asyncio.sleep(0)

    try:
        asset: Asset = await client.assets.upload(path, progress=show, concurrency=8)
    except UploadInterruptedError as exc:
        asset = await client.assets.upload(str(path), upload_id=exc.upload_id, progress=show_later)
    print(asset.asset_id)
    session: UploadSession = await client.assets.uploads.create(
        filename="a.mp4", type="video", total_size=10
    )
    done = [CompletedChunk(chunk_index=1, proof="etag", chunk_size=10)]
    report: ChunkReport = await client.assets.uploads.report(session.upload_id, done)
    print(report.url, report.total_completed)
    async for chunk in client.assets.uploads.chunks(session.upload_id):
        print(chunk.index, chunk.status == ChunkStatus.COMPLETED)
    async for pending in client.assets.uploads.list():
        print(pending.total_chunks)
    await client.assets.uploads.create(filename="a.pdf", type="document", total_size=1)  # type: ignore[arg-type]
