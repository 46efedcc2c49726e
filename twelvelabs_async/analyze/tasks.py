"""`client.analyze.tasks`: create, retrieve, list, cancel, delete and wait for analysis tasks."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Literal

import attrs

from .._http import HTTPTransport, no_body
from .._pagination import AsyncPaginator
from .._validate import check_analysis_mode, path_id
from .._wire import (
    MAX_PAGE_LIMIT,
    ListedPage,
    json_about,
    json_as,
    listed_as,
    page_params,
    paginate,
    post_once,
)
from ..assets import Assets
from ..models import (
    TERMINAL_STATUSES,
    AnalysisMode,
    AnalysisModeValue,
    AnalyzeTask,
    ImageInput,
    LocalVideo,
    PromptV2,
    ResponseFormat,
    TaskPage,
    TaskRef,
    TaskStatus,
    TaskStatusValue,
    VideoInput,
)
from ..tracking import (
    OnError,
    OnExit,
    PollPolicy,
    StatusChange,
    Strategy,
    Tracker,
    first_of,
    wait_policy,
)
from ._body import request_body
from ._local import checked_as, local_of, noted, uploaded
from ._request import TASK, AnalysisRequest

logger = logging.getLogger("twelvelabs_async")

TaskList = AsyncPaginator[AnalyzeTask, TaskPage]
"""What `tasks.list()` returns: iterate tasks with `async for`, or pages with `.pages()`."""


_ref = json_as(TaskRef)
_page = json_as(TaskPage)
_listed = listed_as(AnalyzeTask, "task_id")


PAGE_LIMIT = MAX_PAGE_LIMIT
"""Tasks per list page read by a tracker's sweeps (the API's maximum)."""


async def _retrieve(
    http: HTTPTransport, task_id: str, *, retries: int | None = None
) -> AnalyzeTask:
    path = f"analyze/tasks/{path_id(task_id)}"
    return await http.request(
        "GET", path, json_about(AnalyzeTask, "task_id", task_id), retries=retries
    )


async def _cancel(http: HTTPTransport, task_id: str) -> TaskRef:
    path = f"analyze/tasks/{path_id(task_id)}/cancel"
    # The API documents cancel as idempotent: repeating it after a reset is harmless.
    return await http.request("POST", path, _ref, idempotent=True)


def _created_of(task: AnalyzeTask) -> float | None:
    return task.created_at.timestamp() if task.created_at is not None else None


class TaskSource:
    """Analysis tasks as the tracking engine sees them (a `tracking` `Source`)."""

    noun = "task"
    terminal = TERMINAL_STATUSES
    active = ("queued", "pending", "processing")
    """The list filters of an *active* sweep, in lifecycle order (a task moving forward while
    the sweep runs is then seen in a later list rather than missed)."""
    final = ("ready", "failed", "canceled")
    """The list filters of a *final* sweep: presence there is proof that a task ended."""
    page_limit = PAGE_LIMIT

    def __init__(self, http: HTTPTransport) -> None:
        self._http = http

    @property
    def lists(self) -> TaskSource:
        """Tasks can be listed by status: the source is its own `StatusLists`."""
        return self

    def check_id(self, object_id: object) -> None:
        """Refuse anything but 1-128 characters of `A-Z a-z 0-9 _ -` (see `path_id`)."""
        path_id(object_id)

    def id_of(self, item: AnalyzeTask) -> str:
        """The task's id."""
        return item.task_id

    def status_of(self, item: AnalyzeTask) -> str:
        """The task's status as a plain string."""
        return str(item.status)

    def created_of(self, item: AnalyzeTask) -> float | None:
        """`created_at` in epoch seconds."""
        return _created_of(item)

    def ended_of(self, item: AnalyzeTask) -> float | None:
        """`completed_at` in epoch seconds."""
        return item.completed_at.timestamp() if item.completed_at is not None else None

    async def fetch(self, object_id: str) -> AnalyzeTask:
        """`GET /analyze/tasks/{id}`, one attempt."""
        return await _retrieve(self._http, object_id, retries=0)

    async def cancel(self, object_id: str) -> None:
        """`POST /analyze/tasks/{id}/cancel`, with the client's retries."""
        await _cancel(self._http, object_id)

    async def page(self, number: int, status: str) -> ListedPage[AnalyzeTask]:
        """One page of `GET /analyze/tasks?status=...`, one attempt.

        Its items are decoded lazily: a sweep reads the id, status and creation time of each,
        and decodes whole only the tasks it delivers.
        """
        params = page_params(number, PAGE_LIMIT, [("status", status)])
        return await self._http.request("GET", "analyze/tasks", _listed, params=params, retries=0)


class AnalyzeTasks:
    """Asynchronous analysis tasks (`/analyze/tasks`). Reach it as `client.analyze.tasks`."""

    def __init__(self, transport: HTTPTransport, assets: Assets) -> None:
        self._http = transport
        self._assets = assets

    async def create(
        self,
        *,
        video: str | VideoInput | os.PathLike[str] | LocalVideo | None = None,
        prompt: str | None = None,
        image: Sequence[ImageInput | Mapping[str, Any]] | None = None,
        prompt_v2: PromptV2 | Mapping[str, Any] | None = None,
        model_name: str | None = None,
        analysis_mode: AnalysisMode | AnalysisModeValue | None = None,
        response_format: ResponseFormat | Mapping[str, Any] | None = None,
        temperature: float | None = None,
        max_tokens: int | Literal["unlimited"] | None = None,
        min_segment_duration: float | None = None,
        max_segment_duration: float | None = None,
        start_time: float | None = None,
        end_time: float | None = None,
        custom_id: str | None = None,
        idempotency_key: str | None = None,
    ) -> TaskRef:
        """Create an analysis or segmentation task; returns its `task_id` and `status`.

        Arguments the API documents as invalid (a bad `custom_id`, `prompt` together with
        `prompt_v2`, `prompt` in `time_based_metadata` mode, out-of-range numbers, ...) raise
        `InvalidInputError` before any request. The request carries an `Idempotency-Key`
        (random unless you pass one), reused on every retry so that a retried POST cannot
        create a second task.

        A local file (`video=Path("clip.mp4")`, or `LocalVideo(...)` for options) is uploaded
        first (`client.assets.upload`: direct or multipart, resumable) and waited for until
        its asset is `ready`; then the task is created on that asset. The rest of the request
        is checked before the upload. An asset that ends `failed` raises `AssetFailedError`;
        an error creating the task after the upload notes the asset id, to reuse it.

        Args:
            video: a URL string, or `UrlVideo`, `AssetVideo`, `Base64Video`; or a local file:
                a `Path` or a `LocalVideo`.
            prompt: the instructions (general mode).
            image: 1-20 images instead of a video (pegasus1.6).
            prompt_v2: a prompt with reference images instead of `prompt`.
            model_name: e.g. `pegasus1.5` (the server's default when None).
            analysis_mode: `general` (default) or `time_based_metadata` (segmentation); any
                other value raises `InvalidInputError`.
            response_format: `ResponseFormat.schema(...)` or `ResponseFormat.segments(...)`.
            temperature: 0-1.
            max_tokens: general 512-98,304; segmentation 2,048-98,304 or `"unlimited"`.
            min_segment_duration: segmentation only, >= 2 s.
            max_segment_duration: segmentation only, >= `min_segment_duration`.
            start_time: analyze from this second on.
            end_time: analyze up to this second (the window is 1 s to 2 h).
            custom_id: your correlation id, 1-64 of `[A-Za-z0-9_-]` (not unique).
            idempotency_key: the `Idempotency-Key` header value to send.
        """
        local = local_of(video)
        request = AnalysisRequest(
            video=checked_as(video, local), prompt=prompt, image=image, prompt_v2=prompt_v2,
            model_name=model_name, analysis_mode=analysis_mode, response_format=response_format,
            temperature=temperature, max_tokens=max_tokens,
            min_segment_duration=min_segment_duration, max_segment_duration=max_segment_duration,
            start_time=start_time, end_time=end_time, custom_id=custom_id,
        )  # fmt: skip
        body = request_body(request, TASK)  # checked before any upload
        if local is None:
            return await post_once(self._http, "analyze/tasks", _ref, body, idempotency_key)
        asset = await uploaded(self._assets, local)
        body = request_body(attrs.evolve(request, video=asset), TASK)
        try:
            return await post_once(self._http, "analyze/tasks", _ref, body, idempotency_key)
        except Exception as exc:
            noted(exc, asset)
            raise

    async def retrieve(self, task_id: str) -> AnalyzeTask:
        """Get a task's status and, once `ready`, its result (`NotFoundError` if unknown).

        A reply about another task than `task_id` is malformed: retried like a cut-off body,
        then raised as `DecodeError`.
        """
        return await _retrieve(self._http, task_id)

    def list(
        self,
        *,
        status: TaskStatus | TaskStatusValue | None = None,
        video_url: str | None = None,
        asset_id: str | None = None,
        analysis_mode: AnalysisMode | AnalysisModeValue | None = None,
        page_limit: int = 50,
    ) -> TaskList:
        """List tasks, newest first, optionally filtered; iterate with `async for`.

        Every task on every page is yielded; no request is made past the last page. Use
        `.pages()` for whole pages with their `page_info`, or `await .page(n)` for one.
        List items are cut down by the API: `request_params.prompt` keeps only its first 30
        characters, `response_format.json_schema` is left out, and `segment_definitions`
        holds only its first definition. `retrieve` a task for its complete form.

        Args:
            status: only tasks with this status (one value).
            video_url: only tasks on this exact video URL.
            asset_id: only tasks on this asset.
            analysis_mode: only `general` or only `time_based_metadata` tasks (any other
                value raises `InvalidInputError`).
            page_limit: tasks per page, 1-50.
        """
        if analysis_mode is not None:
            check_analysis_mode(analysis_mode)
        filters: list[tuple[str, str]] = [
            (key, str(value))
            for key, value in (
                ("status", status),
                ("video_url", video_url),
                ("asset_id", asset_id),
                ("analysis_mode", analysis_mode),
            )
            if value is not None
        ]
        return paginate(self._http, "analyze/tasks", _page, page_limit=page_limit, filters=filters)

    async def cancel(self, task_id: str) -> TaskRef:
        """Cancel a `queued`, `pending` or `processing` task; canceling twice is harmless.

        Tasks created by a batch are canceled through their batch instead.
        """
        return await _cancel(self._http, task_id)

    async def delete(self, task_id: str) -> None:
        """Delete a task that is not being processed (`ConflictError` while it is)."""
        await self._http.request("DELETE", f"analyze/tasks/{path_id(task_id)}", no_body)

    def track(
        self,
        task_ids: Iterable[str],
        *,
        timeout: float | None = None,
        on_error: OnError = "raise",
        strategy: Strategy = "auto",
        max_in_flight: int = 64,
        max_rate: float | None = None,
        poll_policy: PollPolicy | None = None,
        on_exit: OnExit = "leave",
        cancel_timeout: float = 10.0,
        yield_list_items: bool = False,
        expect_webhooks: bool = False,
        on_status: Callable[[StatusChange], object] | None = None,
        buffer: int = 256,
        keep_open: bool = False,
    ) -> Tracker:
        """Follow many tasks and yield each one, complete, the moment it is terminal.

        ```python
        async with client.analyze.tasks.track(ids, timeout=3600) as tracker:
            async for task in tracker:          # each id once, in the order they finish
                ...
                tracker.add(another_id)         # ids can be added while iterating
        ```

        One scheduler serves every id within one request budget: at most `max_in_flight`
        requests at once and, if set, `max_rate` per second; a 429, `Retry-After` or an
        exhausted `X-Ratelimit-Remaining` pauses the whole tracker. Each task has its own
        next-due time; intervals adapt (sooner when a task is likely to finish, backing off
        while it is not) within `poll_policy`'s bounds, with jitter. When it saves requests,
        the tracker sweeps `GET /analyze/tasks` to learn many statuses at once and retrieves
        only the tasks that finished; per-task polls stay as the safety net.

        A `failed` or `canceled` task is yielded like a `ready` one. Transient failures
        (including a reply about another task than the one asked for) are retried within the
        budget and never yielded. A permanent error about one task (404,
        400, ...) stops everything and is raised (`on_error="raise"`), naming the task in the
        error's `task_id`, or is recorded in `tracker.errors` (`on_error="collect"`). 401 and
        403 always stop everything. Leaving the block (by `break`, an error or cancellation)
        stops all polling at once.

        Args:
            task_ids: the ids to follow (duplicates collapse).
            timeout: overall deadline in seconds (None or `math.inf` for none); past it
                `TrackingTimeout` is raised with the ids still `pending`. Not the per-request
                timeout.
            on_error: `"raise"` or `"collect"` for per-task permanent errors.
            strategy: `"auto"` (sweep when it saves requests), `"per_task"` or `"sweep"`.
            max_in_flight: the most requests in flight at once.
            max_rate: the most requests per second, or None.
            poll_policy: the bounds of poll intervals and sweeps (`PollPolicy`).
            on_exit: `"cancel_remote"` also cancels the still-pending tasks on the server
                when the block is left early (shielded, within `cancel_timeout` seconds).
            cancel_timeout: the time box of `on_exit="cancel_remote"`, in seconds (> 0).
            yield_list_items: yield a task straight from a sweep's list item instead of
                retrieving it, saving a request per task. List items are cut down by the API:
                `request_params.prompt` keeps 30 characters, `response_format.json_schema` is
                left out and `segment_definitions` keeps its first entry.
            on_status: called with a `StatusChange` whenever a task is seen in a new status
                (for progress displays); it must not block.
            buffer: finished tasks held for a slow consumer before polling pauses.
            expect_webhooks: the tasks will announce themselves by webhook: pass each verified
                event to `tracker.notify(event)` and the task is retrieved and yielded at once.
                Polling and sweeping then drop to a safety-net cadence (every
                `poll_policy.max_interval`), so a lost delivery still completes.
            keep_open: a worker's tracker: when nothing is pending, iteration waits for
                `tracker.add()` instead of ending, until `tracker.close()`; it then ends once
                the ids still pending are yielded (or collected). `add()` after `close()`
                raises `RuntimeError`. With a `timeout`, a tracker still open at the deadline
                raises `TrackingTimeout` even with nothing pending.
        """
        return Tracker(
            TaskSource(self._http),
            task_ids,
            runtime=self._http,
            timeout=timeout,
            on_error=on_error,
            strategy=strategy,
            max_in_flight=max_in_flight,
            max_rate=max_rate,
            poll_policy=poll_policy or PollPolicy(),
            on_exit=on_exit,
            cancel_timeout=cancel_timeout,
            yield_list_items=yield_list_items,
            expect_webhooks=expect_webhooks,
            on_status=on_status,
            buffer=buffer,
            keep_open=keep_open,
        )

    async def wait(
        self,
        task_id: str,
        *,
        timeout: float | None = None,
        poll_interval: float = 1.0,
        max_poll_interval: float = 30.0,
    ) -> AnalyzeTask:
        """Poll one task until it is `ready`, `failed` or `canceled`, and return it.

        Runs on the tracker's engine with per-task polling: the first poll is immediate; the
        interval then grows by half each poll, from `poll_interval` up to `max_poll_interval`
        (sooner when tasks like it usually finish), with +-20 % jitter. Transient failures
        (429, 408, 5xx, connection errors, malformed bodies) are polled through, honouring a
        server-requested delay. 404, 401, 403 and other API errors raise at once. A `failed`
        or `canceled` task is returned, not raised.

        Args:
            task_id: the task to wait for.
            timeout: the overall deadline in seconds (None or `math.inf` waits forever);
                past it, `TrackingTimeout` is raised naming the task. This is not the
                per-request timeout, which the client's `timeout` sets.
            poll_interval: the first interval between polls, in seconds.
            max_poll_interval: the largest interval between polls, in seconds.
        """
        path_id(task_id)
        policy = wait_policy(poll_interval, max_poll_interval)
        tracker = self.track(
            [task_id], timeout=timeout, strategy="per_task", poll_policy=policy, max_in_flight=1
        )
        return await first_of(tracker)
