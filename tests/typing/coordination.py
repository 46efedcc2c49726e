"""Never run: type-checked by `mypy --strict` to prove both coordinators are `Coordinator`s, and
that a shared event and a tracker's `notify` fit each other (the seam the engine will use).
"""

from __future__ import annotations

from twelvelabs_async import (
    Coordinator,
    LocalCoordinator,
    RedisCoordinator,
    Tracker,
    WebhookEvent,
)
from twelvelabs_async.coordination import SharedEvent, SharedEventData, Subscription


async def coordinators_fit_the_protocol(tracker: Tracker, event: WebhookEvent) -> None:
    local: Coordinator = LocalCoordinator()
    shared: Coordinator = RedisCoordinator.from_url("redis://localhost:6379/0", namespace="app")
    for coordinator in (local, shared):
        await coordinator.publish_event(event)  # a verified webhook event is an Event
        subscription: Subscription = coordinator.subscribe_events(tracker.notify)
        subscription.cancel()
        await coordinator.acquire(0)
        held: bool = await coordinator.take_lease("task")
        assert held
    tracker.notify(SharedEvent("evt", "analyze.task.ready", SharedEventData("t", "ready")))
