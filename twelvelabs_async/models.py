"""Frozen attrs models of the API: what you send and what comes back.

Models hold data only; the wire format (names, datetimes, open enums) is the business of the
one converter in `_convert.py`. Enumerations are *open*: a value the API adds later is kept as
its plain string instead of failing, so every enum-typed field is `Enum | str`.

This module is the one place to import them from; they are defined in `_models/`, one private
module per part of the API (inputs, tasks, streamed events, batches, and what they share).
"""

from __future__ import annotations

from ._models.batches import (
    BATCH_TERMINAL_STATUSES,
    ITEM_TERMINAL_STATUSES,
    Batch,
    BatchCreated,
    BatchDefaults,
    BatchItemRef,
    BatchItemStatus,
    BatchPage,
    BatchRequest,
    BatchResult,
    BatchStatus,
)
from ._models.common import (
    AnalysisMode,
    AnalyzeTaskResult,
    FinishReason,
    PageInfo,
    TaskError,
    TokenUsage,
    WebhookDelivery,
)
from ._models.inputs import (
    AssetVideo,
    Base64Video,
    ImageInput,
    MediaSource,
    PromptV2,
    ResponseFormat,
    SegmentDefinition,
    SegmentField,
    SegmentFieldItems,
    TimeRange,
    UrlVideo,
    VideoInput,
)
from ._models.stream import (
    GenerationMetadata,
    StreamEnd,
    StreamEvent,
    StreamStart,
    TextGeneration,
    UnknownEvent,
)
from ._models.tasks import (
    TERMINAL_STATUSES,
    AnalyzeResult,
    AnalyzeTask,
    RequestParams,
    Segment,
    TaskPage,
    TaskRef,
    TaskStatus,
    VideoSource,
    VideoSystemMetadata,
    is_terminal_status,
)

__all__ = [
    "AnalysisMode",
    "AnalyzeResult",
    "AnalyzeTask",
    "AnalyzeTaskResult",
    "AssetVideo",
    "BATCH_TERMINAL_STATUSES",
    "Base64Video",
    "Batch",
    "BatchCreated",
    "BatchDefaults",
    "BatchItemRef",
    "BatchItemStatus",
    "BatchPage",
    "BatchRequest",
    "BatchResult",
    "BatchStatus",
    "FinishReason",
    "GenerationMetadata",
    "ITEM_TERMINAL_STATUSES",
    "ImageInput",
    "MediaSource",
    "PageInfo",
    "PromptV2",
    "RequestParams",
    "ResponseFormat",
    "Segment",
    "SegmentDefinition",
    "SegmentField",
    "SegmentFieldItems",
    "StreamEnd",
    "StreamEvent",
    "StreamStart",
    "TERMINAL_STATUSES",
    "TaskError",
    "TaskPage",
    "TaskRef",
    "TaskStatus",
    "TextGeneration",
    "TimeRange",
    "TokenUsage",
    "UnknownEvent",
    "UrlVideo",
    "VideoInput",
    "VideoSource",
    "VideoSystemMetadata",
    "WebhookDelivery",
    "is_terminal_status",
]
