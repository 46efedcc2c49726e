"""The simulated account's tasks. A task's status is computed from the clock when read.

Nothing runs in the background: each task stores when it was created, when each phase ends and
how it ends, so 100,000 tasks cost a few hundred bytes each and no CPU while nobody looks.
A page of a list filtered by status is cut from `StatusIndex`, kept up to date by the status
changes due since the last list, so that it costs the page, not the whole account.
"""

from __future__ import annotations

import bisect
import heapq
import json
import random
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

import attrs

from .._convert import structure, unstructure_response
from ..models import (
    AnalyzeTask,
    AnalyzeTaskResult,
    MediaSource,
    PageInfo,
    RequestParams,
    TaskError,
    TokenUsage,
    VideoSource,
    VideoSystemMetadata,
    WebhookDelivery,
)
from ._config import SimulatorConfig
from ._replies import page_info
from ._results import free_text, json_for_schema, segments_json

_FAILURE = TaskError(
    code="video_file_broken", message="The video file could not be processed (simulated)."
)
_CANCELED = TaskError(code="user_canceled", message="The task was canceled by the user.")
_CANCEL_MESSAGES = {
    "user_canceled": _CANCELED.message,
    "batch_canceled": "The batch was canceled before this item started.",
    "batch_expired": "The batch expired before this item finished.",
}


@attrs.define(slots=True, eq=False)
class SimTask:
    """One task: its timeline, its outcome and what it was created with."""

    task_id: str
    seq: int
    created: float
    queued_until: float
    pending_until: float
    finish_at: float
    outcome: str
    body: Mapping[str, Any]
    video_duration: float
    canceled_at: float | None = None
    rendered: tuple[str, bytes] | None = None
    """The status of the last full render and its JSON body (see `TaskStore.render_json`)."""
    listed: tuple[str, bytes] | None = None
    """The same for its list item (see `TaskStore.render_list_json`)."""
    webhooks: tuple[WebhookDelivery, ...] = ()
    """Delivery state per webhook URL (kept by `_webhooks.WebhookDispatcher`; reset `rendered`)."""
    batch_id: str | None = None
    """The batch that created this task (see `_batches.BatchStore`)."""
    expires_at: float | None = None
    """A batch item still unfinished at this epoch second is canceled (`batch_expired`)."""
    cancel_code: str = "user_canceled"
    """The error code of a cancellation by request."""

    def forget_renders(self) -> None:
        """Something besides the status changed (a cancel, a webhook delivery): render again."""
        self.rendered = self.listed = None

    def status_at(self, now: float) -> str:
        """The status at epoch second `now`."""
        if self.canceled_at is not None:
            return "canceled"
        expiry = self.expires_at
        if expiry is not None and self.finish_at > expiry and now >= expiry:
            return "canceled"  # the batch expired before this item finished
        if now >= self.finish_at:
            return self.outcome
        if now >= self.pending_until:
            return "processing"
        if now >= self.queued_until:
            return "pending"
        return "queued"

    @property
    def terminal_at(self) -> float:
        """The epoch second the task became (or will become) terminal."""
        if self.canceled_at is not None:
            return self.canceled_at
        expiry = self.expires_at
        if expiry is not None and self.finish_at > expiry:
            return expiry
        return self.finish_at

    def cancel_error(self) -> TaskError:
        """Why a canceled task was canceled."""
        code = self.cancel_code if self.canceled_at is not None else "batch_expired"
        return TaskError(code=code, message=_CANCEL_MESSAGES.get(code, _CANCELED.message))


def _sources(sources: tuple[MediaSource, ...]) -> tuple[MediaSource, ...]:
    return tuple(attrs.evolve(source, base64_string=None) for source in sources)


def _without_base64(params: RequestParams) -> RequestParams:
    """Reference images (prompt_v2, segment definitions) echoed without their base64 content."""
    if params.prompt_v2 is not None and params.prompt_v2.media_sources:
        prompt_v2 = attrs.evolve(
            params.prompt_v2, media_sources=_sources(params.prompt_v2.media_sources)
        )
        params = attrs.evolve(params, prompt_v2=prompt_v2)
    fmt = params.response_format
    if fmt is not None and fmt.segment_definitions:
        defs = tuple(
            attrs.evolve(d, media_sources=_sources(d.media_sources))
            for d in fmt.segment_definitions
        )
        params = attrs.evolve(params, response_format=attrs.evolve(fmt, segment_definitions=defs))
    return params


def _when(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


class StatusIndex:
    """The tasks in each status at the last time a list was read, in creation order.

    Each task's status changes only at its phase boundaries (`queued_until`, `pending_until`,
    `finish_at`, `expires_at`) or when it is canceled. Every boundary is kept in a heap;
    `advance(now)` re-reads the status of the tasks whose boundaries passed, so membership is
    exactly `status_at(now)` for every task, at a cost per status change rather than per task.
    Time must not go back (`advance` refuses it: the caller scans instead).
    """

    def __init__(self) -> None:
        self.at = float("-inf")
        self._members: dict[str, list[int]] = {}
        """Status to the `seq` of its tasks, ascending (oldest first)."""
        self._status: dict[int, str] = {}
        self._tasks: dict[int, SimTask] = {}
        self._due: list[tuple[float, int]] = []

    def add(self, task: SimTask) -> None:
        """Index a new task (created now: its `seq` is the highest)."""
        when = max(self.at, task.created)
        self._tasks[task.seq] = task
        self._move(task, task.status_at(when))
        for boundary in (task.queued_until, task.pending_until, task.finish_at, task.expires_at):
            if boundary is not None and boundary > when:
                heapq.heappush(self._due, (boundary, task.seq))

    def remove(self, task: SimTask) -> None:
        """Forget a deleted task."""
        if self._tasks.pop(task.seq, None) is not None:
            self._move(task, None)

    def refresh(self, task: SimTask) -> None:
        """Re-read a task whose status changed outside its timeline (a cancel)."""
        if task.seq in self._tasks:
            self._move(task, task.status_at(max(self.at, task.created)))

    def advance(self, now: float) -> bool:
        """Bring every status up to `now`; False (nothing done) when `now` is in the past."""
        if now < self.at:
            return False
        due = self._due
        while due and due[0][0] <= now:
            _, seq = heapq.heappop(due)
            task = self._tasks.get(seq)
            if task is not None:
                self._move(task, task.status_at(now))
        self.at = now
        return True

    def page(self, status: str, page: int, limit: int) -> tuple[list[SimTask], int]:
        """Page `page` of the tasks in `status`, newest first, and how many there are."""
        members = self._members.get(status, [])
        total = len(members)
        stop = max(0, total - (page - 1) * limit)
        seqs = members[max(0, stop - limit) : stop]
        return [self._tasks[seq] for seq in reversed(seqs)], total

    def _move(self, task: SimTask, status: str | None) -> None:
        old = self._status.get(task.seq)
        if old == status:
            return
        if old is not None:
            members = self._members[old]
            del members[bisect.bisect_left(members, task.seq)]
            del self._status[task.seq]
        if status is not None:
            members = self._members.setdefault(status, [])
            if not members or members[-1] < task.seq:
                members.append(task.seq)
            else:
                bisect.insort(members, task.seq)
            self._status[task.seq] = status


class TaskStore:
    """Creates, finds, lists, cancels and deletes simulated tasks."""

    def __init__(self, config: SimulatorConfig) -> None:
        self.config = config
        self._rng = random.Random(config.seed)
        self._tasks: dict[str, SimTask] = {}
        self._order: list[SimTask] = []
        self._index = StatusIndex()
        self._seq = 0
        self.terminal_at: dict[str, float] = {}
        """Task id to the epoch second it became terminal (kept after deletion)."""
        self.listeners: list[Callable[[SimTask], None]] = []
        """Called with a task when it is created and when it is canceled (webhook delivery)."""

    def __len__(self) -> int:
        return len(self._tasks)

    def __iter__(self) -> Iterator[SimTask]:
        return iter(self._order)

    def create(
        self,
        body: Mapping[str, Any],
        now: float,
        *,
        duration: float | None = None,
        fail: bool | None = None,
        batch_id: str | None = None,
        expires_at: float | None = None,
    ) -> SimTask:
        """Add a task created at `now`; its duration and outcome are drawn unless given.

        A batch item carries its `batch_id` and the batch's `expires_at`.
        """
        cfg, rng = self.config, self._rng
        self._seq += 1
        total = duration if duration is not None else rng.uniform(*cfg.duration)
        failed = fail if fail is not None else rng.random() < cfg.failure_rate
        task = SimTask(
            task_id=f"{rng.getrandbits(96):024x}",
            seq=self._seq,
            created=now,
            queued_until=now + total * cfg.queued_fraction,
            pending_until=now + total * (cfg.queued_fraction + cfg.pending_fraction),
            finish_at=now + total,
            outcome="failed" if failed else "ready",
            body=body,
            video_duration=round(rng.uniform(*cfg.video_duration), 2),
            batch_id=batch_id,
            expires_at=expires_at,
        )
        self._tasks[task.task_id] = task
        self._order.append(task)
        self._index.add(task)
        self.terminal_at[task.task_id] = task.terminal_at
        for listener in self.listeners:
            listener(task)
        return task

    def get(self, task_id: str) -> SimTask | None:
        """The task, or None when there is none with this id."""
        return self._tasks.get(task_id)

    def cancel(self, task: SimTask, now: float, *, code: str = "user_canceled") -> bool:
        """Cancel a task that is not terminal; False when it already ended (not canceled)."""
        status = task.status_at(now)
        if status == "canceled":
            return True
        if status in ("ready", "failed"):
            return False
        task.canceled_at = now
        task.cancel_code = code
        task.forget_renders()
        self._index.refresh(task)
        self.terminal_at[task.task_id] = now
        for listener in self.listeners:
            listener(task)
        return True

    def delete(self, task: SimTask) -> None:
        """Remove a task."""
        del self._tasks[task.task_id]
        self._order.remove(task)
        self._index.remove(task)

    def page(
        self,
        now: float,
        page: int,
        limit: int,
        filters: Mapping[str, str],
    ) -> tuple[list[SimTask], PageInfo]:
        """One page of tasks, newest first, after filtering."""
        if set(filters) == {"status"} and self._index.advance(now):
            items, total = self._index.page(filters["status"], page, limit)
        elif filters:
            matching = [t for t in reversed(self._order) if self._matches(t, now, filters)]
            total = len(matching)
            items = matching[(page - 1) * limit : page * limit]
        else:
            total = len(self._order)
            stop = max(0, total - (page - 1) * limit)
            items = self._order[max(0, stop - limit) : stop][::-1]
        info = page_info(page, limit, total)
        return items, info

    @staticmethod
    def _matches(task: SimTask, now: float, filters: Mapping[str, str]) -> bool:
        video = task.body.get("video") or {}
        for key, value in filters.items():
            actual: Any
            if key == "status":
                actual = task.status_at(now)
            elif key == "analysis_mode":
                actual = task.body.get("analysis_mode", "general")
            else:  # the `video_url` filter matches the video's `url`
                actual = video.get("url" if key == "video_url" else key)
            if actual != value:
                return False
        return True

    # --- rendering --------------------------------------------------------------------------

    def model(self, task: SimTask, now: float, *, list_item: bool = False) -> AnalyzeTask:
        """The task as the API shows it at `now` (cut down as the list endpoint cuts it)."""
        status = task.status_at(now)
        terminal = status in ("ready", "failed", "canceled")
        result = self._result(task) if status == "ready" else None
        error = _FAILURE if status == "failed" else None
        if status == "canceled":
            error = task.cancel_error()
        return AnalyzeTask(
            task_id=task.task_id,
            status=status,
            created_at=_when(task.created),
            custom_id=task.body.get("custom_id"),
            batch_id=task.batch_id,
            completed_at=_when(task.terminal_at) if terminal else None,
            video_source=self._video_source(task),
            request_params=self._params(task, list_item),
            result=result,
            error=error,
            webhooks=task.webhooks,
        )

    def render(self, task: SimTask, now: float, *, list_item: bool = False) -> dict[str, Any]:
        """The task's JSON object (the `custom_id` key is always present, possibly null)."""
        data: dict[str, Any] = unstructure_response(self.model(task, now, list_item=list_item))
        return data

    def render_json(self, task: SimTask, now: float) -> bytes:
        """`render(task, now)` as JSON bytes, rendered once per status the task is seen in.

        A task's full form changes only with its status: every other field is fixed at creation
        (`completed_at` and the result belong to the terminal statuses, which never change), so
        the body cached for the current status is exactly what rendering now would give.
        """
        status = task.status_at(now)
        cached = task.rendered
        if cached is None or cached[0] != status:
            cached = task.rendered = (status, json.dumps(self.render(task, now)).encode())
        return cached[1]

    def render_list_json(self, task: SimTask, now: float) -> bytes:
        """`render(task, now, list_item=True)` as JSON bytes, cached as `render_json` is."""
        status = task.status_at(now)
        cached = task.listed
        if cached is None or cached[0] != status:
            body = json.dumps(self.render(task, now, list_item=True)).encode()
            cached = task.listed = (status, body)
        return cached[1]

    def _video_source(self, task: SimTask) -> VideoSource | None:
        video = task.body.get("video")
        if not isinstance(video, Mapping):
            return None
        return VideoSource(
            type=str(video.get("type")),
            url=video.get("url"),
            asset_id=video.get("asset_id"),
            system_metadata=VideoSystemMetadata(duration=task.video_duration),
        )

    @staticmethod
    def _params(task: SimTask, list_item: bool) -> RequestParams:
        body = dict(task.body)
        body.pop("model_name", None)  # not part of the echoed request_params
        body.setdefault("analysis_mode", "general")
        params = structure(body, RequestParams)
        if params.image:
            # The API echoes images without their base64 content, typed as images.
            echoed = tuple(
                attrs.evolve(img, media_type="image", base64_string=None) for img in params.image
            )
            params = attrs.evolve(params, image=echoed)
        params = _without_base64(params)
        if not list_item:
            return params
        fmt = params.response_format
        if fmt is not None:
            defs = fmt.segment_definitions
            fmt = attrs.evolve(
                fmt, json_schema=None, segment_definitions=defs[:1] if defs else defs
            )
        prompt_v2 = params.prompt_v2
        if prompt_v2 is not None:
            prompt_v2 = attrs.evolve(prompt_v2, input_text=prompt_v2.input_text[:30])
        return attrs.evolve(
            params,
            prompt=params.prompt[:30] if params.prompt else params.prompt,
            prompt_v2=prompt_v2,
            response_format=fmt,
        )

    def _result(self, task: SimTask) -> AnalyzeTaskResult:
        rng = random.Random(self.config.seed * 1_000_003 + task.seq)
        body = task.body
        fmt = body.get("response_format") or {}
        if body.get("analysis_mode") == "time_based_metadata":
            window = None
            if "start_time" in body or "end_time" in body:
                window = (
                    float(body.get("start_time", 0.0)),
                    float(body.get("end_time", task.video_duration)),
                )
            data = segments_json(fmt, task.video_duration, rng, window)
        elif fmt.get("type") == "json_schema":
            data = json_for_schema(fmt.get("json_schema") or {}, rng)
        else:
            data = free_text(body.get("prompt"), rng)
        return AnalyzeTaskResult(
            generation_id=f"gen_{task.task_id}",
            data=data,
            finish_reason="stop",
            usage=TokenUsage(
                output_tokens=max(1, len(data) // 4), input_tokens=rng.randint(500, 5000)
            ),
        )
