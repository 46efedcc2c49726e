"""A fake `/analyze/tasks` API for tracker tests: aioresponses callbacks over a small state.

Every task has a status timeline on the `FakeClock`'s virtual time. Retrieves, list pages
(newest first, with `page_info`) and cancels are all answered from that one state, so a sweep
and a retrieve never disagree. Faults are scripted per task (or for list pages) and every
request is logged with the virtual time it started and ended, and how many were in flight.
"""

from __future__ import annotations

import asyncio
import itertools
import re
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aioresponses import CallbackResult, aioresponses
from yarl import URL

from tests.conftest import BASE_URL, FakeClock
from twelvelabs_async.tracking import Tracker

TASKS = f"{BASE_URL}/analyze/tasks"
RETRIEVE_URL = re.compile(rf"^{re.escape(TASKS)}/([^/?]+)$")
CANCEL_URL = re.compile(rf"^{re.escape(TASKS)}/([^/?]+)/cancel$")
LIST_URL = re.compile(rf"^{re.escape(TASKS)}\?.*$")
TERMINAL = ("ready", "failed", "canceled")
LONG_PROMPT = "Describe every scene of this video in great detail, please."


def iso(seconds: float) -> str:
    """RFC 3339 text of a virtual time (the FakeClock's `time()` is epoch seconds)."""
    return datetime.fromtimestamp(seconds, UTC).isoformat().replace("+00:00", "Z")


@dataclass
class Reply:
    """A scripted answer to one request instead of the normal one.

    `payload=None` with a 2xx status sends the task's real body (so headers can be added to a
    good answer); with an error status it sends a generic error body.
    """

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    payload: Any = None
    body: bytes | None = None
    exception: BaseException | None = None


@dataclass
class Call:
    """One request the fake API received."""

    seq: int  # when it started, on one counter with `end_seq`
    kind: str  # retrieve, list, cancel
    at: float
    task_id: str | None = None
    status: str | None = None  # the list filter
    page: int | None = None
    ended: float | None = None
    end_seq: int | None = None  # when its answer was sent, on one counter with `seq`
    answered: int | None = None  # the HTTP status sent back, None for an exception


@dataclass
class FakeTask:
    """A task on the fake server: created at `created`, then `steps[i][1]` from `steps[i][0]` on."""

    task_id: str
    created: float
    order: int
    steps: list[tuple[float, str]]

    def status_at(self, now: float) -> str:
        """The status at virtual time `now`."""
        current = self.steps[0][1]
        for at, status in self.steps:
            if at <= now:
                current = status
        return current

    def finished_at(self) -> float | None:
        """When the task turned terminal, if it does."""
        for at, status in self.steps:
            if status in TERMINAL:
                return at
        return None


class FakeAPI:
    """The fake server. Register it on `mock_api`; add tasks; read `calls` afterwards."""

    def __init__(self, mock: aioresponses, clock: FakeClock, *, latency: float = 0.0) -> None:
        self.clock = clock
        self.latency = latency
        self.tasks: dict[str, FakeTask] = {}
        self.calls: list[Call] = []
        self.faults: dict[str, deque[Reply]] = {}
        self.list_faults: deque[Reply] = deque()
        self.in_flight = 0
        self.peak_in_flight = 0
        self._order = 0
        self._events = itertools.count()
        mock.get(RETRIEVE_URL, callback=self._retrieve, repeat=True)
        mock.get(LIST_URL, callback=self._list, repeat=True)
        mock.post(CANCEL_URL, callback=self._cancel, repeat=True)

    # --- state ------------------------------------------------------------------------------

    def add(
        self,
        task_id: str,
        finish: float | None = None,
        final: str = "ready",
        *,
        steps: Iterable[tuple[float, str]] | None = None,
        age: float = 0.0,
    ) -> FakeTask:
        """A task created `age` seconds ago that turns `final` `finish` seconds from now.

        Without `steps` it is `queued`, then `processing` halfway, then `final`; `finish<=0`
        makes it terminal already (since `-finish` seconds); `finish=None` keeps it processing
        forever. `age < 0` creates it in the future (it is listed from then on).
        """
        now = self.clock.now
        if steps is not None:
            timeline = [(now + at, status) for at, status in steps]
        elif finish is None:
            timeline = [(now - age, "queued"), (now + 1.0, "processing")]
        elif finish <= 0:  # finished `-finish` seconds ago (or just now)
            age = max(age, -finish)
            timeline = [(now - age, "queued"), (now + finish, final)]
        else:
            timeline = [(now - age, "queued"), (now + finish / 2, "processing")]
            timeline.append((now + finish, final))
        timeline.sort(key=lambda step: step[0])
        self._order += 1
        fake = FakeTask(task_id, now - age, self._order, timeline)
        self.tasks[task_id] = fake
        return fake

    def fail(self, task_id: str, *replies: Reply) -> None:
        """The next retrieves of `task_id` get these answers, in order, then normal ones."""
        self.faults.setdefault(task_id, deque()).extend(replies)

    def body(self, task_id: str, *, listed: bool = False) -> dict[str, Any]:
        """The task as the API shows it now (cut down like the list endpoint when `listed`)."""
        fake = self.tasks[task_id]
        status = fake.status_at(self.clock.now)
        prompt = LONG_PROMPT[:30] if listed else LONG_PROMPT
        out: dict[str, Any] = {
            "task_id": task_id,
            "status": status,
            "created_at": iso(fake.created),
            "request_params": {"model_name": "pegasus1.5", "prompt": prompt},
        }
        finished = fake.finished_at()
        if status in TERMINAL and finished is not None:
            out["completed_at"] = iso(finished)
        if status == "ready":
            out["result"] = {
                "generation_id": f"g-{task_id}",
                "data": f"result of {task_id}",
                "finish_reason": "stop",
                "usage": {"output_tokens": 3},
            }
        elif status in ("failed", "canceled"):
            out["error"] = {"code": f"task_{status}", "message": f"{task_id} {status}"}
        return out

    # --- log --------------------------------------------------------------------------------

    def of(self, kind: str, task_id: str | None = None) -> list[Call]:
        """The calls of one kind (and task)."""
        return [
            c for c in self.calls if c.kind == kind and (task_id is None or c.task_id == task_id)
        ]

    def retrieved(self) -> list[str]:
        """The ids retrieved, in request order."""
        return [c.task_id for c in self.of("retrieve") if c.task_id is not None]

    def started_after(self, moment: float) -> list[Call]:
        """Calls that started strictly after virtual time `moment`."""
        return [c for c in self.calls if c.at > moment]

    def started_after_answer(self, call: Call) -> list[Call]:
        """Calls that started after `call` was answered (even at the same virtual time)."""
        assert call.end_seq is not None, "that call was never answered"
        return [c for c in self.calls if c.seq > call.end_seq]

    # --- handlers ---------------------------------------------------------------------------

    async def _serve(self, call: Call, reply: Reply | None, build: Any) -> CallbackResult:
        self.calls.append(call)
        self.in_flight += 1
        self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
        try:
            if self.latency > 0:
                await self.clock.sleep(self.latency)
            if reply is not None and reply.exception is not None:
                raise reply.exception
            if reply is None:
                result: CallbackResult = build()
            elif reply.body is not None:
                result = CallbackResult(status=reply.status, body=reply.body, headers=reply.headers)
            elif reply.payload is not None or not 200 <= reply.status < 300:
                payload = reply.payload
                if payload is None:
                    payload = {"code": f"e{reply.status}", "message": "scripted"}
                result = CallbackResult(status=reply.status, payload=payload, headers=reply.headers)
            else:
                normal: CallbackResult = build()
                result = CallbackResult(
                    status=reply.status, payload=normal.payload, headers=reply.headers
                )
            call.answered = result.status
            return result
        finally:
            self.in_flight -= 1
            call.ended = self.clock.now
            call.end_seq = next(self._events)

    def _next_call(self, kind: str, **fields: Any) -> Call:
        return Call(seq=next(self._events), kind=kind, at=self.clock.now, **fields)

    async def _retrieve(self, url: URL, **_: Any) -> CallbackResult:
        match = RETRIEVE_URL.match(str(url))
        assert match is not None
        task_id = match.group(1)
        call = self._next_call("retrieve", task_id=task_id)
        queue = self.faults.get(task_id)
        reply = queue.popleft() if queue else None

        def build() -> CallbackResult:
            if task_id not in self.tasks:
                error = {"code": "resource_not_exist", "message": f"No task {task_id}."}
                return CallbackResult(status=404, payload=error)
            return CallbackResult(status=200, payload=self.body(task_id))

        return await self._serve(call, reply, build)

    async def _list(self, url: URL, **_: Any) -> CallbackResult:
        number = int(url.query.get("page", "1"))
        limit = int(url.query.get("page_limit", "10"))
        status = url.query.get("status")
        call = self._next_call("list", status=status, page=number)
        reply = self.list_faults.popleft() if self.list_faults else None

        def build() -> CallbackResult:
            now = self.clock.now
            rows = sorted(self.tasks.values(), key=lambda t: (t.created, t.order), reverse=True)
            rows = [t for t in rows if t.created <= now]
            if status is not None:
                rows = [t for t in rows if t.status_at(now) == status]
            total = len(rows)
            chunk = rows[(number - 1) * limit : number * limit]
            return CallbackResult(
                status=200,
                payload={
                    "data": [self.body(t.task_id, listed=True) for t in chunk],
                    "page_info": {
                        "page": number,
                        "limit_per_page": limit,
                        "total_page": max(1, -(-total // limit)),
                        "total_results": total,
                    },
                },
            )

        return await self._serve(call, reply, build)

    async def _cancel(self, url: URL, **_: Any) -> CallbackResult:
        match = CANCEL_URL.match(str(url))
        assert match is not None
        task_id = match.group(1)
        call = self._next_call("cancel", task_id=task_id)

        def build() -> CallbackResult:
            fake = self.tasks.get(task_id)
            if fake is None:
                return CallbackResult(status=404, payload={"code": "resource_not_exist"})
            now = self.clock.now
            if fake.status_at(now) not in TERMINAL:
                fake.steps = [s for s in fake.steps if s[0] <= now] + [(now, "canceled")]
            return CallbackResult(payload={"task_id": task_id, "status": "canceled"})

        return await self._serve(call, None, build)


@dataclass
class Got:
    """One yielded task, with the virtual time it reached the consumer."""

    at: float
    task_id: str
    status: str


async def drain(tracker: Tracker, clock: FakeClock, into: list[Got] | None = None) -> list[Got]:
    """Iterate `tracker` to the end, recording what was yielded and when (also in `into`)."""
    out: list[Got] = [] if into is None else into
    async for task in tracker:
        out.append(Got(clock.now, task.task_id, str(task.status)))
    return out


def other_tasks() -> set[asyncio.Task[Any]]:
    """The running asyncio tasks except the current one and the FakeClock's driver."""
    current = asyncio.current_task()
    return {
        t
        for t in asyncio.all_tasks()
        if t is not current and getattr(t.get_coro(), "__qualname__", "") != "FakeClock._drive"
    }


async def settle(clock: FakeClock, seconds: float = 120.0) -> None:
    """Let virtual time run on (so that any leftover poller would show in the log)."""
    await clock.sleep(seconds)
