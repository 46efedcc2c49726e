"""Frozen attrs models of the API: what you send and what comes back.

Models hold data only; the wire format (names, datetimes, open enums) is the business of the
one converter in `_convert.py`. Enumerations are *open*: a value the API adds later is kept as
its plain string instead of failing, so every enum-typed field is `Enum | str`.

This module is the one place to import them from; they are defined in `_models/`, one private
module per part of the API (inputs, tasks, streamed events, batches, assets, indexes,
embeddings, and what they share).
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
from ._models.embed import EMBED_TERMINAL_STATUSES as EMBED_TERMINAL_STATUSES
from ._models.embed import EmbeddingData as EmbeddingData
from ._models.embed import EmbeddingMetadata as EmbeddingMetadata
from ._models.embed import EmbeddingOption as EmbeddingOption
from ._models.embed import EmbeddingScope as EmbeddingScope
from ._models.embed import EmbeddingTask as EmbeddingTask
from ._models.embed import EmbeddingTaskError as EmbeddingTaskError
from ._models.embed import EmbeddingTaskPage as EmbeddingTaskPage
from ._models.embed import EmbeddingTaskSummary as EmbeddingTaskSummary
from ._models.embed import EmbeddingUsage as EmbeddingUsage
from ._models.embed import EmbeddingVector as EmbeddingVector
from ._models.embed import EmbedModel as EmbedModel
from ._models.embed import EmbedTaskStatus as EmbedTaskStatus
from ._models.embed import EmbedTaskStatusValue as EmbedTaskStatusValue
from ._models.embed import FileEmbeddingMetadata as FileEmbeddingMetadata
from ._models.embed import MediaEmbeddingMetadata as MediaEmbeddingMetadata
from ._models.embed import Quadrant as Quadrant
from ._models.embed import TextEmbedding as TextEmbedding
from ._models.embed_inputs import AudioEmbedInput as AudioEmbedInput
from ._models.embed_inputs import AudioOption as AudioOption
from ._models.embed_inputs import DocumentEmbedInput as DocumentEmbedInput
from ._models.embed_inputs import DocumentOption as DocumentOption
from ._models.embed_inputs import DocumentScope as DocumentScope
from ._models.embed_inputs import DynamicSegments as DynamicSegments
from ._models.embed_inputs import EmbeddingType as EmbeddingType
from ._models.embed_inputs import EmbedInput as EmbedInput
from ._models.embed_inputs import EmbedSource as EmbedSource
from ._models.embed_inputs import FixedSegments as FixedSegments
from ._models.embed_inputs import ImageEmbedInput as ImageEmbedInput
from ._models.embed_inputs import MediaScope as MediaScope
from ._models.embed_inputs import Segmentation as Segmentation
from ._models.embed_inputs import SentenceChunks as SentenceChunks
from ._models.embed_inputs import SpatialStrategy as SpatialStrategy
from ._models.embed_inputs import TimedText as TimedText
from ._models.embed_inputs import VideoEmbedInput as VideoEmbedInput
from ._models.embed_inputs import VideoOption as VideoOption
from ._models.indexes import INDEXED_ASSET_TERMINAL_STATUSES as INDEXED_ASSET_TERMINAL_STATUSES
from ._models.indexes import AssetIndexing as AssetIndexing
from ._models.indexes import AssetIndexingPage as AssetIndexingPage
from ._models.indexes import Index as Index
from ._models.indexes import IndexAddon as IndexAddon
from ._models.indexes import IndexedAsset as IndexedAsset
from ._models.indexes import IndexedAssetDetail as IndexedAssetDetail
from ._models.indexes import IndexedAssetEmbedding as IndexedAssetEmbedding
from ._models.indexes import IndexedAssetHls as IndexedAssetHls
from ._models.indexes import IndexedAssetHlsStatus as IndexedAssetHlsStatus
from ._models.indexes import IndexedAssetPage as IndexedAssetPage
from ._models.indexes import IndexedAssetRef as IndexedAssetRef
from ._models.indexes import IndexedAssetSegment as IndexedAssetSegment
from ._models.indexes import IndexedAssetStatus as IndexedAssetStatus
from ._models.indexes import IndexedAssetStatusValue as IndexedAssetStatusValue
from ._models.indexes import IndexedAssetSystemMetadata as IndexedAssetSystemMetadata
from ._models.indexes import IndexedAssetVideoEmbedding as IndexedAssetVideoEmbedding
from ._models.indexes import IndexEmbeddingOption as IndexEmbeddingOption
from ._models.indexes import IndexModel as IndexModel
from ._models.indexes import IndexModelName as IndexModelName
from ._models.indexes import IndexModelOption as IndexModelOption
from ._models.indexes import IndexModels as IndexModels
from ._models.indexes import IndexPage as IndexPage
from ._models.indexes import IndexRef as IndexRef
from ._models.indexes import IndexSummary as IndexSummary
from ._models.indexes import ModelFamily as ModelFamily
from ._models.indexes import Range as Range
from ._models.indexes import SortBy as SortBy
from ._models.indexes import SortOption as SortOption
from ._models.indexes import TranscriptionEntry as TranscriptionEntry
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
