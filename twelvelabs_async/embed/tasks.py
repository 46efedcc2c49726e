"""`client.embed.tasks`: create, retrieve, list, wait for and track embedding tasks (v2)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime

from .._http import HTTPTransport
from .._pagination import AsyncPaginator
from .._validate import path_id, shown
from .._wire import json_as, paginate
from ..errors import InvalidInputError
from ..models import (
    AudioEmbedInput,
    DocumentEmbedInput,
    EmbeddingTask,
    EmbeddingTaskPage,
    EmbeddingTaskSummary,
    EmbedModel,
    EmbedTaskStatus,
    EmbedTaskStatusValue,
    ImageEmbedInput,
    VideoEmbedInput,
)
from ..tracking import (
    ObjectTracker,
    OnError,
    PollPolicy,
    StatusChange,
    Strategy,
    first_of,
    wait_policy,
)
from ._body import task_body
from ._source import PATH, EmbedTaskSource, retrieve

EmbeddingTaskList = AsyncPaginator[EmbeddingTaskSummary, EmbeddingTaskPage]
"""What `embed.tasks.list()` returns: iterate tasks with `async for`, or pages with `.pages()`."""

_created = json_as(EmbeddingTask)
_page = json_as(EmbeddingTaskPage)
_STATUSES = ("processing", "ready", "failed")


def _when(value: object, what: str) -> str:
    if not isinstance(value, datetime):
        raise InvalidInputError(f"{what} must be a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidInputError(
            f"{what} must be timezone-aware (e.g. datetime.now(UTC) - timedelta(days=1))"
        )
    return value.isoformat().replace("+00:00", "Z")


class EmbedTasks:
    """Asynchronous embedding tasks (`/embed-v2/tasks`). Reach it as `client.embed.tasks`.

    A task is `processing`, then `ready` (its vectors in `data`) or `failed`. The API keeps
    embeddings for 7 days.
    """

    def __init__(self, transport: HTTPTransport) -> None:
        self._http = transport

    async def create(
        self,
        *,
        model_name: EmbedModel,
        video: VideoEmbedInput | None = None,
        audio: AudioEmbedInput | None = None,
        image: ImageEmbedInput | None = None,
        document: DocumentEmbedInput | None = None,
        embedding_dimension: int | None = None,
        embedding_uncertainty: bool | None = None,
    ) -> EmbeddingTask:
        """Create an embedding task for one video, audio file, image or document.

        ```python
        task = await client.embed.tasks.create(
            model_name="marengo3.5",
            video=VideoEmbedInput(EmbedSource(asset_id=asset_id), segmentation=FixedSegments(6)),
        )
        ```

        The task comes back `processing` (`data` None). Every rule the API documents is
        checked before any request, and refused with `InvalidInputError`: exactly one input
        and one media source; `embedding_dimension` and `embedding_uncertainty` only on
        marengo3.5; images and documents only on marengo3.5; `transcription` only on
        marengo3.0; `embedding_type` only with two or more options; `fused_embedding` on
        marengo3.5 only with `time_based_metadata`; an image's lists hold only their one value;
        base64 at most 36 MB decoded (32 MB for an image); audio on marengo3.0 only in fixed
        clips. Segmentation is written in the shape the model takes (`temporal` on 3.5).

        Creating is paid work and the API documents no idempotency key for it: a request that
        may have reached the server (a reset, a timeout) is not sent again.

        Args:
            model_name: `marengo3.5` or `marengo3.0`.
            video: a `VideoEmbedInput`.
            audio: an `AudioEmbedInput`.
            image: an `ImageEmbedInput` (marengo3.5).
            document: a `DocumentEmbedInput` (marengo3.5).
            embedding_dimension: the length of each vector (marengo3.5; the API's default is
                512). A prefix of a vector is a valid shorter one (Matryoshka).
            embedding_uncertainty: also return a per-number uncertainty (marengo3.5; video and
                audio need `embedding_scope` without `asset`, documents `["local"]`).
        """
        body = task_body(
            model_name=model_name,
            inputs={"video": video, "audio": audio, "image": image, "document": document},
            embedding_dimension=embedding_dimension,
            embedding_uncertainty=embedding_uncertainty,
        )
        return await self._http.request("POST", PATH, _created, json_body=body, idempotent=False)

    async def retrieve(self, task_id: str) -> EmbeddingTask:
        """Get a task: its status and, once `ready`, every vector.

        `NotFoundError` if unknown, including a task older than the 7 days the API keeps
        embeddings.

        A ready task's body is large (about 6-8 MB for an hour of video): poll with `wait` or
        `track`, which read it once the task has ended.
        """
        return await retrieve(self._http, task_id)

    def list(
        self,
        *,
        status: EmbedTaskStatus | EmbedTaskStatusValue | None = None,
        started_at: datetime | None = None,
        ended_at: datetime | None = None,
        page_limit: int = 50,
    ) -> EmbeddingTaskList:
        """List tasks, newest first, without their vectors; iterate with `async for`.

        Items are the API's list shape (`EmbeddingTaskSummary`): id, status, model and what
        was embedded, no vectors. `retrieve` a task for its data.

        Without `started_at` and `ended_at` the API returns only the tasks created in the last
        7 days, and this method sends no dates: as embeddings are kept 7 days, that is every
        task whose vectors still exist. Pass dates for another window.

        Args:
            status: only tasks in this status (one value: `processing`, `ready`, `failed`).
            started_at: only tasks created at or after this time (timezone-aware).
            ended_at: only tasks created at or before this time (timezone-aware).
            page_limit: tasks per page, 1-50.
        """
        filters: list[tuple[str, str]] = []
        if status is not None:
            if status not in _STATUSES:
                raise InvalidInputError(
                    f"status must be one of {', '.join(_STATUSES)}, got {shown(status)}"
                )
            filters.append(("status", str(status)))
        if started_at is not None:
            filters.append(("started_at", _when(started_at, "started_at")))
        if ended_at is not None:
            filters.append(("ended_at", _when(ended_at, "ended_at")))
        if started_at is not None and ended_at is not None and started_at > ended_at:
            raise InvalidInputError("started_at must not be after ended_at")
        return paginate(self._http, PATH, _page, page_limit=page_limit, filters=filters)

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
        on_status: Callable[[StatusChange], object] | None = None,
        buffer: int = 64,
        keep_open: bool = False,
    ) -> ObjectTracker[EmbeddingTask]:
        """Follow many tasks and yield each one, complete with its vectors, once it has ended.

        ```python
        async with client.embed.tasks.track(ids, timeout=3600) as tracker:
            async for task in tracker:          # each id once, in the order they finish
                ...
        ```

        The engine and its guarantees are those of `client.analyze.tasks.track`: one request
        budget, adaptive polling, each id yielded once, a `failed` task yielded like a `ready`
        one, permanent errors raised (`on_error="raise"`) or collected, a deadline, nothing
        running after the block. When it saves requests, the tracker sweeps
        `GET /embed-v2/tasks?status=...` (the light list, no vectors) and retrieves only the
        tasks that ended: every yielded task is retrieved, once, never taken from a list item
        (which has no vectors). The sweeps send no dates, so they see the API's default
        window of 7 days: an older task is still followed by its own polls.

        There is no `on_exit="cancel_remote"` and no `yield_list_items` (the API cannot cancel
        an embedding task, and its list items carry no vectors), and no webhooks (the API
        sends none for embeddings).

        Args:
            task_ids: the ids to follow (duplicates collapse).
            timeout: overall deadline in seconds (None for none); past it `TrackingTimeout`.
            on_error: `"raise"` or `"collect"` for per-task permanent errors.
            strategy: `"auto"` (sweep when it saves requests), `"per_task"` or `"sweep"`.
            max_in_flight: the most requests in flight at once.
            max_rate: the most requests per second, or None.
            poll_policy: the bounds of poll intervals and sweeps (`PollPolicy`).
            on_status: called with a `StatusChange` whenever a task is seen in a new status.
            buffer: finished tasks held for a slow consumer before polling pauses (ready
                tasks are large: the default is smaller than for analysis tasks).
            keep_open: wait for `tracker.add()` when nothing is pending, until `close()`.
        """
        return ObjectTracker(
            EmbedTaskSource(self._http),
            task_ids,
            runtime=self._http,
            timeout=timeout,
            on_error=on_error,
            strategy=strategy,
            max_in_flight=max_in_flight,
            max_rate=max_rate,
            poll_policy=poll_policy or PollPolicy(),
            on_exit="leave",
            cancel_timeout=10.0,
            yield_list_items=False,
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
    ) -> EmbeddingTask:
        """Poll one task until it is `ready` or `failed`, and return it with its vectors.

        As `client.analyze.tasks.wait`: the first poll is immediate, then the interval grows
        from `poll_interval` to `max_poll_interval` with jitter; transient failures are polled
        through; 404, 401, 403 and other API errors raise at once; a `failed` task is
        returned, not raised; past `timeout` seconds `TrackingTimeout` names the task.

        Args:
            task_id: the task to wait for.
            timeout: the overall deadline in seconds (None waits forever).
            poll_interval: the first interval between polls, in seconds.
            max_poll_interval: the largest interval between polls, in seconds.
        """
        path_id(task_id)
        policy = wait_policy(poll_interval, max_poll_interval)
        tracker = self.track(
            [task_id], timeout=timeout, strategy="per_task", poll_policy=policy, max_in_flight=1
        )
        return await first_of(tracker)
