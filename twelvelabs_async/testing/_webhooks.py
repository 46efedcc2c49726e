"""Webhook deliveries: signed `analyze.task.*` events POSTed when a task becomes terminal.

A task's status is computed from the clock when read, so nothing happens at the moment a task
ends. Deliveries therefore need one background loop per simulator: a heap of `(when, seq,
item)` where an item is a task (due when it becomes terminal) or a delivery attempt (due after
its delay or retry backoff), checked against the simulator's clock every few milliseconds of
real time (the clock may be a `ManualClock` that jumps) and whenever a task is created or
canceled. Every random choice for a task comes from a generator seeded by the simulator's seed
and the task's sequence number, so a run is repeatable whatever order the loop sees tasks in.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import json
import random
from datetime import UTC, datetime

import aiohttp
import attrs

from .._clock import WallClock
from .._convert import unstructure_response
from ..models import TaskError, WebhookDelivery
from ..webhooks import SIGNATURE_HEADER, WebhookEvent, WebhookTaskData, sign
from ._config import Webhooks
from ._store import SimTask, TaskStore

_EVENT_TYPES = {
    "ready": "analyze.task.ready",
    "failed": "analyze.task.failed",
    "canceled": "analyze.task.canceled",
}
_FAILURE = "The video file could not be processed (simulated)."
_DROPPED = "dropped (simulated): never sent"


@attrs.define
class WebhookStats:
    """Webhook deliveries so far (`sim.stats.webhooks`), counted per event and URL.

    Attributes:
        delivered: events acknowledged with a 2xx (a duplicate is not counted again).
        dropped: events deliberately lost (`Webhooks.drop`): never sent.
        duplicated: extra copies sent of an event already delivered (`Webhooks.duplicate`).
        failed: events given up on after `max_attempts` attempts without a 2xx.
        attempts: every POST made, retries and duplicates included.
    """

    delivered: int = 0
    dropped: int = 0
    duplicated: int = 0
    failed: int = 0
    attempts: int = 0


@attrs.define(eq=False)
class _Attempt:
    """One event on its way to one URL."""

    task: SimTask
    url: str
    body: bytes
    duplicate_after: float | None
    """Seconds after a successful delivery to send a duplicate, or None for no duplicate."""
    attempts: int = 0
    is_duplicate: bool = False


class WebhookDispatcher:
    """Delivers each terminal task's event to every configured URL, in the background."""

    TICK = 0.01
    """Real seconds between looks at the clock when nothing wakes the loop sooner."""
    MAX_IN_FLIGHT = 32
    """Deliveries sent at the same time at most."""

    def __init__(
        self,
        settings: Webhooks,
        store: TaskStore,
        clock: WallClock,
        stats: WebhookStats,
        *,
        seed: int,
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.stats = stats
        self._store = store
        self._seed = seed
        self._heap: list[tuple[float, int, SimTask | _Attempt]] = []
        self._seq = itertools.count()
        self._wake = asyncio.Event()
        self._in_flight: set[asyncio.Task[None]] = set()
        self._slots = asyncio.Semaphore(self.MAX_IN_FLIGHT)
        self._loop: asyncio.Task[None] | None = None
        self._session: aiohttp.ClientSession | None = None
        store.listeners.append(self._on_change)

    # --- lifecycle ----------------------------------------------------------------------------

    async def start(self) -> None:
        """Start the delivery loop (and its HTTP session)."""
        if self._loop is not None:
            return
        self._session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=self.settings.timeout)
        )
        self._loop = asyncio.create_task(self._run(), name="simulator-webhooks")

    async def close(self) -> None:
        """Stop the loop, abandon deliveries in flight, close the session."""
        loop, self._loop = self._loop, None
        tasks = [t for t in (loop, *self._in_flight) if t is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        session, self._session = self._session, None
        if session is not None:
            await session.close()

    async def flush(self) -> None:
        """Send everything due by now and wait until no delivery is in flight."""
        while True:
            self._dispatch_due(self.clock.time())
            if not self._in_flight:
                return
            await asyncio.gather(*list(self._in_flight), return_exceptions=True)

    # --- scheduling ---------------------------------------------------------------------------

    def _on_change(self, task: SimTask) -> None:
        if not task.webhooks:
            task.webhooks = tuple(
                WebhookDelivery(url=url, delivered=False, attempts=0) for url in self.settings.urls
            )
            task.forget_renders()
        self._push(task.terminal_at, task)

    def _push(self, when: float, item: SimTask | _Attempt) -> None:
        heapq.heappush(self._heap, (when, next(self._seq), item))
        self._wake.set()

    async def _run(self) -> None:
        while True:
            now = self.clock.time()
            self._dispatch_due(now)
            wait = self.TICK
            if self._heap:
                wait = max(0.0, min(wait, self._heap[0][0] - now))
            self._wake.clear()
            try:
                async with asyncio.timeout(wait):
                    await self._wake.wait()
            except TimeoutError:
                pass

    def _dispatch_due(self, now: float) -> None:
        while self._heap and self._heap[0][0] <= now:
            when, _, item = heapq.heappop(self._heap)
            if isinstance(item, SimTask):
                self._terminal(item, when)
            else:
                task = asyncio.create_task(self._send(item))
                self._in_flight.add(task)
                task.add_done_callback(self._in_flight.discard)

    def _terminal(self, task: SimTask, when: float) -> None:
        """The task became terminal at `when`: plan its event's delivery to every URL."""
        if task.terminal_at != when or self._store.get(task.task_id) is not task:
            return  # a stale entry (the task was canceled earlier), or deleted before it ended
        cfg = self.settings
        rng = random.Random(f"{self._seed}:webhooks:{task.seq}")
        body = self._event_body(task, rng)
        for url in cfg.urls:
            dropped = rng.random() < cfg.drop
            delay = rng.uniform(*cfg.delay)
            duplicate = rng.random() < cfg.duplicate
            again = rng.uniform(*cfg.delay)
            if dropped:
                self.stats.dropped += 1
                self._record(task, url, last_error=_DROPPED)
                continue
            self._push(when + delay, _Attempt(task, url, body, again if duplicate else None))

    def _event_body(self, task: SimTask, rng: random.Random) -> bytes:
        status = task.status_at(task.terminal_at)  # canceled, also when a batch expired
        event = WebhookEvent(
            id=f"evt_{rng.getrandbits(96):024x}",
            type=_EVENT_TYPES[status],
            created_at=datetime.fromtimestamp(task.terminal_at, UTC),
            data=WebhookTaskData(
                id=task.task_id,
                status=status,
                created_at=datetime.fromtimestamp(task.created, UTC),
                custom_id=task.body.get("custom_id"),
                video_source=self._store._video_source(task),
                # The event's error is `{message}` only; a canceled event carries none.
                error=TaskError(message=_FAILURE) if status == "failed" else None,
            ),
        )
        return json.dumps(unstructure_response(event)).encode()

    # --- sending ------------------------------------------------------------------------------

    async def _send(self, attempt: _Attempt) -> None:
        async with self._slots:
            ok, error = await self._post(attempt)
        cfg, task, url = self.settings, attempt.task, attempt.url
        attempt.attempts += 1
        self.stats.attempts += 1
        entry = self._entry(task, url)
        attempts = entry.attempts + 1
        if attempt.is_duplicate:
            self.stats.duplicated += 1
            self._record(task, url, attempts=attempts, delivered=entry.delivered)
        elif ok:
            self.stats.delivered += 1
            self._record(task, url, attempts=attempts, delivered=True)
            if attempt.duplicate_after is not None:
                copy = attrs.evolve(attempt, attempts=0, is_duplicate=True)
                self._push(self.clock.time() + attempt.duplicate_after, copy)
        elif attempt.attempts < cfg.max_attempts:
            self._record(task, url, attempts=attempts, last_error=error)
            backoff = cfg.retry_delay * 2 ** (attempt.attempts - 1)
            self._push(self.clock.time() + backoff, attempt)
        else:
            self.stats.failed += 1
            self._record(task, url, attempts=attempts, last_error=error)

    async def _post(self, attempt: _Attempt) -> tuple[bool, str | None]:
        """POST the event, signed now: (acknowledged with a 2xx, what went wrong)."""
        session = self._session
        if session is None:  # pragma: no cover - only sent while started
            return False, "the simulator is closed"
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: sign(attempt.body, self.settings.secret, timestamp=self.clock.time()),
            "User-Agent": "twelvelabs-simulator-webhooks",
        }
        try:
            async with session.post(attempt.url, data=attempt.body, headers=headers) as resp:
                await resp.read()
                if 200 <= resp.status < 300:
                    return True, None
                return False, f"HTTP {resp.status}"
        except (aiohttp.ClientError, TimeoutError) as exc:
            return False, f"{type(exc).__name__}: {exc}".rstrip(": ")

    @staticmethod
    def _entry(task: SimTask, url: str) -> WebhookDelivery:
        return next(e for e in task.webhooks if e.url == url)

    def _record(
        self,
        task: SimTask,
        url: str,
        *,
        attempts: int | None = None,
        delivered: bool = False,
        last_error: str | None = None,
    ) -> None:
        """Update the task's `webhooks` entry for `url` (and drop its cached JSON)."""
        task.webhooks = tuple(
            WebhookDelivery(
                url=url,
                delivered=delivered,
                attempts=entry.attempts if attempts is None else attempts,
                last_error=None if delivered else last_error,
            )
            if entry.url == url
            else entry
            for entry in task.webhooks
        )
        task.forget_renders()
