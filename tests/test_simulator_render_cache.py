"""The simulator renders a task's full form once per status: cached bodies equal fresh renders."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests._simulator_support import URL, raw, sim_and_client
from twelvelabs_async.testing import SimulatorConfig
from twelvelabs_async.testing._store import TaskStore

START = 1_767_225_600.0
_SEGMENTS = {
    "type": "segment_definitions",
    "segment_definitions": [
        {"id": "scenes", "description": "scenes", "fields": [{"name": "mood", "type": "string"}]}
    ],
}
_SCHEMA = {
    "type": "json_schema",
    "json_schema": {"type": "object", "properties": {"title": {"type": "string"}}},
}
BODIES: dict[str, dict[str, Any]] = {
    "general": {"video": {"type": "url", "url": URL}, "prompt": "Describe", "custom_id": "c-1"},
    "segments": {
        "video": {"type": "asset_id", "asset_id": "asset-1"},
        "analysis_mode": "time_based_metadata",
        "response_format": _SEGMENTS,
    },
    "json schema": {
        "video": {"type": "url", "url": URL},
        "prompt": "Describe",
        "response_format": _SCHEMA,
    },
}


def _fresh(store: TaskStore, task: Any, now: float) -> bytes:
    return json.dumps(store.render(task, now)).encode()


@pytest.mark.parametrize("body", BODIES.values(), ids=BODIES)
@pytest.mark.parametrize("fail", [False, True], ids=["ready", "failed"])
def test_cached_body_equals_a_fresh_render_at_every_moment(
    body: dict[str, Any], fail: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = TaskStore(SimulatorConfig(seed=7))
    task = store.create(body, START, duration=10.0, fail=fail)
    renders: list[str] = []
    render = store.render

    def counting_render(task: Any, now: float, *, list_item: bool = False) -> dict[str, Any]:
        renders.append(task.status_at(now))
        return render(task, now, list_item=list_item)

    monkeypatch.setattr(store, "render", counting_render)
    times = [START + t for t in (0.0, 0.5, 0.999, 1.0, 1.5, 2.0, 5.0, 9.999, 10.0, 11.0, 500.0)]
    for now in times:
        assert store.render_json(task, now) == json.dumps(render(task, now)).encode()
    # queued, pending, processing, then the outcome: one render each, however often it is read.
    assert renders == ["queued", "pending", "processing", "failed" if fail else "ready"]


def test_cancel_replaces_the_cached_body() -> None:
    store = TaskStore(SimulatorConfig())
    task = store.create(BODIES["general"], START, duration=10.0)
    processing = store.render_json(task, START + 5.0)
    assert json.loads(processing)["status"] == "processing"
    assert store.cancel(task, START + 6.0)
    for now in (START + 6.0, START + 20.0):
        body = store.render_json(task, now)
        assert body == _fresh(store, task, now)
        assert json.loads(body)["status"] == "canceled"
        assert json.loads(body)["completed_at"] is not None


async def test_retrieve_over_http_matches_fresh_renders_through_the_lifecycle() -> None:
    async with sim_and_client(duration=(10.0, 10.0)) as (sim, _client, clock):
        (task_id,) = await sim.seed_tasks(1)
        store = sim._app.store
        task = store.get(task_id)
        assert task is not None
        for step in (0.0, 0.0, 1.5, 3.0, 3.0, 12.0, 12.0):
            clock.advance(step)
            resp = await raw(sim, "GET", f"analyze/tasks/{task_id}")
            assert resp.status == 200
            assert resp.json() == store.render(task, clock.now)
        assert sim.stats.count("retrieve", 200) == 7
