"""Frozen attrs models of the API: what you send and what comes back.

Models hold data only; the wire format (names, datetimes, open enums) is the business of the
one converter in `_convert.py`. Enumerations are *open*: a value the API adds later is kept as
its plain string instead of failing, so every enum-typed field is `Enum | str`.

This module is the one place to import them from; they are defined in `_models/`, one private
module per part of the API (inputs, tasks, streamed events, batches, assets, and what they
share).
"""

from __future__ import annotations

# One line per name, `X as X`: an explicit re-export (for mypy --strict and the docs).
from ._models.assets import ASSET_TERMINAL_STATUSES as ASSET_TERMINAL_STATUSES
from ._models.assets import Asset as Asset
from ._models.assets import AssetDetail as AssetDetail
from ._models.assets import AssetError as AssetError
from ._models.assets import AssetHls as AssetHls
from ._models.assets import AssetMethod as AssetMethod
from ._models.assets import AssetPage as AssetPage
from ._models.assets import AssetPartStatus as AssetPartStatus
from ._models.assets import AssetSource as AssetSource
from ._models.assets import AssetStatus as AssetStatus
from ._models.assets import AssetStatusValue as AssetStatusValue
from ._models.assets import AssetThumbnail as AssetThumbnail
from ._models.assets import AssetType as AssetType
from ._models.batches import BATCH_TERMINAL_STATUSES as BATCH_TERMINAL_STATUSES
from ._models.batches import ITEM_TERMINAL_STATUSES as ITEM_TERMINAL_STATUSES
from ._models.batches import Batch as Batch
from ._models.batches import BatchCreated as BatchCreated
from ._models.batches import BatchDefaults as BatchDefaults
from ._models.batches import BatchItemRef as BatchItemRef
from ._models.batches import BatchItemStatus as BatchItemStatus
from ._models.batches import BatchPage as BatchPage
from ._models.batches import BatchRequest as BatchRequest
from ._models.batches import BatchResult as BatchResult
from ._models.batches import BatchStatus as BatchStatus
from ._models.batches import BatchStatusValue as BatchStatusValue
from ._models.common import AnalysisMode as AnalysisMode
from ._models.common import AnalysisModeValue as AnalysisModeValue
from ._models.common import AnalyzeTaskResult as AnalyzeTaskResult
from ._models.common import FinishReason as FinishReason
from ._models.common import PageInfo as PageInfo
from ._models.common import TaskError as TaskError
from ._models.common import TokenUsage as TokenUsage
from ._models.common import WebhookDelivery as WebhookDelivery
from ._models.inputs import AssetVideo as AssetVideo
from ._models.inputs import Base64Video as Base64Video
from ._models.inputs import ImageInput as ImageInput
from ._models.inputs import MediaSource as MediaSource
from ._models.inputs import PromptV2 as PromptV2
from ._models.inputs import ResponseFormat as ResponseFormat
from ._models.inputs import SegmentDefinition as SegmentDefinition
from ._models.inputs import SegmentField as SegmentField
from ._models.inputs import SegmentFieldItems as SegmentFieldItems
from ._models.inputs import SegmentFieldType as SegmentFieldType
from ._models.inputs import SegmentItemType as SegmentItemType
from ._models.inputs import TimeFormat as TimeFormat
from ._models.inputs import TimeRange as TimeRange
from ._models.inputs import UrlVideo as UrlVideo
from ._models.inputs import VideoInput as VideoInput
from ._models.stream import GenerationMetadata as GenerationMetadata
from ._models.stream import StreamEnd as StreamEnd
from ._models.stream import StreamEvent as StreamEvent
from ._models.stream import StreamStart as StreamStart
from ._models.stream import TextGeneration as TextGeneration
from ._models.stream import UnknownEvent as UnknownEvent
from ._models.tasks import TERMINAL_STATUSES as TERMINAL_STATUSES
from ._models.tasks import AnalyzeResult as AnalyzeResult
from ._models.tasks import AnalyzeTask as AnalyzeTask
from ._models.tasks import RequestParams as RequestParams
from ._models.tasks import Segment as Segment
from ._models.tasks import TaskPage as TaskPage
from ._models.tasks import TaskRef as TaskRef
from ._models.tasks import TaskStatus as TaskStatus
from ._models.tasks import TaskStatusValue as TaskStatusValue
from ._models.tasks import VideoSource as VideoSource
from ._models.tasks import VideoSystemMetadata as VideoSystemMetadata
from ._models.tasks import is_terminal_status as is_terminal_status
from ._models.uploads import UPLOAD_TERMINAL_STATUSES as UPLOAD_TERMINAL_STATUSES
from ._models.uploads import ChunkInfo as ChunkInfo
from ._models.uploads import ChunkReport as ChunkReport
from ._models.uploads import ChunkStatus as ChunkStatus
from ._models.uploads import CompletedChunk as CompletedChunk
from ._models.uploads import IncompleteUpload as IncompleteUpload
from ._models.uploads import IncompleteUploadPage as IncompleteUploadPage
from ._models.uploads import PresignedUrl as PresignedUrl
from ._models.uploads import PresignedUrls as PresignedUrls
from ._models.uploads import UploadKind as UploadKind
from ._models.uploads import UploadProgress as UploadProgress
from ._models.uploads import UploadSession as UploadSession
from ._models.uploads import UploadStatus as UploadStatus
from ._models.uploads import UploadStatusPage as UploadStatusPage
