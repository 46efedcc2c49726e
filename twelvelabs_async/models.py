"""Frozen attrs models of the Analyze API: what you send and what comes back.

Models hold data only; the wire format (names, datetimes, open enums) is the business of the
one converter in `_convert.py`. Enumerations are *open*: a value the API adds later is kept as
its plain string instead of failing, so every enum-typed field is `Enum | str`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any

import attrs


class TaskStatus(StrEnum):
    """The status of an analysis task. `task.status == "ready"` holds, since members are strings."""

    QUEUED = "queued"
    PENDING = "pending"
    PROCESSING = "processing"
    READY = "ready"
    FAILED = "failed"
    CANCELED = "canceled"


TERMINAL_STATUSES: frozenset[str] = frozenset({"ready", "failed", "canceled"})
"""The statuses after which a task never changes."""


class AnalysisMode(StrEnum):
    """What an analysis task produces: free text (`general`) or segments (`time_based_metadata`)."""

    GENERAL = "general"
    TIME_BASED_METADATA = "time_based_metadata"


class FinishReason(StrEnum):
    """Why generation stopped: `stop` (complete) or `length` (cut off at the token limit)."""

    STOP = "stop"
    LENGTH = "length"


def is_terminal_status(status: str) -> bool:
    """True for `ready`, `failed` and `canceled`; False for any other (including unknown) status."""
    return str(status) in TERMINAL_STATUSES


# --- inputs -------------------------------------------------------------------------------


@attrs.frozen
class UrlVideo:
    """A video at a public URL that points straight at the media file."""

    url: str
    type: str = attrs.field(default="url", init=False)


@attrs.frozen
class AssetVideo:
    """A video uploaded as an asset (its status must be `ready`)."""

    asset_id: str
    type: str = attrs.field(default="asset_id", init=False)


@attrs.frozen
class Base64Video:
    """A video sent inline, base64-encoded (at most 30 MB)."""

    base64_string: str = attrs.field(repr=lambda s: f"<{len(s)} chars>")
    type: str = attrs.field(default="base64_string", init=False)


VideoInput = UrlVideo | AssetVideo | Base64Video
"""Any of the three video sources; a plain URL string is accepted wherever this is."""


@attrs.frozen
class ImageInput:
    """One image for `image=` (pegasus1.6): a unique `name` and exactly one source."""

    name: str
    url: str | None = None
    asset_id: str | None = None
    base64_string: str | None = attrs.field(default=None, repr=False)
    media_type: str | None = None


@attrs.frozen
class MediaSource:
    """A reference image used by `prompt_v2` or a segment definition: a name and one source."""

    name: str
    url: str | None = None
    asset_id: str | None = None
    base64_string: str | None = attrs.field(default=None, repr=False)
    media_type: str = "image"


@attrs.frozen
class PromptV2:
    """A prompt that may reference up to four images as `<@name>` placeholders."""

    input_text: str
    media_sources: tuple[MediaSource, ...] = ()


@attrs.frozen
class TimeRange:
    """A window of the video in seconds (`end_time` at least 2 s after `start_time`)."""

    start_time: float
    end_time: float


@attrs.frozen
class SegmentFieldItems:
    """The element type of an `array` field, or the event fields of a `time_array` field."""

    type: str
    fields: tuple[SegmentField, ...] = ()


@attrs.frozen
class SegmentField:
    """One field extracted for every segment (`type` is e.g. `string`, `number`, `timestamp`)."""

    name: str
    type: str
    description: str | None = None
    format: str | None = None
    enum: tuple[str, ...] | None = None
    items: SegmentFieldItems | None = None


@attrs.frozen
class SegmentDefinition:
    """What a kind of segment is (`id`, `description`) and which `fields` to extract for it."""

    id: str
    description: str
    fields: tuple[SegmentField, ...] = ()
    media_sources: tuple[MediaSource, ...] = ()
    time_ranges: tuple[TimeRange, ...] = ()


@attrs.frozen
class ResponseFormat:
    """The output format: `json_schema` (with `json_schema`) or `segment_definitions`.

    Use the constructors `ResponseFormat.schema(...)` and `ResponseFormat.segments(...)`.
    """

    type: str
    json_schema: Mapping[str, Any] | None = None
    segment_definitions: tuple[SegmentDefinition, ...] | None = None
    segment_time_format: str | None = None

    @classmethod
    def schema(cls, json_schema: Mapping[str, Any]) -> ResponseFormat:
        """Structured JSON output that follows `json_schema` (JSON Schema draft 2020-12 subset)."""
        return cls(type="json_schema", json_schema=json_schema)

    @classmethod
    def segments(
        cls, *definitions: SegmentDefinition, time_format: str | None = None
    ) -> ResponseFormat:
        """Segmentation output (`analysis_mode="time_based_metadata"`) with 1-20 definitions."""
        return cls(
            type="segment_definitions",
            segment_definitions=tuple(definitions),
            segment_time_format=time_format,
        )


# --- outputs ------------------------------------------------------------------------------


@attrs.frozen
class TokenUsage:
    """Tokens used by a generation."""

    output_tokens: int
    input_tokens: int | None = None


@attrs.frozen
class TaskError:
    """Why a task failed or was canceled, or a warning on a `ready` task (e.g. truncation).

    Match on `code`; the `message` text is not part of the API's contract.
    """

    message: str
    code: str | None = None


@attrs.frozen
class AnalyzeTaskResult:
    """The output of a `ready` task.

    `data` is plain text, or a JSON string for `json_schema` and segmentation output: see
    `parse_json` and `parse_segments`.
    """

    generation_id: str
    data: str
    finish_reason: FinishReason | str
    usage: TokenUsage


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
class WebhookDelivery:
    """How delivery of this task's webhook to one endpoint went."""

    url: str
    delivered: bool
    attempts: int
    last_error: str | None = None


@attrs.frozen
class AnalyzeTask:
    """An asynchronous analysis task, as `GET /analyze/tasks/{task_id}` returns it."""

    task_id: str
    status: TaskStatus | str
    created_at: datetime | None = None
    custom_id: str | None = None
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


@attrs.frozen
class TaskRef:
    """A task id with its status, as task creation and cancellation return it."""

    task_id: str
    status: TaskStatus | str


@attrs.frozen
class PageInfo:
    """Where a page sits in a paginated list."""

    limit_per_page: int | None = None
    page: int | None = None
    total_page: int | None = None
    total_results: int | None = None


@attrs.frozen
class TaskPage:
    """One page of `GET /analyze/tasks`."""

    data: tuple[AnalyzeTask, ...]
    page_info: PageInfo = PageInfo()


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


# --- streamed analysis events --------------------------------------------------------------


@attrs.frozen
class GenerationMetadata:
    """Identifies a generation and, at the end of a stream, its token usage."""

    generation_id: str | None = None
    usage: TokenUsage | None = None


@attrs.frozen
class StreamStart:
    """The first event of a streamed analysis."""

    metadata: GenerationMetadata | None = None
    event_type: str = attrs.field(default="stream_start", init=False)


@attrs.frozen
class TextGeneration:
    """A fragment of generated text (fragments may split words)."""

    text: str
    event_type: str = attrs.field(default="text_generation", init=False)


@attrs.frozen
class StreamEnd:
    """The last event of a streamed analysis: why it stopped, usage, and any warning."""

    finish_reason: FinishReason | str | None = None
    metadata: GenerationMetadata | None = None
    error: TaskError | None = None
    event_type: str = attrs.field(default="stream_end", init=False)


@attrs.frozen
class UnknownEvent:
    """An event type this version of the library does not know, passed through as its JSON."""

    event_type: str
    data: Mapping[str, Any] = attrs.field(factory=dict)


StreamEvent = StreamStart | TextGeneration | StreamEnd | UnknownEvent
"""Any event of a streamed analysis."""


# --- batches (defined in `_batch_models`, imported last: they build on the models above) ---

from ._batch_models import BATCH_TERMINAL_STATUSES as BATCH_TERMINAL_STATUSES  # noqa: E402
from ._batch_models import ITEM_TERMINAL_STATUSES as ITEM_TERMINAL_STATUSES  # noqa: E402
from ._batch_models import Batch as Batch  # noqa: E402
from ._batch_models import BatchCreated as BatchCreated  # noqa: E402
from ._batch_models import BatchDefaults as BatchDefaults  # noqa: E402
from ._batch_models import BatchItemRef as BatchItemRef  # noqa: E402
from ._batch_models import BatchItemStatus as BatchItemStatus  # noqa: E402
from ._batch_models import BatchPage as BatchPage  # noqa: E402
from ._batch_models import BatchRequest as BatchRequest  # noqa: E402
from ._batch_models import BatchResult as BatchResult  # noqa: E402
from ._batch_models import BatchStatus as BatchStatus  # noqa: E402
