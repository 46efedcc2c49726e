"""Frozen attrs models of analyze batches (`/analyze/batches`), re-exported by `models`.

Like the rest of `models`, these hold data only; the one converter in `_convert.py` knows the
wire format. Statuses are open enums (`Enum | str`).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Literal

import attrs

from .common import (
    AnalysisMode,
    AnalyzeTaskResult,
    PageInfo,
    TaskError,
    WebhookDelivery,
    always_sent,
    ready_result_of,
)
from .inputs import AssetVideo, PromptV2, ResponseFormat


class BatchStatus(StrEnum):
    """The status of a batch. `completed` means every item finished, not that all succeeded."""

    PENDING = "pending"
    PROCESSING = "processing"
    CANCELING = "canceling"
    CANCELED = "canceled"
    COMPLETED = "completed"
    EXPIRED = "expired"


BatchStatusValue = Literal["pending", "processing", "canceling", "canceled", "completed", "expired"]
"""The values of `BatchStatus` as literal strings: what a `status=` filter takes besides a member.

A type checker refuses a typo; what the API sends back stays open (`BatchStatus | str`).
"""


BATCH_TERMINAL_STATUSES: frozenset[str] = frozenset({"completed", "canceled", "expired"})
"""The statuses after which a batch never changes."""


class BatchItemStatus(StrEnum):
    """The status of one item of a batch (not the same set as a task's statuses)."""

    QUEUED = "queued"
    PROCESSING = "processing"
    READY = "ready"
    FAILED = "failed"
    CANCELED = "canceled"


ITEM_TERMINAL_STATUSES: frozenset[str] = frozenset({"ready", "failed", "canceled"})
"""The statuses after which a batch item never changes."""


def _prompt(value: PromptV2 | str | None) -> PromptV2 | None:
    """A plain string is shorthand for `PromptV2(input_text=...)`."""
    return PromptV2(input_text=value) if isinstance(value, str) else value


# --- inputs -------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class BatchDefaults:
    """Values every item of a batch uses unless it sets its own (see `BatchRequest`).

    Attributes:
        prompt: the instructions (general mode); a string is shorthand for
            `PromptV2(input_text=...)`, which may also reference up to four images.
        response_format: `ResponseFormat.schema(...)` or `ResponseFormat.segments(...)`.
        temperature: 0-1.
        max_tokens: general 512-98,304; segmentation 2,048-98,304.
        min_segment_duration: segmentation only, >= 2 s.
        max_segment_duration: segmentation only, >= `min_segment_duration`.
        start_time: analyze from this second on.
        end_time: analyze up to this second (the window is 1 s to 2 h).
    """

    prompt: PromptV2 | None = attrs.field(default=None, converter=_prompt)
    response_format: ResponseFormat | None = None
    temperature: float | None = None
    max_tokens: int | None = None
    min_segment_duration: float | None = None
    max_segment_duration: float | None = None
    start_time: float | None = None
    end_time: float | None = None


@attrs.frozen
class BatchRequest(BatchDefaults):
    """One analysis in a batch: an uploaded video and what to do with it.

    `BatchRequest(AssetVideo(asset_id), custom_id=..., prompt=...)`. Besides `video` and
    `custom_id`, it has the fields of `BatchDefaults` (keyword-only); each one set replaces
    the same field of the batch's defaults whole (a `prompt` or `response_format` is never
    merged field by field).

    Attributes:
        video: the video, uploaded as an asset (batches accept only `AssetVideo`).
        custom_id: your id for this item, 1-64 of `[A-Za-z0-9_-]`, unique within the batch.
    """

    video: AssetVideo
    custom_id: str | None = None


# --- outputs ------------------------------------------------------------------------------


@attrs.frozen
class BatchItemRef:
    """One submitted item: the task the platform created for it and your `custom_id`."""

    task_id: str
    custom_id: str | None = always_sent()


@attrs.frozen
class BatchCreated:
    """What creating a batch returns: its id, its expiry, and one task per request, in order."""

    batch_id: str
    status: BatchStatus | str
    total_items: int = 0
    created_at: datetime | None = None
    expires_at: datetime | None = None
    items: tuple[BatchItemRef, ...] = ()


@attrs.frozen
class Batch:
    """A batch and how many of its items are in each status (`GET /analyze/batches/{id}`).

    `completed_at`, `canceled_at` and `expired_at` are set only in the matching status.
    """

    batch_id: str
    status: BatchStatus | str
    analysis_mode: AnalysisMode | str | None = None
    model_name: str | None = None
    total_items: int = 0
    created_at: datetime | None = None
    expires_at: datetime | None = None
    completed_at: datetime | None = None
    canceled_at: datetime | None = None
    expired_at: datetime | None = None
    queued_items: int = 0
    processing_items: int = 0
    ready_items: int = 0
    failed_items: int = 0
    canceled_items: int = 0
    webhooks: tuple[WebhookDelivery, ...] = ()

    @property
    def is_terminal(self) -> bool:
        """True once the batch is `completed`, `canceled` or `expired` (it will not change)."""
        return str(self.status) in BATCH_TERMINAL_STATUSES

    @property
    def finished_items(self) -> int:
        """Items that reached a terminal status: ready, failed and canceled together."""
        return self.ready_items + self.failed_items + self.canceled_items


@attrs.frozen
class BatchResult:
    """One line of a batch's results: an item's status and, when `ready`, its output.

    `data` is set for `ready` items (the same object as a task's `result`), `error` for
    `failed` ones; `queued`, `processing` and `canceled` items carry neither. Retrieve the task
    (`client.analyze.tasks.retrieve(result.task_id)`) for everything else about it.
    """

    task_id: str
    status: BatchItemStatus | str
    custom_id: str | None = always_sent()
    data: AnalyzeTaskResult | None = None
    error: TaskError | None = None

    @property
    def is_terminal(self) -> bool:
        """True once the item is `ready`, `failed` or `canceled`."""
        return str(self.status) in ITEM_TERMINAL_STATUSES

    def ready_result(self) -> AnalyzeTaskResult:
        """The output of this item, which must be `ready`: its `data`, typed, never None.

        Raises:
            ResultNotReadyError: the item is not `ready`; the message names its task, its
                status and, for a failed item, its error.
        """
        return ready_result_of(
            self.data, self.status, self.error, what="batch item", task_id=self.task_id
        )


@attrs.frozen
class BatchPage:
    """One page of `GET /analyze/batches`."""

    data: tuple[Batch, ...]
    page_info: PageInfo = attrs.field(factory=PageInfo)
