"""The logging, tracing and worker recipes of the guides, run as written against the simulator
on loopback (or `MockTransport` where no socket is needed).
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import re
from collections.abc import AsyncIterator, Iterator
from types import SimpleNamespace
from typing import Any

import aiohttp
import pytest

from tests._doc_blocks import GUIDES, load_block
from tests._server import closed_port
from tests.conftest import API_KEY, BASE_URL
from twelvelabs_async import (
    AnalyzeTask,
    APIConnectionError,
    AsyncTwelveLabs,
    InvalidInputError,
    Response,
)
from twelvelabs_async._request_log import FIELDS
from twelvelabs_async.testing import MockTransport, Simulator, simulate

LOGGING = "logging-and-tracing.md"
WORKERS = "apps-and-workers.md"
TRACING = "## Trace requests with aiohttp's `TraceConfig`"
WORKER = "## A worker with no polling loop"
SERVER_TASK = "RequestHandler.start"
"""aiohttp's per-connection task on the simulator's side: not the client's to end."""


@pytest.fixture
async def sim(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Simulator]:
    """The simulator on loopback, tasks done within 0.1 s; the environment points at it."""
    async with simulate(duration=(0.02, 0.1)) as simulator:
        monkeypatch.setenv("TWELVELABS_API_KEY", simulator.api_key)
        monkeypatch.setenv("TWELVELABS_BASE_URL", simulator.base_url)
        yield simulator


def ours(tasks: set[asyncio.Task[Any]]) -> list[str]:
    """The asyncio tasks left running, but the simulator's connection handlers."""
    names = (getattr(t.get_coro(), "__qualname__", "") for t in tasks if not t.done())
    return [name for name in names if name != SERVER_TASK]


# --- tracing --------------------------------------------------------------------------------------


async def test_the_trace_config_recipe_logs_each_request_of_the_client(
    sim: Simulator, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    """The recipe's main(): its hooks log the client's request on the borrowed session,
    without the query string and without the key.
    """
    caplog.set_level(logging.INFO, logger="myapp.http")
    await sim.seed_tasks(3)
    recipe = load_block(LOGGING, TRACING)
    await recipe["main"]()
    assert capsys.readouterr().out == "3 tasks\n"
    traced = [r.getMessage() for r in caplog.records if r.name == "myapp.http"]
    assert len(traced) == 1
    assert traced[0].startswith(f"GET {sim.base_url}/analyze/tasks -> 200 in ")
    assert "page_limit" not in traced[0]
    assert all(sim.api_key not in repr(r.__dict__) for r in caplog.records)


async def test_the_hooks_see_every_attempt_and_the_key_only_in_headers(sim: Simulator) -> None:
    """On a borrowed session the hooks see each retry too; the key reaches them only as a
    header, which the recipe does not record; the session stays open after the client.
    """
    recipe = load_block(LOGGING, TRACING)
    seen: list[tuple[str, str]] = []

    async def spy(
        session: aiohttp.ClientSession,
        context: SimpleNamespace,
        params: aiohttp.TraceRequestStartParams,
    ) -> None:
        seen.append((str(params.url), params.headers["x-api-key"]))

    spying = aiohttp.TraceConfig()
    spying.on_request_start.append(spy)
    [task_id] = await sim.seed_tasks(1)
    async with aiohttp.ClientSession(
        trace_configs=[recipe["request_tracing"](), spying]
    ) as session:
        async with AsyncTwelveLabs(session=session, rng=random.Random(1)) as client:
            await client.analyze.tasks.retrieve(task_id)
            await client.analyze.tasks.cancel(task_id)
        assert not session.closed  # borrowed: the client left it open
    assert seen == [
        (f"{sim.base_url}/analyze/tasks/{task_id}", sim.api_key),
        (f"{sim.base_url}/analyze/tasks/{task_id}/cancel", sim.api_key),
    ]


async def test_the_exception_hook_logs_each_failed_attempt(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A refused connection, retried once: two `-> ClientConnectorError` lines, then the error."""
    caplog.set_level(logging.INFO, logger="myapp.http")
    recipe = load_block(LOGGING, TRACING)
    base = f"http://127.0.0.1:{closed_port()}/v1.3"
    async with (
        aiohttp.ClientSession(trace_configs=[recipe["request_tracing"]()]) as session,
        AsyncTwelveLabs(
            API_KEY, base_url=base, session=session, max_retries=1, rng=random.Random(1)
        ) as client,
    ):
        with pytest.raises(APIConnectionError, match="Cannot connect"):
            await client.analyze.tasks.retrieve("t1")
    traced = [r.getMessage() for r in caplog.records if r.name == "myapp.http"]
    assert traced == [f"GET {base}/analyze/tasks/t1 -> ClientConnectorError"] * 2


# --- structured logging ---------------------------------------------------------------------------


@pytest.fixture
def restored_logger() -> Iterator[logging.Logger]:
    """The `twelvelabs_async` logger, its handlers and level put back after the test."""
    logger = logging.getLogger("twelvelabs_async")
    handlers, level = list(logger.handlers), logger.level
    yield logger
    logger.handlers[:] = handlers
    logger.setLevel(level)


async def test_the_json_formatter_recipe_writes_the_request_fields(
    restored_logger: logging.Logger, capsys: pytest.CaptureFixture[str]
) -> None:
    """The guide's JsonLines handler writes one JSON object per attempt with every field."""
    load_block(LOGGING, "## One line per request attempt")
    task = {"task_id": "t1", "status": "ready"}
    answer = Response.from_json(200, task, headers={"X-Request-Id": "r-9"})
    async with AsyncTwelveLabs(
        API_KEY, base_url=BASE_URL, transport=MockTransport(lambda request: answer)
    ) as client:
        await client.analyze.tasks.retrieve("t1")
    [line] = capsys.readouterr().err.splitlines()
    record = json.loads(line)
    assert record["message"].startswith("GET /analyze/tasks/t1 -> 200 in ")
    assert {k: v for k, v in record.items() if k not in ("message", "elapsed_ms")} == {
        "level": "DEBUG",
        "logger": "twelvelabs_async",
        "method": "GET",
        "path": "/analyze/tasks/t1",
        "status": 200,
        "error": None,
        "attempt": 1,
        "max_attempts": 4,
        "request_id": "r-9",
    }
    assert record["elapsed_ms"] >= 0
    assert set(record) - {"level", "logger", "message"} == set(FIELDS)


def test_the_guide_documents_exactly_the_record_fields() -> None:
    """The attribute table of the logging guide names each field a record carries, no other."""
    text = (GUIDES / LOGGING).read_text()
    section = text.split("## One line per request attempt", 1)[1].split("\n## ", 1)[0]
    table = section.split("| attribute | value |", 1)[1].split("\n\n", 1)[0]
    names = re.findall(r"^\| `(\w+)` \|", table, re.MULTILINE)
    assert names == list(FIELDS)


# --- the worker -----------------------------------------------------------------------------------


def job(n: int, video_url: str | None = None) -> dict[str, str]:
    """A job as the worker recipe reads it."""
    url = video_url or f"https://videos.example.com/{n}.mp4"
    return {"id": f"job-{n}", "video_url": url, "prompt": "Summarize it."}


async def test_the_worker_program_handles_each_job_once_and_ends(
    sim: Simulator, capsys: pytest.CaptureFixture[str]
) -> None:
    """main(): three jobs, three tasks created, each handled once; it returns, leaving no task."""
    before = asyncio.all_tasks()
    await load_block(WORKERS, WORKER)["main"]()
    lines = capsys.readouterr().out.splitlines()
    assert sorted(line.split()[0] for line in lines) == ["job-0", "job-1", "job-2"]
    assert len({line.split()[1] for line in lines}) == 3
    assert all(line.split()[2] == "ready" for line in lines)
    assert sim.stats.count("create") == 3
    assert ours(asyncio.all_tasks() - before) == []


async def test_the_worker_waits_for_jobs_that_come_after_its_tasks_are_done(
    sim: Simulator,
) -> None:
    """A job that arrives once nothing is pending is still started and handled: no early end."""
    recipe = load_block(WORKERS, WORKER)
    handled: list[AnalyzeTask] = []
    first_handled = asyncio.Event()

    async def record(task: AnalyzeTask) -> None:
        handled.append(task)
        first_handled.set()

    recipe["handle"] = record  # the recipe's functions look `handle` up in their module
    jobs: asyncio.Queue[dict[str, str] | None] = asyncio.Queue()

    async def produce() -> None:
        await jobs.put(job(1))
        await first_handled.wait()  # the tracker has nothing pending now
        await jobs.put(job(2))
        await jobs.put(None)

    await asyncio.gather(recipe["worker"](jobs), produce())
    assert [t.custom_id for t in handled] == ["job-1", "job-2"]
    assert all(t.status == "ready" for t in handled)


async def test_a_feeder_error_reaches_the_caller_and_nothing_is_left_running(
    sim: Simulator,
) -> None:
    """A job the client refuses: the feeder's InvalidInputError is raised in an ExceptionGroup,
    the consumer stops, and no asyncio task is left behind.
    """
    recipe = load_block(WORKERS, WORKER)
    jobs: asyncio.Queue[dict[str, str] | None] = asyncio.Queue()
    jobs.put_nowait(job(1))
    jobs.put_nowait(job(2, video_url="not a url"))  # no stop marker: only the error ends it
    before = asyncio.all_tasks()
    with pytest.raises(ExceptionGroup) as info:
        await recipe["worker"](jobs)
    assert info.value.subgroup(InvalidInputError) is not None
    assert ours(asyncio.all_tasks() - before) == []


async def test_a_consumer_error_cancels_the_feeder_and_is_raised(sim: Simulator) -> None:
    """`handle` raising: the feeder, waiting for jobs, is cancelled; the error is raised."""
    recipe = load_block(WORKERS, WORKER)

    async def broken(task: AnalyzeTask) -> None:
        raise RuntimeError(f"cannot store {task.task_id}")

    recipe["handle"] = broken
    jobs: asyncio.Queue[dict[str, str] | None] = asyncio.Queue()
    jobs.put_nowait(job(1))  # then the queue stays empty: the feeder waits for more
    before = asyncio.all_tasks()
    with pytest.raises(ExceptionGroup) as info:
        await recipe["worker"](jobs)
    assert info.value.subgroup(RuntimeError) is not None
    assert ours(asyncio.all_tasks() - before) == []
