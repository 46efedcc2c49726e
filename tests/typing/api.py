"""Never run: type-checked by `mypy --strict` to prove the public API reads as the docs show."""

from __future__ import annotations

import asyncio

import attrs

from twelvelabs_async import (
    AnalyzeResult,
    AnalyzeTask,
    AsyncTwelveLabs,
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
