"""A worker process of the coordination tests: `python -m tests._coordination_worker MODE ...`.

Each mode uses a `RedisCoordinator` as a separate process of a deployment would, and prints
one line per fact the test reads (flushed at once):

- `bucket URL NS RPM COUNT CONCURRENCY`: connect, print `ready`, wait for a line on stdin,
  then take COUNT tokens with CONCURRENCY tasks; `done`.
- `lease URL NS`: take the `task` sweep lease (1 s) and renew it until killed; `held`.
- `register URL NS ID`: register task ID (registry of 1 s) and heartbeat until killed; `ready`.
- `listen URL NS ID`: track task ID; print `ready`, then `status ID STATUS` and
  `event EVENT_ID OBJECT_ID STATUS` as they arrive; exit after one of each (or 30 s).
- `track URL NS BASE_URL ID,ID,...`: a client with the coordinator (the API key from
  `TWELVELABS_API_KEY`) tracks the ids; `got ID STATUS` for each, then `lists N found-by-sweep
  M` (the list pages its tracker read, the tasks a sweep found) and `done`.
"""

from __future__ import annotations

import sys

import anyio
import anyio.to_thread

from twelvelabs_async import AsyncTwelveLabs
from twelvelabs_async.coordination import RedisCoordinator, SharedEvent


def say(line: str) -> None:
    print(line, flush=True)


async def bucket(url: str, namespace: str, rpm: str, count: str, concurrency: str) -> None:
    coordinator = RedisCoordinator.from_url(url, namespace=namespace, rpm=float(rpm))
    left = int(count)

    async def worker() -> None:
        nonlocal left
        while left > 0:
            left -= 1
            await coordinator.acquire(2)

    async with coordinator:
        await coordinator.paused_for()  # connected
        say("ready")
        await anyio.to_thread.run_sync(sys.stdin.readline)
        async with anyio.create_task_group() as tg:
            for _ in range(int(concurrency)):
                tg.start_soon(worker)
    say("done")


async def lease(url: str, namespace: str) -> None:
    async with RedisCoordinator.from_url(url, namespace=namespace, lease_ttl=1.0) as coordinator:
        say("held" if await coordinator.take_lease("task") else "refused")
        while True:
            await anyio.sleep(0.2)
            await coordinator.renew_lease("task")


async def register(url: str, namespace: str, object_id: str) -> None:
    coordinator = RedisCoordinator.from_url(url, namespace=namespace, registry_ttl=1.0)
    async with coordinator:
        await coordinator.register("task", [object_id])
        say("ready")
        await anyio.sleep_forever()


async def listen(url: str, namespace: str, object_id: str) -> None:
    got = {"status": anyio.Event(), "event": anyio.Event()}

    def on_status(task_id: str, status: str) -> None:
        say(f"status {task_id} {status}")
        got["status"].set()

    def on_event(event: SharedEvent) -> None:
        say(f"event {event.id} {event.data.id} {event.data.status}")
        got["event"].set()

    async with RedisCoordinator.from_url(url, namespace=namespace) as coordinator:
        coordinator.subscribe_statuses("task", on_status)
        coordinator.subscribe_events(on_event)
        await coordinator.register("task", [object_id])
        say("ready")  # inside `async with`, the coordinator is subscribed
        with anyio.move_on_after(30):
            await got["status"].wait()
            await got["event"].wait()


async def track(url: str, namespace: str, base_url: str, ids: str) -> None:
    coordinator = RedisCoordinator.from_url(url, namespace=namespace)
    async with (
        coordinator,
        AsyncTwelveLabs(base_url=base_url, coordinator=coordinator) as client,
        client.analyze.tasks.track(ids.split(","), strategy="sweep", timeout=60) as tracker,
    ):
        async for task in tracker:
            say(f"got {task.task_id} {task.status}")
    stats = tracker.stats
    say(f"lists {stats.requests['list']} found-by-sweep {stats.found_by['sweep']}")
    say("done")


MODES = {
    "bucket": bucket,
    "lease": lease,
    "register": register,
    "listen": listen,
    "track": track,
}

if __name__ == "__main__":
    mode, *args = sys.argv[1:]
    anyio.run(MODES[mode], *args)
