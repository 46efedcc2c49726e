"""The recipes of docs/guides/many-workers.md, run as written against the simulator and the
session's real `redis-server` (`tests/conftest.py`'s `redis_url`).

arq and taskiq are documented, not dependencies: their few names the recipes import are
replaced by stand-ins that record what the recipe gives them, and the recipe's hooks and jobs
are then called the way the worker would call them.
"""

from __future__ import annotations

import asyncio
import json
import sys
import types
from collections.abc import Callable
from typing import Any

import anyio
import pytest
from aiohttp.test_utils import TestClient, TestServer

from tests._doc_blocks import load_block
from twelvelabs_async import AsyncTwelveLabs, webhooks
from twelvelabs_async.coordination import Keys, RedisCoordinator, SharedEvent
from twelvelabs_async.testing import Simulator, simulate

GUIDE = "many-workers.md"
NAMESPACE = "video-pipeline"
"""The namespace the recipes use."""
VIDEO = "https://videos.example.com/a.mp4"


def _module(monkeypatch: pytest.MonkeyPatch, name: str, **names: Any) -> None:
    module = types.ModuleType(name)
    for key, value in names.items():
        setattr(module, key, value)
    monkeypatch.setitem(sys.modules, name, module)


class _RedisSettings:
    """arq's `RedisSettings`: only `from_dsn` is used."""

    @classmethod
    def from_dsn(cls, dsn: str) -> tuple[str, str]:
        return ("redis-settings", dsn)


class _Broker:
    """taskiq-redis's `ListQueueBroker`: records its event handlers and tasks."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.handlers: dict[str, Callable[..., Any]] = {}
        self.tasks: dict[str, Callable[..., Any]] = {}

    def add_event_handler(self, event: str, handler: Callable[..., Any]) -> None:
        self.handlers[event] = handler

    def register_task(self, func: Callable[..., Any], task_name: str) -> str:
        self.tasks[task_name] = func
        return f"task:{task_name}"


@pytest.fixture
async def sim(monkeypatch: pytest.MonkeyPatch, redis_url: str) -> Any:
    """A simulator whose tasks end within a second; the recipes' environment points at it."""
    async with simulate(duration=(0.2, 0.6)) as simulator:
        monkeypatch.setenv("TWELVELABS_API_KEY", simulator.api_key)
        monkeypatch.setenv("TWELVELABS_BASE_URL", simulator.base_url)
        monkeypatch.setenv("REDIS_URL", redis_url)
        yield simulator


async def _members(redis_url: str) -> int:
    import redis.asyncio

    client = redis.asyncio.Redis.from_url(redis_url)
    try:
        return int(await client.zcard(Keys(NAMESPACE).members))
    finally:
        await client.aclose()


async def _only_task_text(client: AsyncTwelveLabs) -> str | None:
    """The result text of the one task the simulator holds, retrieved directly."""
    (task,) = [task async for task in client.analyze.tasks.list()]
    full = await client.analyze.tasks.retrieve(task.task_id)
    return full.result.data if full.result is not None else None


async def test_arq_recipe_hooks_share_one_coordinated_client_per_process(
    monkeypatch: pytest.MonkeyPatch, sim: Simulator, redis_url: str
) -> None:
    """The arq hooks, in separate tasks as arq runs them, open and close one coordinated client."""
    _module(monkeypatch, "arq")
    _module(monkeypatch, "arq.connections", RedisSettings=_RedisSettings)
    recipe = load_block(GUIDE, "### arq")
    settings = recipe["WorkerSettings"]
    assert settings.functions == [recipe["analyze_video"]]
    assert (settings.on_startup, settings.on_shutdown) == (recipe["startup"], recipe["shutdown"])
    assert settings.redis_settings == ("redis-settings", redis_url)

    ctx: dict[str, Any] = {}
    await asyncio.create_task(recipe["startup"](ctx))  # arq runs each hook in a task of its own
    try:
        client = ctx["twelvelabs"]
        assert isinstance(client.coordinator, RedisCoordinator)
        assert client.coordinator.namespace == NAMESPACE
        assert await _members(redis_url) == 1
        text = await recipe["analyze_video"](ctx, VIDEO, "Summarize it.")
        assert text is not None
        assert text == await _only_task_text(client)
    finally:
        await asyncio.create_task(recipe["shutdown"](ctx))
    assert await _members(redis_url) == 0


async def test_taskiq_recipe_registers_its_hooks_and_task_and_runs_them(
    monkeypatch: pytest.MonkeyPatch, sim: Simulator, redis_url: str
) -> None:
    """The taskiq events open and close one coordinated client; the task returns its text."""
    events = types.SimpleNamespace(WORKER_STARTUP="WORKER_STARTUP", WORKER_SHUTDOWN="SHUTDOWN")
    _module(
        monkeypatch,
        "taskiq",
        Context=object,
        TaskiqDepends=lambda: None,
        TaskiqEvents=events,
        TaskiqState=types.SimpleNamespace,
    )
    _module(monkeypatch, "taskiq_redis", ListQueueBroker=_Broker)
    recipe = load_block(GUIDE, "### taskiq")
    broker = recipe["broker"]
    assert broker.url == redis_url
    assert broker.handlers == {
        "WORKER_STARTUP": recipe["startup"],
        "SHUTDOWN": recipe["shutdown"],
    }
    assert broker.tasks == {"analyze_video": recipe["analyze_video"]}
    assert recipe["analyze_video_task"] == "task:analyze_video"

    state = types.SimpleNamespace()
    await asyncio.create_task(broker.handlers["WORKER_STARTUP"](state))
    try:
        client = state.twelvelabs
        assert isinstance(client.coordinator, RedisCoordinator)
        assert await _members(redis_url) == 1
        context = types.SimpleNamespace(state=state)
        text = await broker.tasks["analyze_video"](VIDEO, "Summarize it.", context)
        assert text is not None
        assert text == await _only_task_text(client)
    finally:
        await asyncio.create_task(broker.handlers["SHUTDOWN"](state))
    assert await _members(redis_url) == 0


async def test_web_recipe_shares_each_verified_event_with_every_process(
    monkeypatch: pytest.MonkeyPatch, redis_url: str
) -> None:
    """The web route shares a signed delivery's event with other processes, a forged one not."""
    monkeypatch.setenv("REDIS_URL", redis_url)
    secret = "whsec_many_workers_recipe"
    recipe = load_block(GUIDE, "### The web process: webhooks for every worker")
    heard: list[SharedEvent] = []
    got = anyio.Event()

    def hear(event: SharedEvent) -> None:
        heard.append(event)
        got.set()

    body = json.dumps(
        {
            "id": "evt_recipe_1",
            "type": "analyze.task.ready",
            "created_at": "2026-12-01T21:00:00Z",
            "data": {
                "id": "6650f1c2a3b4c5d6e7f80911",
                "status": "ready",
                "created_at": "2026-12-01T20:59:00Z",
                "custom_id": None,
            },
        }
    ).encode()
    worker = RedisCoordinator.from_url(redis_url, namespace=NAMESPACE)
    async with worker, TestClient(TestServer(recipe["make_app"]([secret]))) as http:
        worker.subscribe_events(hear)
        forged = await http.post(
            "/webhooks/twelvelabs",
            data=body,
            headers={webhooks.SIGNATURE_HEADER: webhooks.sign(body, "not-the-secret")},
        )
        assert forged.status == 401
        signed = await http.post(
            "/webhooks/twelvelabs",
            data=body,
            headers={webhooks.SIGNATURE_HEADER: webhooks.sign(body, secret)},
        )
        assert signed.status == 200
        with anyio.fail_after(10):
            await got.wait()
    assert [(e.id, e.data.id, str(e.data.status)) for e in heard] == [
        ("evt_recipe_1", "6650f1c2a3b4c5d6e7f80911", "ready")
    ]
