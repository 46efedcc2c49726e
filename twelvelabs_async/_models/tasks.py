"""Analysis tasks (`/analyze/tasks`) and synchronous analysis results."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

import attrs

from .common import (
    AnalysisMode,
    AnalyzeTaskResult,
    FinishReason,
    PageInfo,
    TaskError,
    TokenUsage,
    WebhookDelivery,
    always_sent,
    ready_result_of,
)
from .inputs import ImageInput, PromptV2, ResponseFormat


class TaskStatus(StrEnum):
    """The status of an analysis task. `task.status == "ready"` holds, since members are strings."""

    QUEUED = "queued"
    PENDING = "pending"
    PROCESSING = "processing"
    READY = "ready"
    FAILED = "failed"
    CANCELED = "canceled"


TaskStatusValue = Literal["queued", "pending", "processing", "ready", "failed", "canceled"]
"""The values of `TaskStatus` as literal strings: what a `status=` filter takes besides a member.

A type checker refuses a typo (`"redy"`); what the API sends back stays open
(`TaskStatus | str`), so a status it adds later is kept.
"""


TERMINAL_STATUSES: frozenset[str] = frozenset({"ready", "failed", "canceled"})
"""The statuses after which a task never changes."""


def is_terminal_status(status: str) -> bool:
    """True for `ready`, `failed` and `canceled`; False for any other (including unknown) status."""
    return str(status) in TERMINAL_STATUSES


@attrs.frozen
class VideoSystemMetadata:
    """Facts the platform measured about the video."""

    duration: float | None = None


@attrs.frozen
class VideoSource:
    """The video a task analyzed, as the API echoes it."""

    type: str
    url: str | None = None
    asset_id: str | None = None
    video_id: str | None = None
    index_id: str | None = None
    system_metadata: VideoSystemMetadata | None = None


@attrs.frozen
class RequestParams:
    """The parameters a task was created with (cut down in list responses, see `tasks.list`)."""

    analysis_mode: AnalysisMode | str | None = None
    model_name: str | None = None
    prompt: str | None = None
    prompt_v2: PromptV2 | None = None
    image: tuple[ImageInput, ...] | None = None
    response_format: ResponseFormat | None = None
    temperature: float | None = None
    max_tokens: int | str | None = None
    min_segment_duration: float | None = None
    max_segment_duration: float | None = None
    start_time: float | None = None
    end_time: float | None = None


@attrs.frozen
class AnalyzeTask:
    """An asynchronous analysis task, as `GET /analyze/tasks/{task_id}` returns it."""

    task_id: str
    status: TaskStatus | str
    created_at: datetime | None = None
    custom_id: str | None = always_sent()
    batch_id: str | None = None
    completed_at: datetime | None = None
    video_source: VideoSource | None = None
    request_params: RequestParams | None = None
    result: AnalyzeTaskResult | None = None
    error: TaskError | None = None
    webhooks: tuple[WebhookDelivery, ...] = ()

    @property
    def is_terminal(self) -> bool:
        """True once the task is `ready`, `failed` or `canceled` (it will not change again)."""
        return is_terminal_status(self.status)

    def ready_result(self) -> AnalyzeTaskResult:
        """The result of this task, which must be `ready`: typed, never None.

        `task.ready_result().data` is the generated text (or JSON text: see `parse_json`).
        Check `task.status` first, or catch the error, for a task that may have failed.

        Raises:
            ResultNotReadyError: the task is not `ready` (still running, failed or canceled,
                or ready without a result); the message names the task, its status and, for
                a failed task, its error.
        """
        return ready_result_of(
            self.result, self.status, self.error, what="task", task_id=self.task_id
        )


@attrs.frozen
class TaskRef:
    """A task id with its status, as task creation and cancellation return it."""

    task_id: str
    status: TaskStatus | str


@attrs.frozen
class TaskPage:
    """One page of `GET /analyze/tasks`."""

    data: tuple[AnalyzeTask, ...]
    page_info: PageInfo = attrs.field(factory=PageInfo)


@attrs.frozen
class AnalyzeResult:
    """The result of a synchronous analysis (`client.analyze.generate`).

    `error` is a warning, set when `finish_reason` is `length` (then `data` is partial).
    """

    id: str | None = None
    data: str | None = None
    finish_reason: FinishReason | str | None = None
    usage: TokenUsage | None = None
    error: TaskError | None = None


@attrs.frozen
class Segment:
    """One segment of segmentation output: its time span and the fields extracted for it.

    Times are seconds (float) or `hh:mm:ss[.fff]` strings, per the request's time format.
    """

    start_time: float | str
    end_time: float | str
    metadata: Mapping[str, Any] = attrs.field(factory=dict)
