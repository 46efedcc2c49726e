"""The simulator's webhook deliveries: signed events, drops, duplicates, retries, task JSON."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import socket
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from twelvelabs.core.pydantic_utilities import parse_obj_as
from twelvelabs.types import (
    AnalyzeTaskCanceledWebhookEvent,
    AnalyzeTaskFailedWebhookEvent,
    AnalyzeTaskReadyWebhookEvent,
    AnalyzeTaskResponse,
)

from tests._server import serving
from tests._simulator_support import SimClock, general_body, raw, sim_and_client
from tests.test_simulator_contract import check, extras
from twelvelabs_async import WebhookDelivery, WebhookEvent, WebhookEventType
from twelvelabs_async import webhooks as wh
from twelvelabs_async.testing import Webhooks, simulate

SECRET = "whsec_test_simulator"
EXAMPLES = Path(__file__).resolve().parent.parent / "docs" / "examples"


class Receiver:
    """A loopback endpoint that records each delivery and answers `statuses` in turn, then 200."""

    def __init__(self, statuses: Sequence[int] = ()) -> None:
        self.deliveries: list[tuple[str | None, bytes]] = []
        self.statuses = list(statuses)
        self.url = ""

    async def handle(self, request: web.Request) -> web.Response:
        self.deliveries.append((request.headers.get(wh.SIGNATURE_HEADER), await request.read()))
        return web.Response(status=self.statuses.pop(0) if self.statuses else 200)

    def events(self, now: float) -> list[WebhookEvent]:
        """Every delivery, verified as a receiver would at `now`."""
        return [wh.verify(body, header, SECRET, now=now) for header, body in self.deliveries]


@asynccontextmanager
async def receiving(statuses: Sequence[int] = ()) -> AsyncIterator[Receiver]:
    """A `Receiver` listening on a free loopback port at `/hook`."""
    receiver = Receiver(statuses)
    app = web.Application()
    app.router.add_post("/hook", receiver.handle)
    async with serving(app) as origin:
        receiver.url = f"{origin}/hook"
        yield receiver


def hooks(*urls: str, **settings: Any) -> Webhooks:
    return Webhooks(urls, secret=SECRET, **settings)


async def test_terminal_tasks_deliver_signed_events_that_verify() -> None:
    """Ready, failed and canceled tasks each deliver one signed event `verify` accepts."""
    async with (
        receiving() as receiver,
        sim_and_client(duration=(10.0, 10.0), webhooks=hooks(receiver.url)) as (sim, client, clock),
    ):
        ready = await client.analyze.tasks.create(video="https://v.example/a.mp4", prompt="p")
        custom = await client.analyze.tasks.create(
            video="https://v.example/b.mp4", prompt="p", custom_id="job-1"
        )
        failed = (await sim.seed_tasks(1, failure_rate=1.0))[0]
        canceled = await client.analyze.tasks.create(video="https://v.example/c.mp4", prompt="p")
        await sim.flush_webhooks()
        assert receiver.deliveries == []  # nothing is terminal yet
        clock.advance(1)
        await client.analyze.tasks.cancel(canceled.task_id)
        await sim.flush_webhooks()
        assert len(receiver.deliveries) == 1
        clock.advance(20)
        await sim.flush_webhooks()
        events = {e.data.id: e for e in receiver.events(now=clock.time())}
    assert set(events) == {ready.task_id, custom.task_id, failed, canceled.task_id}
    assert len(receiver.deliveries) == 4  # the canceled task did not also end `ready`
    kinds = {task_id: (e.type, str(e.data.status)) for task_id, e in events.items()}
    assert kinds == {
        ready.task_id: (WebhookEventType.TASK_READY, "ready"),
        custom.task_id: (WebhookEventType.TASK_READY, "ready"),
        failed: (WebhookEventType.TASK_FAILED, "failed"),
        canceled.task_id: (WebhookEventType.TASK_CANCELED, "canceled"),
    }
    assert events[custom.task_id].data.custom_id == "job-1"
    assert events[ready.task_id].data.custom_id is None
    assert events[failed].data.error is not None
    assert events[canceled.task_id].data.error is None
    assert len({e.id for e in events.values()}) == 4
    source = events[ready.task_id].data.video_source
    assert source is not None
    assert source.url == "https://v.example/a.mp4"
    assert sim.stats.webhooks.delivered == 4


async def test_events_are_signed_at_delivery_time_with_the_simulator_clock() -> None:
    """The signature's `t` is the simulator's clock at sending; a stale receiver clock refuses."""
    async with (
        receiving() as receiver,
        sim_and_client(duration=(5.0, 5.0), webhooks=hooks(receiver.url)) as (sim, _, clock),
    ):
        await sim.seed_tasks(1)
        clock.advance(7.5)
        await sim.flush_webhooks()
        sent_at = clock.time()
    header, body = receiver.deliveries[0]
    assert header is not None
    assert header.startswith(f"t={int(sent_at)},v1=")
    signed_at = int(sent_at)
    assert wh.verify(body, header, SECRET, now=signed_at + 300).data.status == "ready"
    with pytest.raises(wh.WebhookVerificationError, match="signed 301 s ago"):
        wh.verify(body, header, SECRET, now=signed_at + 301)


async def test_event_bodies_match_the_official_sdk_models() -> None:
    """Each event parses as the official SDK's event model, with no field it does not know."""
    models = {
        "analyze.task.ready": AnalyzeTaskReadyWebhookEvent,
        "analyze.task.failed": AnalyzeTaskFailedWebhookEvent,
        "analyze.task.canceled": AnalyzeTaskCanceledWebhookEvent,
    }
    async with (
        receiving() as receiver,
        sim_and_client(duration=(5.0, 5.0), webhooks=hooks(receiver.url)) as (sim, client, clock),
    ):
        await sim.seed_tasks(1)
        await sim.seed_tasks(1, failure_rate=1.0)
        ref = await client.analyze.tasks.create(video="https://v.example/a.mp4", prompt="p")
        await client.analyze.tasks.cancel(ref.task_id)
        clock.advance(6)
        await sim.flush_webhooks()
    bodies = [json.loads(body) for _, body in receiver.deliveries]
    assert sorted(b["type"] for b in bodies) == sorted(models)
    for body in bodies:
        parsed = parse_obj_as(models[body["type"]], body)
        assert extras(parsed) == []
        assert "custom_id" in body["data"]


async def test_drops_and_duplicates_follow_the_configured_probabilities() -> None:
    """With drop and duplicate set, about that share is lost or sent twice under the same id."""
    async with (
        receiving() as receiver,
        sim_and_client(
            duration=(1.0, 5.0), webhooks=hooks(receiver.url, drop=0.2, duplicate=0.3)
        ) as (sim, _, clock),
    ):
        ids = await sim.seed_tasks(300)
        clock.advance(10)
        await sim.flush_webhooks()
        events = receiver.events(now=clock.time())
        stats = sim.stats.webhooks
    per_event = Counter(e.id for e in events)
    assert stats.delivered + stats.dropped == 300
    assert 35 <= stats.dropped <= 85
    assert len(per_event) == stats.delivered
    assert 50 <= stats.duplicated <= 110
    assert sorted(Counter(per_event.values()).items()) == [
        (1, stats.delivered - stats.duplicated),
        (2, stats.duplicated),
    ]
    assert {e.data.id for e in events} <= set(ids)
    assert (stats.failed, stats.attempts) == (0, len(events))


async def test_deliveries_are_deterministic_for_a_seed() -> None:
    """The same seed and clock give the same event ids, drops and duplicates."""

    async def run() -> tuple[list[tuple[str, str]], Any]:
        async with (
            receiving() as receiver,
            sim_and_client(
                seed=11, duration=(1.0, 3.0), webhooks=hooks(receiver.url, drop=0.3, duplicate=0.3)
            ) as (sim, _, clock),
        ):
            await sim.seed_tasks(40)
            clock.advance(5)
            await sim.flush_webhooks()
            events = receiver.events(clock.time())
            return sorted((e.id, e.data.id) for e in events), sim.stats.webhooks

    first, second = await run(), await run()
    assert first == second
    assert first[1].dropped > 0
    assert first[1].duplicated > 0


async def test_task_json_reports_webhook_delivery() -> None:
    """Task bodies carry `webhooks`: not yet delivered, then delivered, or dropped with an error."""
    async with (
        receiving() as receiver,
        sim_and_client(duration=(5.0, 5.0), webhooks=hooks(receiver.url, drop=0.5)) as (
            sim,
            client,
            clock,
        ),
    ):
        ids = await sim.seed_tasks(12)
        before = (await raw(sim, "GET", f"analyze/tasks/{ids[0]}")).json()
        assert before["webhooks"] == [{"url": receiver.url, "delivered": False, "attempts": 0}]
        clock.advance(5)
        await sim.flush_webhooks()
        bodies = [(await raw(sim, "GET", f"analyze/tasks/{i}")).json() for i in ids]
        typed = await client.analyze.tasks.retrieve(ids[0])
        listed = (await raw(sim, "GET", "analyze/tasks", params={"page_limit": "1"})).json()
    entries = [body["webhooks"] for body in bodies]
    delivered = [e for e in entries if e[0]["delivered"]]
    dropped = [e for e in entries if not e[0]["delivered"]]
    assert len(delivered) == sim.stats.webhooks.delivered > 0
    assert len(dropped) == sim.stats.webhooks.dropped > 0
    assert all(e == [{"url": receiver.url, "delivered": True, "attempts": 1}] for e in delivered)
    assert all(e[0]["last_error"].startswith("dropped") for e in dropped)
    assert all(e[0]["attempts"] == 0 for e in dropped)
    assert typed.webhooks == (WebhookDelivery(**bodies[0]["webhooks"][0]),)
    assert "webhooks" in listed["data"][0]
    for body in bodies:
        check(body, AnalyzeTaskResponse, "AnalyzeTaskResponse")


async def test_no_webhooks_configured_leaves_the_field_out() -> None:
    """Without `webhooks=`, task bodies have no `webhooks` key and nothing is sent."""
    async with sim_and_client(duration=(1.0, 1.0)) as (sim, _, clock):
        ids = await sim.seed_tasks(1)
        clock.advance(2)
        await sim.flush_webhooks()
        body = (await raw(sim, "GET", f"analyze/tasks/{ids[0]}")).json()
    assert "webhooks" not in body
    assert sim.stats.webhooks.attempts == 0


async def test_failed_deliveries_are_retried_with_backoff_then_given_up() -> None:
    """Non-2xx answers are retried after retry_delay, doubling, up to max_attempts."""
    async with receiving(statuses=[500, 503, 500, 500]) as receiver:
        settings = hooks(receiver.url, max_attempts=3, retry_delay=2.0)
        async with sim_and_client(duration=(5.0, 5.0), webhooks=settings) as (sim, _, clock):
            ids = await sim.seed_tasks(1)
            clock.advance(5)
            await sim.flush_webhooks()
            assert len(receiver.deliveries) == 1
            clock.advance(1.9)
            await sim.flush_webhooks()
            assert len(receiver.deliveries) == 1  # the first retry waits 2 s
            clock.advance(0.1)
            await sim.flush_webhooks()
            assert len(receiver.deliveries) == 2
            clock.advance(4)  # the second retry waits 4 s
            await sim.flush_webhooks()
            clock.advance(100)
            await sim.flush_webhooks()
            entry = (await raw(sim, "GET", f"analyze/tasks/{ids[0]}")).json()["webhooks"][0]
    assert len(receiver.deliveries) == 3
    assert entry == {
        "url": receiver.url,
        "delivered": False,
        "attempts": 3,
        "last_error": "HTTP 500",
    }
    stats = sim.stats.webhooks
    assert (stats.failed, stats.delivered, stats.attempts) == (1, 0, 3)
    event_ids = {json.loads(body)["id"] for _, body in receiver.deliveries}
    assert len(event_ids) == 1  # a retry reuses the event id
    assert len({header for header, _ in receiver.deliveries}) == 3  # and is signed anew


async def test_a_retry_that_succeeds_counts_as_delivered() -> None:
    """A 500 then a 200: delivered after 2 attempts, with no last_error."""
    async with receiving(statuses=[500]) as receiver:
        settings = hooks(receiver.url, retry_delay=1.0)
        async with sim_and_client(duration=(1.0, 1.0), webhooks=settings) as (sim, _, clock):
            ids = await sim.seed_tasks(1)
            clock.advance(1)
            await sim.flush_webhooks()
            clock.advance(1)
            await sim.flush_webhooks()
            entry = (await raw(sim, "GET", f"analyze/tasks/{ids[0]}")).json()["webhooks"][0]
    assert entry == {"url": receiver.url, "delivered": True, "attempts": 2}
    assert (sim.stats.webhooks.delivered, sim.stats.webhooks.failed) == (1, 0)


async def test_unreachable_endpoint_records_the_connection_error() -> None:
    """A URL nobody listens on fails with the connection error recorded in last_error."""
    async with receiving() as receiver:
        gone = receiver.url  # the port is free again once this block ends
    settings = hooks(gone, max_attempts=1)
    async with sim_and_client(duration=(1.0, 1.0), webhooks=settings) as (sim, _, clock):
        ids = await sim.seed_tasks(1)
        clock.advance(1)
        await sim.flush_webhooks()
        entry = (await raw(sim, "GET", f"analyze/tasks/{ids[0]}")).json()["webhooks"][0]
    assert (entry["delivered"], entry["attempts"]) == (False, 1)
    assert "Connect" in entry["last_error"]
    assert sim.stats.webhooks.failed == 1


async def test_delay_postpones_delivery_and_every_url_gets_every_event() -> None:
    """`delay` holds the first attempt back; each configured URL receives each event."""
    async with receiving() as first, receiving() as second:
        settings = hooks(first.url, second.url, delay=(3.0, 3.0))
        async with sim_and_client(duration=(1.0, 1.0), webhooks=settings) as (sim, _, clock):
            ids = await sim.seed_tasks(2)
            clock.advance(3.9)
            await sim.flush_webhooks()
            assert first.deliveries == second.deliveries == []
            clock.advance(0.1)
            await sim.flush_webhooks()
            body = (await raw(sim, "GET", f"analyze/tasks/{ids[0]}")).json()
    assert len(first.deliveries) == len(second.deliveries) == 2
    now = clock.time()
    assert sorted(e.id for e in first.events(now)) == sorted(e.id for e in second.events(now))
    assert {e.data.id for e in first.events(now)} == set(ids)
    assert [w["url"] for w in body["webhooks"]] == [first.url, second.url]
    assert sim.stats.webhooks.delivered == 4


async def test_background_loop_delivers_on_the_real_clock() -> None:
    """With the system clock, events arrive by themselves, without flush_webhooks()."""
    async with receiving() as receiver, simulate(webhooks=hooks(receiver.url)) as sim:
        await sim.seed_tasks(3, duration=0.05)
        for _ in range(1000):
            if len(receiver.deliveries) == 3:
                break
            await asyncio.sleep(0.01)
        events = receiver.events(now=sim.clock.time())
    assert len(events) == 3
    assert sim.stats.webhooks.delivered == 3


async def test_webhook_handler_sees_each_task_once_despite_duplicates() -> None:
    """End to end: the simulator's duplicates reach `webhook_handler`, on_event fires once each."""
    clock = SimClock()
    seen: list[str] = []
    app = web.Application()
    app.router.add_post(
        "/hook", wh.webhook_handler(SECRET, lambda e: seen.append(e.data.id), clock=clock)
    )
    async with serving(app) as origin:
        settings = hooks(f"{origin}/hook", duplicate=1.0)
        async with sim_and_client(clock=clock, duration=(1.0, 2.0), webhooks=settings) as (
            sim,
            _,
            _,
        ):
            ids = await sim.seed_tasks(20)
            clock.advance(3)
            await sim.flush_webhooks()
            stats = sim.stats.webhooks
    assert sorted(seen) == sorted(ids)
    assert (stats.delivered, stats.duplicated) == (20, 20)


def test_webhook_settings_are_validated() -> None:
    """A probability outside 0..1 or no URL at all is refused; one URL may be a plain string."""
    assert Webhooks("http://h/x").urls == ("http://h/x",)
    with pytest.raises(ValueError, match="probability"):
        Webhooks("http://h/x", drop=1.5)
    with pytest.raises(ValueError, match="at least one URL"):
        Webhooks(())


async def test_a_task_deleted_before_it_ends_sends_nothing() -> None:
    """Deleting a queued task removes its future event."""
    async with (
        receiving() as receiver,
        sim_and_client(duration=(10.0, 10.0), webhooks=hooks(receiver.url)) as (sim, client, clock),
    ):
        ref = await client.analyze.tasks.create(video="https://v.example/a.mp4", prompt="p")
        await client.analyze.tasks.delete(ref.task_id)
        await raw(sim, "POST", "analyze/tasks", json_body=general_body())
        clock.advance(20)
        await sim.flush_webhooks()
    assert len(receiver.deliveries) == 1
    assert sim.stats.webhooks.delivered == 1


async def test_docs_aiohttp_example_fetches_each_finished_task(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """docs/examples/webhooks_aiohttp.py, fed by the simulator, retrieves each finished task."""
    spec = importlib.util.spec_from_file_location(
        "webhooks_aiohttp", EXAMPLES / "webhooks_aiohttp.py"
    )
    assert spec is not None
    assert spec.loader is not None
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}/webhooks/twelvelabs"
        async with simulate(duration=(0.05, 0.1), webhooks=hooks(url, duplicate=0.5)) as sim:
            monkeypatch.setenv("TWELVELABS_API_KEY", sim.api_key)
            monkeypatch.setenv("TWELVELABS_BASE_URL", sim.base_url)
            app = example.make_app(["whsec_old_one", SECRET])
            runner = web.AppRunner(app, access_log=None)
            await runner.setup()
            await web.SockSite(runner, sock).start()
            try:
                ids = await sim.seed_tasks(4)
                finished = [
                    await asyncio.wait_for(app[example.FINISHED].get(), timeout=10) for _ in ids
                ]
                await sim.flush_webhooks()
            finally:
                await runner.cleanup()
    assert sorted(task.task_id for task in finished) == sorted(ids)
    assert all(task.status == "ready" and task.result is not None for task in finished)
    assert app[example.FINISHED].empty()  # duplicates were not handled twice


def test_docs_fastapi_example_is_valid_python() -> None:
    """docs/examples/webhooks_fastapi.py compiles (FastAPI itself is not installed here)."""
    path = EXAMPLES / "webhooks_fastapi.py"
    source = path.read_text("utf-8")
    code = compile(source, str(path), "exec")
    assert "webhooks" in code.co_names
    assert "await request.body()" in source
