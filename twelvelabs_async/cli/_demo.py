"""`demo`: many analysis tasks created and tracked on the embedded simulator, with a summary."""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio

from .._client import AsyncTwelveLabs
from ..analyze._request import AnalysisRequest
from ..models import AnalyzeTask, ResponseFormat, SegmentDefinition, SegmentField
from ..testing import Simulator, simulate
from ._common import EXIT_OK, EXIT_SOME_FAILED, add_client_options, base_url_of, make_client, run
from ._display import Display
from ._flags import UsageError, number
from ._request import check
from ._tasks import print_summary

SCENES = ResponseFormat.segments(
    SegmentDefinition(
        "scene",
        "A continuous shot",
        fields=(
            SegmentField("location", "string", "Where the scene takes place"),
            SegmentField("people", "integer", "How many people are visible"),
        ),
    )
)
PRODUCTS = ResponseFormat.schema(
    {
        "type": "object",
        "properties": {
            "title": {"type": "string"},
            "products": {"type": "array", "items": {"type": "string"}},
            "sentiment": {"enum": ["positive", "neutral", "negative"]},
        },
        "required": ["title", "products", "sentiment"],
    }
)


def add_demo_parser(commands: Any) -> None:
    """Register `demo`."""
    p = commands.add_parser(
        "demo",
        help="create and track many tasks on the embedded simulator (no key needed)",
        description=(
            "Start a simulated TwelveLabs API in this process, create many analysis tasks "
            "(general, segmentation and JSON-schema analyses; a few fail), follow them with "
            "the tracker and a live display, and print what it cost."
        ),
    )
    p.add_argument(
        "--tasks",
        type=number("--tasks", integer=True, low=1),
        default=200,
        metavar="N",
        help="how many tasks (default: 200)",
    )
    p.add_argument(
        "--seed", type=number("--seed", integer=True), default=7, help="the simulator's seed"
    )
    p.add_argument(
        "--max-duration",
        type=number("--max-duration", low=2, unit="seconds"),
        default=25.0,
        metavar="SECONDS",
        help="longest task, seconds (default: 25; at least 2)",
    )
    p.add_argument("--json", action="store_true", help="JSON Lines of finished tasks on stdout")
    p.add_argument("--live", action="store_true", help="use the real API (needs a key)")
    p.add_argument(
        "--video-url", action="append", default=[], metavar="URL", help="video for --live (repeat)"
    )
    add_client_options(p)
    p.set_defaults(run=lambda a: run(a, lambda: _demo(a)), check=_check)


def _check(args: argparse.Namespace) -> None:
    if not args.live:
        given = [f for f in ("--api-key", "--base-url", "--video-url")
                 if getattr(args, f[2:].replace("-", "_"), None)]  # fmt: skip
        if given:
            raise UsageError(
                f"{' and '.join(given)} need --live: without it the demo runs on its own simulator"
            )
        return
    if not args.video_url:
        raise UsageError("--live needs at least one --video-url (a public link to a video file)")
    for url in args.video_url:
        check(AnalysisRequest(video=url, prompt="p"), sync=False)


def _request(i: int, videos: list[str]) -> dict[str, Any]:
    video = videos[i % len(videos)]
    kind = i % 20
    if kind < 5:
        return {"video": video, "analysis_mode": "time_based_metadata", "response_format": SCENES}
    if kind < 8:
        return {
            "video": video,
            "prompt": "Describe the products shown",
            "response_format": PRODUCTS,
        }
    return {"video": video, "prompt": "Summarize this video in three sentences"}


@asynccontextmanager
async def _backend(
    args: argparse.Namespace,
) -> AsyncIterator[tuple[AsyncTwelveLabs, Simulator | None]]:
    if args.live:
        async with make_client(args) as client:
            yield client, None
        return
    async with (
        simulate(seed=args.seed, duration=(2.0, args.max_duration), failure_rate=0.04) as sim,
        AsyncTwelveLabs(sim.api_key, base_url=sim.base_url) as client,
    ):
        yield client, sim


async def _demo(args: argparse.Namespace) -> int:
    videos = args.video_url or [f"https://videos.example.com/demo-{i}.mp4" for i in range(40)]
    async with _backend(args) as (client, sim):
        where = "the real API" if sim is None else f"the simulator at {sim.base_url}"
        print(f"creating {args.tasks} analysis tasks on {where} ...", file=sys.stderr)
        ids: list[str] = []
        limiter = anyio.CapacityLimiter(16)

        async def create(i: int) -> None:
            async with limiter:
                ids.append((await client.analyze.tasks.create(**_request(i, videos))).task_id)

        async with anyio.create_task_group() as tg:
            for i in range(args.tasks):
                tg.start_soon(create, i)
        display = Display(len(ids), json_lines=args.json)
        finished: list[AnalyzeTask] = []
        latencies: list[float] = []
        tracker = client.analyze.tasks.track(ids, on_error="collect")
        try:
            with display:
                async with tracker:
                    display.attach(tracker)
                    async for task in tracker:
                        finished.append(task)
                        if sim is not None:
                            latencies.append(time.time() - sim.terminal_at[task.task_id])
                        display.finished(task)
        finally:
            print_summary(tracker, finished, display.started, base_url_of(args))
            if sim is not None:
                _compare(sim, ids, tracker.stats.total_requests, latencies)
    # The simulated failures are part of the show: the demo succeeds when every task it created
    # was delivered (ready, failed or canceled) and no error was collected.
    delivered = len(finished) == len(ids) and not tracker.errors
    return EXIT_OK if delivered else EXIT_SOME_FAILED


def _compare(sim: Simulator, ids: list[str], used: int, latencies: list[float]) -> None:
    """Requests used against a per-task 1-second polling loop; detection latency."""
    loop_requests = 0
    for task_id in ids:
        task = sim._app.store.get(task_id)
        if task is not None:
            loop_requests += 1 + math.ceil(max(0.0, sim.terminal_at[task_id] - task.created))
    out = sys.stderr
    ratio = loop_requests / used if used else float("inf")
    print(
        f"a per-task 1-s polling loop would have sent about {loop_requests} requests; "
        f"the tracker sent {used} ({ratio:.1f}x fewer)",
        file=out,
    )
    if latencies:
        ordered = sorted(latencies)
        p50 = ordered[len(ordered) // 2]
        p99 = ordered[min(len(ordered) - 1, math.ceil(0.99 * len(ordered)) - 1)]
        print(f"detection latency: p50 {p50:.2f}s, p99 {p99:.2f}s", file=out)
