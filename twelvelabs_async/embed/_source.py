"""Embedding tasks as the tracking engine sees them: the `Source` of `embed.tasks.track`.

Terminal statuses are `ready` and `failed`. `fetch` is `GET /embed-v2/tasks/{id}`, heavy once
the task is ready, so many tasks are followed with the light list (`status` filter, one value
per call): active sweeps read `processing`, final sweeps `ready` and `failed`. The list's items
are another shape (`EmbeddingTaskSummary`, no vectors): each is read for its id, status and
creation time only, and its `full()` refuses to stand for the task (`DecodeError`), so a sweep
can only flag a task for one retrieve, never finish it from the list.

The list is asked without dates: the API then shows the last 7 days, which is how long it keeps
embeddings. A tracked task older than that is followed by its own polls (its retrieve answers
404 once the API has dropped it).
"""

from __future__ import annotations

import attrs

from .._http import Decoder, HTTPTransport
from .._validate import path_id
from .._wire import MAX_PAGE_LIMIT, json_about, listed_as, page_params
from ..errors import DecodeError, InvalidInputError
from ..models import EMBED_TERMINAL_STATUSES, EmbeddingTask, EmbeddingTaskSummary, PageInfo

PATH = "embed-v2/tasks"
_summaries = listed_as(EmbeddingTaskSummary, "_id")


async def retrieve(
    http: HTTPTransport, task_id: str, *, retries: int | None = None
) -> EmbeddingTask:
    """`GET /embed-v2/tasks/{task_id}`, the reply checked to be about that task."""
    path = f"{PATH}/{path_id(task_id)}"
    decode = json_about(EmbeddingTask, "task_id", task_id)
    return await http.request("GET", path, decode, retries=retries)


@attrs.frozen(slots=True)
class ListedTask:
    """A list item as a sweep reads it: id, status, creation time, and no stand-in task."""

    id: str
    status: str
    created: float | None

    def full(self) -> EmbeddingTask:
        """Always `DecodeError`: a list item has no vectors, so the task must be retrieved."""
        raise DecodeError(
            f"the list item of embedding task {self.id} has no vectors; retrieve the task"
        )


@attrs.frozen(slots=True)
class ListedTasks:
    """One page of the list as `ListedTask`s."""

    data: tuple[ListedTask, ...]
    page_info: PageInfo


def _listed(body: bytes, status: int) -> ListedTasks:
    page = _summaries(body, status)
    items = tuple(ListedTask(i.id, i.status, i.created) for i in page.data)
    return ListedTasks(items, page.page_info)


_listed_decoder: Decoder[ListedTasks] = _listed


class EmbedTaskSource:
    """Embedding tasks as the tracking engine sees them (a `tracking` `Source`)."""

    noun = "embedding task"
    terminal = EMBED_TERMINAL_STATUSES
    active = ("processing",)
    """The list filter of an active sweep (the API has no queued state)."""
    final = ("ready", "failed")
    """The list filters of a final sweep: presence there is proof that a task ended."""
    page_limit = MAX_PAGE_LIMIT

    def __init__(self, http: HTTPTransport) -> None:
        self._http = http

    @property
    def lists(self) -> EmbedTaskSource:
        """Tasks can be listed by status: the source is its own `StatusLists`."""
        return self

    def check_id(self, object_id: object) -> None:
        """Refuse anything but 1-128 characters of `A-Z a-z 0-9 _ -` (see `path_id`)."""
        path_id(object_id)

    def id_of(self, item: EmbeddingTask) -> str:
        """The task's id."""
        return item.task_id

    def status_of(self, item: EmbeddingTask) -> str:
        """The task's status as a plain string."""
        return str(item.status)

    def created_of(self, item: EmbeddingTask) -> float | None:
        """`created_at` in epoch seconds."""
        return item.created_at.timestamp() if item.created_at is not None else None

    def ended_of(self, item: EmbeddingTask) -> float | None:
        """`updated_at` of an ended task, in epoch seconds (when it last changed)."""
        if not item.is_terminal or item.updated_at is None:
            return None
        return item.updated_at.timestamp()

    async def fetch(self, object_id: str) -> EmbeddingTask:
        """`GET /embed-v2/tasks/{id}`, one attempt."""
        return await retrieve(self._http, object_id, retries=0)

    async def cancel(self, object_id: str) -> None:
        """The API cannot cancel an embedding task: always `InvalidInputError`."""
        raise InvalidInputError("embedding tasks cannot be canceled")

    async def page(self, number: int, status: str) -> ListedTasks:
        """One page of `GET /embed-v2/tasks?status=...` (no dates: the last 7 days)."""
        params = page_params(number, MAX_PAGE_LIMIT, [("status", status)])
        return await self._http.request("GET", PATH, _listed_decoder, params=params, retries=0)
